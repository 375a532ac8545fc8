// The edge's upstream: the registry's `Upstream` backed by NATS. A key's first local consumer asks
// the primary (request/reply, under a lease renewed every lease/3) and subscribes its bus subject.

import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { getLogger } from "../log.ts";
import { type BusEnvelope, decodeEnvelope } from "../bus/wire.ts";
import type { Upstream } from "../subscriptions/mod.ts";
import type { FeedState } from "../feed_state.ts";
import { type Mode, type Outcome, subscriptionKey, type Tick } from "../types.ts";
import {
  CONTROL_VERSION,
  decodeControl,
  helloSchema,
  type LeaseKey,
  type RenewReply,
  renewReplySchema,
  subscribeReplySchema,
  unsubscribeReplySchema,
} from "./protocol.ts";
import { controlSubject, tickSubject } from "./subject.ts";
import { fetchMissed } from "./stream.ts";

const log = getLogger(["tickplex", "nats", "edge"]);

/** Options of {@link NatsUpstream}. */
export interface NatsUpstreamOptions {
  prefix: string;
  leaseMs: number;
  requestTimeoutMs: number;
  /** The primary's JetStream stream: a `seq` gap on a key is filled from it; null: not filled. */
  stream?: string | null;
}

interface Held extends LeaseKey {
  /** The key's bus subscription (null only while it is being made). */
  sub: Subscription | null;
  /** The latest envelope delivered for this key. */
  last: { session: string; seq: number; published: number } | null;
  /** While a gap is being filled: the live envelopes that arrived meanwhile, in order. */
  waiting: BusEnvelope[] | null;
}

/** Longest a gap fill may hold back a key's live ticks. */
const RECOVERY_TIMEOUT_MS = 2000;

/** What the primary told the edge in its latest renew reply. */
export interface PrimaryInfo {
  session: string;
  broker: string;
  userId: string;
}

/**
 * Rebuilds a tick from a v1 envelope: the fields of the envelope's mode, the richer ones null.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildEnvelope } from "../bus/wire.ts";
 * import { baseTick } from "../types.ts";
 * const tick = { ...baseTick("NSE", "TCS", 2, 3500, 1, 2), volume: 10 };
 * const header = { seq: 0, session: "s", broker: "paper", published: 3 };
 * assert.deepEqual(tickFromEnvelope(buildEnvelope(tick, 2, header)), tick);
 * assert.equal(tickFromEnvelope(buildEnvelope(tick, 1, header)).volume, null);
 * ```
 */
export function tickFromEnvelope(e: BusEnvelope): Tick {
  const d = e.data;
  const q = e.mode === "LTP" ? null : e.data as Extract<BusEnvelope, { mode: "QUOTE" }>["data"];
  return {
    exchange: e.exchange,
    symbol: e.symbol,
    mode: e.mode === "LTP" ? 1 : e.mode === "QUOTE" ? 2 : 3,
    ltp: d.ltp,
    ltt: d.ltt,
    timestamp: d.timestamp,
    open: q?.open ?? null,
    high: q?.high ?? null,
    low: q?.low ?? null,
    close: q?.close ?? null,
    volume: q?.volume ?? null,
    last_trade_quantity: q?.last_trade_quantity ?? null,
    avg_trade_price: q?.avg_trade_price ?? null,
    total_buy_quantity: q?.total_buy_quantity ?? null,
    total_sell_quantity: q?.total_sell_quantity ?? null,
    oi: q?.oi ?? null,
    change: q?.change ?? null,
    change_percent: q?.change_percent ?? null,
    depth: e.mode === "DEPTH" ? e.data.depth : null,
  };
}

/**
 * The registry's upstream on an edge. Refcounting stays the registry's: this sees one subscribe per
 * key however many local clients share it, and the primary sees one consumer per edge. Ticks come
 * once per mode (the primary publishes each mode's envelope), so the edge's proxy delivers each to
 * the consumers of exactly its mode (`ticksPerMode`).
 */
