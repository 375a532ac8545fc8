import assert from "node:assert/strict";
import { RateCap, ReplayClock } from "./clock.ts";

Deno.test("replay clock: real time, N×, max, gap cutting and pauses", () => {
  const real = new ReplayClock(1, 5000);
  real.start(100);
  real.advance(1_000_000);
  assert.equal(real.due(), 100);
  real.advance(1_000_250);
  assert.equal(real.due(), 350);
  real.advance(1_000_200); // older than seen: due at once, time does not run backwards
  assert.equal(real.due(), 350);
  real.advance(1_060_250); // a minute of silence is cut to 5 s
  assert.equal(real.due(), 5350);
  assert.equal(real.skipped, 55_000);

  const fast = new ReplayClock(10, 5000);
  fast.start(0);
  fast.advance(0);
  fast.advance(1000);
  assert.equal(fast.due(), 100);

  const max = new ReplayClock("max", 5000);
  max.start(42);
  max.advance(0);
  max.advance(99_999);
  assert.equal(max.due(), 42);

  const paused = new ReplayClock(1, 5000);
  paused.start(0);
  paused.advance(0);
  paused.pause(10);
  assert.ok(paused.paused);
  paused.resume(510);
  paused.advance(100);
  assert.equal(paused.due(), 600);
});

Deno.test("rate cap: spaces emissions and bounds the burst after a quiet stretch", () => {
  const cap = new RateCap(1000, 50);
  cap.start(0);
  cap.count(100, 0);
  assert.equal(cap.nextAt(), 50); // 100 ticks at 1000/s end at 100 ms, minus the 50 ms burst
  cap.count(1, 10_000); // after a long pause only the burst is allowed at once
  assert.equal(cap.nextAt(), 10_000 + 1 - 50);
});
