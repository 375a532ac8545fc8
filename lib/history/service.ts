// Bars for the history endpoint: the recorded ticks folded by the same CandleSeries the live feed
// uses (as lib/candles buildCandles does), then the live series' own bars from where its memory
// starts, so a chart that backfills here and then follows `subscribe_candles` sees one series.
//
// The seam rule: let M be the start of the oldest bar the live series holds in memory. Bars before
// M are built from the recorded ticks with exchange time before M (the clock advanced to M, so the
// bar before M is closed and quiet minutes up to M are flat bars, as live); bars from M on are the
// live series' — exactly what its subscribers were sent. No bar comes from both. The live series'
// first bar counts from the first tick the gateway saw, so when the gateway began watching the
// symbol mid-bar that bar is partial in both places (live clients saw it so too).

import {
  barEnd,
  barStart,
  type Candle,
  type CandleInterval,
  CandleSeries,
  DEFAULT_GRACE_MS,
  IST_OFFSET_MS,
  istDay,
  sessionOf,
  sessionWindow,
} from "../candles/mod.ts";
import type { Tick } from "../types.ts";
import type { RecordedScan } from "./recorded.ts";
import type { CandlesQuery } from "./params.ts";

/** The live series' bars in memory: retained closed bars and the forming one. */
export interface MemoryBars {
  closed: readonly Candle[];
  forming: Candle | null;
}

/** What the service reads from. */
export interface HistorySources {
  /**
   * Hands `onTick` the recorded ticks of an instrument with exchange time in [from, to), in
   * recorded order (see {@link import("./recorded.ts").RecordedTickReader.read}).
   */
  recorded(
    exchange: string,
    symbol: string,
    from: number,
    to: number,
    onTick: (tick: Tick) => void,
  ): Promise<RecordedScan>;
  /** The live series of (exchange, symbol, interval), if one is open. */
  memory(exchange: string, symbol: string, interval: CandleInterval): MemoryBars | null;
  /** Epoch ms now. */
  clock(): number;
}

/** The bars of a request and where they came from. */
export interface HistoryResult {
  /** Oldest first; only the last may be forming (`closed: false`). */
  candles: Candle[];
  /** Sources used: `parquet`, `duckdb`, `memory`. */
  sources: string[];
  /** Sources that exist but were not readable, with why. */
  skipped: string[];
}

const DAY_MS = 86_400_000;

/**
 * End of the bar that holds `time`, or `time` itself when that is later (after the session close
 * every trade is in the last bar, which ends at the close).
 */
function barEndAt(exchange: string, interval: CandleInterval, time: number): number {
  const window = sessionWindow(sessionOf(exchange), time);
  return Math.max(time, barEnd(window, interval, barStart(window, interval, time)));
}

/**
 * Answers a candles request from recorded ticks and the live series (see the file comment).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { baseTick } from "../types.ts";
 * import { historyCandles } from "./service.ts";
 * const at = (iso: string, ltp: number, volume: number) => {
 *   const t = baseTick("NSE", "TCS", 2, ltp, Date.parse(iso), Date.parse(iso));
 *   t.volume = volume;
 *   return t;
 * };
 * const ticks = [at("2026-11-30T09:15:05+05:30", 10, 100), at("2026-11-30T09:16:10+05:30", 11, 160)];
 * const live = { time: Date.parse("2026-11-30T09:17:00+05:30"), open: 12, high: 12, low: 12,
 *   close: 12, volume: 5, closed: false };
 * const r = await historyCandles({
 *   exchange: "NSE", symbol: "TCS", interval: "1m", format: "json",
 *   from: Date.parse("2026-11-30T09:15+05:30"), to: Date.parse("2026-11-30T15:30+05:30"),
 * }, {
 *   recorded: (_e, _s, from, to, onTick) => {
 *     const inRange = ticks.filter((t) => t.ltt! >= from && t.ltt! < to);
 *     inRange.forEach(onTick);
 *     return Promise.resolve({ ticks: inRange.length, sources: ["duckdb"], skipped: [] });
 *   },
 *   memory: () => ({ closed: [], forming: live }),
 *   clock: () => Date.parse("2026-11-30T09:17:30+05:30"),
 * });
 * assert.deepEqual(r.candles.map((c) => [c.close, c.volume, c.closed]), [
 *   [10, 0, true], [11, 60, true], [12, 5, false],
 * ]);
 * assert.deepEqual(r.sources, ["duckdb", "memory"]);
 * ```
 */
export async function historyCandles(
  q: CandlesQuery,
  sources: HistorySources,
): Promise<HistoryResult> {
  const mem = sources.memory(q.exchange, q.symbol, q.interval);
  const memBars = mem ? [...mem.closed, ...(mem.forming ? [mem.forming] : [])] : [];
  const memStart = memBars.length > 0 ? memBars[0].time : Infinity;
  const used: string[] = [];
  let skipped: string[] = [];
  const out: Candle[] = [];

  // Recorded part: bars before the memory starts, from the session day of `from` (the volume of a
  // day's first bar counts from the first cumulative volume of that day, as live).
  const upper = Math.min(barEndAt(q.exchange, q.interval, q.to - 1), memStart);
  if (q.from < upper) {
    const dayStart = istDay(q.from) * DAY_MS - IST_OFFSET_MS;
    // The live path's CandleSeries, fed straight from the stream (what buildCandles does with a
    // finished sequence); only bars in range are kept, so a long range holds no ticks in memory.
    const series = new CandleSeries(q.exchange, q.symbol, q.interval, { graceMs: 0 });
    const keep = (c: Candle): void => {
      if (c.time >= q.from && c.time < q.to && c.time < memStart) out.push(c);
    };
    const rec = await sources.recorded(
      q.exchange,
      q.symbol,
      dayStart,
      upper,
      (tick) => series.onTick(tick, keep),
    );
    used.push(...rec.sources);
    skipped = rec.skipped;
    // The live series closes a bar `grace` after its end; a memory start proves the bar before it
    // is over.
    series.advance(
      memStart <= upper ? memStart : Math.min(upper, sources.clock() - DEFAULT_GRACE_MS),
      keep,
    );
    const forming = series.forming();
    if (forming) keep(forming);
  }
  const recordedBars = out.length;
  for (const c of memBars) if (c.time >= q.from && c.time < q.to) out.push(c);
  if (out.length > recordedBars) used.push("memory");
  return { candles: out, sources: used, skipped };
}
