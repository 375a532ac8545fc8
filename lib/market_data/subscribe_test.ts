// Tests for MarketDataService subscribers: registry acquire/release, option checks, kinds and
// filters, priority order, isolation of throwing callbacks, and the slow-LOW isolation proof.

import assert from "node:assert/strict";
import { FakeFeed, makeService, sleep, tick } from "./_test_utils.ts";
import { MarketDataSubscribeError } from "./service.ts";
import type { MarketDataUpdate, SubscribeOptions } from "./types.ts";

const noop = () => {};
const RELIANCE = { exchange: "NSE", symbol: "RELIANCE" };
const TCS = { exchange: "NSE", symbol: "TCS" };

Deno.test("subscribe takes one registry subscription per instrument at the kind's mode; unsubscribe releases them", async () => {
  const { service, registry } = makeService();
  const expected = { ltp: 1, quote: 2, depth: 3, all: 3 } as const;
  for (const kind of ["ltp", "quote", "depth", "all"] as const) {
    registry.calls = [];
    const h = await service.subscribe({
      priority: "HIGH",
      kind,
      symbols: [RELIANCE, TCS, RELIANCE],
      name: `k-${kind}`,
      callback: noop,
    });
    assert.equal(registry.count("acquire"), 2, "duplicates are subscribed once");
    for (const c of registry.calls) {
      assert.equal(c.mode, expected[kind]);
      assert.equal(c.depth, 5);
      // The service dispatches from onTicks: its registry consumer must not deliver too.
      assert.equal(c.consumer.deliver, undefined);
    }
    const consumer = registry.calls[0].consumer;
    await h.unsubscribe();
    await h.unsubscribe(); // idempotent
    assert.equal(registry.count("release"), 2);
    for (const c of registry.calls.filter((x) => x.op === "release")) {
      assert.equal(c.consumer, consumer);
      assert.equal(c.mode, expected[kind]);
    }
  }
  assert.equal(registry.held.size, 0);
  await service.close();
});

Deno.test("a subscriber without symbols takes no registry subscription and sees every instrument", async () => {
  const { service, registry, fresh } = makeService();
  const seen: string[] = [];
  const h = await service.subscribe({
    priority: "CRITICAL",
    kind: "ltp",
    name: "everything",
    callback: (u) => void seen.push(u.symbol),
  });
  service.onTicks([fresh({ symbol: "A" }), fresh({ symbol: "B" })]);
  assert.deepEqual(seen, ["A", "B"]);
  await h.unsubscribe();
  assert.equal(registry.calls.length, 0);
  await service.close();
});

Deno.test("subscribe is all-or-nothing: a refused instrument rejects and releases the others", async () => {
  const { service, registry } = makeService();
  registry.refuse.add("NOPE");
  await assert.rejects(
    service.subscribe({
      priority: "CRITICAL",
      kind: "quote",
      symbols: [RELIANCE, { exchange: "NSE", symbol: "NOPE" }, TCS],
      name: "x",
      callback: noop,
    }),
    (err: unknown) => {
      assert.ok(err instanceof MarketDataSubscribeError);
      assert.equal(err.code, "SYMBOL_NOT_FOUND");
      assert.deepEqual(err.failures.map((f) => f.symbol), ["NOPE"]);
      return true;
    },
  );
  assert.equal(registry.count("acquire"), 3);
  assert.equal(registry.count("release"), 2);
  assert.equal(registry.held.size, 0);
  assert.equal(service.subscribers().length, 0);
  await service.close();
});

Deno.test("close releases every subscriber's registry subscriptions", async () => {
  const { service, registry } = makeService();
  await service.subscribe({
    priority: "LOW",
    kind: "depth",
    symbols: [RELIANCE],
    name: "a",
    callback: noop,
  });
  await service.subscribe({
    priority: "HIGH",
    kind: "ltp",
    symbols: [TCS],
    name: "b",
    callback: noop,
  });
  await service.close();
  assert.equal(registry.count("release"), 2);
  assert.equal(registry.held.size, 0);
  await assert.rejects(
    service.subscribe({ priority: "LOW", kind: "ltp", name: "late", callback: noop }),
    /closed/,
  );
});

