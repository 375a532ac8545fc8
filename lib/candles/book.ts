// Many candle series at once, keyed by instrument and interval, each opened and closed with a
// reference count: the tick path asks for an instrument's series without building a key string.

import { InstrumentMap } from "../instrument_map.ts";
import type { Tick } from "../types.ts";
import { CandleSeries, type CandleSeriesOptions, type CandleSink } from "./series.ts";
import type { CandleInterval } from "./session.ts";

interface Entry {
  series: CandleSeries;
  refs: number;
}

/**
 * A reference-counted set of {@link CandleSeries}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CandleBook } from "./book.ts";
 * const book = new CandleBook();
 * book.open("NSE", "RELIANCE", "1m");
 * book.open("NSE", "RELIANCE", "1m");
 * assert.equal(book.size, 1);
 * assert.equal(book.close("NSE", "RELIANCE", "1m"), false); // still referenced
 * assert.equal(book.close("NSE", "RELIANCE", "1m"), true);
 * assert.equal(book.size, 0);
 * ```
 */
export class CandleBook {
  readonly #byInstrument = new InstrumentMap<Entry[]>();
  readonly #options: CandleSeriesOptions;
  #size = 0;

  constructor(options: CandleSeriesOptions = {}) {
    this.#options = options;
  }

  /** Number of series. */
  get size(): number {
    return this.#size;
  }

  /** Takes a reference on the series of (exchange, symbol, interval), creating it when new. */
  open(exchange: string, symbol: string, interval: CandleInterval): CandleSeries {
    let list = this.#byInstrument.get(exchange, symbol);
    if (!list) this.#byInstrument.set(exchange, symbol, list = []);
    const found = list.find((e) => e.series.interval === interval);
    if (found) {
      found.refs++;
      return found.series;
    }
    const series = new CandleSeries(exchange, symbol, interval, this.#options);
    list.push({ series, refs: 1 });
    this.#size++;
    return series;
  }

  /** Drops a reference; true when it was the last and the series is gone. */
  close(exchange: string, symbol: string, interval: CandleInterval): boolean {
    const list = this.#byInstrument.get(exchange, symbol);
    const i = list?.findIndex((e) => e.series.interval === interval) ?? -1;
    if (!list || i < 0) return false;
    if (--list[i].refs > 0) return false;
    list.splice(i, 1);
    this.#size--;
    if (list.length === 0) this.#byInstrument.delete(exchange, symbol);
    return true;
  }

  /** The series of (exchange, symbol, interval), if open. */
  get(exchange: string, symbol: string, interval: CandleInterval): CandleSeries | undefined {
    return this.#byInstrument.get(exchange, symbol)?.find((e) => e.series.interval === interval)
      ?.series;
  }

  /**
   * Folds a tick into every series of its instrument; closed bars go to `sink`. Calls `changed`
   * for each series whose forming bar moved.
   */
  onTick(tick: Tick, sink: CandleSink, changed?: (series: CandleSeries) => void): void {
    const list = this.#byInstrument.get(tick.exchange, tick.symbol);
    if (!list) return;
    for (let i = 0; i < list.length; i++) {
      const series = list[i].series;
      if (series.onTick(tick, sink) && changed) changed(series);
    }
  }

  /** Every open series. */
  *series(): IterableIterator<CandleSeries> {
    for (const list of this.#byInstrument.values()) for (const e of list) yield e.series;
  }

  /** Advances every series' clock to `now` (see {@link CandleSeries.advance}). */
  advance(now: number, sink: CandleSink): void {
    for (const list of this.#byInstrument.values()) {
      for (const e of list) e.series.advance(now, sink);
    }
  }
}
