// Projects a normalised tick onto the fields of one mode: the `data` object of the client protocol
// and the bus envelope. A lower-mode consumer gets the lean payload, never the richer one.

import type { Depth, Mode, Tick } from "./types.ts";

/** The `data` payload for LTP consumers. */
export interface LtpData {
  symbol: string;
  exchange: string;
  ltp: number;
  ltt: number | null;
  timestamp: number;
}

/** The `data` payload for Quote consumers. */
export interface QuoteData extends LtpData {
  open: number | null;
  high: number | null;
  low: number | null;
  close: number | null;
  volume: number | null;
  last_trade_quantity: number | null;
  avg_trade_price: number | null;
  total_buy_quantity: number | null;
  total_sell_quantity: number | null;
  oi: number | null;
  change: number | null;
  change_percent: number | null;
}

/** The `data` payload for Depth consumers. */
export interface DepthData extends QuoteData {
  depth: Depth;
}

export type TickData = LtpData | QuoteData | DepthData;

/**
 * Returns the payload of `tick` for a consumer at `mode`. The tick must be at least as rich as
 * `mode` (`tick.mode >= mode`); a Depth tick without depth levels yields empty sides.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { baseTick } from "./types.ts";
 * const tick = { ...baseTick("NSE", "TCS", 2, 3500, null, 1_700_000_000_000), volume: 1200 };
 * assert.deepEqual(projectTick(tick, 1), {
 *   symbol: "TCS", exchange: "NSE", ltp: 3500, ltt: null, timestamp: 1_700_000_000_000,
 * });
 * assert.equal((projectTick(tick, 2) as { volume: number }).volume, 1200);
 * ```
 */
export function projectTick(tick: Tick, mode: Mode): TickData {
  if (mode === 1) {
    return {
      symbol: tick.symbol,
      exchange: tick.exchange,
      ltp: tick.ltp,
      ltt: tick.ltt,
      timestamp: tick.timestamp,
    };
  }
  const quote: QuoteData = {
    symbol: tick.symbol,
    exchange: tick.exchange,
    ltp: tick.ltp,
    ltt: tick.ltt,
    timestamp: tick.timestamp,
    open: tick.open,
    high: tick.high,
    low: tick.low,
    close: tick.close,
    volume: tick.volume,
    last_trade_quantity: tick.last_trade_quantity,
    avg_trade_price: tick.avg_trade_price,
    total_buy_quantity: tick.total_buy_quantity,
    total_sell_quantity: tick.total_sell_quantity,
    oi: tick.oi,
    change: tick.change,
    change_percent: tick.change_percent,
  };
  if (mode === 2) return quote;
  return { ...quote, depth: tick.depth ?? { buy: [], sell: [] } };
}