Deno.test("invalid subscribe options reject with a TypeError", async () => {
  const { service } = makeService();
  const base: SubscribeOptions = { priority: "LOW", kind: "ltp", name: "x", callback: noop };
  const bad: unknown[] = [
    { ...base, priority: "URGENT" },
    { ...base, kind: "candles" },
    { ...base, name: "" },
    { ...base, symbols: [] },
    { ...base, symbols: [{ exchange: "NSE" }] },
    { ...base, callback: "nope" },
    { ...base, replayOnResume: true },
    { ...base, depth: 0 },
  ];
  for (const o of bad) {
    await assert.rejects(service.subscribe(o as SubscribeOptions), TypeError, JSON.stringify(o));
  }
  await service.close();
});

Deno.test("kinds: ltp gets every tick as LTP, quote mode ≥ 2, depth mode 3, all the tick's own mode", async () => {
  const { service, fresh } = makeService();
  const got: Record<string, [number, number, string[]][]> = {
    ltp: [],
    quote: [],
    depth: [],
    all: [],
  };
  for (const kind of ["ltp", "quote", "depth", "all"] as const) {
    await service.subscribe({
      priority: "CRITICAL",
      kind,
      symbols: [RELIANCE],
      name: kind,
      callback: (u) => void got[kind].push([u.tick.mode, u.mode, Object.keys(u.data)]),
    });
  }
  const depth = { buy: [{ price: 1, quantity: 1, orders: 1 }], sell: [] };
  service.onTicks([
    fresh({ mode: 1 }),
    fresh({ mode: 2, open: 1 }),
    fresh({ mode: 3, depth }),
    fresh({ symbol: "OTHER", mode: 3, depth }),
  ]);
  const modes = (k: string) => got[k].map(([tm, m]) => [tm, m]);
  assert.deepEqual(modes("ltp"), [[1, 1], [2, 1], [3, 1]]);
  assert.deepEqual(modes("quote"), [[2, 2], [3, 2]]);
  assert.deepEqual(modes("depth"), [[3, 3]]);
  assert.deepEqual(modes("all"), [[1, 1], [2, 2], [3, 3]]);
  assert.equal(got.ltp[2][2].includes("open"), false, "an LTP payload never carries quote fields");
  assert.equal(got.quote[1][2].includes("depth"), false);
  assert.equal(got.depth[0][2].includes("depth"), true);
  await service.close();
});

Deno.test("callbacks run in priority order regardless of subscription order; CRITICAL/HIGH inline", async () => {
  const { service, fresh } = makeService();
  const order: string[] = [];
  for (const priority of ["LOW", "NORMAL", "HIGH", "CRITICAL", "LOW", "CRITICAL"] as const) {
    const n = order.length;
    await service.subscribe({
      priority,
      kind: "ltp",
      symbols: [RELIANCE],
      name: `${priority}-${n}`,
      callback: () => void order.push(priority),
    });
  }
  service.onTicks([fresh()]);
  assert.deepEqual(order, ["CRITICAL", "CRITICAL", "HIGH"], "NORMAL/LOW never run inside onTicks");
  await service.idle();
  assert.deepEqual(order, ["CRITICAL", "CRITICAL", "HIGH", "NORMAL", "LOW", "LOW"]);
  await service.close();
});

Deno.test("a throwing or rejecting callback is isolated and counted per subscriber", async () => {
  const { service, fresh } = makeService();
  const calls: string[] = [];
  const bad = await service.subscribe({
    priority: "CRITICAL",
    kind: "ltp",
    name: "thrower",
    callback: () => {
      calls.push("thrower");
      throw new Error("boom");
    },
  });
  const rejecting = await service.subscribe({
    priority: "CRITICAL",
    kind: "ltp",
    name: "rejecter",
    callback: () => Promise.reject(new Error("async boom")),
  });
  await service.subscribe({
    priority: "CRITICAL",
    kind: "ltp",
    name: "ok",
    callback: () => void calls.push("ok"),
  });
  const low = await service.subscribe({
    priority: "LOW",
    kind: "ltp",
    name: "low-thrower",
    callback: () => {
      throw new Error("low boom");
    },
  });
  await service.subscribe({
    priority: "LOW",
    kind: "ltp",
    name: "low-ok",
    callback: () => void calls.push("low-ok"),
  });
  service.onTicks([fresh({ symbol: "A" }), fresh({ symbol: "B" })]);
  await service.idle();
  assert.deepEqual(calls, ["thrower", "ok", "thrower", "ok", "low-ok", "low-ok"]);
  assert.equal(bad.stats().errors, 2);
  assert.equal(rejecting.stats().errors, 2);
  assert.equal(low.stats().errors, 2);
  assert.equal(service.health().counters.callback_errors, 6);
  await service.close();
});

