// ConnectionPool bookkeeping against in-process fake adapters: capacity, fill order, the mode
// hierarchy with rollback, restarts with resubscription, and request batching.

import assert from "node:assert/strict";
import { ConnectionPool } from "./pool.ts";
import { fakeFactory, makeTick, testCapabilities } from "../../tests/helpers/fake_adapter.ts";

function newPool(per = 2, conns = 2) {
  const f = fakeFactory();
  const pool = new ConnectionPool(testCapabilities(per, conns), f.factory, {
    restartBaseMs: 5,
    restartMaxMs: 20,
  });
  return { pool, links: f.links };
}

Deno.test("capacity 2x2: fill in order, second connection only when the first is full, 5th fails", async () => {
  const { pool, links } = newPool();
  await pool.start();
  assert.equal(links.length, 1);
  for (const s of ["A", "B"]) assert.equal((await pool.subscribe("NSE", s, 2, 5)).ok, true);
  assert.equal(links.length, 1, "2nd connection must not open before the 1st is full");
  const c = await pool.subscribe("NSE", "C", 2, 5);
  assert.ok(c.ok && c.connection === 2);
  assert.equal(links.length, 2);
  assert.equal((await pool.subscribe("NSE", "D", 2, 5)).ok, true);
  const e = await pool.subscribe("NSE", "E", 2, 5);
  assert.deepEqual(e, {
    ok: false,
    code: "MAX_CAPACITY_REACHED",
    message:
      "Maximum capacity reached: 2 connections × 2 symbols = 4 symbols. Currently subscribed to 4 symbols.",
  });
  assert.deepEqual([...links[0].streams.keys()], ["NSE:A", "NSE:B"]);
  assert.deepEqual([...links[1].streams.keys()], ["NSE:C", "NSE:D"]);
  // Freeing a slot makes room again, on the connection that has it.
  assert.equal((await pool.unsubscribe("NSE", "A", 2)).ok, true);
  const f = await pool.subscribe("NSE", "E", 2, 5);
  assert.ok(f.ok && f.connection === 1);
  await pool.close();
});

Deno.test("concurrent subscribes never overfill a connection", async () => {
  const { pool, links } = newPool(3, 2);
  await pool.start();
  const results = await Promise.all(
    ["A", "B", "C", "D", "E", "F", "G"].map((s) => pool.subscribe("NSE", s, 1, 5)),
  );
  assert.equal(results.filter((r) => r.ok).length, 6);
  assert.equal(results.filter((r) => !r.ok && r.code === "MAX_CAPACITY_REACHED").length, 1);
  assert.equal(links[0].streams.size, 3);
  assert.equal(links[1].streams.size, 3);
  // One worker message carried the whole first batch.
  assert.equal(links[0].calls.filter((c) => c.type === "subscribe").length, 1);
  await pool.close();
});

Deno.test("mode hierarchy: covered, upgrade on the same connection, downgrade, unsubscribe", async () => {
  const { pool, links } = newPool();
  await pool.start();
  const l = links[0];
  assert.deepEqual(await pool.subscribe("NSE", "X", 3, 5), {
    ok: true,
    depth: 5,
    connection: 1,
    action: "subscribed",
  });
  const callsBefore = l.calls.length;
  const covered = await pool.subscribe("NSE", "X", 1, 5);
  assert.ok(covered.ok && covered.action === "covered");
  assert.equal(l.calls.length, callsBefore, "covered mode must not call the broker");
  // Depth leaves → downgrade to LTP.
  const down = await pool.unsubscribe("NSE", "X", 3);
  assert.deepEqual(down, { ok: true, action: "downgraded", mode: 1 });
  assert.equal(l.streams.get("NSE:X"), 1);
  // Upgrade LTP → Quote happens on the same connection without changing the symbol count.
  const up = await pool.subscribe("NSE", "X", 2, 5);
  assert.ok(up.ok && up.action === "upgraded" && up.connection === 1);
  assert.equal(l.streams.get("NSE:X"), 2);
  assert.equal(pool.status()[0].symbols, 1);
  // Releasing the lower mode is tracking only.
  const low = await pool.unsubscribe("NSE", "X", 1);
  assert.deepEqual(low, { ok: true, action: "tracking" });
  assert.equal(l.streams.get("NSE:X"), 2);
  assert.deepEqual(await pool.unsubscribe("NSE", "X", 2), { ok: true, action: "unsubscribed" });
  assert.equal(l.streams.size, 0);
  const again = await pool.unsubscribe("NSE", "X", 2);
  assert.ok(!again.ok && again.code === "NOT_SUBSCRIBED");
  await pool.close();
});

