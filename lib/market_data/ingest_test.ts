// Tests for the MarketDataService tick path: invalid ticks are counted, logged once per symbol per
// interval, never cached and never delivered; flags reach payloads and metrics; cache reads,
// freshness, idle expiry and the ring buffer through the service API.

import assert from "node:assert/strict";
import { reset } from "@logtape/logtape";
import { setupLogging } from "../log.ts";
import type { Tick } from "../types.ts";
import { makeService } from "./_test_utils.ts";
import type { MarketDataUpdate } from "./types.ts";

Deno.test("invalid ticks are counted, logged once per symbol per interval, never cached or delivered", async () => {
  const lines: string[] = [];
  await setupLogging("debug", (l) => lines.push(l));
  try {
    const { service, fresh } = makeService();
    const got: MarketDataUpdate[] = [];
    await service.subscribe({
      priority: "CRITICAL",
      kind: "all",
      name: "c",
      callback: (u) => void got.push(u),
    });
    await service.subscribe({
      priority: "LOW",
      kind: "ltp",
      name: "l",
      callback: (u) => void got.push(u),
    });
    const bad = [
      fresh({ symbol: "A", ltp: 0 }),
      fresh({ symbol: "A", ltp: -1 }),
      fresh({ symbol: "A", ltp: NaN }),
      fresh({ symbol: "A", ltp: Infinity }),
      { ...fresh({ symbol: "B" }), ltp: "12" } as unknown as Tick,
      { ...fresh({ symbol: "B" }), ltp: undefined } as unknown as Tick,
      { ...fresh(), symbol: "" },
    ];
    service.onTicks(bad);
    await service.idle();
    assert.equal(got.length, 0);
    assert.equal(service.getLtp("NSE", "A"), null);
    assert.equal(service.getLtp("NSE", "B"), null);
    assert.deepEqual(service.recent("NSE", "A"), []);
    assert.equal(service.health().counters.ticks_rejected, 7);
    assert.equal(service.health().counters.ticks, 0);
    const rejected = () => lines.filter((l) => l.includes("rejected tick"));
    assert.equal(rejected().length, 3, rejected().join("\n")); // A, B, and the nameless one
    service.onTicks([fresh({ symbol: "A", ltp: 0 })]);
    assert.equal(rejected().length, 3, "same symbol, same interval: counted, not logged");
    service.check();
    service.onTicks([fresh({ symbol: "A", ltp: 0 })]);
    assert.equal(rejected().length, 4, "a new interval logs again");
    const metrics = service.metricsText();
    assert.match(metrics, /^tickplex_mds_ticks_rejected_total\{reason="non_positive_price"\} 4$/m);
    assert.match(metrics, /^tickplex_mds_ticks_rejected_total\{reason="nan_price"\} 1$/m);
    assert.match(metrics, /^tickplex_mds_ticks_rejected_total\{reason="missing_price"\} 1$/m);
    await service.close();
  } finally {
    await reset();
  }
});

Deno.test("a Depth tick without a price updates depth only and reaches no callback", async () => {
  const { service, fresh } = makeService();
  let calls = 0;
  await service.subscribe({
    priority: "CRITICAL",
    kind: "depth",
    name: "d",
    callback: () => void calls++,
  });
  service.onTicks([fresh({ ltp: 100 })]);
  const depth = { buy: [{ price: 99, quantity: 5, orders: 1 }], sell: [] };
  service.onTicks([fresh({ mode: 3, ltp: 0, depth })]);
  assert.equal(calls, 0);
  assert.equal(service.getLtp("NSE", "RELIANCE")?.data.ltp, 100);
  assert.equal(service.getDepth("NSE", "RELIANCE")?.data.ltp, null);
  assert.deepEqual(service.getDepth("NSE", "RELIANCE")?.data.depth, depth);
  assert.equal(service.health().counters.depth_without_ltp, 1);
  await service.close();
});

