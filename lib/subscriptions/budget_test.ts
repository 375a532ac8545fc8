// The budget enforced where streaming capacity is decided: the real SubscriptionRegistry over a
// real ConnectionPool (fake broker links), with concurrent subscribes.

import assert from "node:assert/strict";
import { type Consumer, type Revocation, SubscriptionRegistry } from "./mod.ts";
import { ConnectionPool } from "../pool/mod.ts";
import { fakeFactory, testCapabilities } from "../../tests/helpers/fake_adapter.ts";
import { type BudgetHolder, type ConsumerClass, SubscriptionBudget } from "../budget/mod.ts";

const holder = (name: string, consumerClass: ConsumerClass, quota?: number): BudgetHolder => ({
  name,
  consumerClass,
  kind: "api_key",
  ...(quota !== undefined ? { quota } : {}),
});

async function setup(
  perConnection: number,
  connections: number,
  config: ConstructorParameters<typeof SubscriptionBudget>[0],
) {
  const f = fakeFactory();
  const pool = new ConnectionPool(testCapabilities(perConnection, connections), f.factory);
  await pool.start();
  const budget = new SubscriptionBudget(config, {
    connections: pool.maxConnections,
    symbolsPerConnection: pool.maxSymbolsPerConnection,
  });
  const registry = new SubscriptionRegistry(pool, budget.ledger);
  return { pool, budget, registry, links: f.links };
}

/** Streamed instruments per the fake broker (what really costs a slot). */
const brokerStreams = (links: { streams: Map<string, unknown> }[]) =>
  links.reduce((n, l) => n + l.streams.size, 0);

