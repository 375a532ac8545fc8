// The lag meter as a pure state machine: modes, rounds, slow-consumer verdicts, with given times.

import assert from "node:assert/strict";
import { LagMeter } from "./lag.ts";

const limits = { maxStalenessMs: 250, slowConsumerMs: 2000 };

/** Writes, probes at `at`, and answers the probe at `at + rtt`. */
function round(m: LagMeter, at: number, rtt: number): void {
  m.wrote();
  const id = m.probe(at);
  assert.equal(m.pong(String(id), at + rtt), true);
}

Deno.test("flow: probes follow data at most every probe interval", () => {
  const m = new LagMeter(limits);
  assert.equal(m.probeIntervalMs, 50);
  assert.equal(m.probeDue(0), false, "no data, no probe");
  m.wrote();
  assert.equal(m.probeDue(0), true);
  m.probe(0);
  m.wrote();
  assert.equal(m.probeDue(49), false);
  assert.equal(m.probeDue(50), true);
});

Deno.test("a fast client stays in flow; one whose probe is older than half the bound is conflated", () => {
  const m = new LagMeter(limits);
  for (let t = 0; t < 1000; t += 50) round(m, t, 2);
  assert.equal(m.check(1000), "flow");
  m.wrote();
  m.probe(1000);
  assert.equal(m.check(1100), "flow");
  assert.equal(m.check(1130), "conflate");
  assert.equal(m.conflations, 1);
});

Deno.test("an answer that took over half the bound conflates at once", () => {
  const m = new LagMeter(limits);
  round(m, 0, 2);
  round(m, 100, 140);
  assert.equal(m.mode, "conflate");
});

Deno.test("conflate: one probe per round; clean rounds restore flow, rounds with replacements do not", () => {
  const m = new LagMeter(limits);
  round(m, 0, 2);
  round(m, 100, 200);
  assert.equal(m.mode, "conflate");
  m.wrote();
  assert.equal(m.probeDue(300), true, "every round ends with a probe");
  // The client reads half of what it is offered: every round sees a replaced key.
  for (let t = 300; t < 1000; t += 20) {
    m.replaced();
    round(m, t, 20);
  }
  assert.equal(m.check(1000), "conflate");
  // It catches up: clean, quick rounds for two bounds give it full flow again; a burst of
  // quick rounds shorter than that does not.
  for (let t = 1000; t < 1400; t += 10) round(m, t, 5);
  assert.equal(m.mode, "conflate", "a 400 ms burst is not enough");
  m.replaced();
  round(m, 1400, 5);
  for (let t = 1410; t < 1900; t += 10) round(m, t, 5);
  assert.equal(m.mode, "conflate");
  round(m, 1910, 5);
  assert.equal(m.mode, "flow");
});

Deno.test("slow: behind the bound for slowConsumerMs, whether silent or answering late every round", () => {
  const silent = new LagMeter(limits);
  silent.wrote();
  silent.probe(0);
  assert.equal(silent.check(2000), "conflate");
  assert.equal(silent.check(2249), "conflate");
  assert.equal(silent.check(2250), "slow");

  // Quick answers first (the network's share is small), then every round answered late.
  const late = new LagMeter(limits);
  round(late, 0, 2);
  late.wrote();
  let t = 100;
  for (; t < 3000; t += 400) {
    round(late, t, 400);
    late.wrote();
    late.probe(t + 400);
    if (late.check(t + 400) === "slow") break;
  }
  assert.ok(t >= 1800 && t < 3000, `slow after ${t} ms of late rounds`);

  // One answer within the bound clears the verdict.
  const recovers = new LagMeter(limits);
  recovers.wrote();
  recovers.probe(0);
  assert.equal(recovers.check(1500), "conflate");
  recovers.wrote();
  const id = recovers.probe(1500);
  recovers.pong(String(id), 1510);
  assert.notEqual(recovers.check(2500), "slow");
});

Deno.test("nothing in the pipe is never slow, however late the last answer was", () => {
  const m = new LagMeter(limits);
  round(m, 0, 1000);
  assert.equal(m.check(5000), "conflate");
});

Deno.test("the network's share of the round trip is not counted as staleness", () => {
  const m = new LagMeter(limits);
  // 150 ms round trips on a long link: 75 ms of staleness, well within the bound.
  for (let t = 0; t < 2000; t += 200) round(m, t, 150);
  assert.equal(m.mode, "flow");
  assert.equal(m.lastRoundTripMs, 150);
});

Deno.test("unsolicited or garbage pongs are ignored", () => {
  const m = new LagMeter(limits);
  m.wrote();
  const id = m.probe(0);
  assert.equal(m.pong("", 5), false);
  assert.equal(m.pong("hello", 5), false);
  assert.equal(m.pong(String(id + 1), 5), false);
  assert.equal(m.lag(10), 10);
  assert.equal(m.pong(String(id), 10), true);
  assert.equal(m.lag(11), 0);
});

Deno.test("the gateway's own stalls are not held against the client", () => {
  // A probe goes out at 0; the gateway then stands still for 5 s (stall clock 0 → 5000).
  const m = new LagMeter(limits);
  round(m, 0, 2);
  m.wrote();
  const id = m.probe(100, 0);
  assert.equal(m.lag(5200, 5000), 100);
  // The backlog is stale all the same: conflated, but not a slow consumer.
  assert.equal(m.check(5200, 5000), "conflate");
  assert.equal(m.check(5400, 5000), "conflate");
  // The answer that was waiting behind the stall does not count against the client.
  assert.equal(m.pong(String(id), 5210, 5000), true);
  assert.equal(m.lastRoundTripMs, 5110);
  // A client that really is silent is still found out, on the time the gateway was running.
  m.wrote();
  m.probe(6000, 5000);
  assert.equal(m.check(8000, 5000), "conflate");
  assert.equal(m.check(8000, 6000), "conflate", "1 s of it was the gateway's stall");
  assert.equal(m.check(9300, 6000), "slow");
});
