// The adapter conformance suite: every broker adapter, in its real Web Worker behind a real
// ConnectionPool, against its own simulator — modes, upgrade/downgrade, real unsubscribe, drop,
// stall, expired token, garbage, the per-connection limit and shutdown. One table drives it
// (brokers.ts); a new broker passes by adding one entry.

import assert from "node:assert/strict";
import { ConnectionPool, workerLinkFactory } from "../../lib/pool/mod.ts";
import type { BrokerSimulator } from "../../lib/adapter/sim/mod.ts";
import type { FeedState, Mode, Tick } from "../../lib/types.ts";
import { CONFORMANCE, type ConformanceEntry, type Fault, type Ref } from "./brokers.ts";

const WAIT_MS = 15_000;

/** Polls `cond` every 20 ms until it holds or `ms` pass. */
async function until(cond: () => boolean, label: string, ms = WAIT_MS): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const key = (r: Ref) => `${r.exchange}:${r.symbol}`;

/**
 * What the broker streams, seen from the broker side: the simulator's own view where there is a
 * simulator, else the ticks themselves (a key streams at mode m while its ticks keep arriving with
 * mode m).
 */
class Observed {
  readonly #sim: BrokerSimulator | null;
  readonly #last = new Map<string, { at: number; mode: Mode }>();
  ticks = 0;
  constructor(sim: BrokerSimulator | null) {
    this.#sim = sim;
  }
  onTicks(ticks: Tick[]): void {
    const now = Date.now();
    for (const t of ticks) {
      this.ticks++;
      this.#last.set(`${t.exchange}:${t.symbol}`, { at: now, mode: t.mode });
    }
  }
  lastTickAt(k: string): number {
    return this.#last.get(k)?.at ?? 0;
  }
  /** One map per broker connection; key → mode. */
  streams(): Map<string, Mode>[] {
    if (this.#sim !== null) return this.#sim.streams();
    const now = Date.now();
    const m = new Map<string, Mode>();
    for (const [k, v] of this.#last) if (now - v.at < 300) m.set(k, v.mode);
    return [m];
  }
  merged(): Map<string, Mode> {
    const all = new Map<string, Mode>();
    for (const m of this.streams()) for (const [k, v] of m) all.set(k, v);
    return all;
  }
}

interface Rig {
  entry: ConformanceEntry;
  pool: ConnectionPool;
  sim: BrokerSimulator | null;
  seen: Observed;
  states: FeedState[];
  options: Record<string, unknown>;
  close(): Promise<void>;
}

async function rig(entry: ConformanceEntry, perConnection?: number): Promise<Rig> {
  const sim = entry.start ? await entry.start() : null;
  const options = { ...(sim?.adapterOptions ?? entry.options ?? {}) };
  const caps = entry.descriptor.capabilities(options);
  const pool = new ConnectionPool(caps, workerLinkFactory(entry.descriptor), {
    adapterOptions: options,
    maxSymbolsPerConnection: perConnection,
    readyTimeoutMs: 10_000,
    restartBaseMs: 50,
    restartMaxMs: 500,
  });
  const seen = new Observed(sim);
  const states: FeedState[] = [];
  pool.onticks = (ticks) => seen.onTicks(ticks);
  pool.onstatus = (_i, state) => states.push(state);
  await pool.start();
  return {
    entry,
    pool,
    sim,
    seen,
    states,
    options,
    async close() {
      await pool.close();
      await sim?.close();
    },
  };
}

function modeAt(entry: ConformanceEntry, mode: Mode): Mode {
  return entry.brokerMode?.[mode] ?? mode;
}

async function subscribeOk(r: Rig, ref: Ref, mode: Mode, depth = 5): Promise<number> {
  const res = await r.pool.subscribe(ref.exchange, ref.symbol, mode, depth);
  assert.ok(res.ok, `${key(ref)} mode ${mode}: ${!res.ok ? res.message : ""}`);
  return res.depth;
}

function connected(r: Rig): boolean {
  return r.pool.status().every((c) => c.state === "connected");
}

/** The broker streams exactly `want` (key → OpenAlgo mode), across all connections. */
function streamsExactly(r: Rig, want: Map<string, Mode>): () => boolean {
  return () => {
    const got = r.seen.merged();
    if (got.size !== want.size) return false;
    for (const [k, m] of want) if (got.get(k) !== modeAt(r.entry, m)) return false;
    return true;
  };
}

function supports(entry: ConformanceEntry, fault: Fault): boolean {
  return (entry.faults ?? ["drop", "stall", "expired_token", "garbage"]).includes(fault);
}

for (const entry of CONFORMANCE) {
  const name = entry.descriptor.name;
  const [a, b, c] = entry.instruments;

  Deno.test(`conformance ${name}: connect, every mode, upgrade, downgrade, real unsubscribe`, async () => {
    const r = await rig(entry);
    try {
      await until(() => connected(r), "connected");
      await subscribeOk(r, a, 1);
      await subscribeOk(r, b, 2);
      const depth = await subscribeOk(r, c, 3);
      assert.ok(depth > 0, `depth delivered for ${key(c)}: ${depth}`);
      const want = new Map<string, Mode>([[key(a), 1], [key(b), 2], [key(c), 3]]);
      await until(streamsExactly(r, want), "each instrument streamed at its mode");
      if (entry.index !== undefined) {
        const d = await subscribeOk(r, entry.index, 3);
        assert.equal(d, 0, "an index in Depth is acknowledged with depth 0 (no book)");
        assert.ok((await r.pool.unsubscribe(entry.index.exchange, entry.index.symbol, 3)).ok);
      }
      // Upgrade on the same connection; the lower mode stays tracked.
      await subscribeOk(r, a, 3);
      want.set(key(a), 3);
      await until(streamsExactly(r, want), "upgrade of a to Depth");
      // Releasing the top mode downgrades to the next one still held.
      const down = await r.pool.unsubscribe(a.exchange, a.symbol, 3);
      assert.ok(down.ok && down.action === "downgraded" && down.mode === 1);
      want.set(key(a), 1);
      await until(streamsExactly(r, want), "downgrade of a to LTP");
      // The last mode of b leaves: the broker really stops streaming it.
      const un = await r.pool.unsubscribe(b.exchange, b.symbol, 2);
      assert.ok(un.ok && un.action === "unsubscribed");
      want.delete(key(b));
      await until(streamsExactly(r, want), "b unsubscribed at the broker");
      // Unknown symbols are refused per item, never silently skipped.
      const bogus = await r.pool.subscribe(a.exchange, "TICKPLEX_BOGUS", 2, 5);
      assert.ok(!bogus.ok && bogus.code === "SYMBOL_NOT_FOUND");
      // Ticks carry the mode they were streamed at and real prices.
      const ticked = r.seen.lastTickAt(key(c));
      assert.ok(ticked > 0, "ticks arrived for the Depth instrument");
    } finally {
      await r.close();
    }
  });

  Deno.test(`conformance ${name}: the per-connection limit opens the next connection; shutdown unsubscribes everything`, async () => {
    const r = await rig(entry, 2);
    try {
      await until(() => connected(r), "connected");
      await subscribeOk(r, a, 2);
      await subscribeOk(r, b, 2);
      await subscribeOk(r, c, 2);
      assert.deepEqual(r.pool.status().map((s) => s.symbols), [2, 1]);
      const want = new Map<string, Mode>([[key(a), 2], [key(b), 2], [key(c), 2]]);
      await until(streamsExactly(r, want), "three instruments over two connections");
      if (r.sim !== null) {
        await until(
          () => r.sim!.streams().filter((m) => m.size > 0).length === 2,
          "two broker connections",
        );
      }
      await r.pool.close();
      await until(() => r.seen.merged().size === 0, "nothing streamed after shutdown");
    } finally {
      await r.close();
    }
  });

  if (entry.start !== null) {
    Deno.test(`conformance ${name}: the last client leaving unsubscribes at the broker and keeps the connection`, async () => {
      const r = await rig(entry);
      try {
        await until(() => connected(r), "connected");
        await subscribeOk(r, a, 2);
        await subscribeOk(r, b, 3);
        await until(
          streamsExactly(r, new Map<string, Mode>([[key(a), 2], [key(b), 3]])),
          "streaming",
        );
        const handshakes = r.sim!.handshakes;
        const connections = r.sim!.streams().length;
        for (const [ref, mode] of [[a, 2], [b, 3]] as const) {
          const un = await r.pool.unsubscribe(ref.exchange, ref.symbol, mode);
          assert.ok(un.ok && un.action === "unsubscribed");
        }
        await until(streamsExactly(r, new Map()), "nothing streamed at the broker");
        // A connection with nothing subscribed is kept for the next client, not dropped/redialled.
        await new Promise((res) => setTimeout(res, 300));
        assert.ok(connected(r));
        assert.equal(r.sim!.handshakes, handshakes, "no reconnect");
        assert.equal(r.sim!.streams().length, connections, "the broker connection stays open");
      } finally {
        await r.close();
      }
    });
  }

  if (supports(entry, "drop")) {
    Deno.test(`conformance ${name}: drop → reconnect and resubscribe in each mode`, async () => {
      const r = await rig(entry);
      try {
        await until(() => connected(r), "connected");
        await subscribeOk(r, a, 1);
        await subscribeOk(r, b, 2);
        await subscribeOk(r, c, 3);
        const want = new Map<string, Mode>([[key(a), 1], [key(b), 2], [key(c), 3]]);
        await until(streamsExactly(r, want), "streaming");
        const from = r.states.length;
        assert.ok(r.sim!.drop() >= 1);
        await until(() => r.states.slice(from).includes("reconnecting"), "reconnecting");
        await until(() => connected(r) && streamsExactly(r, want)(), "resubscribed after the drop");
      } finally {
        await r.close();
      }
    });
  }

  if (supports(entry, "stall")) {
    Deno.test(`conformance ${name}: stall → stalled, reconnect, data resumes`, async () => {
      const r = await rig(entry);
      try {
        await until(() => connected(r), "connected");
        await subscribeOk(r, a, 2);
        const want = new Map<string, Mode>([[key(a), 2]]);
        await until(streamsExactly(r, want), "streaming");
        const from = r.states.length;
        r.sim!.stall();
        await until(() => r.states.slice(from).includes("stalled"), "stalled");
        await until(
          () => connected(r) && streamsExactly(r, want)(),
          "recovered on a new connection",
        );
        const after = Date.now();
        await until(() => r.seen.lastTickAt(key(a)) > after, "ticks after the stall");
      } finally {
        await r.close();
      }
    });
  }

  if (supports(entry, "expired_token")) {
    Deno.test(`conformance ${name}: expired token → auth_failed, no retry storm, fresh token recovers`, async () => {
      const r = await rig(entry);
      try {
        await until(() => connected(r), "connected");
        await subscribeOk(r, a, 2);
        const want = new Map<string, Mode>([[key(a), 2]]);
        await until(streamsExactly(r, want), "streaming");
        const from = r.states.length;
        const fresh = r.sim!.expireToken();
        await until(() => r.pool.status().some((s) => s.state === "auth_failed"), "auth_failed");
        const handshakes = r.sim!.handshakes;
        await new Promise((res) => setTimeout(res, 500));
        // Bounded retries with a long retry period: no storm of handshakes with the dead token.
        assert.ok(r.sim!.handshakes - handshakes <= 1, `${r.sim!.handshakes - handshakes} retries`);
        r.pool.updateToken(fresh);
        await until(
          () => connected(r) && streamsExactly(r, want)(),
          "recovered with the fresh token",
        );
        assert.ok(r.states.slice(from).includes("auth_failed"));
      } finally {
        await r.close();
      }
    });
  }

  if (supports(entry, "garbage")) {
    Deno.test(`conformance ${name}: garbage from the broker is skipped; the feed carries on`, async () => {
      const r = await rig(entry);
      try {
        await until(() => connected(r), "connected");
        await subscribeOk(r, a, 3);
        await until(streamsExactly(r, new Map([[key(a), 3]])), "streaming");
        const restarts = r.pool.counters.restarts;
        const ticksBefore = r.seen.ticks;
        for (let i = 0; i < 5; i++) r.sim!.garbage();
        const after = Date.now();
        await until(() => r.seen.lastTickAt(key(a)) > after, "ticks after the garbage");
        assert.ok(r.seen.ticks > ticksBefore);
        assert.equal(r.pool.counters.restarts, restarts, "no worker restart");
        assert.equal(r.pool.counters.ticksRejected, 0, "no invalid tick reached the pool");
        assert.ok(connected(r));
      } finally {
        await r.close();
      }
    });
  }
}
