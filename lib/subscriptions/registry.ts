// The subscription registry: (exchange, symbol, mode) → consumers. The first consumer of a key
// asks the upstream (the pool), later ones share it, the last one to leave releases it.

import { getLogger } from "../log.ts";
import { InstrumentMap } from "../instrument_map.ts";
import { KeyedLock } from "../keyed_lock.ts";
import { instrumentKey, type Mode, type Outcome, subscriptionKey, type Tick } from "../types.ts";

const log = getLogger(["tickplex", "subscriptions"]);

/** Anything that holds subscriptions: a WebSocket client, a service subscriber, the recorder. */
export interface Consumer {
  readonly id: string;
  /** Called for every tick of a key it holds (mode ≤ tick.mode), once per key. */
  deliver?(tick: Tick, mode: Mode, frames: FrameCache): void;
}

/**
 * Per-tick cache shared by all consumers of one tick: each mode's serialised form is built once
 * and reused for every client.
 */
export interface FrameCache {
  /** The whole `market_data` frame for a consumer at `mode`. */
  market(mode: Mode): string;
  /** The same tick as one element of a `market_data_batch` frame. */
  batchItem(mode: Mode): string;
  /** The conflation key of (exchange, symbol, mode) — its `SubscriptionKey`, built once per tick. */
  key(mode: Mode): string;
}

/** What the registry needs from the pool. */
export interface Upstream {
  subscribe(
    exchange: string,
    symbol: string,
    mode: Mode,
    depth: number,
  ): Promise<Outcome<{ depth: number }>>;
  unsubscribe(exchange: string, symbol: string, mode: Mode): Promise<Outcome>;
}

interface KeyEntry {
  exchange: string;
  symbol: string;
  mode: Mode;
  depth: number;
  consumers: Set<Consumer>;
}

/** One row of the registry listing. */
export interface SubscriptionRow {
  exchange: string;
  symbol: string;
  mode: Mode;
  depth: number;
  consumers: number;
}

/** Success details of an acquire. */
export interface AcquireInfo {
  depth: number;
  /** True when another consumer already held the key (no upstream call). */
  shared: boolean;
  /** True when this consumer already held the key (idempotent subscribe). */
  already: boolean;
}

/**
 * The registry.
 *
 * @example
 * ```ts ignore
 * const registry = new SubscriptionRegistry(pool);
 * await registry.acquire(client, "NSE", "RELIANCE", 2, 5);
 * ```
 */
export class SubscriptionRegistry {
  #upstream: Upstream;
  #lock = new KeyedLock();
  /** instrument → mode → entry; the fan-out index (looked up per tick without building a key). */
  #byInstrument = new InstrumentMap<Map<Mode, KeyEntry>>();
  /** consumer → the entries it holds. */
  #byConsumer = new Map<Consumer, Set<KeyEntry>>();
  /** Keys whose last consumer left but whose upstream release failed; retried by `reap()`. */
  #orphans = new Set<KeyEntry>();

  constructor(upstream: Upstream) {
    this.#upstream = upstream;
  }

