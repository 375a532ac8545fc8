// A map keyed by (exchange, symbol) without building an instrument-key string per lookup — the
// registry's fan-out index, the market-data cache, ring buffer and dispatch routes look one up for
// every tick.

/**
 * Two-level map exchange → symbol → value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InstrumentMap } from "./instrument_map.ts";
 * const m = new InstrumentMap<number>();
 * m.set("NSE", "RELIANCE", 1);
 * assert.equal(m.get("NSE", "RELIANCE"), 1);
 * ```
 */
export class InstrumentMap<V> {
  #byExchange = new Map<string, Map<string, V>>();
  #size = 0;

  /** The value of (exchange, symbol), if any. */
  get(exchange: string, symbol: string): V | undefined {
    return this.#byExchange.get(exchange)?.get(symbol);
  }

  /** Sets the value of (exchange, symbol). */
  set(exchange: string, symbol: string, value: V): void {
    let m = this.#byExchange.get(exchange);
    if (!m) this.#byExchange.set(exchange, m = new Map());
    const before = m.size;
    m.set(symbol, value);
    this.#size += m.size - before;
  }

  /** Removes (exchange, symbol); true when it was present. */
  delete(exchange: string, symbol: string): boolean {
    const m = this.#byExchange.get(exchange);
    if (!m || !m.delete(symbol)) return false;
    this.#size--;
    if (m.size === 0) this.#byExchange.delete(exchange);
    return true;
  }

  /** Number of instruments. */
  get size(): number {
    return this.#size;
  }

  /** Removes everything. */
  clear(): void {
    this.#byExchange.clear();
    this.#size = 0;
  }

  /** Every (exchange, symbol, value). Deleting the current entry while iterating is safe. */
  *entries(): IterableIterator<[string, string, V]> {
    for (const [exchange, m] of this.#byExchange) {
      for (const [symbol, v] of m) yield [exchange, symbol, v];
    }
  }

  /** Every value. */
  *values(): IterableIterator<V> {
    for (const m of this.#byExchange.values()) yield* m.values();
  }
}