export class NatsUpstream implements Upstream {
  /** This edge process's id at the primary (a new one per start). */
  readonly edgeId: string = crypto.randomUUID();
  /** Envelopes received, refused by the decoder, and renewals sent / failed. */
  readonly counters = {
    received: 0,
    invalid: 0,
    renewals: 0,
    renewFailures: 0,
    /** NATS reconnects of this edge's connection. */
    reconnects: 0,
    /** `seq` gaps seen, ticks fetched back from the stream, repeated envelopes dropped. */
    gaps: 0,
    recovered: 0,
    duplicates: 0,
  };
  /** Test hook: drops the next `n` valid envelopes as if lost on the way (a `seq` gap). */
  readonly testing = { dropNext: 0 };
  /** Receives decoded ticks, batched per burst of NATS messages. */
  onticks: (ticks: Tick[]) => void = () => {};
  #nc: NatsConnection;
  #options: NatsUpstreamOptions;
  #held = new Map<string, Held>();
  #pending: Tick[] = [];
  #flushQueued = false;
  #renewTimer: ReturnType<typeof setInterval> | undefined;
  #hello: Subscription | undefined;
  #primary: PrimaryInfo | null = null;
  #primaryUp = false;
  #lastTickAt: number | null = null;
  #closed = false;
  #renewing: Promise<boolean> | null = null;

  constructor(nc: NatsConnection, options: NatsUpstreamOptions) {
    this.#nc = nc;
    this.#options = options;
  }

