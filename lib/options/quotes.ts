// Where the option chain gets its quotes: a small interface (hold instruments counted, read the
// latest tick of each) over a feed of lib/poll's QuoteSource, which serves it from the stream or
// the REST poller as budget.routing.optionChain says.

import { InstrumentMap } from "../instrument_map.ts";
import type { Mode, Outcome, Tick } from "../types.ts";

/** An instrument the chain reads. */
export interface ChainInstrument {
  exchange: string;
  symbol: string;
}

/**
 * Quotes for the option chain. Holding is counted per instrument: every successful `acquire` of
 * an instrument needs one `release`; the source holds the upstream key while the count is > 0.
 */
export interface ChainQuotes {
  /** Starts serving each instrument; one outcome per item, in order. */
  acquire(items: ChainInstrument[]): Promise<Outcome[]>;
  /** Gives back instruments acquired before; the last release drops the upstream key. */
  release(items: ChainInstrument[]): Promise<void>;
  /** The newest tick of a held instrument, if one came. */
  latest(exchange: string, symbol: string): Tick | undefined;
  /** Instruments held now. */
  readonly size: number;
}

/** The chain holds Depth: the best bid and ask are the first depth levels. */
const CHAIN_MODE: Mode = 3;

/**
 * The part of a stream-or-poll feed of latest ticks (lib/poll's QuoteFeed) the chain needs. Holding
 * an instrument twice there is a no-op, so {@link FeedChainQuotes} does the counting.
 */
export interface InstrumentFeed {
  add(items: readonly ChainInstrument[], mode: Mode): Promise<Outcome[]>;
  remove(items: readonly ChainInstrument[], mode: Mode): Promise<void>;
  latest(exchange: string, symbol: string): Tick | undefined;
}

/**
 * {@link ChainQuotes} over an {@link InstrumentFeed}: the feed is asked to hold an instrument on its
 * first acquire and to drop it on its last release (Depth mode, for the best bid and ask). This is
 * how the chain follows budget.routing.optionChain: the feed is opened on the stream or the poller.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const calls: string[] = [];
 * const feed = {
 *   add: (items: readonly { symbol: string }[]) => {
 *     calls.push(...items.map((i) => `+${i.symbol}`));
 *     return Promise.resolve(items.map(() => ({ ok: true as const })));
 *   },
 *   remove: (items: readonly { symbol: string }[]) => {
 *     calls.push(...items.map((i) => `-${i.symbol}`));
 *     return Promise.resolve();
 *   },
 *   latest: () => undefined,
 * };
 * const quotes = new FeedChainQuotes(feed);
 * const ce = { exchange: "NFO", symbol: "NIFTY30DEC2525000CE" };
 * await quotes.acquire([ce]);
 * await quotes.acquire([ce]);
 * await quotes.release([ce]);
 * await quotes.release([ce]);
 * assert.deepEqual(calls, ["+NIFTY30DEC2525000CE", "-NIFTY30DEC2525000CE"]);
 * ```
 */
export class FeedChainQuotes implements ChainQuotes {
  readonly #feed: InstrumentFeed;
  readonly #refs = new InstrumentMap<number>();
  readonly #snapshot: ((exchange: string, symbol: string) => Tick | null) | undefined;
  /** Ticks from the cache for instruments the feed has not delivered yet. */
  readonly #seeds = new InstrumentMap<Tick>();

  /**
   * `snapshot` (the market data cache) gives an instrument's newest Depth tick as it is first held,
   * so a strike entering the window shows its quote at once rather than at its next tick or poll.
   */
  constructor(feed: InstrumentFeed, snapshot?: (exchange: string, symbol: string) => Tick | null) {
    this.#feed = feed;
    this.#snapshot = snapshot;
  }

  get size(): number {
    return this.#refs.size;
  }

  async acquire(items: ChainInstrument[]): Promise<Outcome[]> {
    const out: Outcome[] = items.map(() => ({ ok: true as const }));
    const fresh: number[] = [];
    items.forEach((i, k) => {
      const n = this.#refs.get(i.exchange, i.symbol) ?? 0;
      // Count before awaiting, so a concurrent last release cannot drop the key under us.
      this.#refs.set(i.exchange, i.symbol, n + 1);
      if (n === 0 && !fresh.some((f) => sameInstrument(items[f], i))) fresh.push(k);
    });
    if (fresh.length === 0) return out;
    const results = await this.#feed.add(fresh.map((k) => items[k]), CHAIN_MODE);
    fresh.forEach((k, j) => {
      const r = results[j];
      const i = items[k];
      if (r.ok) {
        const seed = this.#snapshot?.(i.exchange, i.symbol);
        if (seed && this.#refs.get(i.exchange, i.symbol) !== undefined) {
          this.#seeds.set(i.exchange, i.symbol, seed);
        }
        return;
      }
      // Every item naming the failed instrument fails, and none of them stays counted.
      items.forEach((other, m) => {
        if (!sameInstrument(other, i)) return;
        out[m] = r;
        this.#uncount(other);
      });
    });
    return out;
  }

  async release(items: ChainInstrument[]): Promise<void> {
    const last = items.filter((i) => this.#uncount(i));
    if (last.length > 0) await this.#feed.remove(last, CHAIN_MODE);
  }

  latest(exchange: string, symbol: string): Tick | undefined {
    if (this.#refs.get(exchange, symbol) === undefined) return undefined;
    const tick = this.#feed.latest(exchange, symbol);
    if (tick === undefined) return this.#seeds.get(exchange, symbol);
    // The feed has its own tick now: the seed is no longer needed.
    if (this.#seeds.size > 0) this.#seeds.delete(exchange, symbol);
    return tick;
  }

  /** Counts one release; true when it was the last. */
  #uncount(i: ChainInstrument): boolean {
    const n = this.#refs.get(i.exchange, i.symbol);
    if (n === undefined) return false;
    if (n > 1) this.#refs.set(i.exchange, i.symbol, n - 1);
    else {
      this.#refs.delete(i.exchange, i.symbol);
      this.#seeds.delete(i.exchange, i.symbol);
    }
    return n === 1;
  }
}

function sameInstrument(a: ChainInstrument, b: ChainInstrument): boolean {
  return a.exchange === b.exchange && a.symbol === b.symbol;
}