Deno.test("jumps and old exchange timestamps are flagged in the payload, the cache and metrics", async () => {
  const { service, clock, fresh } = makeService();
  const flags: unknown[] = [];
  await service.subscribe({
    priority: "HIGH",
    kind: "ltp",
    name: "h",
    callback: (u) => void flags.push(u.flags),
  });
  service.onTicks([
    fresh({ ltp: 100 }),
    fresh({ ltp: 130 }),
    fresh({ ltp: 131, timestamp: clock.now - 61_000 }),
  ]);
  assert.deepEqual(flags, [{}, { jump: 30 }, { staleExchangeTime: true }]);
  assert.deepEqual(service.getLtp("NSE", "RELIANCE")?.flags, { staleExchangeTime: true });
  const c = service.health().counters;
  assert.equal(c.price_jumps, 1);
  assert.equal(c.stale_exchange_time, 1);
  assert.equal(c.ticks, 3);
  await service.close();
});

Deno.test("cache reads, freshness and idle expiry through the service", async () => {
  const { service, clock, fresh } = makeService({ entryIdleMs: 60_000 });
  assert.equal(service.isFeedFresh(), false);
  service.onTicks([
    fresh({ symbol: "A", ltp: 10 }),
    fresh({ symbol: "B", mode: 2, ltp: 20, open: 19 }),
  ]);
  assert.equal(service.getQuote("NSE", "B")?.data.open, 19);
  assert.equal(service.getLtp("NSE", "B")?.receivedAt, clock.now);
  const many = service.getMany([{ exchange: "NSE", symbol: "A" }, {
    exchange: "BSE",
    symbol: "A",
  }]);
  assert.equal(many[0]?.ltp?.data.ltp, 10);
  assert.equal(many[1], null);
  clock.advance(20_000);
  service.onTicks([fresh({ symbol: "A", ltp: 11 })]);
  clock.advance(15_000);
  assert.equal(service.isFresh("NSE", "A"), true);
  assert.equal(service.isFresh("NSE", "B"), false, "B is 35 s old, default max age 30 s");
  assert.equal(service.isFresh("NSE", "B", 40_000), true);
  assert.equal(service.isFeedFresh(), true);
  assert.equal(service.isFeedFresh(10_000), false);
  clock.advance(30_000); // B idle 65 s, A 45 s
  service.check();
  assert.equal(service.getLtp("NSE", "B"), null);
  assert.equal(service.getLtp("NSE", "A")?.data.ltp, 11);
  assert.equal(service.health().counters.cache_expired, 1);
  await service.close();
});

Deno.test("recent() returns the ring buffer of an instrument, optionally since a time", async () => {
  const { service, clock, fresh } = makeService({
    ring: { size: 3, maxAgeMs: 10_000 },
    ringAllSymbols: true,
  });
  for (let i = 1; i <= 5; i++) {
    service.onTicks([fresh({ ltp: i })]);
    clock.advance(1_000);
  }
  assert.deepEqual(service.recent("NSE", "RELIANCE").map((e) => e.tick.ltp), [3, 4, 5]);
  const since = clock.now - 2_000;
  assert.deepEqual(service.recent("NSE", "RELIANCE", { since }).map((e) => e.tick.ltp), [4, 5]);
  clock.advance(8_500);
  assert.deepEqual(service.recent("NSE", "RELIANCE").map((e) => e.tick.ltp), [5]);
  await service.close();
});

Deno.test("onTicks ignores a non-array and anything after close", async () => {
  const { service, fresh } = makeService();
  service.onTicks(null as unknown as Tick[]);
  await service.close();
  service.onTicks([fresh()]);
  assert.equal(service.getLtp("NSE", "RELIANCE"), null);
});

Deno.test("recent ticks are kept only for watched instruments unless ringAllSymbols", async () => {
  const { service, fresh } = makeService({ ring: { size: 3, maxAgeMs: 10_000 } });
  service.onTicks([fresh({ symbol: "TCS", ltp: 1 })]);
  assert.deepEqual(service.recent("NSE", "TCS"), [], "nobody in the service watches TCS");
  const h = await service.subscribe({
    priority: "HIGH",
    kind: "ltp",
    symbols: [{ exchange: "NSE", symbol: "TCS" }],
    name: "watch",
    callback: () => {},
  });
  service.onTicks([fresh({ symbol: "TCS", ltp: 2 })]);
  assert.deepEqual(service.recent("NSE", "TCS").map((e) => e.tick.ltp), [2]);
  await h.unsubscribe();
  await service.close();
});