  /**
   * Starts renewing and listening for primaries' hellos; resolves once a primary has answered a
   * renew (so the edge knows the broker it serves), retrying every `retryMs` meanwhile; rejects
   * when `signal` aborts first.
   */
  async start(retryMs = 500, signal?: AbortSignal): Promise<PrimaryInfo> {
    this.#hello = this.#nc.subscribe(controlSubject(this.#options.prefix, "hello"), {
      callback: (err, m) => {
        if (err !== null || !decodeControl(helloSchema, m.data).ok) return;
        log.info("a primary started: re-announcing {n} key(s)", { n: this.#held.size });
        void this.renew();
      },
    });
    this.#watchStatus();
    let waited = 0;
    while (!(await this.renew())) {
      if (this.#closed || signal?.aborted) {
        throw new Error("edge stopped while waiting for the primary");
      }
      if (waited % 10_000 < retryMs) {
        log.info("waiting for the primary on {prefix} ...", { prefix: this.#options.prefix });
      }
      await new Promise((r) => setTimeout(r, retryMs));
      waited += retryMs;
    }
    this.#renewTimer = setInterval(() => void this.renew(), Math.floor(this.#options.leaseMs / 3));
    return this.#primary!;
  }

  /** The primary of the latest renew reply, or null before one. */
  get primary(): PrimaryInfo | null {
    return this.#primary;
  }

  /** Keys held upstream. */
  get keys(): number {
    return this.#held.size;
  }

  /** When the latest tick arrived (epoch ms), or null. */
  get lastTickAt(): number | null {
    return this.#lastTickAt;
  }

  /** `connected` while the primary answers renewals, else `reconnecting`. */
  get state(): FeedState {
    if (this.#closed) return "disconnected";
    return this.#primaryUp && !this.#nc.isClosed() ? "connected" : "reconnecting";
  }

  async subscribe(
    exchange: string,
    symbol: string,
    mode: Mode,
    depth: number,
  ): Promise<Outcome<{ depth: number }>> {
    if (this.#closed) return { ok: false, code: "SERVER_ERROR", message: "edge is shutting down" };
    const key = subscriptionKey(exchange, symbol, mode);
    // Listen before asking, so the first ticks the primary publishes are not missed; and list the
    // key before asking, so a renew sent meanwhile does not make the primary drop it again.
    const held: Held = {
      exchange,
      symbol,
      mode,
      depth,
      sub: null,
      last: null,
      waiting: null,
    };
    const sub = this.#listen(held);
    held.sub = sub;
    this.#held.set(key, held);
    const reply = await this.#request("subscribe", {
      v: CONTROL_VERSION,
      edge: this.edgeId,
      leaseMs: this.#options.leaseMs,
      exchange,
      symbol,
      mode,
      depth,
    }, subscribeReplySchema);
    if (reply.ok) {
      this.#held.get(key)!.depth = reply.depth;
      return { ok: true, depth: reply.depth };
    }
    if (this.#held.get(key)?.sub === sub) this.#held.delete(key);
    sub.unsubscribe();
    return reply;
  }

  async unsubscribe(exchange: string, symbol: string, mode: Mode): Promise<Outcome> {
    const key = subscriptionKey(exchange, symbol, mode);
    const held = this.#held.get(key);
    if (held === undefined) {
      return { ok: false, code: "NOT_SUBSCRIBED", message: `${key} is not held upstream` };
    }
    this.#held.delete(key);
    held.sub?.unsubscribe();
    const reply = await this.#request("unsubscribe", {
      v: CONTROL_VERSION,
      edge: this.edgeId,
      exchange,
      symbol,
      mode,
    }, unsubscribeReplySchema);
    // The key is gone here either way; a lost unsubscribe is undone by the next renew, which no
    // longer lists it, or by the lease expiring.
    if (!reply.ok) log.debug("unsubscribe of {key} not confirmed: {message}", { key, ...reply });
    return { ok: true };
  }

  /**
   * Renews the lease of every key held (and re-announces them to a primary that lost them);
   * true when a primary answered. Concurrent calls share one request.
   */
  renew(): Promise<boolean> {
    this.#renewing ??= this.#renew().finally(() => this.#renewing = null);
    return this.#renewing;
  }

  async #renew(): Promise<boolean> {
    if (this.#closed) return false;
    this.counters.renewals++;
    const keys = [...this.#held.values()].map(({ exchange, symbol, mode, depth }) => ({
      exchange,
      symbol,
      mode,
      depth,
    }));
    const reply: RenewReply | { ok: false; code: string; message: string } = await this.#request(
      "renew",
      { v: CONTROL_VERSION, edge: this.edgeId, leaseMs: this.#options.leaseMs, keys },
      renewReplySchema,
    );
    if (!reply.ok) {
      this.counters.renewFailures++;
      if (this.#primaryUp) log.warn("the primary did not answer a renew: {message}", reply);
      this.#primaryUp = false;
      return false;
    }
    if (this.#primary !== null && this.#primary.session !== reply.session) {
      log.info("primary restarted (session {session}); leases re-announced", reply);
    }
    if (!this.#primaryUp && this.#primary !== null) log.info("the primary answers again");
    this.#primary = { session: reply.session, broker: reply.broker, userId: reply.userId };
    this.#primaryUp = true;
    if (reply.failed > 0) {
      log.warn("the primary could not re-acquire {n} key(s)", { n: reply.failed });
    }
    return true;
  }

  /** Stops renewing and listening; keys still held are released by their leases expiring. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#renewTimer);
    this.#hello?.unsubscribe();
    await this.#renewing;
    for (const h of this.#held.values()) h.sub?.unsubscribe();
  }

  #listen(h: Held): Subscription {
    const { exchange, symbol, mode } = h;
    const subject = tickSubject(this.#options.prefix, exchange, symbol, mode);
    const modeName = mode === 1 ? "LTP" : mode === 2 ? "QUOTE" : "DEPTH";
    return this.#nc.subscribe(subject, {
      callback: (err, m) => {
        if (err !== null) return;
        this.counters.received++;
        const r = decodeEnvelope(m.data);
        // Trust nothing: the envelope must be of the key this subscription is for.
        if (
          !r.ok || r.envelope.exchange !== exchange || r.envelope.symbol !== symbol ||
          r.envelope.mode !== modeName
        ) {
          this.counters.invalid++;
          return;
        }
        if (this.testing.dropNext > 0) {
          this.testing.dropNext--;
          return;
        }
        this.#accept(h, subject, r.envelope);
      },
    });
  }

  /** Delivers an envelope in `seq` order: drops repeats, fills gaps from the stream. */
  #accept(h: Held, subject: string, e: BusEnvelope): void {
    if (h.waiting !== null) {
      h.waiting.push(e);
      return;
    }
    const last = h.last;
    // seq 0 is only ever a subject's first message (a new session, or one idle for long).
    if (last !== null && last.session === e.session && e.seq !== 0) {
      if (e.seq <= last.seq) {
        this.counters.duplicates++;
        return;
      }
      if (e.seq > last.seq + 1) {
        this.counters.gaps++;
        const stream = this.#options.stream;
        if (stream) {
          h.waiting = [e];
          void this.#fill(h, subject, stream, last);
          return;
        }
      }
    }
    this.#deliver(h, e);
  }

