// Tests for the MarketDataService safety gate with a manual clock and a fake pool status:
// stale → paused → fresh tick → released, connection lost → paused → reconnect + tick → released,
// no subscriptions → never stale, held CRITICAL subscribers and replay on release, the monitor.

import assert from "node:assert/strict";
import { FakeFeed, makeService } from "./_test_utils.ts";
import { CONNECTION_LOST_REASON, STALE_REASON } from "./gate.ts";
import type { GateEvent, MarketDataUpdate } from "./types.ts";

const RELIANCE = { exchange: "NSE", symbol: "RELIANCE" };
const SAFE = { safe: true, reason: "" };

Deno.test("stale → paused → fresh tick → released, with exactly one pause and one release event", async () => {
  const { service, clock, fresh } = makeService();
  const events: GateEvent[] = [];
  service.onGateChange((e) => events.push(e));
  await service.subscribe({
    priority: "CRITICAL",
    kind: "ltp",
    symbols: [RELIANCE],
    name: "w",
    callback: () => {},
  });
  service.onTicks([fresh()]);
  clock.advance(30_000);
  assert.deepEqual(service.check(), SAFE, "exactly the threshold is not stale yet");
  clock.advance(1);
  assert.deepEqual(service.check(), { safe: false, reason: STALE_REASON });
  assert.deepEqual(service.isTradeManagementSafe(), { safe: false, reason: STALE_REASON });
  assert.deepEqual(service.tradeSafe(), { safe: false, reason: STALE_REASON, data_fresh: false });
  clock.advance(60_000);
  service.check();
  assert.equal(events.length, 1, "staying stale emits nothing new");
  service.onTicks([fresh()]);
  assert.deepEqual(service.isTradeManagementSafe(), SAFE);
  assert.deepEqual(service.tradeSafe(), { safe: true, reason: "", data_fresh: true });
  assert.deepEqual(events.map((e) => [e.safe, e.cause, e.reason]), [
    [false, "stale", STALE_REASON],
    [true, "recovered", ""],
  ]);
  assert.equal(events[1].pausedForMs, 60_000);
  const c = service.health().counters;
  assert.equal(c.pauses, 1);
  assert.equal(c.stale_events, 1);
  await service.close();
});

Deno.test("connection lost → paused at once → reconnect alone is not enough → tick releases", async () => {
  const feed = new FakeFeed(["connected"], 1);
  const { service, fresh } = makeService({}, feed);
  const events: GateEvent[] = [];
  service.onGateChange((e) => events.push(e));
  await service.subscribe({
    priority: "CRITICAL",
    kind: "ltp",
    symbols: [RELIANCE],
    name: "w",
    callback: () => {},
  });
  service.onTicks([fresh()]);
  assert.deepEqual(service.isTradeManagementSafe(), SAFE);

  feed.set(0, "disconnected"); // the pool's worker died
  service.onFeedStatus(0, "disconnected");
  assert.deepEqual(service.isTradeManagementSafe(), {
    safe: false,
    reason: CONNECTION_LOST_REASON,
  });
  feed.set(0, "connecting");
  service.onFeedStatus(0, "connecting");
  service.onTicks([fresh()]); // a straggler while still down does not release
  assert.equal(service.isTradeManagementSafe().safe, false);
  feed.set(0, "connected");
  service.onFeedStatus(0, "connected");
  assert.deepEqual(service.isTradeManagementSafe(), {
    safe: false,
    reason: CONNECTION_LOST_REASON,
  });
  service.onTicks([fresh()]);
  assert.deepEqual(service.isTradeManagementSafe(), SAFE);
  assert.deepEqual(events.map((e) => e.cause), ["connection_lost", "recovered"]);
  const c = service.health().counters;
  assert.equal(c.connection_losses, 1);
  assert.equal(c.reconnects, 1);
  assert.equal(c.pauses, 1);
  await service.close();
});

Deno.test("every non-connected worker state pauses; check() finds it without onFeedStatus", async () => {
  for (const state of ["stalled", "reconnecting", "auth_failed", "disconnected"] as const) {
    const feed = new FakeFeed(["connected", "connected"], 1);
    const { service, fresh } = makeService({}, feed);
    service.onTicks([fresh()]);
    assert.deepEqual(service.check(), SAFE);
    feed.set(1, state);
    assert.deepEqual(service.check(), { safe: false, reason: CONNECTION_LOST_REASON }, state);
    feed.set(1, "connected");
    service.onTicks([fresh()]);
    assert.deepEqual(service.check(), SAFE, state);
    await service.close();
  }
});

Deno.test("no subscriptions → never stale and connection state does not matter", async () => {
  const feed = new FakeFeed(["connected"], 0);
  const { service, clock, fresh } = makeService({}, feed);
  service.onTicks([fresh()]);
  clock.advance(3_600_000);
  assert.deepEqual(service.check(), SAFE);
  feed.set(0, "reconnecting");
  service.onFeedStatus(0, "reconnecting");
  assert.deepEqual(service.check(), SAFE);
  // A subscriber without symbols subscribes nothing either.
  await service.subscribe({ priority: "LOW", kind: "ltp", name: "all", callback: () => {} });
  clock.advance(60_000);
  assert.deepEqual(service.check(), SAFE);
  await service.close();
});

