// The subscription registry: (exchange, symbol, mode) → consumers. The first consumer of a key
// asks the upstream (the pool), later ones share it, the last one to leave releases it. With a
// budget ledger it is also where streaming slots are admitted, charged to classes and pre-empted.

import { getLogger } from "../log.ts";
import {
  type BudgetHolder,
  type BudgetLedger,
  type ConsumerClass,
  DEFAULT_HOLDER,
  type Slot,
} from "../budget/mod.ts";
import { InstrumentMap } from "../instrument_map.ts";
import { KeyedLock } from "../keyed_lock.ts";
import {
  instrumentKey,
  type Mode,
  MODE_LABEL,
  type Outcome,
  subscriptionKey,
  type Tick,
} from "../types.ts";

const log = getLogger(["tickplex", "subscriptions"]);

/** Anything that holds subscriptions: a WebSocket client, a service subscriber, the recorder. */
export interface Consumer {
  readonly id: string;
  /** Called for every tick of a key it holds (mode ≤ tick.mode), once per key. */
  deliver?(tick: Tick, mode: Mode, frames: FrameCache): void;
  /**
   * Whom its keys are held for (API key or in-process owner): its class and quota. None: class
   * `trading`, no quota.
   */
  readonly holder?: BudgetHolder | null;
  /**
   * Called when the registry took a key away from it (pre-empted for a trading consumer). The
   * consumer no longer holds the key when this runs; it must tell its user, never stop silently.
   */
  revoke?(revocation: Revocation): void;
}

/** A key taken away from a consumer, and why. */
export interface Revocation {
  exchange: string;
  symbol: string;
  mode: Mode;
  /** `preempted`: a trading consumer needed the streaming slot (budget.preemptDisplay). */
  reason: "preempted";
  /** Says what happened in words, naming the budget setting. */
  message: string;
}