/** A deterministic shuffle, so the race interleaves display and trading subscribes. */
function shuffle<T>(xs: T[], seed = 7): T[] {
  const out = xs.slice();
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff;
    const j = (s >>> 16) % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

Deno.test("the reserve holds under a race of 200 display subscribes against 10 trading ones", async () => {
  const { pool, budget, registry, links } = await setup(25, 4, { reserveTrading: 10 });
  const display = holder("wall", "display");
  const trading = holder("algo", "trading");
  const jobs = shuffle([
    ...Array.from({ length: 200 }, (_, i) => ({ c: { id: `d${i}`, holder: display }, s: `D${i}` })),
    ...Array.from({ length: 10 }, (_, i) => ({ c: { id: `t${i}`, holder: trading }, s: `T${i}` })),
  ]);
  const tradingAt = jobs.flatMap((j, i) => j.c.holder.consumerClass === "trading" ? [i] : []);
  assert.ok(tradingAt[0] < 100 && tradingAt[9] > 100, `interleaved: ${tradingAt}`);
  const results = await Promise.all(
    jobs.map((j) => registry.acquire(j.c, "NSE", j.s, 1, 5).then((r) => ({ j, r }))),
  );
  const ok = (cls: ConsumerClass) =>
    results.filter((x) => x.j.c.holder.consumerClass === cls && x.r.ok).length;
  assert.equal(ok("trading"), 10, "every trading subscribe got a slot");
  assert.equal(ok("display"), 90, "display took exactly the unreserved part");
  const refused = results.find((x) => !x.r.ok)!.r;
  assert.ok(!refused.ok && refused.code === "MAX_CAPACITY_REACHED");
  assert.match(refused.message, /10 of 100 streaming slots are reserved for trading/);
  assert.equal(pool.symbolCount, 100);
  assert.equal(brokerStreams(links), 100);
  const r = budget.report();
  assert.deepEqual(
    [r.used, r.classes.trading.slots, r.classes.display.slots, r.classes.display.refused_total],
    [registry.instrumentCount, 10, 90, 110],
  );
  await pool.close();
});

Deno.test("a key already streamed costs no slot; a shared key is charged to the highest class", async () => {
  const { pool, budget, registry } = await setup(2, 1, { reserveTrading: 1 });
  const wall = { id: "w", holder: holder("wall", "display") };
  const algo = { id: "a", holder: holder("algo", "trading") };
  assert.equal((await registry.acquire(algo, "NSE", "A", 2, 5)).ok, true);
  assert.equal((await registry.acquire(wall, "NSE", "B", 1, 5)).ok, true);
  // The pool is full, yet display may join A (and a new mode of A): streamed already.
  assert.equal((await registry.acquire(wall, "NSE", "A", 1, 5)).ok, true);
  assert.equal((await registry.acquire(wall, "NSE", "A", 2, 5)).ok, true);
  assert.deepEqual([budget.report().classes.trading.slots, budget.report().classes.display.slots], [
    1,
    1,
  ]);
  await registry.releaseAll(algo); // A is display's alone now: charged to display
  assert.deepEqual([budget.report().classes.trading.slots, budget.report().classes.display.slots], [
    0,
    2,
  ]);
  assert.equal(budget.report().used, registry.instrumentCount);
  await registry.releaseAll(wall);
  assert.equal(budget.report().used, 0);
  await pool.close();
});

Deno.test("pre-emption evicts exactly the least recently used display key and tells its consumers", async () => {
  const { pool, budget, registry, links } = await setup(3, 1, { preemptDisplay: true });
  const revoked: [string, Revocation][] = [];
  const viewer = (id: string): Consumer => ({
    id,
    holder: holder("wall", "display"),
    revoke: (r) => revoked.push([id, r]),
  });
  const v1 = viewer("v1"), v2 = viewer("v2"), v3 = viewer("v3");
  for (const s of ["A", "B", "C"]) {
    assert.equal((await registry.acquire(v1, "NSE", s, 1, 5)).ok, true);
  }
  // Subscribed again in the order A, B, C: A is now the least recently used.
  assert.equal((await registry.acquire(v2, "NSE", "A", 2, 5)).ok, true);
  assert.equal((await registry.acquire(v3, "NSE", "B", 1, 5)).ok, true);
  assert.equal((await registry.acquire(v2, "NSE", "C", 1, 5)).ok, true);
  const algo = { id: "algo", holder: holder("algo", "trading") };
  const r = await registry.acquire(algo, "NSE", "T", 2, 5);
  assert.ok(r.ok, "trading got the slot");
  assert.deepEqual(
    revoked.map(([id, x]) => [id, x.symbol, x.mode, x.reason]).sort(),
    [["v1", "A", 1, "preempted"], ["v2", "A", 2, "preempted"]],
  );
  assert.match(revoked[0][1].message, /budget\.preemptDisplay/);
  assert.deepEqual(registry.list().map((k) => k.symbol).sort(), ["B", "C", "T"]);
  assert.deepEqual([...links[0].streams.keys()].sort(), ["NSE:B", "NSE:C", "NSE:T"]);
  assert.equal(budget.report().preempted_total, 1);
  assert.deepEqual(registry.held(v1).map((k) => k.symbol).sort(), ["B", "C"]);
  // A trading key is never a victim: with B, C taken by trading too, the next one is refused.
  await registry.acquire(algo, "NSE", "B", 1, 5);
  await registry.acquire(algo, "NSE", "C", 1, 5);
  const none = await registry.acquire(algo, "NSE", "U", 1, 5);
  assert.ok(!none.ok && none.code === "MAX_CAPACITY_REACHED");
  assert.equal(revoked.length, 2);
  await pool.close();
});

Deno.test("without preemptDisplay a full pool refuses trading and evicts nothing", async () => {
  const { pool, registry } = await setup(1, 1, {});
  const revoked: Revocation[] = [];
  const v = {
    id: "v",
    holder: holder("wall", "display"),
    revoke: (r: Revocation) => revoked.push(r),
  };
  assert.equal((await registry.acquire(v, "NSE", "A", 1, 5)).ok, true);
  const r = await registry.acquire(
    { id: "t", holder: holder("algo", "trading") },
    "NSE",
    "T",
    1,
    5,
  );
  assert.ok(!r.ok && r.code === "MAX_CAPACITY_REACHED");
  assert.equal(
    r.message,
    "Maximum capacity reached: 1 connections × 1 symbols = 1 symbols. " +
      "Currently subscribed to 1 symbols.",
    "a full pool is refused in the pool's own words",
  );
  assert.deepEqual(revoked, []);
  await pool.close();
});

Deno.test("a per-key quota holds across the key's consumers, also when they race", async () => {
  const { pool, budget, registry } = await setup(50, 1, {});
  const wall = holder("wall", "display", 5);
  const clients = Array.from({ length: 4 }, (_, i) => ({ id: `c${i}`, holder: wall }));
  const results = await Promise.all(
    clients.flatMap((c) =>
      Array.from(
        { length: 6 },
        (_, i) => registry.acquire(c, "NSE", `S${i + (c.id === "c3" ? 3 : 0)}`, 1, 5),
      )
    ),
  );
  // 9 distinct symbols asked for, at most 5 may be held; every holding of those 5 succeeds.
  assert.equal(budget.ledger.heldBy("wall"), 5);
  const held = new Set(registry.list().map((k) => k.symbol));
  assert.equal(held.size, 5);
  const refused = results.filter((r) => !r.ok);
  assert.ok(refused.length > 0);
  for (const r of refused) {
    assert.ok(!r.ok && r.code === "MAX_CAPACITY_REACHED");
    assert.match(r.message, /Quota reached for API key 'wall' \(display\): it may hold 5/);
  }
  // Another key is not limited by wall's quota; releasing frees quota.
  assert.equal(
    (await registry.acquire({ id: "x", holder: holder("algo", "trading") }, "NSE", "Z", 1, 5)).ok,
    true,
  );
  for (const c of clients) await registry.releaseAll(c);
  assert.equal(budget.ledger.heldBy("wall"), 0);
  assert.equal((await registry.acquire(clients[0], "NSE", "S8", 1, 5)).ok, true);
  await pool.close();
});

Deno.test("random concurrent subscribes and releases keep ledger, registry and pool in agreement", async () => {
  const { pool, budget, registry, links } = await setup(10, 3, {
    reserveTrading: 6,
    preemptDisplay: true,
  });
  const classes: ConsumerClass[] = ["trading", "monitoring", "display", "capture"];
  const consumers: Consumer[] = Array.from({ length: 12 }, (_, i) => ({
    id: `c${i}`,
    // Mostly display, one trading consumer: display fills up, trading must pre-empt.
    holder: holder(
      `k${i % 6}-${i < 2 ? "trading" : i < 8 ? "display" : i < 10 ? "monitoring" : "capture"}`,
      i < 2 ? "trading" : i < 8 ? "display" : i < 10 ? "monitoring" : "capture",
      i === 5 ? 4 : undefined,
    ),
    revoke: () => {},
  }));
  let seed = 42;
  const rnd = (n: number) =>
    ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) >>> 16) % n;
  for (let round = 0; round < 30; round++) {
    await Promise.all(Array.from({ length: 25 }, () => {
      const c = consumers[rnd(consumers.length)];
      const symbol = `S${rnd(60)}`;
      const mode = (1 + rnd(3)) as 1 | 2 | 3;
      return rnd(3) === 0
        ? registry.release(c, "NSE", symbol, mode)
        : registry.acquire(c, "NSE", symbol, mode, 5);
    }));
    const r = budget.report();
    assert.equal(r.used, registry.instrumentCount, `round ${round}: ledger = registry`);
    assert.equal(r.used, pool.symbolCount, `round ${round}: ledger = pool`);
    assert.equal(r.used, brokerStreams(links), `round ${round}: ledger = broker`);
    assert.ok(r.used <= r.capacity);
    // Each slot is charged to the highest class among the consumers holding it (any mode).
    const top = new Map<string, number>();
    for (const c of consumers) {
      const rank = classes.indexOf(c.holder!.consumerClass);
      for (const k of registry.held(c)) top.set(k.symbol, Math.min(top.get(k.symbol) ?? 9, rank));
    }
    const expected = { trading: 0, monitoring: 0, display: 0, capture: 0 };
    for (const rank of top.values()) expected[classes[rank]]++;
    // Orphans (nobody holds them, the broker still streams them) keep their last charge.
    assert.equal(top.size, r.used, `round ${round}: no orphans with this broker`);
    for (const c of classes) assert.equal(r.classes[c].slots, expected[c], `round ${round}: ${c}`);
    // The quota'd key never holds more than its quota.
    assert.ok(budget.ledger.heldBy("k5-display") <= 4);
  }
  const end = budget.report();
  console.log(
    `random mix: preempted ${end.preempted_total}, refused ` +
      classes.map((c) => `${c} ${end.classes[c].refused_total}`).join(", "),
  );
  assert.ok(end.preempted_total > 0, "the mix pre-empted");
  assert.ok(end.classes.display.refused_total > 0, "the mix hit the reserve");
  for (const c of consumers) await registry.releaseAll(c);
  assert.deepEqual([budget.report().used, pool.symbolCount], [0, 0]);
  await pool.close();
});