Deno.test("pool-side subscriptions (WebSocket clients) count; silence is measured from when they began", async () => {
  const feed = new FakeFeed(["connected"], 0);
  const { service, clock } = makeService({}, feed);
  clock.advance(3_600_000);
  assert.deepEqual(service.check(), SAFE);
  clock.advance(4_000);
  feed.connections[0].symbols = 3; // a client subscribed through the proxy
  assert.deepEqual(service.check(), SAFE, "a new subscription gets a full grace period");
  clock.advance(26_001);
  assert.deepEqual(service.check(), { safe: false, reason: STALE_REASON });
  feed.connections[0].symbols = 0; // everyone left
  const events: GateEvent[] = [];
  service.onGateChange((e) => events.push(e));
  assert.deepEqual(service.check(), SAFE);
  assert.equal(events[0].cause, "no_subscriptions");
  await service.close();
});

Deno.test("a tick with an old exchange timestamp does not release the pause; a fresh one does", async () => {
  const feed = new FakeFeed(["connected"], 1);
  const { service, clock, fresh } = makeService({}, feed);
  service.onTicks([fresh()]);
  clock.advance(31_000);
  service.check();
  service.onTicks([fresh({ timestamp: clock.now - 120_000 })]);
  assert.deepEqual(service.isTradeManagementSafe(), { safe: false, reason: STALE_REASON });
  service.onTicks([fresh()]);
  assert.deepEqual(service.isTradeManagementSafe(), SAFE);
  await service.close();
});

Deno.test("holdWhilePaused: a held CRITICAL is not called while paused, others are; replay on release", async () => {
  // Two connections: connection 1 is lost while connection 0 keeps streaming.
  const feed = new FakeFeed(["connected", "connected"], 1);
  const { service, fresh } = makeService({}, feed);
  const held: MarketDataUpdate[] = [];
  const heldNoReplay: MarketDataUpdate[] = [];
  const free: MarketDataUpdate[] = [];
  const lowHeld: MarketDataUpdate[] = [];
  const symbols = [RELIANCE];
  await service.subscribe({
    priority: "CRITICAL",
    kind: "ltp",
    symbols,
    name: "held",
    holdWhilePaused: true,
    replayOnResume: true,
    callback: (u) => void held.push(u),
  });
  await service.subscribe({
    priority: "CRITICAL",
    kind: "ltp",
    symbols,
    name: "held-no-replay",
    holdWhilePaused: true,
    callback: (u) => void heldNoReplay.push(u),
  });
  await service.subscribe({
    priority: "CRITICAL",
    kind: "ltp",
    symbols,
    name: "free",
    callback: (u) => void free.push(u),
  });
  await service.subscribe({
    priority: "LOW",
    kind: "ltp",
    symbols,
    name: "low-held",
    holdWhilePaused: true,
    replayOnResume: true,
    callback: (u) => void lowHeld.push(u),
  });
  service.onTicks([fresh({ ltp: 1 })]);
  await service.idle();
  feed.set(1, "reconnecting");
  service.onFeedStatus(1, "reconnecting");
  service.onTicks([fresh({ ltp: 2 }), fresh({ ltp: 3 }), fresh({ symbol: "OTHER", ltp: 9 })]);
  assert.deepEqual(held.map((u) => u.data.ltp), [1]);
  assert.deepEqual(free.map((u) => u.data.ltp), [1, 2, 3]);
  feed.set(1, "connected");
  service.onFeedStatus(1, "connected");
  service.onTicks([fresh({ ltp: 4 })]);
  assert.equal(service.isTradeManagementSafe().safe, true);
  assert.deepEqual(held.map((u) => [u.data.ltp, u.replay]), [[1, false], [2, true], [3, true], [
    4,
    false,
  ]]);
  assert.deepEqual(heldNoReplay.map((u) => [u.data.ltp, u.replay]), [[1, false], [4, false]]);
  assert.deepEqual(free.map((u) => u.replay), [false, false, false, false]);
  await service.idle();
  // LOW: replayed ticks come before the live one; live ones are conflated, replays are not.
  assert.deepEqual(lowHeld.map((u) => [u.data.ltp, u.replay]), [[1, false], [2, true], [3, true], [
    4,
    false,
  ]]);
  await service.close();
});

Deno.test("replay is bounded by replayLimit (the newest are kept) and by the ring", async () => {
  const feed = new FakeFeed(["connected", "connected"], 1);
  const { service, fresh } = makeService({ replayLimit: 3, ring: { size: 5 } }, feed);
  const got: number[] = [];
  const h = await service.subscribe({
    priority: "CRITICAL",
    kind: "ltp",
    name: "held",
    holdWhilePaused: true,
    replayOnResume: true,
    callback: (u) => void got.push(u.data.ltp),
  });
  feed.set(1, "stalled");
  service.onFeedStatus(1, "stalled");
  for (let i = 1; i <= 10; i++) service.onTicks([fresh({ ltp: i })]);
  feed.set(1, "connected");
  service.onTicks([fresh({ ltp: 11 })]);
  assert.deepEqual(got, [8, 9, 10, 11]);
  assert.equal(h.stats().replayed, 3);
  assert.equal(service.recent("NSE", "RELIANCE").length, 5);
  await service.close();
});

Deno.test("start() runs check() on its interval; close() stops it", async () => {
  const { service, clock, fresh } = makeService(
    { checkIntervalMs: 5 },
    new FakeFeed(["connected"], 1),
  );
  service.onTicks([fresh()]);
  // The periodic check, not a call of ours, must notice the silence: wait for its gate event.
  const paused = new Promise<string>((resolve) => {
    service.onGateChange((e) => {
      if (!e.safe) resolve(e.reason);
    });
  });
  service.start();
  service.start(); // idempotent
  clock.advance(31_000);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("the periodic check never ran")), 10_000);
  });
  try {
    assert.equal(await Promise.race([paused, timeout]), STALE_REASON);
  } finally {
    clearTimeout(timer);
  }
  await service.close();
});