  #deliver(h: Held, e: BusEnvelope): void {
    h.last = { session: e.session, seq: e.seq, published: e.published };
    this.#pending.push(tickFromEnvelope(e));
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      // One batch per burst the client parsed from the socket: the fan-out corks per batch.
      queueMicrotask(this.#flush);
    }
  }

  async #fill(
    h: Held,
    subject: string,
    stream: string,
    last: { session: string; seq: number; published: number },
  ): Promise<void> {
    const before = h.waiting![0].seq;
    let missed: BusEnvelope[] = [];
    try {
      missed = await fetchMissed(this.#nc, stream, subject, {
        session: last.session,
        after: last.seq,
        before,
        since: last.published,
      }, RECOVERY_TIMEOUT_MS);
    } catch (err) {
      log.warn("could not fetch the ticks missed on {subject}: {err}", { subject, err });
    }
    for (const e of missed) {
      this.counters.recovered++;
      this.#deliver(h, e);
    }
    // What the stream no longer has is lost for good: go on from the live envelope.
    h.last = { session: last.session, seq: before - 1, published: last.published };
    const waiting = h.waiting ?? [];
    h.waiting = null;
    // The key may have been released meanwhile: then nothing is delivered.
    if (this.#held.get(subscriptionKey(h.exchange, h.symbol, h.mode)) !== h) {
      this.#pending = this.#pending.filter((t) =>
        !(t.exchange === h.exchange && t.symbol === h.symbol && t.mode === h.mode)
      );
      return;
    }
    // Whatever arrived while fetching, in order (a gap among those is filled again).
    for (const e of waiting) this.#accept(h, subject, e);
  }

  #flush = (): void => {
    this.#flushQueued = false;
    const ticks = this.#pending;
    this.#pending = [];
    this.#lastTickAt = Date.now();
    this.onticks(ticks);
  };

  async #request<T>(
    op: "subscribe" | "unsubscribe" | "renew",
    body: unknown,
    schema: import("zod").ZodType<T>,
  ): Promise<T | { ok: false; code: "BROKER_ERROR"; message: string }> {
    try {
      const m = await this.#nc.request(
        controlSubject(this.#options.prefix, op),
        JSON.stringify(body),
        { timeout: this.#options.requestTimeoutMs },
      );
      const r = decodeControl(schema, m.data);
      if (r.ok) return r.value;
      return {
        ok: false,
        code: "BROKER_ERROR",
        message: `primary sent an invalid reply: ${r.error}`,
      };
    } catch (err) {
      return {
        ok: false,
        code: "BROKER_ERROR",
        message: `primary unreachable over NATS (${err instanceof Error ? err.message : err})`,
      };
    }
  }

  async #watchStatus(): Promise<void> {
    for await (const s of this.#nc.status()) {
      if (s.type === "reconnect") {
        this.counters.reconnects++;
        log.info("NATS reconnected: re-announcing {n} key(s)", { n: this.#held.size });
        void this.renew();
      } else if (s.type === "disconnect") {
        this.#primaryUp = false;
      }
    }
  }
}
