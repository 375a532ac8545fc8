// Where the option chain gets its quotes: a small interface (hold keys, read the latest tick of
// each) and its streaming implementation over the subscription registry. A REST-poll source plugs
// in behind the same interface (budget.routing.optionChain chooses).

import { InstrumentMap } from "../instrument_map.ts";
import { getLogger } from "../log.ts";
import type { Consumer, SubscriptionRegistry } from "../subscriptions/mod.ts";
import type { Mode, Outcome, Tick } from "../types.ts";

const log = getLogger(["tickplex", "options", "source"]);

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

/** The chain streams in Depth mode: the best bid and ask are the first depth levels. */
const CHAIN_MODE: Mode = 3;
const CHAIN_DEPTH = 5;

/**
 * A {@link ChainQuotes} over the subscription registry: one registry consumer holds a Depth key per
 * instrument (shared with every other client of the key) and keeps the newest tick of each.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SubscriptionRegistry } from "../subscriptions/mod.ts";
 * const upstream = {
 *   subscribe: () => Promise.resolve({ ok: true as const, depth: 5 }),
 *   unsubscribe: () => Promise.resolve({ ok: true as const }),
 * };
 * const registry = new SubscriptionRegistry(upstream);
 * const source = new StreamChainQuotes(registry);
 * const ref = { exchange: "NFO", symbol: "NIFTY30DEC2525000CE" };
 * assert.deepEqual(await source.acquire([ref, ref]), [{ ok: true }, { ok: true }]);
 * assert.equal(registry.list()[0].mode, 3); // one Depth key: bid and ask are depth level 1
 * await source.release([ref]);
 * assert.equal(registry.list().length, 1); // still held once
 * await source.release([ref]);
 * assert.equal(registry.list().length, 0);
 * ```
 */
export class StreamChainQuotes implements ChainQuotes {
  readonly #registry: SubscriptionRegistry;
  readonly #refs = new InstrumentMap<number>();
  readonly #latest = new InstrumentMap<Tick>();
  readonly #consumer: Consumer;
  readonly #snapshot: ((exchange: string, symbol: string) => Tick | null) | undefined;

  /**
   * `snapshot` (the market data cache) gives an instrument's newest Depth tick as it is acquired,
   * so a strike entering the window shows its quote at once rather than at its next tick.
   */
  constructor(
    registry: SubscriptionRegistry,
    snapshot?: (exchange: string, symbol: string) => Tick | null,
  ) {
    this.#registry = registry;
    this.#snapshot = snapshot;
    this.#consumer = {
      id: "option_chain",
      // Shared by every chain client, like the candle feed, so it is never a pre-emption victim
      // (only display is); budget.routing.optionChain (poll by default) keeps it off the stream.
      holder: { name: "option_chain", consumerClass: "monitoring", kind: "in_process" },
      deliver: (tick: Tick) => {
        if (this.#refs.get(tick.exchange, tick.symbol) !== undefined) {
          this.#latest.set(tick.exchange, tick.symbol, tick);
        }
      },
    };
  }

  get size(): number {
    return this.#refs.size;
  }

  acquire(items: ChainInstrument[]): Promise<Outcome[]> {
    return Promise.all(items.map(async (i) => {
      const n = this.#refs.get(i.exchange, i.symbol) ?? 0;
      // Count before awaiting, so a concurrent last release cannot drop the key under us.
      this.#refs.set(i.exchange, i.symbol, n + 1);
      if (n > 0) return { ok: true as const };
      const r = await this.#registry.acquire(
        this.#consumer,
        i.exchange,
        i.symbol,
        CHAIN_MODE,
        CHAIN_DEPTH,
      );
      if (r.ok) {
        const seed = this.#snapshot?.(i.exchange, i.symbol);
        if (seed && this.#latest.get(i.exchange, i.symbol) === undefined) {
          this.#latest.set(i.exchange, i.symbol, seed);
        }
        return { ok: true as const };
      }
      this.#drop(i);
      return { ok: false as const, code: r.code, message: r.message };
    }));
  }

  async release(items: ChainInstrument[]): Promise<void> {
    await Promise.all(items.map(async (i) => {
      if (!this.#drop(i)) return;
      const r = await this.#registry.release(this.#consumer, i.exchange, i.symbol, CHAIN_MODE);
      if (!r.ok && r.code !== "NOT_SUBSCRIBED") {
        log.warn("releasing {symbol} on {exchange} failed: {message}", {
          ...i,
          message: r.message,
        });
      }
    }));
  }

  latest(exchange: string, symbol: string): Tick | undefined {
    return this.#latest.get(exchange, symbol);
  }

  /** Counts one release; true when it was the last. */
  #drop(i: ChainInstrument): boolean {
    const n = this.#refs.get(i.exchange, i.symbol);
    if (n === undefined) return false;
    if (n > 1) {
      this.#refs.set(i.exchange, i.symbol, n - 1);
      return false;
    }
    this.#refs.delete(i.exchange, i.symbol);
    this.#latest.delete(i.exchange, i.symbol);
    return true;
  }
}

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

  constructor(feed: InstrumentFeed) {
    this.#feed = feed;
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
      if (r.ok) return;
      // Every item naming the failed instrument fails, and none of them stays counted.
      items.forEach((i, m) => {
        if (!sameInstrument(i, items[k])) return;
        out[m] = r;
        this.#uncount(i);
      });
    });
    return out;
  }

  async release(items: ChainInstrument[]): Promise<void> {
    const last = items.filter((i) => this.#uncount(i));
    if (last.length > 0) await this.#feed.remove(last, CHAIN_MODE);
  }

  latest(exchange: string, symbol: string): Tick | undefined {
    return this.#refs.get(exchange, symbol) === undefined
      ? undefined
      : this.#feed.latest(exchange, symbol);
  }

  /** Counts one release; true when it was the last. */
  #uncount(i: ChainInstrument): boolean {
    const n = this.#refs.get(i.exchange, i.symbol);
    if (n === undefined) return false;
    if (n > 1) this.#refs.set(i.exchange, i.symbol, n - 1);
    else this.#refs.delete(i.exchange, i.symbol);
    return n === 1;
  }
}

function sameInstrument(a: ChainInstrument, b: ChainInstrument): boolean {
  return a.exchange === b.exchange && a.symbol === b.symbol;
}
