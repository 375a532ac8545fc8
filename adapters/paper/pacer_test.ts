// The paper market's tick rates on a simulated clock: per-instrument and per-connection rates,
// round-robin fairness, catch-up after a gap, and restart after the timer was off.

import assert from "node:assert/strict";
import { Prng } from "./mod.ts";
import { MAX_CATCH_UP_MS, TickPacer } from "./pacer.ts";

/** Calls `due` every `stepMs` from `from` (exclusive) to `to` (inclusive); returns every key due. */
function run<K>(pacer: TickPacer<K>, from: number, to: number, stepMs: number): K[][] {
  const calls: K[][] = [];
  for (let t = from + stepMs; t <= to; t += stepMs) calls.push(pacer.due(t));
  return calls;
}

function count<K>(calls: K[][], key?: K): number {
  return calls.flat().filter((k) => key === undefined || k === key).length;
}

Deno.test("pacer: each instrument ticks at ticksPerSecond, from a random phase", () => {
  const prng = new Prng(3);
  const pacer = new TickPacer<string>({ ticksPerSecond: 20, random: () => prng.next() });
  const keys = ["RELIANCE", "TCS", "INFY", "SBIN", "ITC"];
  for (const k of keys) pacer.add(k);
  pacer.restart(0);
  assert.deepEqual(pacer.due(0), keys, "new keys tick at once");
  const calls = run(pacer, 0, 2000, 5);
  for (const k of keys) {
    // 20/s for 2 s after the first tick: the first repeat comes within one period, so 39–40.
    const n = count(calls, k);
    assert.ok(n >= 39 && n <= 40, `${k}: ${n} ticks in 2 s`);
  }
  // Phases differ: the keys do not all tick in the same call.
  const firstRepeat = keys.map((k) => calls.findIndex((c) => c.includes(k)));
  assert.ok(new Set(firstRepeat).size > 1, `first repeats at calls ${firstRepeat}`);
  assert.equal(calls.length, 400, "one batch per call");
});

Deno.test("pacer: totalRate spreads a connection-wide rate round-robin", () => {
  const pacer = new TickPacer<number>({ ticksPerSecond: 2, totalRate: 5000, random: Math.random });
  const keys = Array.from({ length: 10 }, (_, i) => i);
  for (const k of keys) pacer.add(k);
  pacer.restart(1000);
  assert.deepEqual(pacer.due(1000), keys);
  const calls = run(pacer, 1000, 2500, 50);
  assert.equal(count(calls), 5000 * 1.5, "exactly totalRate × elapsed");
  const counts = keys.map((k) => count(calls, k));
  assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `round-robin: ${counts}`);
  // Uneven steps change the batches, not the total.
  const pacer2 = new TickPacer<number>({ ticksPerSecond: 2, totalRate: 5000, random: Math.random });
  for (const k of keys) pacer2.add(k);
  pacer2.restart(0);
  pacer2.due(0);
  let total = 0;
  for (const t of [3, 40, 41, 90, 170, 171, 250]) total += pacer2.due(t).length;
  assert.equal(total, Math.floor(250 * 5));
});

Deno.test("pacer: after a long gap at most MAX_CATCH_UP_MS of ticks are caught up", () => {
  const perKey = new TickPacer<string>({ ticksPerSecond: 100, random: () => 0 });
  perKey.add("A");
  perKey.restart(0);
  perKey.due(0);
  // 5 s without a call (the worker was descheduled): 100/s × 0.25 s, not 500 ticks.
  const n = perKey.due(5000).length;
  assert.ok(n >= 25 && n <= 26, `${n} ticks caught up`);
  assert.equal(MAX_CATCH_UP_MS, 250);

  const total = new TickPacer<string>({ ticksPerSecond: 1, totalRate: 1000, random: () => 0 });
  total.add("A");
  total.restart(0);
  total.due(0);
  assert.equal(total.due(5000).length, 250);
  assert.equal(total.due(5010).length, 10, "and the rate goes on from there");
});

Deno.test("pacer: restart owes nothing for the time the timer was off", () => {
  const pacer = new TickPacer<string>({ ticksPerSecond: 1, totalRate: 100, random: () => 0 });
  pacer.add("A");
  pacer.restart(0);
  assert.deepEqual(pacer.due(0), ["A"]);
  assert.equal(pacer.due(100).length, 10);
  pacer.restart(10_000); // e.g. a stall ended
  assert.equal(pacer.due(10_000).length, 0);
  assert.equal(pacer.due(10_100).length, 10);
});

Deno.test("pacer: touch, touchAll and remove", () => {
  const pacer = new TickPacer<string>({ ticksPerSecond: 1, random: () => 0.999 });
  pacer.add("A");
  pacer.add("B");
  pacer.restart(0);
  assert.deepEqual(pacer.due(0), ["A", "B"]);
  assert.deepEqual(pacer.due(10), [], "nothing due within the period");
  pacer.touch("B");
  pacer.touch("UNKNOWN");
  assert.deepEqual(pacer.due(20), ["B"], "a touched key ticks at the next call");
  pacer.touchAll();
  assert.deepEqual(pacer.due(30), ["A", "B"]);
  assert.equal(pacer.remove("A"), true);
  assert.equal(pacer.remove("A"), false);
  pacer.add("B"); // known: only touched
  assert.equal(pacer.size, 1);
  assert.deepEqual(pacer.due(40), ["B"]);
  assert.equal(pacer.has("A"), false);
  assert.equal(pacer.has("B"), true);
});
