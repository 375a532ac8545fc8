import assert from "node:assert/strict";
import { ThroughputHistory } from "./throughput.ts";

Deno.test("throughput: the first observation is a baseline, then one sample per interval", () => {
  const h = new ThroughputHistory({ intervalMs: 1000, windowMs: 5000 });
  h.observe(0, { ticksIn: 100, framesOut: 10 });
  assert.deepEqual(h.samples(), []);
  h.observe(400, { ticksIn: 300, framesOut: 11 });
  assert.deepEqual(h.samples(), [], "no sample before an interval has passed");
  h.observe(1000, { ticksIn: 600, framesOut: 30 });
  assert.deepEqual(h.samples(), [{ t: 1000, ticks_in: 500, frames_out: 20 }]);
});

Deno.test("throughput: a gap carries the average rate over the gap", () => {
  const h = new ThroughputHistory({ intervalMs: 1000, windowMs: 60_000 });
  h.observe(0, { ticksIn: 0, framesOut: 0 });
  h.observe(4000, { ticksIn: 1000, framesOut: 3 });
  assert.deepEqual(h.samples(), [{ t: 4000, ticks_in: 250, frames_out: 0.8 }]);
});

Deno.test("throughput: old samples leave the window; resets and clock jumps never go negative", () => {
  const h = new ThroughputHistory({ intervalMs: 1000, windowMs: 3000 });
  let ticks = 0;
  for (let t = 0; t <= 10_000; t += 1000) h.observe(t, { ticksIn: ticks += 10, framesOut: 0 });
  assert.deepEqual(h.samples().map((s) => s.t), [7000, 8000, 9000, 10_000]);
  h.observe(11_000, { ticksIn: 0, framesOut: 0 });
  assert.equal(h.samples().at(-1)?.ticks_in, 0);
  h.observe(5_000, { ticksIn: 5, framesOut: 0 }); // clock went backwards: new baseline
  h.observe(6_000, { ticksIn: 25, framesOut: 0 });
  assert.equal(h.samples().at(-1)?.ticks_in, 20);
  assert.throws(() => new ThroughputHistory({ intervalMs: 0 }), RangeError);
});