Deno.test("failed broker calls roll back: upgrade, downgrade, new subscribe, unsubscribe", async () => {
  const { pool, links } = newPool();
  await pool.start();
  const l = links[0];
  await pool.subscribe("NSE", "X", 1, 5);
  l.failNext.add("set_mode");
  const up = await pool.subscribe("NSE", "X", 3, 5);
  assert.ok(!up.ok && up.code === "BROKER_ERROR");
  assert.deepEqual(pool.streams(), [{
    exchange: "NSE",
    symbol: "X",
    mode: 1,
    modes: [1],
    connection: 1,
  }]);

  assert.equal((await pool.subscribe("NSE", "X", 3, 5)).ok, true);
  l.failNext.add("set_mode");
  const down = await pool.unsubscribe("NSE", "X", 3);
  assert.deepEqual(down, {
    ok: false,
    code: "DOWNGRADE_FAILED",
    message: "Failed to downgrade X.NSE to mode 1",
  });
  assert.deepEqual(pool.streams()[0].modes, [1, 3], "tracking restored after a failed downgrade");
  assert.equal(l.streams.get("NSE:X"), 3);

  l.failNext.add("subscribe");
  const fresh = await pool.subscribe("NSE", "Y", 2, 5);
  assert.ok(!fresh.ok);
  assert.equal(pool.symbolCount, 1, "a failed new subscribe frees its reserved slot");

  l.failNext.add("unsubscribe");
  assert.equal((await pool.unsubscribe("NSE", "X", 1)).ok, true);
  const last = await pool.unsubscribe("NSE", "X", 3);
  assert.ok(!last.ok && last.code === "BROKER_ERROR");
  assert.equal(pool.symbolCount, 1, "still streaming at the broker, so still tracked");
  assert.equal((await pool.unsubscribe("NSE", "X", 3)).ok, true);
  assert.equal(pool.symbolCount, 0);
  await pool.close();
});

Deno.test("a crashed worker is restarted and its symbols resubscribed at their modes", async () => {
  const { pool, links } = newPool(5, 1);
  const states: string[] = [];
  pool.onstatus = (_i, s) => states.push(s);
  await pool.start();
  await pool.subscribe("NSE", "A", 3, 5);
  await pool.subscribe("NSE", "B", 1, 5);
  await pool.subscribe("NSE", "B", 2, 5);
  links[0].crash();
  assert.equal(pool.status()[0].state, "disconnected");
  const deadline = Date.now() + 3000;
  while ((links.length < 2 || links[1].streams.size < 2) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(links.length, 2);
  assert.deepEqual(Object.fromEntries(links[1].streams), { "NSE:A": 3, "NSE:B": 2 });
  assert.equal(pool.status()[0].restarts, 1);
  assert.ok(states.includes("disconnected") && states.at(-1) === "connected");
  await pool.close();
});

Deno.test("ticks are delivered, and invalid ticks are counted, not passed on", async () => {
  const { pool, links } = newPool();
  const got: string[] = [];
  pool.onticks = (ticks) => got.push(...ticks.map((t) => t.symbol));
  await pool.start();
  links[0].emit([makeTick("NSE", "A", 2), { ...makeTick("NSE", "B", 2), ltp: NaN as number }]);
  links[0].onmessage?.({ type: "ticks", ticks: [{ symbol: 1 }, null, "x"] });
  links[0].onmessage?.({ type: "nonsense" });
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(got, ["A"]);
  assert.equal(pool.counters.ticksRejected, 4);
  assert.equal(pool.counters.messagesRejected, 1);
  await pool.close();
});

Deno.test("close unsubscribes everything upstream", async () => {
  const { pool, links } = newPool();
  await pool.start();
  await pool.subscribe("NSE", "A", 2, 5);
  await pool.subscribe("NSE", "B", 3, 5);
  await pool.close();
  assert.equal(links[0].streams.size, 0);
  assert.equal(links[0].terminated, true);
  const r = await pool.subscribe("NSE", "C", 2, 5);
  assert.ok(!r.ok);
});
