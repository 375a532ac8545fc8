// Registry refcounting over a real ConnectionPool with a fake broker: the first consumer subscribes
// upstream, later ones share, the last one releases; failures leave orphans that reap() retries.

import assert from "node:assert/strict";
import { type Consumer, SubscriptionRegistry } from "./registry.ts";
import { ConnectionPool } from "../pool/mod.ts";
import { fakeFactory, testCapabilities } from "../../tests/helpers/fake_adapter.ts";

const consumer = (id: string): Consumer => ({ id });

async function setup() {
  const f = fakeFactory(new Set(["NSE:A", "NSE:B"]));
  const pool = new ConnectionPool(testCapabilities(10, 1), f.factory);
  await pool.start();
  return { pool, registry: new SubscriptionRegistry(pool), link: f.links[0] };
}

const upstreamCalls = (link: { calls: { type: string }[] }, type: string) =>
  link.calls.filter((c) => c.type === type).length;

Deno.test("two consumers on one key: one upstream subscribe, one upstream unsubscribe", async () => {
  const { pool, registry, link } = await setup();
  const a = consumer("a"), b = consumer("b");
  const [ra, rb] = await Promise.all([
    registry.acquire(a, "NSE", "A", 2, 5),
    registry.acquire(b, "NSE", "A", 2, 5),
  ]);
  assert.ok(ra.ok && rb.ok);
  assert.equal(upstreamCalls(link, "subscribe"), 1);
  assert.deepEqual(registry.list(), [{
    exchange: "NSE",
    symbol: "A",
    mode: 2,
    depth: 5,
    consumers: 2,
  }]);
  assert.equal((await registry.release(a, "NSE", "A", 2)).ok, true);
  assert.equal(upstreamCalls(link, "unsubscribe"), 0);
  assert.equal((await registry.release(b, "NSE", "A", 2)).ok, true);
  assert.equal(upstreamCalls(link, "unsubscribe"), 1);
  assert.deepEqual(registry.list(), []);
  const again = await registry.release(b, "NSE", "A", 2);
  assert.ok(!again.ok && again.code === "NOT_SUBSCRIBED");
  await pool.close();
});

Deno.test("idempotent acquire, releaseAll, and unknown symbols", async () => {
  const { pool, registry, link } = await setup();
  const a = consumer("a");
  await registry.acquire(a, "NSE", "A", 1, 5);
  const twice = await registry.acquire(a, "NSE", "A", 1, 5);
  assert.ok(twice.ok && twice.already);
  await registry.acquire(a, "NSE", "B", 3, 5);
  const bad = await registry.acquire(a, "NSE", "NOPE", 1, 5);
  assert.ok(!bad.ok && bad.code === "SYMBOL_NOT_FOUND");
  assert.equal(registry.held(a).length, 2);
  await registry.releaseAll(a);
  assert.equal(registry.held(a).length, 0);
  assert.equal(link.streams.size, 0);
  assert.equal(registry.consumerCount, 0);
  await pool.close();
});

Deno.test("a failed upstream release leaves an orphan that reap() frees later", async () => {
  const { pool, registry, link } = await setup();
  const a = consumer("a");
  await registry.acquire(a, "NSE", "A", 2, 5);
  link.failNext.add("unsubscribe");
  const r = await registry.release(a, "NSE", "A", 2);
  assert.ok(!r.ok && r.code === "BROKER_ERROR");
  assert.deepEqual(registry.list(), [{
    exchange: "NSE",
    symbol: "A",
    mode: 2,
    depth: 5,
    consumers: 0,
  }]);
  assert.equal(link.streams.size, 1, "the broker still streams it; the registry says so too");
  assert.equal(await registry.reap(), 1);
  assert.deepEqual(registry.list(), []);
  assert.equal(link.streams.size, 0);
  await pool.close();
});
