// Bars of a finished tick sequence (a recording, a replayed day) through the same CandleSeries the
// live path uses, so history and live bars follow one set of rules and cannot drift apart.

import type { Tick } from "../types.ts";
import { type Candle, CandleSeries, type CandleSeriesOptions } from "./series.ts";
import type { CandleInterval } from "./session.ts";

/** What {@link buildCandles} returns. */
export interface BuiltCandles {
  /** Closed bars, oldest first (flat bars included). */
  closed: Candle[];
  /** The bar still forming after the last tick (and `until`), or null. */
  forming: Candle | null;
  /** Ticks dropped as late, repeated or without a valid price. */
  dropped: number;
}

/**
 * Folds the ticks of one instrument, in arrival order, into bars of `interval`. Ticks of other
 * instruments are skipped. With `until` (epoch ms) the clock is then advanced to it, closing the
 * last bar and filling flat ones as the live path would.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildCandles } from "./history.ts";
 * const at = (iso: string, ltp: number, volume: number) => ({
 *   exchange: "NSE", symbol: "TCS", mode: 2 as const, ltp, ltt: Date.parse(iso),
 *   timestamp: Date.parse(iso), volume, open: null, high: null, low: null, close: null,
 *   last_trade_quantity: null, avg_trade_price: null, total_buy_quantity: null,
 *   total_sell_quantity: null, oi: null, change: null, change_percent: null, depth: null,
 * });
 * const r = buildCandles([
 *   at("2026-11-30T09:20:01+05:30", 10, 100),
 *   at("2026-11-30T09:20:40+05:30", 11, 130),
 *   at("2026-11-30T09:21:05+05:30", 12, 150),
 * ], "NSE", "TCS", "1m");
 * assert.equal(r.closed.length, 1);
 * assert.equal(r.closed[0].volume, 30);
 * assert.equal(r.forming?.close, 12);
 * ```
 */
export function buildCandles(
  ticks: Iterable<Tick>,
  exchange: string,
  symbol: string,
  interval: CandleInterval,
  options: CandleSeriesOptions & { until?: number } = {},
): BuiltCandles {
  const series = new CandleSeries(exchange, symbol, interval, options);
  const closed: Candle[] = [];
  const sink = (c: Candle) => closed.push(c);
  for (const t of ticks) {
    if (t.exchange === exchange && t.symbol === symbol) series.onTick(t, sink);
  }
  if (options.until !== undefined) series.advance(options.until, sink);
  return {
    closed,
    forming: series.forming(),
    dropped: series.late + series.repeats + series.invalid,
  };
}
