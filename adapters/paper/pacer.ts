// When the paper market ticks: which subscribed instruments are due at a moment, at a rate per
// instrument or a rate per connection. Pure: the caller passes the (monotonic) time, so the rates
// are tested with a simulated clock instead of real timers.

/** After the caller fell behind (busy machine, debugger), at most this much backlog is caught up. */
export const MAX_CATCH_UP_MS = 250;

/** Rate settings of a {@link TickPacer}. */
export interface PacerOptions {
  /** Ticks per second per instrument (ignored when `totalRate` is set). */
  ticksPerSecond: number;
  /** Ticks per second for all instruments together, round-robin. */
  totalRate?: number;
  /** Uniform [0, 1) source for each instrument's phase, so instruments do not tick in lockstep. */
  random: () => number;
}

interface Paced<K> {
  readonly key: K;
  /** Next due time when every instrument has its own rate. */
  due: number;
}

/**
 * Tracks the subscribed keys and says which are due at time `t`. New and touched keys tick at the
 * next call; afterwards each key ticks every `1000 / ticksPerSecond` ms (first one after a random
 * half to full period), or, with `totalRate`, the keys take turns so that the connection as a
 * whole makes `totalRate` ticks per second.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TickPacer } from "./pacer.ts";
 *
 * const pacer = new TickPacer<string>({ ticksPerSecond: 10, totalRate: 100, random: () => 0.5 });
 * pacer.add("NSE:TCS");
 * pacer.add("NSE:INFY");
 * pacer.restart(0);
 * assert.deepEqual(pacer.due(0), ["NSE:TCS", "NSE:INFY"]); // new keys tick at once
 * assert.equal(pacer.due(50).length, 5); // 100 ticks/s for 50 ms
 * ```
 */
export class TickPacer<K> {
  readonly #options: PacerOptions;
  readonly #byKey = new Map<K, Paced<K>>();
  /** Keys in subscription order, for round-robin under `totalRate`. */
  readonly #order: Paced<K>[] = [];
  /** Keys owed a tick at the next call (new, touched, or resumed). */
  readonly #immediate = new Set<Paced<K>>();
  #cursor = 0;
  #rateStart = 0;
  #emitted = 0;

  constructor(options: PacerOptions) {
    this.#options = options;
  }

  /** Number of keys paced. */
  get size(): number {
    return this.#byKey.size;
  }

  /** True when `key` is paced. */
  has(key: K): boolean {
    return this.#byKey.has(key);
  }

  /** Starts pacing `key` (it ticks at the next call); a known key is only touched. */
  add(key: K): void {
    let p = this.#byKey.get(key);
    if (p === undefined) {
      p = { key, due: Infinity };
      this.#byKey.set(key, p);
      this.#order.push(p);
    }
    this.#immediate.add(p);
  }

  /** `key` is owed a tick at the next call (e.g. its mode changed); unknown keys are ignored. */
  touch(key: K): void {
    const p = this.#byKey.get(key);
    if (p !== undefined) this.#immediate.add(p);
  }

  /** Every key is owed a tick at the next call (e.g. after a stall). */
  touchAll(): void {
    for (const p of this.#order) this.#immediate.add(p);
  }

  /** Stops pacing `key`. Returns false when it was not paced. */
  remove(key: K): boolean {
    const p = this.#byKey.get(key);
    if (p === undefined) return false;
    this.#byKey.delete(key);
    this.#order.splice(this.#order.indexOf(p), 1);
    this.#immediate.delete(p);
    return true;
  }

  /** Rates restart from `t`: nothing is owed for the time before (the caller's timer was off). */
  restart(t: number): void {
    this.#rateStart = t;
    this.#emitted = 0;
    for (const p of this.#order) if (p.due < t) p.due = t;
  }

  /**
   * The keys due at time `t` (ms, monotonic, not before the last call), one entry per tick, in
   * emission order. At most {@link MAX_CATCH_UP_MS} of backlog is caught up after a long gap.
   */
  due(t: number): K[] {
    const o = this.#options;
    const out: K[] = [];
    const period = 1000 / o.ticksPerSecond;
    for (const p of this.#immediate) {
      out.push(p.key);
      // Random phase, so keys added together do not all tick in the same call.
      if (o.totalRate === undefined) p.due = t + period * (0.5 + 0.5 * o.random());
    }
    this.#immediate.clear();
    const order = this.#order;
    if (o.totalRate !== undefined) {
      const rate = o.totalRate;
      let owed = Math.floor(((t - this.#rateStart) * rate) / 1000) - this.#emitted;
      const cap = Math.ceil((rate * MAX_CATCH_UP_MS) / 1000);
      if (owed > cap) {
        this.#emitted += owed - cap;
        owed = cap;
      }
      this.#emitted += owed;
      const n = order.length;
      if (n === 0) return out;
      let c = this.#cursor;
      for (let i = 0; i < owed; i++) {
        if (c >= n) c = 0;
        out.push(order[c++].key);
      }
      this.#cursor = c;
    } else {
      const oldest = t - MAX_CATCH_UP_MS;
      for (const p of order) {
        if (p.due < oldest) p.due = oldest;
        while (p.due <= t) {
          out.push(p.key);
          p.due += period;
        }
      }
    }
    return out;
  }
}
