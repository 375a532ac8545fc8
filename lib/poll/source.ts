// QuoteSource: the programmatic way in-process features (the option chain) hold instruments and
// read their latest ticks, served from the stream or the poller as the routing table says.

import type { BudgetHolder, DataRoute } from "../budget/mod.ts";
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

/** How a feed is served and charged. */
export interface QuoteFeedOptions {
  /** `poll`: REST quotes, no streaming slot; `stream`: a streaming slot per instrument. */
  route: DataRoute;
  /**
   * Whom its streamed instruments are charged to in the budget (class, quota); default the
   * budget's unnamed `trading` holder. Give a feature its own, e.g. `{ name: "option-chain",
   * consumerClass: "display", kind: "in_process" }`, so the trading reserve holds against it.
   */
  holder?: BudgetHolder;
  /** Called for every tick of a held instrument. */
  onTick?: (tick: Tick) => void;
}

/** Opens feeds of latest ticks; each feed is one registry consumer. */
export interface QuoteSource {
  /** Opens a feed for `id` (the registry consumer's id: unique per feed). */
  open(id: string, options: QuoteFeedOptions): QuoteFeed;
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
 * const feed = source.open("chain", { route: "poll" });
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

  open(id: string, options: QuoteFeedOptions): QuoteFeed {
    const registry = options.route === "poll" ? this.#poll : this.#stream;
    return new RegistryFeed(id, options, registry);
  }
}

class RegistryFeed implements QuoteFeed, Consumer {
  readonly id: string;
  readonly route: DataRoute;
  readonly holder: BudgetHolder | null;
  readonly #registry: SubscriptionRegistry;
  readonly #onTick: ((tick: Tick) => void) | undefined;
  readonly #latest = new Map<InstrumentKey, Tick>();

  constructor(id: string, options: QuoteFeedOptions, registry: SubscriptionRegistry) {
    this.id = id;
    this.route = options.route;
    this.holder = options.holder ?? null;
    this.#registry = registry;
    this.#onTick = options.onTick;
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