  /** Adds `consumer` to (exchange, symbol, mode), subscribing upstream if it is the first. */
  acquire(
    consumer: Consumer,
    exchange: string,
    symbol: string,
    mode: Mode,
    depth: number,
  ): Promise<Outcome<AcquireInfo>> {
    const ik = instrumentKey(exchange, symbol);
    // Fast path: the key is already streaming and nothing is in flight for the instrument — the
    // common case of many clients sharing a symbol needs no lock, no upstream call.
    const live = this.#lock.busy(ik)
      ? undefined
      : this.#byInstrument.get(exchange, symbol)?.get(mode);
    if (live) {
      const already = live.consumers.has(consumer);
      const shared = live.consumers.size > 0 && !already;
      this.#add(live, consumer);
      this.#orphans.delete(live);
      return Promise.resolve({ ok: true, depth: live.depth, shared, already });
    }
    return this.#lock.run(ik, async () => {
      const entry = this.#byInstrument.get(exchange, symbol)?.get(mode);
      if (entry) {
        const already = entry.consumers.has(consumer);
        const shared = entry.consumers.size > 0 && !already;
        this.#add(entry, consumer);
        this.#orphans.delete(entry);
        return { ok: true, depth: entry.depth, shared, already };
      }
      const r = await this.#upstream.subscribe(exchange, symbol, mode, depth);
      if (!r.ok) return r;
      const fresh: KeyEntry = { exchange, symbol, mode, depth: r.depth, consumers: new Set() };
      let m = this.#byInstrument.get(exchange, symbol);
      if (!m) this.#byInstrument.set(exchange, symbol, m = new Map());
      m.set(mode, fresh);
      this.#add(fresh, consumer);
      return { ok: true, depth: fresh.depth, shared: false, already: false };
    });
  }

  /** Removes `consumer` from the key, releasing upstream if it was the last. */
  release(consumer: Consumer, exchange: string, symbol: string, mode: Mode): Promise<Outcome> {
    const ik = instrumentKey(exchange, symbol);
    return this.#lock.run(ik, async () => {
      const entry = this.#byInstrument.get(exchange, symbol)?.get(mode);
      if (!entry || !entry.consumers.has(consumer)) {
        return {
          ok: false,
          code: "NOT_SUBSCRIBED",
          message: `Not subscribed to ${symbol} on ${exchange} in mode ${mode}`,
        };
      }
      entry.consumers.delete(consumer);
      const held = this.#byConsumer.get(consumer);
      held?.delete(entry);
      if (held?.size === 0) this.#byConsumer.delete(consumer);
      if (entry.consumers.size > 0) return { ok: true };
      return await this.#releaseUpstream(entry);
    });
  }

  /** Releases everything `consumer` holds (disconnect). Failures become orphans, retried later. */
  async releaseAll(consumer: Consumer): Promise<SubscriptionRow[]> {
    const held = [...(this.#byConsumer.get(consumer) ?? [])];
    const released: SubscriptionRow[] = [];
    await Promise.all(held.map(async (e) => {
      const r = await this.release(consumer, e.exchange, e.symbol, e.mode);
      if (r.ok || r.code !== "NOT_SUBSCRIBED") released.push(row(e, 0));
    }));
    return released;
  }

  async #releaseUpstream(entry: KeyEntry): Promise<Outcome> {
    const r = await this.#upstream.unsubscribe(entry.exchange, entry.symbol, entry.mode);
    if (!r.ok && r.code !== "NOT_SUBSCRIBED") {
      // The broker still streams it: keep the key (with no consumers) and retry on reap().
      this.#orphans.add(entry);
      log.warn("upstream release of {key} failed ({message}); will retry", {
        key: subscriptionKey(entry.exchange, entry.symbol, entry.mode),
        message: r.message,
      });
      return r;
    }
    const modes = this.#byInstrument.get(entry.exchange, entry.symbol);
    modes?.delete(entry.mode);
    if (modes?.size === 0) this.#byInstrument.delete(entry.exchange, entry.symbol);
    this.#orphans.delete(entry);
    return { ok: true };
  }

  /** Retries the upstream release of keys nobody holds any more. Returns how many were freed. */
  async reap(): Promise<number> {
    let freed = 0;
    await Promise.all(
      [...this.#orphans].map((e) =>
        this.#lock.run(instrumentKey(e.exchange, e.symbol), async () => {
          if (!this.#orphans.has(e) || e.consumers.size > 0) return;
          const r = await this.#releaseUpstream(e);
          if (r.ok) freed++;
        })
      ),
    );
    return freed;
  }

  #add(entry: KeyEntry, consumer: Consumer): void {
    entry.consumers.add(consumer);
    let held = this.#byConsumer.get(consumer);
    if (!held) this.#byConsumer.set(consumer, held = new Set());
    held.add(entry);
  }

  /** The fan-out index for one instrument: mode → consumers. Do not mutate. */
  consumersOf(
    exchange: string,
    symbol: string,
  ): ReadonlyMap<Mode, { consumers: Set<Consumer> }> | undefined {
    return this.#byInstrument.get(exchange, symbol);
  }

  /** Modes of an instrument that currently have at least one consumer. */
  modesWithConsumers(exchange: string, symbol: string): Mode[] {
    const m = this.#byInstrument.get(exchange, symbol);
    if (!m) return [];
    const out: Mode[] = [];
    for (const [mode, e] of m) if (e.consumers.size > 0) out.push(mode);
    return out;
  }

  /** What one consumer holds. */
  held(consumer: Consumer): SubscriptionRow[] {
    return [...(this.#byConsumer.get(consumer) ?? [])].map((e) => row(e, e.consumers.size));
  }

  /** Every key with its consumer count (orphans included, with 0). */
  list(): SubscriptionRow[] {
    const out: SubscriptionRow[] = [];
    for (const modes of this.#byInstrument.values()) {
      for (const e of modes.values()) out.push(row(e, e.consumers.size));
    }
    return out;
  }

  /** Number of distinct consumers holding anything. */
  get consumerCount(): number {
    return this.#byConsumer.size;
  }
}

function row(e: KeyEntry, consumers: number): SubscriptionRow {
  return { exchange: e.exchange, symbol: e.symbol, mode: e.mode, depth: e.depth, consumers };
}