Deno.test("a LOW callback that is still busy never delays CRITICAL", async () => {
  // LOW blocks until the test releases it, so every tick below arrives while LOW is busy, however
  // fast or slow this machine is; the assertions are about order, the latency is only printed.
  const { service } = makeService({ clock: Date.now });
  let sentAt = 0;
  let lowBusy = false;
  let criticalWhileLowBusy = 0;
  const latencies: number[] = [];
  let lowCalls = 0;
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  // LOW registered first, to show registration order does not matter.
  const low = await service.subscribe({
    priority: "LOW",
    kind: "ltp",
    name: "slow-dashboard",
    callback: async () => {
      lowCalls++;
      lowBusy = true;
      await released;
      lowBusy = false;
    },
  });
  const critical = await service.subscribe({
    priority: "CRITICAL",
    kind: "ltp",
    name: "stoploss",
    callback: () => {
      latencies.push(performance.now() - sentAt);
      if (lowBusy) criticalWhileLowBusy++;
    },
  });
  const batches = 40;
  for (let i = 0; i < batches; i++) {
    sentAt = performance.now();
    service.onTicks([tick({ symbol: `S${i % 4}`, ltp: 100 + i, timestamp: Date.now() })]);
    // CRITICAL ran inside onTicks, before it returned — whatever LOW is doing.
    assert.equal(latencies.length, i + 1, `CRITICAL had tick ${i} when onTicks returned`);
    // Let LOW's queue run: it is stuck in its first call.
    await new Promise((r) => setTimeout(r, 0));
  }
  assert.equal(lowCalls, 1, "LOW is still in its first call");
  assert.equal(criticalWhileLowBusy, batches - 1, "every later tick overlapped LOW");
  release();
  await service.idle();
  const max = Math.max(...latencies);
  assert.equal(latencies.length, batches, "CRITICAL saw every tick");
  // LOW only slowed itself: what queued meanwhile was conflated per instrument (4 of them).
  assert.equal(lowCalls, 1 + 4, `LOW ran ${lowCalls} times`);
  assert.equal(low.stats().delivered + low.stats().dropped, batches);
  assert.equal(critical.stats().errors, 0);
  console.log(
    `CRITICAL latency max ${max.toFixed(3)} ms over ${batches} ticks; ` +
      `LOW ran ${lowCalls}×, dropped ${low.stats().dropped}; ${criticalWhileLowBusy} overlaps`,
  );
  await service.close();
});

Deno.test("NORMAL/LOW queues conflate per instrument and are bounded by queueLimit", async () => {
  const { service, fresh } = makeService({ queueLimit: 2 });
  const got: MarketDataUpdate[] = [];
  const h = await service.subscribe({
    priority: "NORMAL",
    kind: "ltp",
    name: "q",
    callback: (u) => void got.push(u),
  });
  service.onTicks([
    fresh({ symbol: "A", ltp: 1 }),
    fresh({ symbol: "B", ltp: 2 }),
    fresh({ symbol: "A", ltp: 3 }), // replaces A:1 in place
    fresh({ symbol: "C", ltp: 4 }), // evicts the oldest (A:3)
  ]);
  assert.equal(h.stats().queued, 2);
  await service.idle();
  assert.deepEqual(got.map((u) => `${u.symbol}:${u.data.ltp}`), ["B:2", "C:4"]);
  assert.equal(h.stats().dropped, 2);
  assert.equal(h.stats().delivered, 2);
  await service.close();
});

Deno.test("unsubscribe stops delivery at once, even from inside a callback", async () => {
  const { service, fresh } = makeService();
  let calls = 0;
  const h = await service.subscribe({
    priority: "CRITICAL",
    kind: "ltp",
    name: "once",
    callback: () => {
      calls++;
      void h.unsubscribe();
    },
  });
  let lowCalls = 0;
  const low = await service.subscribe({
    priority: "LOW",
    kind: "ltp",
    name: "l",
    callback: () => void lowCalls++,
  });
  service.onTicks([fresh({ symbol: "A" }), fresh({ symbol: "B" })]);
  const pending = low.unsubscribe();
  service.onTicks([fresh({ symbol: "C" })]);
  await pending;
  await service.idle();
  assert.equal(calls, 1);
  assert.equal(lowCalls, 0);
  await service.close();
});

