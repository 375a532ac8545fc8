// The ledger's rules on their own: the reserve, charging a slot to the highest class holding it,
// the LRU display victim, and quotas.

import assert from "node:assert/strict";
import { type BudgetHolder, BudgetLedger } from "./ledger.ts";

const holder = (name: string, quota?: number): BudgetHolder => ({
  name,
  consumerClass: "display",
  kind: "api_key",
  ...(quota !== undefined ? { quota } : {}),
});

Deno.test("lower classes stop at capacity minus the reserve; trading fills the reserve", () => {
  const l = new BudgetLedger({ capacity: 10, reserveTrading: 3, preemptDisplay: false });
  for (let i = 0; i < 7; i++) assert.equal(l.admit("NSE", `D${i}`, "display").ok, true);
  const refused = l.admit("NSE", "D7", "monitoring");
  assert.ok(!refused.ok);
  assert.match(refused.message, /3 of 10 streaming slots are reserved for trading/);
  assert.match(refused.message, /budget\.reserveTrading = 3/);
  for (let i = 0; i < 3; i++) assert.equal(l.admit("NSE", `T${i}`, "trading").ok, true);
  const full = l.admit("NSE", "T3", "trading");
  assert.ok(!full.ok);
  assert.equal(
    full.message,
    "Maximum capacity reached: 10 symbols. Currently subscribed to 10 symbols. " +
      "3 of them are reserved for trading.",
  );
  assert.deepEqual(l.report().refused, { trading: 1, monitoring: 1, display: 0, capture: 0 });
});

Deno.test("trading beyond its reserve shrinks what lower classes may take", () => {
  const l = new BudgetLedger({ capacity: 10, reserveTrading: "20%", preemptDisplay: false });
  assert.equal(l.reserved, 2);
  for (let i = 0; i < 5; i++) assert.equal(l.admit("NSE", `T${i}`, "trading").ok, true);
  for (let i = 0; i < 5; i++) assert.equal(l.admit("NSE", `D${i}`, "capture").ok, true);
  assert.equal(l.admit("NSE", "D5", "capture").ok, false);
  l.free("NSE", "T0");
  l.free("NSE", "T1");
  // Trading holds 3 ≥ the reserve of 2: the 2 freed slots are open to every class.
  assert.equal(l.admit("NSE", "D5", "capture").ok, true);
  assert.equal(l.admit("NSE", "D6", "capture").ok, true);
  assert.equal(l.admit("NSE", "D7", "capture").ok, false);
});

Deno.test("a slot is charged to the highest class holding it, and back when it leaves", () => {
  const l = new BudgetLedger({ capacity: 5, reserveTrading: 0, preemptDisplay: false });
  assert.equal(l.admit("NSE", "A", "display").ok, true);
  l.confirm("NSE", "A");
  l.hold("NSE", "A", "display", 1);
  l.hold("NSE", "A", "trading", 1);
  assert.deepEqual(l.report().classes, { trading: 1, monitoring: 0, display: 0, capture: 0 });
  l.hold("NSE", "A", "trading", -1);
  assert.deepEqual(l.report().classes, { trading: 0, monitoring: 0, display: 1, capture: 0 });
  l.hold("NSE", "A", "display", -1); // nobody holds it: the charge stays until it is freed
  assert.equal(l.report().used, 1);
  l.free("NSE", "A");
  assert.deepEqual([l.report().used, l.report().classes.display], [0, 0]);
});

Deno.test("the victim is the least recently subscribed display slot, never one held by trading", () => {
  const l = new BudgetLedger({ capacity: 3, reserveTrading: 0, preemptDisplay: true });
  for (const s of ["A", "B", "C"]) {
    assert.equal(l.admit("NSE", s, "display").ok, true);
    l.confirm("NSE", s);
    l.hold("NSE", s, "display", 1);
  }
  l.touch("NSE", "A"); // A is now the most recent: B is the LRU
  l.hold("NSE", "B", "trading", 1); // ...but trading holds B too: C is the LRU display slot
  const t = l.admit("NSE", "T", "trading");
  assert.ok(t.ok && t.victim);
  assert.equal(t.victim.symbol, "C");
  // The victim is taken: the next trading request gets the next one (A), then none is left.
  const t2 = l.admit("NSE", "T2", "trading");
  assert.ok(t2.ok && t2.victim?.symbol === "A");
  const t3 = l.admit("NSE", "T3", "trading");
  assert.ok(!t3.ok && t3.message.endsWith("No display symbol can be pre-empted."));
});

Deno.test("a quota counts distinct instruments across the holder's consumers", () => {
  const l = new BudgetLedger({ capacity: 100, reserveTrading: 0, preemptDisplay: false });
  const wall = holder("wall", 2);
  assert.equal(l.claim(wall, "NSE", "A"), null);
  assert.equal(l.claim(wall, "NSE", "A"), null); // a second client on A: still one instrument
  assert.equal(l.claim(wall, "NSE", "B"), null);
  const refusal = l.claim(wall, "NSE", "C");
  assert.match(refusal ?? "", /Quota reached for API key 'wall' \(display\): it may hold 2/);
  l.unclaim(wall, "NSE", "A");
  assert.notEqual(l.claim(wall, "NSE", "C"), null, "A is still held once");
  l.unclaim(wall, "NSE", "A");
  assert.equal(l.claim(wall, "NSE", "C"), null);
  assert.deepEqual(l.report().holders, [
    { name: "wall", class: "display", kind: "api_key", held: 2, quota: 2 },
  ]);
});
