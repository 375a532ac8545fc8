// The primary's side of the edge protocol: answers edges' subscribe/unsubscribe/renew requests on
// NATS by holding their keys in the gateway's own registry, one consumer per edge, under a lease.

import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import { getLogger } from "../log.ts";
import type { Consumer, SubscriptionRegistry } from "../subscriptions/mod.ts";
import type { BudgetHolder } from "../budget/mod.ts";
import { type Mode, type Outcome, subscriptionKey } from "../types.ts";
import {
  CONTROL_VERSION,
  decodeControl,
  helloSchema,
  type LeaseKey,
  renewRequestSchema,
  subscribeRequestSchema,
  unsubscribeRequestSchema,
} from "./protocol.ts";
import { controlSubject } from "./subject.ts";

const log = getLogger(["tickplex", "nats", "leases"]);

/** An instrument at a mode, as the registry lists what a consumer holds. */
export interface HeldKey {
  exchange: string;
  symbol: string;
  mode: Mode;
}

/**
 * What a renew asks of the primary, by subscription key: every listed key is (re)acquired (a no-op
 * for one already held), and every held key the edge no longer lists is released (its unsubscribe
 * was lost). Listed twice counts once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const plan = planRenew(
 *   [{ exchange: "NSE", symbol: "TCS", mode: 2, depth: 5 }],
 *   [{ exchange: "NSE", symbol: "TCS", mode: 2 }, { exchange: "NSE", symbol: "INFY", mode: 1 }],
 * );
 * assert.deepEqual(plan.acquire.map(([key]) => key), ["NSE:TCS:2"]);
 * assert.deepEqual(plan.release.map(([key]) => key), ["NSE:INFY:1"]);
 * ```
 */
export function planRenew<H extends HeldKey>(
  listed: readonly LeaseKey[],
  held: readonly H[],
): { acquire: [string, LeaseKey][]; release: [string, H][] } {
  const wanted = new Map<string, LeaseKey>();
  for (const k of listed) wanted.set(subscriptionKey(k.exchange, k.symbol, k.mode), k);
  const release: [string, H][] = [];
  for (const h of held) {
    const key = subscriptionKey(h.exchange, h.symbol, h.mode);
    if (!wanted.has(key)) release.push([key, h]);
  }
  return { acquire: [...wanted], release };
}

/**
 * Whom the budget charges edges' keys to: one holder for all edges, class trading (an edge's own
 * clients' classes and quotas are not known here; see docs/nats.md).
 */
const EDGES_HOLDER: BudgetHolder = { name: "edges", consumerClass: "trading", kind: "in_process" };

/** How often leases are checked for expiry. */
const SWEEP_MS = 250;

interface EdgeLease {
  id: string;
  /** The edge's consumer in the registry; a new one per lease incarnation. */
  consumer: Consumer;
  expiresAt: number;
}

/** Options of {@link LeaseHost}. */
export interface LeaseHostOptions {
  prefix: string;
  /** This primary's bus session (the NATS bus's), told to edges in hello and renew replies. */
  session: string;
  broker: string;
  userId: string;
  clock?: () => number;
}

/**
 * Holds the edges' leases. Each edge is one consumer of the registry, so refcounting is the
 * registry's: the broker streams a key while any edge or local client holds it, and sees one
 * subscription however many edges hold it. Requests of one edge for one key are applied in the
 * order they arrive; a lease not renewed in time releases every key of the edge.
 */