Deno.test("a new subscriber gets each cached instrument's latest tick at once, marked snapshot, then live ticks", async () => {
  const { service, clock, fresh } = makeService();
  service.onTicks([fresh({ ltp: 101 }), fresh({ ltp: 102 })]);
  clock.advance(10);
  const got: MarketDataUpdate[] = [];
  const h = await service.subscribe({
    priority: "CRITICAL",
    kind: "ltp",
    symbols: [RELIANCE, TCS], // TCS has never ticked: no snapshot for it
    name: "snap",
    callback: (u) => void got.push(u),
  });
  // Inline: delivered before subscribe() resolved, without waiting for the next tick.
  assert.equal(got.length, 1);
  assert.equal(got[0].symbol, "RELIANCE");
  assert.equal(got[0].data.ltp, 102, "the latest cached tick");
  assert.equal(got[0].snapshot, true);
  assert.equal(got[0].replay, false);
  service.onTicks([fresh({ ltp: 103 })]);
  assert.deepEqual(got.map((u) => [u.data.ltp, u.snapshot]), [[102, true], [103, false]]);
  await h.unsubscribe();
  await service.close();
});

Deno.test("a snapshot needs a cached tick of the kind's mode; queued subscribers get it from their queue", async () => {
  const { service, fresh } = makeService();
  service.onTicks([fresh({ ltp: 50 })]); // an LTP tick: no quote cached
  const quotes: MarketDataUpdate[] = [];
  const q = await service.subscribe({
    priority: "HIGH",
    kind: "quote",
    symbols: [RELIANCE],
    name: "quotes",
    callback: (u) => void quotes.push(u),
  });
  assert.equal(quotes.length, 0, "an LTP tick is no quote snapshot");
  const low: MarketDataUpdate[] = [];
  const l = await service.subscribe({
    priority: "LOW",
    kind: "ltp",
    symbols: [RELIANCE],
    name: "low",
    callback: (u) => void low.push(u),
  });
  assert.equal(low.length, 0, "NORMAL/LOW callbacks run on a later turn");
  for (let i = 0; i < 100 && low.length === 0; i++) await sleep(1);
  assert.deepEqual(low.map((u) => [u.data.ltp, u.snapshot]), [[50, true]]);
  assert.equal(l.stats().delivered, 1);
  await q.unsubscribe();
  await l.unsubscribe();
  await service.close();
});

Deno.test("snapshotOnSubscribe false: a new subscriber waits for the next tick", async () => {
  const { service, fresh } = makeService({ snapshotOnSubscribe: false });
  service.onTicks([fresh({ ltp: 7 })]);
  const got: MarketDataUpdate[] = [];
  const h = await service.subscribe({
    priority: "CRITICAL",
    kind: "ltp",
    symbols: [RELIANCE],
    name: "nosnap",
    callback: (u) => void got.push(u),
  });
  assert.equal(got.length, 0);
  service.onTicks([fresh({ ltp: 8 })]);
  assert.deepEqual(got.map((u) => [u.data.ltp, u.snapshot]), [[8, false]]);
  await h.unsubscribe();
  await service.close();
});

Deno.test("no snapshot to a subscriber held while the gate is paused; a free one still gets it", async () => {
  const { service, feed, fresh } = makeService({}, new FakeFeed(["connected"], 1));
  service.onTicks([fresh({ ltp: 9 })]);
  const free: MarketDataUpdate[] = [];
  const b = await service.subscribe({
    priority: "CRITICAL",
    kind: "ltp",
    symbols: [RELIANCE],
    name: "free",
    callback: (u) => void free.push(u),
  });
  feed.set(0, "reconnecting");
  service.onFeedStatus(0, "reconnecting");
  assert.equal(service.isTradeManagementSafe().safe, false);
  const held: MarketDataUpdate[] = [];
  const a = await service.subscribe({
    priority: "CRITICAL",
    kind: "ltp",
    symbols: [RELIANCE],
    name: "held",
    holdWhilePaused: true,
    callback: (u) => void held.push(u),
  });
  const late: MarketDataUpdate[] = [];
  const c = await service.subscribe({
    priority: "CRITICAL",
    kind: "ltp",
    symbols: [RELIANCE],
    name: "late-free",
    callback: (u) => void late.push(u),
  });
  assert.equal(held.length, 0, "the gate says not to act on this data");
  assert.deepEqual(free.map((u) => u.snapshot), [true]);
  assert.deepEqual(late.map((u) => [u.data.ltp, u.snapshot]), [[9, true]]);
  await a.unsubscribe();
  await b.unsubscribe();
  await c.unsubscribe();
  await service.close();
});
