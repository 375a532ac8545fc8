// Tests for the ring buffer and the per-instrument recent-tick history: size and age bounds,
// `since` filtering and sequence windows used for replay.

import assert from "node:assert/strict";
import { tick } from "./_test_utils.ts";
import { RecentTicks, RingBuffer } from "./ring.ts";
import type { RecentTick } from "./types.ts";

Deno.test("RingBuffer keeps the newest `capacity` items in order", () => {
  const r = new RingBuffer<number>(3);
  assert.equal(r.peekOldest(), undefined);
  for (const n of [1, 2, 3]) assert.equal(r.push(n), undefined);
  assert.equal(r.push(4), 1);
  assert.equal(r.push(5), 2);
  assert.deepEqual(r.toArray(), [3, 4, 5]);
  assert.equal(r.at(0), 3);
  assert.equal(r.at(3), undefined);
  assert.equal(r.peekNewest(), 5);
  assert.equal(r.shift(), 3);
  assert.equal(r.length, 2);
  r.push(6);
  r.push(7);
  assert.deepEqual(r.toArray(), [5, 6, 7]);
  r.clear();
  assert.equal(r.length, 0);
  assert.throws(() => new RingBuffer(0), RangeError);
});

function entry(seq: number, receivedAt: number, symbol = "A"): RecentTick {
  return { seq, tick: tick({ symbol }), flags: {}, receivedAt };
}

Deno.test("RecentTicks is bounded by size per instrument", () => {
  const r = new RecentTicks({ size: 1_000, maxAgeMs: 600_000 });
  for (let i = 1; i <= 1_500; i++) r.push(entry(i, i), 1_500);
  r.push(entry(1_501, 1_500, "B"), 1_500);
  const a = r.recent("NSE", "A", undefined, 1_500);
  assert.equal(a.length, 1_000);
  assert.equal(a[0].seq, 501);
  assert.equal(a.at(-1)?.seq, 1_500);
  assert.equal(r.entries, 1_001);
  assert.equal(r.instruments, 2);
});

Deno.test("RecentTicks is bounded by age, on push, on read and on sweep", () => {
  const r = new RecentTicks({ size: 100, maxAgeMs: 10_000 });
  for (let i = 0; i < 10; i++) r.push(entry(i + 1, i * 1_000), i * 1_000);
  r.push(entry(11, 0, "B"), 0);
  // At t=15 000 everything received before t=5 000 is too old.
  const a = r.recent("NSE", "A", undefined, 15_000);
  assert.deepEqual(a.map((e) => e.receivedAt), [5_000, 6_000, 7_000, 8_000, 9_000]);
  assert.equal(r.sweep(15_000), 1); // B's only tick
  assert.equal(r.instruments, 1);
  assert.equal(r.entries, 5);
  assert.equal(r.sweep(100_000), 5);
  assert.equal(r.instruments, 0);
});

Deno.test("RecentTicks.recent filters by since (inclusive)", () => {
  const r = new RecentTicks({ size: 100, maxAgeMs: 600_000 });
  for (let i = 0; i < 5; i++) r.push(entry(i + 1, 100 * i), 400);
  assert.deepEqual(r.recent("NSE", "A", 200, 400).map((e) => e.seq), [3, 4, 5]);
  assert.deepEqual(r.recent("NSE", "A", 401, 400), []);
  assert.deepEqual(r.recent("NSE", "nope", undefined, 400), []);
});

Deno.test("RecentTicks.between and allBetween select a sequence window (exclusive)", () => {
  const r = new RecentTicks({ size: 100, maxAgeMs: 600_000 });
  let seq = 0;
  for (let i = 0; i < 4; i++) {
    r.push(entry(++seq, i, "A"), i);
    r.push(entry(++seq, i, "B"), i);
  }
  assert.deepEqual(r.between("NSE", "A", 2, 7).map((e) => e.seq), [3, 5]);
  assert.deepEqual(r.allBetween(5, 8).map((e) => e.seq).sort(), [6, 7]);
  assert.deepEqual(r.allBetween(8, 100), []);
});