export class LeaseHost {
  /** Control messages refused (bad JSON or schema), and leases that expired. */
  readonly counters = { invalid: 0, expired: 0, requests: 0 };
  #nc: NatsConnection;
  #registry: SubscriptionRegistry;
  #options: LeaseHostOptions;
  #clock: () => number;
  #edges = new Map<string, EdgeLease>();
  /** Tail of the work queued per (edge, key): keeps one edge's operations on a key in order. */
  #chains = new Map<string, Promise<void>>();
  #subs: Subscription[] = [];
  #sweep: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(nc: NatsConnection, registry: SubscriptionRegistry, options: LeaseHostOptions) {
    this.#nc = nc;
    this.#registry = registry;
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
  }

  /** Starts answering edges and says hello, so running edges re-announce their keys at once. */
  start(): void {
    const p = this.#options.prefix;
    const on = (op: "subscribe" | "unsubscribe" | "renew" | "hello", f: (m: Msg) => void) =>
      this.#subs.push(this.#nc.subscribe(controlSubject(p, op), {
        callback: (err, m) => {
          if (err === null) f(m);
        },
      }));
    on("subscribe", (m) => this.#onSubscribe(m));
    on("unsubscribe", (m) => this.#onUnsubscribe(m));
    on("renew", (m) => this.#onRenew(m));
    on("hello", (m) => {
      const hello = decodeControl(helloSchema, m.data);
      if (hello.ok && hello.value.session !== this.#options.session) {
        log.warn("another primary (session {session}) uses subject prefix {prefix}", {
          session: hello.value.session,
          prefix: p,
        });
      }
    });
    this.#sweep = setInterval(() => this.#expire(), SWEEP_MS);
    this.#nc.publish(
      controlSubject(p, "hello"),
      JSON.stringify({ v: CONTROL_VERSION, session: this.#options.session }),
    );
  }

  /** Edges holding a lease now. */
  get edges(): number {
    return this.#edges.size;
  }

  /** Keys held by edges, all edges together. */
  get leasedKeys(): number {
    let n = 0;
    for (const e of this.#edges.values()) n += this.#registry.held(e.consumer).length;
    return n;
  }

  /** Stops answering (the connection belongs to the caller); edges' keys go with the registry. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweep);
    for (const s of this.#subs) s.unsubscribe();
    await Promise.allSettled([...this.#chains.values()]);
  }

  #touch(id: string, leaseMs: number): EdgeLease {
    let e = this.#edges.get(id);
    if (e === undefined) {
      e = { id, consumer: { id: `edge:${id}`, holder: EDGES_HOLDER }, expiresAt: 0 };
      this.#edges.set(id, e);
      log.info("edge {id} connected", { id });
    }
    e.expiresAt = this.#clock() + leaseMs;
    return e;
  }

  /** Runs `work` after everything queued before it for the same edge and key. */
  #serial<T>(edge: EdgeLease, key: string, work: () => Promise<T>): Promise<T> {
    const k = `${edge.id}\u0000${key}`;
    const run = (this.#chains.get(k) ?? Promise.resolve()).then(work);
    const tail = run.then(() => {}, () => {});
    this.#chains.set(k, tail);
    void tail.then(() => {
      if (this.#chains.get(k) === tail) this.#chains.delete(k);
    });
    return run;
  }

  #reply(m: Msg, body: unknown): void {
    if (!m.reply || this.#closed) return;
    try {
      m.respond(JSON.stringify(body));
    } catch (err) {
      log.warn("cannot answer an edge: {err}", { err });
    }
  }

  #invalid(m: Msg, error: string): void {
    this.counters.invalid++;
    log.warn("invalid control message on {subject}: {error}", { subject: m.subject, error });
    this.#reply(m, { ok: false, code: "INVALID_MESSAGE", message: error });
  }

  #onSubscribe(m: Msg): void {
    const r = decodeControl(subscribeRequestSchema, m.data);
    if (!r.ok) return this.#invalid(m, r.error);
    this.counters.requests++;
    const q = r.value;
    const edge = this.#touch(q.edge, q.leaseMs);
    const key = subscriptionKey(q.exchange, q.symbol, q.mode);
    void this.#serial(edge, key, () => this.#acquire(edge, q)).then((out) => this.#reply(m, out));
  }

  #onUnsubscribe(m: Msg): void {
    const r = decodeControl(unsubscribeRequestSchema, m.data);
    if (!r.ok) return this.#invalid(m, r.error);
    this.counters.requests++;
    const q = r.value;
    const edge = this.#edges.get(q.edge);
    if (edge === undefined) {
      // Its lease expired already: nothing of it is held.
      return this.#reply(m, { ok: true });
    }
    const key = subscriptionKey(q.exchange, q.symbol, q.mode);
    void this.#serial(edge, key, () => this.#release(edge, q)).then(() =>
      this.#reply(m, { ok: true })
    );
  }

  #onRenew(m: Msg): void {
    const r = decodeControl(renewRequestSchema, m.data);
    if (!r.ok) return this.#invalid(m, r.error);
    this.counters.requests++;
    const q = r.value;
    const edge = this.#touch(q.edge, q.leaseMs);
    const plan = planRenew(q.keys, this.#registry.held(edge.consumer));
    const work: Promise<boolean>[] = [];
    for (const [key, k] of plan.acquire) {
      work.push(this.#serial(edge, key, async () => (await this.#acquire(edge, k)).ok));
    }
    for (const [key, h] of plan.release) {
      work.push(this.#serial(edge, key, async () => {
        await this.#release(edge, h);
        return true;
      }));
    }
    void Promise.all(work).then((oks) =>
      this.#reply(m, {
        ok: true,
        session: this.#options.session,
        broker: this.#options.broker,
        userId: this.#options.userId,
        failed: oks.filter((ok) => !ok).length,
      })
    );
  }

  async #acquire(
    edge: EdgeLease,
    k: LeaseKey,
  ): Promise<Outcome<{ depth: number }>> {
    // A lease that expired while this waited must not come back through an old request.
    if (this.#edges.get(edge.id) !== edge || this.#closed) {
      return { ok: false, code: "SERVER_ERROR", message: "lease expired; renew" };
    }
    try {
      const r = await this.#registry.acquire(edge.consumer, k.exchange, k.symbol, k.mode, k.depth);
      if (r.ok && this.#edges.get(edge.id) !== edge) {
        // Expired while the broker answered: the sweep did not see this key, release it here.
        await this.#release(edge, k);
        return { ok: false, code: "SERVER_ERROR", message: "lease expired; renew" };
      }
      return r.ok ? { ok: true, depth: r.depth } : r;
    } catch (err) {
      return { ok: false, code: "SERVER_ERROR", message: String(err) };
    }
  }

  async #release(edge: EdgeLease, k: HeldKey): Promise<void> {
    try {
      await this.#registry.release(edge.consumer, k.exchange, k.symbol, k.mode);
    } catch (err) {
      log.warn("release for edge {id} failed: {err}", { id: edge.id, err });
    }
  }

  #expire(): void {
    const now = this.#clock();
    for (const e of this.#edges.values()) {
      if (e.expiresAt > now) continue;
      this.#edges.delete(e.id);
      this.counters.expired++;
      const held = this.#registry.held(e.consumer);
      log.warn("lease of edge {id} expired: releasing its {n} key(s)", {
        id: e.id,
        n: held.length,
      });
      for (const h of held) {
        void this.#serial(
          e,
          subscriptionKey(h.exchange, h.symbol, h.mode),
          () => this.#release(e, h),
        );
      }
    }
  }
}
