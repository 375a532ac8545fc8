// Flow control for tick batches from an adapter worker to the main isolate: at most `maxInFlight`
// batches may be unconsumed; beyond that the worker keeps only the newest tick per instrument until
// the main isolate catches up, so a busy main thread can never make the worker's queue grow
// without bound.

import { instrumentKey, type Tick } from "../types.ts";

/** Sends batches while credit lasts and conflates the rest. Pure: no timers, no I/O. */
export class TickFlow {
  #maxInFlight: number;
  #send: (ticks: Tick[]) => void;
  #inFlight = 0;
  #pending = new Map<string, Tick>();
  /** Ticks replaced by a newer tick of the same instrument while waiting for credit. */
  conflated = 0;

  constructor(maxInFlight: number, send: (ticks: Tick[]) => void) {
    this.#maxInFlight = maxInFlight;
    this.#send = send;
  }

  /** Batches sent and not yet acknowledged. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Ticks held back, newest per instrument. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Hands over one broker frame's ticks: sent now if credit allows, else held and conflated. */
  push(ticks: Tick[]): void {
    if (ticks.length === 0) return;
    if (this.#inFlight < this.#maxInFlight && this.#pending.size === 0) {
      this.#inFlight++;
      this.#send(ticks);
      return;
    }
    for (const t of ticks) {
      const key = instrumentKey(t.exchange, t.symbol);
      if (this.#pending.delete(key)) this.conflated++;
      this.#pending.set(key, t);
    }
  }

  /** The main isolate consumed `n` batches: send what was held back, as one batch. */
  credit(n: number): void {
    this.#inFlight = Math.max(0, this.#inFlight - n);
    if (this.#pending.size > 0 && this.#inFlight < this.#maxInFlight) {
      const batch = [...this.#pending.values()];
      this.#pending.clear();
      this.#inFlight++;
      this.#send(batch);
    }
  }
}
