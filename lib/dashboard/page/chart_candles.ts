// The bars a candle chart shows (pure): backfilled history and live bars merged into one series
// keyed by bar start, so the seam between them can hold neither a gap nor a duplicated bar.

import type { Candle } from "../../candles/mod.ts";

/** Bars kept per chart; older ones are dropped (a chart shows a few hundred at most). */
export const MAX_BARS = 5000;

/** What {@link ChartCandles.live} did, so the chart can apply the cheapest matching update. */
export type CandleChange = "appended" | "replaced-last" | "rebuilt" | "ignored";

/**
 * One instrument's bars at one interval, oldest first, one bar per `time`.
 *
 * Rules: a bar with the `time` of one already held replaces it (the forming bar updates in place;
 * a closed bar supersedes its forming versions). A live bar older than the newest is still placed
 * by time (a history response can land after live bars). When history arrives, bars received live
 * win over history bars of the same `time`: a live frame is at least as new as the history
 * snapshot taken while the subscription was already running.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const bar = (time: number, close: number, closed = true) =>
 *   ({ time, open: close, high: close, low: close, close, volume: 1, closed });
 * const s = new ChartCandles();
 * assert.equal(s.live(bar(120_000, 11, false)), "appended"); // the first live bar, forming
 * assert.equal(s.live(bar(120_000, 12, false)), "replaced-last"); // it updates in place
 * s.history([bar(0, 9), bar(60_000, 10), bar(120_000, 10.5, false)]); // backfill arrives later
 * assert.deepEqual(s.bars().map((b) => [b.time, b.close]), [[0, 9], [60_000, 10], [120_000, 12]]);
 * ```
 */
export class ChartCandles {
  #bars: Candle[] = [];
  /** Candle starts received live since the series was opened. */
  #liveTimes = new Set<number>();
  readonly #max: number;

  constructor(max = MAX_BARS) {
    this.#max = max;
  }

  /** The bars, oldest first (the array is the series' own: do not modify). */
  bars(): readonly Candle[] {
    return this.#bars;
  }

  /** The newest bar, or undefined. */
  last(): Candle | undefined {
    return this.#bars.at(-1);
  }

  /** How many bars came from history (not replaced by a live one). */
  get historyCount(): number {
    let n = 0;
    for (const b of this.#bars) if (!this.#liveTimes.has(b.time)) n++;
    return n;
  }

  /** Adds or replaces one live bar. */
  live(bar: Candle): CandleChange {
    this.#liveTimes.add(bar.time);
    const last = this.#bars.at(-1);
    if (!last || bar.time > last.time) {
      this.#bars.push(bar);
      this.#trim();
      return "appended";
    }
    if (bar.time === last.time) {
      this.#bars[this.#bars.length - 1] = bar;
      return "replaced-last";
    }
    const i = this.#lowerBound(bar.time);
    if (this.#bars[i].time === bar.time) this.#bars[i] = bar;
    else if (i === 0 && this.#bars.length >= this.#max) {
      this.#liveTimes.delete(bar.time); // older than every bar kept
      return "ignored";
    } else this.#bars.splice(i, 0, bar);
    this.#trim();
    return "rebuilt";
  }

  /** Merges history bars (oldest first or not); live bars of the same time are kept. */
  history(bars: readonly Candle[]): void {
    const byTime = new Map<number, Candle>();
    for (const b of bars) byTime.set(b.time, b);
    for (const b of this.#bars) byTime.set(b.time, b); // live (and earlier) bars win
    this.#bars = [...byTime.values()].sort((a, b) => a.time - b.time);
    this.#trim();
  }

  /** Drops everything (another instrument or interval). */
  clear(): void {
    this.#bars = [];
    this.#liveTimes.clear();
  }

  /** Index of the first bar with time ≥ `time` (a bar that late exists: see {@link live}). */
  #lowerBound(time: number): number {
    let lo = 0, hi = this.#bars.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#bars[mid].time < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #trim(): void {
    const extra = this.#bars.length - this.#max;
    if (extra <= 0) return;
    for (const b of this.#bars.splice(0, extra)) this.#liveTimes.delete(b.time);
  }
}
