// Throughput history for the dashboard chart: per-second rates derived from the gateway's
// cumulative counters (ticks in from the pool, frames out from the proxy), kept for a few minutes.

import type { ThroughputSample } from "./status_types.ts";

/** Cumulative counters at one instant. */
export interface ThroughputCounters {
  ticksIn: number;
  framesOut: number;
}

/** Sampling options. */
export interface ThroughputOptions {
  /** Minimum time between two samples (ms). Default 1000. */
  intervalMs?: number;
  /** How much history is kept (ms). Default 5 minutes. */
  windowMs?: number;
}

/**
 * Turns cumulative counters into a bounded series of per-second rates. It owns no timer: the
 * caller offers the counters as often as it likes (every tick batch, every status request) and
 * a sample is taken at most once per interval. An idle gateway with nobody watching takes no
 * samples; the next one then carries the average rate over the whole gap, which is the truth.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const history = new ThroughputHistory();
 * history.observe(0, { ticksIn: 0, framesOut: 0 });
 * history.observe(1000, { ticksIn: 500, framesOut: 20 });
 * assert.deepEqual(history.samples(), [{ t: 1000, ticks_in: 500, frames_out: 20 }]);
 * ```
 */
export class ThroughputHistory {
  readonly intervalMs: number;
  readonly windowMs: number;
  #samples: ThroughputSample[] = [];
  #last: { t: number; ticksIn: number; framesOut: number } | null = null;

  constructor(options: ThroughputOptions = {}) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.windowMs = options.windowMs ?? 300_000;
    if (!(this.intervalMs > 0) || !(this.windowMs >= this.intervalMs)) {
      throw new RangeError("ThroughputHistory: need intervalMs > 0 and windowMs >= intervalMs");
    }
  }

  /** Offers the counters at `now`; records a sample when an interval has passed since the last. */
  observe(now: number, counters: ThroughputCounters): void {
    const last = this.#last;
    if (last === null || now < last.t) {
      // First call, or the clock went backwards: start a fresh baseline.
      this.#last = { t: now, ...counters };
      return;
    }
    const dt = now - last.t;
    if (dt < this.intervalMs) return;
    this.#samples.push({
      t: now,
      ticks_in: rate(counters.ticksIn - last.ticksIn, dt),
      frames_out: rate(counters.framesOut - last.framesOut, dt),
    });
    this.#last = { t: now, ...counters };
    const horizon = now - this.windowMs;
    let drop = 0;
    while (drop < this.#samples.length && this.#samples[drop].t < horizon) drop++;
    if (drop > 0) this.#samples.splice(0, drop);
  }

  /** The samples within the window, oldest first (a copy). */
  samples(): ThroughputSample[] {
    return this.#samples.slice();
  }
}

/** Events per second over `dt` ms, to one decimal; a counter reset reads as 0, not negative. */
function rate(delta: number, dt: number): number {
  if (delta <= 0) return 0;
  return Math.round((delta * 10_000) / dt) / 10;
}
