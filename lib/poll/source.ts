// QuoteSource: the programmatic way in-process features (the option chain) hold instruments and
// read their latest ticks, served from the stream or the poller as the routing table says.

import type { DataRoute } from "../budget/mod.ts";
import type { Consumer, SubscriptionRegistry } from "../subscriptions/mod.ts";
import { type InstrumentKey, instrumentKey, type Mode, type Outcome, type Tick } from "../types.ts";

/** An instrument by name. */
export interface InstrumentRef {
  exchange: string;
  symbol: string;
}

/** One consumer's set of instruments from a {@link QuoteSource}. */
export interface QuoteFeed {
  /** The data path this feed uses (fixed when it was opened). */
  readonly route: DataRoute;
  /** Holds `items` at `mode`; one outcome per item, in order. Holding twice is a no-op. */
  add(items: readonly InstrumentRef[], mode: Mode): Promise<Outcome[]>;
  /** Releases `items` at `mode` (those not held are ignored). */
  remove(items: readonly InstrumentRef[], mode: Mode): Promise<void>;
  /** The newest tick seen for an instrument (any mode), if any. */
  latest(exchange: string, symbol: string): Tick | undefined;
  /** Instruments held, with their modes. */
  held(): { exchange: string; symbol: string; mode: Mode }[];
  /** Releases everything. */
  close(): Promise<void>;
}

/** Opens feeds of latest ticks; each feed is one registry consumer. */
export interface QuoteSource {
  /**
   * Opens a feed for `id` routed by `route` (`poll`: REST quotes, no streaming slot; `stream`: a
   * streaming slot). `onTick` is called for every tick of a held instrument.
   */
  open(id: string, route: DataRoute, onTick?: (tick: Tick) => void): QuoteFeed;
}

/**
 * The gateway's QuoteSource over its two registries: the stream registry (the pool) and the poll
 * registry (the poller). A polled instrument someone else streams is served from the stream.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SubscriptionRegistry } from "../subscriptions/mod.ts";
 * const upstream = (name: string, log: string[]) => ({
 *   subscribe: (_e: string, s: string) => (log.push(`${name}+${s}`), Promise.resolve({ ok: true as const, depth: 0 })),
 *   unsubscribe: (_e: string, s: string) => (log.push(`${name}-${s}`), Promise.resolve({ ok: true as const })),
 * });
 * const log: string[] = [];
 * const source = new RegistryQuoteSource(
 *   new SubscriptionRegistry(upstream("stream", log)),
 *   new SubscriptionRegistry(upstream("poll", log)),
 * );
 * const feed = source.open("chain", "poll");
 * await feed.add([{ exchange: "NFO", symbol: "NIFTY24DEC24000CE" }], 2);
 * await feed.close();
 * assert.deepEqual(log, ["poll+NIFTY24DEC24000CE", "poll-NIFTY24DEC24000CE"]);
 * ```
 */
export class RegistryQuoteSource implements QuoteSource {
  readonly #stream: SubscriptionRegistry;
  readonly #poll: SubscriptionRegistry;

  constructor(stream: SubscriptionRegistry, poll: SubscriptionRegistry) {
    this.#stream = stream;
    this.#poll = poll;
  }

  open(id: string, route: DataRoute, onTick?: (tick: Tick) => void): QuoteFeed {
    return new RegistryFeed(id, route, route === "poll" ? this.#poll : this.#stream, onTick);
  }
}

class RegistryFeed implements QuoteFeed, Consumer {
  readonly id: string;
  readonly route: DataRoute;
  readonly #registry: SubscriptionRegistry;
  readonly #onTick: ((tick: Tick) => void) | undefined;
  readonly #latest = new Map<InstrumentKey, Tick>();

  constructor(
    id: string,
    route: DataRoute,
    registry: SubscriptionRegistry,
    onTick: ((tick: Tick) => void) | undefined,
  ) {
    this.id = id;
    this.route = route;
    this.#registry = registry;
    this.#onTick = onTick;
  }

  deliver(tick: Tick): void {
    this.#latest.set(instrumentKey(tick.exchange, tick.symbol), tick);
    this.#onTick?.(tick);
  }

  async add(items: readonly InstrumentRef[], mode: Mode): Promise<Outcome[]> {
    return await Promise.all(items.map(async (i) => {
      const r = await this.#registry.acquire(this, i.exchange, i.symbol, mode, 5);
      return r.ok ? { ok: true as const } : r;
    }));
  }

  async remove(items: readonly InstrumentRef[], mode: Mode): Promise<void> {
    await Promise.all(items.map(async (i) => {
      const r = await this.#registry.release(this, i.exchange, i.symbol, mode);
      if (r.ok || r.code === "NOT_SUBSCRIBED") {
        const still = this.#registry.held(this).some((h) =>
          h.exchange === i.exchange && h.symbol === i.symbol
        );
        if (!still) this.#latest.delete(instrumentKey(i.exchange, i.symbol));
      }
    }));
  }

  latest(exchange: string, symbol: string): Tick | undefined {
    return this.#latest.get(instrumentKey(exchange, symbol));
  }

  held(): { exchange: string; symbol: string; mode: Mode }[] {
    return this.#registry.held(this).map((h) => ({
      exchange: h.exchange,
      symbol: h.symbol,
      mode: h.mode,
    }));
  }

  async close(): Promise<void> {
    await this.#registry.releaseAll(this);
    this.#latest.clear();
  }
}