/** One key with the class its slot is charged to and the holders of its consumers. */
export interface HoldingRow extends SubscriptionRow {
  /** The class the instrument's streaming slot is charged to (the highest holding it). */
  class: ConsumerClass;
  /** Names of the holders (API keys, in-process owners) holding this key. */
  holders: string[];
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
 * ```ts
 * import assert from "node:assert/strict";
 * import { Gateway } from "../gateway.ts";
 * import { ADAPTERS, adapterOptionsFor } from "../../adapters/mod.ts";
 * import { configSchema } from "../config/mod.ts";
 * // The paper market on free ports; `deno task start` runs the same with your config.
 * const gw = await Gateway.start({
 *   config: configSchema.parse({
 *     port: 0, bus: "tcp://127.0.0.1:*", apiKeys: ["a-long-random-client-key"], logLevel: "error",
 *   }),
 *   adapters: ADAPTERS,
 *   adapterOptions: adapterOptionsFor,
 * });
 * const registry = gw.registry; // `new SubscriptionRegistry(pool)` in Gateway.start
 * const a = { id: "algo-a" }, b = { id: "algo-b" };
 * assert.equal((await registry.acquire(a, "NSE", "RELIANCE", 2, 5)).ok, true);
 * assert.equal((await registry.acquire(b, "NSE", "RELIANCE", 2, 5)).ok, true); // no broker call
 * assert.equal(registry.list()[0].consumers, 2);
 * await registry.releaseAll(a);
 * await registry.releaseAll(b);
 * assert.deepEqual(registry.list(), []); // the last one out unsubscribed upstream
 * await gw.stop();
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
  #ledger: BudgetLedger | null;

  /** Without a ledger every consumer may take any slot the upstream has (no budget). */
  constructor(upstream: Upstream, ledger: BudgetLedger | null = null) {
    this.#upstream = upstream;
    this.#ledger = ledger;
  }

  /** The budget ledger, when the registry enforces one. */
  get ledger(): BudgetLedger | null {
    return this.#ledger;
  }

  /**
   * Adds `consumer` to (exchange, symbol, mode), subscribing upstream if it is the first. With a
   * ledger: a new instrument needs a slot its class may take, a holder's quota counts distinct
   * instruments, and a trading consumer may pre-empt the least recently used display slot.
   */
  acquire(
    consumer: Consumer,
    exchange: string,
    symbol: string,
    mode: Mode,
    depth: number,
  ): Promise<Outcome<AcquireInfo>> {
    const ik = instrumentKey(exchange, symbol);
    const ledger = this.#ledger;
    const holder = consumer.holder ?? DEFAULT_HOLDER;
    const known = this.#byInstrument.get(exchange, symbol)?.get(mode);
    // The quota is claimed before any wait, so racing subscribes of one key cannot overshoot it.
    let claimed = false;
    if (ledger && !known?.consumers.has(consumer)) {
      const refusal = ledger.claim(holder, exchange, symbol);
      if (refusal) return Promise.resolve(capacityError(refusal));
      claimed = true;
    }
    // Fast path: the key is already streaming and nothing is in flight for the instrument — the
    // common case of many clients sharing a symbol needs no lock, no upstream call.
    const live = this.#lock.busy(ik) ? undefined : known;
    if (live) return Promise.resolve(this.#join(live, consumer, claimed));
    return this.#lock.run(ik, async () => {
      const entry = this.#byInstrument.get(exchange, symbol)?.get(mode);
      if (entry) return this.#join(entry, consumer, claimed);
      const unclaim = () => claimed && ledger?.unclaim(holder, exchange, symbol);
      // A new instrument takes a slot; another mode of a streamed one costs none.
      const newSlot = ledger !== null && !ledger.slot(exchange, symbol);
      if (newSlot) {
        const admitted = ledger.admit(exchange, symbol, holder.consumerClass);
        if (!admitted.ok) {
          unclaim();
          return capacityError(admitted.message);
        }
        if (admitted.victim && !(await this.#preempt(admitted.victim, exchange, symbol))) {
          ledger.free(exchange, symbol);
          unclaim();
          return capacityError(
            `Maximum capacity reached: all ${ledger.capacity} streaming slots are in use and ` +
              `no display slot could be pre-empted for ${symbol} on ${exchange}.`,
          );
        }
      }
      const r = await this.#upstream.subscribe(exchange, symbol, mode, depth);
      if (!r.ok) {
        if (newSlot) ledger.free(exchange, symbol);
        unclaim();
        return r;
      }
      if (newSlot) ledger.confirm(exchange, symbol);
      const fresh: KeyEntry = { exchange, symbol, mode, depth: r.depth, consumers: new Set() };
      let m = this.#byInstrument.get(exchange, symbol);
      if (!m) this.#byInstrument.set(exchange, symbol, m = new Map());
      m.set(mode, fresh);
      this.#add(fresh, consumer);
      return { ok: true, depth: fresh.depth, shared: false, already: false };
    });
  }

  /** Adds `consumer` to a key that is streamed already. */
  #join(entry: KeyEntry, consumer: Consumer, claimed: boolean): Outcome<AcquireInfo> {
    const already = entry.consumers.has(consumer);
    const shared = entry.consumers.size > 0 && !already;
    if (already && claimed) {
      this.#ledger?.unclaim(consumer.holder ?? DEFAULT_HOLDER, entry.exchange, entry.symbol);
    }
    this.#add(entry, consumer);
    this.#orphans.delete(entry);
    return { ok: true, depth: entry.depth, shared, already };
  }

  /**
   * Evicts display slots until one is freed for the trading subscribe of (exchange, symbol),
   * starting with `victim`. Each evicted key's consumers get a {@link Revocation}. False when no
   * display slot could be freed (a higher class took each candidate meanwhile, or the broker
   * would not release it).
   */
  async #preempt(victim: Slot, exchange: string, symbol: string): Promise<boolean> {
    const ledger = this.#ledger!;
    let candidate: Slot | undefined = victim;
    for (let attempt = 0; candidate && attempt < 3; attempt++) {
      if (await this.#evict(candidate, exchange, symbol)) return true;
      candidate = ledger.nextVictim();
    }
    if (candidate) ledger.spare(candidate);
    return false;
  }

  #evict(slot: Slot, forExchange: string, forSymbol: string): Promise<boolean> {
    const ledger = this.#ledger!;
    const { exchange, symbol } = slot;
    return this.#lock.run(instrumentKey(exchange, symbol), async () => {
      if (ledger.slot(exchange, symbol) !== slot) return true; // released meanwhile: a free slot
      if (slot.charged !== "display") {
        ledger.spare(slot); // a higher class holds it now
        return false;
      }
      const entries = [...(this.#byInstrument.get(exchange, symbol)?.values() ?? [])];
      const revoked: [Consumer, Mode][] = [];
      for (const e of entries) {
        for (const c of [...e.consumers]) {
          this.#remove(e, c);
          revoked.push([c, e.mode]);
        }
      }
      for (const e of entries) await this.#releaseUpstream(e);
      const freed = ledger.slot(exchange, symbol) !== slot;
      if (freed) ledger.countPreempted();
      log.warn("pre-empted display key {key} ({n} consumers) for trading {for}", {
        key: instrumentKey(exchange, symbol),
        n: revoked.length,
        for: instrumentKey(forExchange, forSymbol),
      });
      for (const [c, mode] of revoked) {
        try {
          c.revoke?.({
            exchange,
            symbol,
            mode,
            reason: "preempted",
            message: `${symbol} on ${exchange} (${MODE_LABEL[mode]}) was released for a trading ` +
              `subscription: all ${ledger.capacity} streaming slots are in use and ` +
              `budget.preemptDisplay gives trading the least recently used display symbol.`,
          });
        } catch (err) {
          log.error("consumer {id} failed to handle a revocation: {err}", { id: c.id, err });
        }
      }
      return freed;
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
      this.#remove(entry, consumer);
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
    if (modes?.size === 0) {
      this.#byInstrument.delete(entry.exchange, entry.symbol);
      this.#ledger?.free(entry.exchange, entry.symbol);
    }
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

  /**
   * Runs {@link reap} every `intervalMs` (failures logged) until the returned stop is called: the
   * one schedule every owner of a registry (gateway, edge) uses.
   */
  reapEvery(intervalMs: number): () => void {
    const timer = setInterval(() => {
      this.reap().catch((err) => log.error("reap failed: {err}", { err }));
    }, intervalMs);
    return () => clearInterval(timer);
  }

  #add(entry: KeyEntry, consumer: Consumer): void {
    const ledger = this.#ledger;
    if (ledger) {
      if (!entry.consumers.has(consumer)) {
        const cls = consumer.holder?.consumerClass ?? DEFAULT_HOLDER.consumerClass;
        ledger.hold(entry.exchange, entry.symbol, cls, 1);
      }
      ledger.touch(entry.exchange, entry.symbol);
    }
    entry.consumers.add(consumer);
    let held = this.#byConsumer.get(consumer);
    if (!held) this.#byConsumer.set(consumer, held = new Set());
    held.add(entry);
  }

  /** Takes `consumer` off a key it holds (no upstream call). */
  #remove(entry: KeyEntry, consumer: Consumer): void {
    if (!entry.consumers.delete(consumer)) return;
    const held = this.#byConsumer.get(consumer);
    held?.delete(entry);
    if (held?.size === 0) this.#byConsumer.delete(consumer);
    const ledger = this.#ledger;
    if (ledger) {
      const holder = consumer.holder ?? DEFAULT_HOLDER;
      ledger.hold(entry.exchange, entry.symbol, holder.consumerClass, -1);
      ledger.unclaim(holder, entry.exchange, entry.symbol);
    }
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

  /** Whether `consumer` holds (exchange, symbol, mode) right now. */
  holds(consumer: Consumer, exchange: string, symbol: string, mode: Mode): boolean {
    return this.#byInstrument.get(exchange, symbol)?.get(mode)?.consumers.has(consumer) ?? false;
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

  /** Every key with the class its slot is charged to and who holds it (which key holds what). */
  holdings(): HoldingRow[] {
    const out: HoldingRow[] = [];
    for (const [exchange, symbol, modes] of this.#byInstrument.entries()) {
      const cls = this.#ledger?.slot(exchange, symbol)?.charged ?? "trading";
      for (const e of modes.values()) {
        const names = new Set<string>();
        for (const c of e.consumers) names.add((c.holder ?? DEFAULT_HOLDER).name);
        out.push({ ...row(e, e.consumers.size), class: cls, holders: [...names].sort() });
      }
    }
    return out;
  }

  /** Distinct instruments streamed for the registry's consumers (orphans included). */
  get instrumentCount(): number {
    return this.#byInstrument.size;
  }

  /** Number of distinct consumers holding anything. */
  get consumerCount(): number {
    return this.#byConsumer.size;
  }
}

function capacityError(message: string): Outcome<never> {
  return { ok: false, code: "MAX_CAPACITY_REACHED", message };
}

function row(e: KeyEntry, consumers: number): SubscriptionRow {
  return { exchange: e.exchange, symbol: e.symbol, mode: e.mode, depth: e.depth, consumers };
}
