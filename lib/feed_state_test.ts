// Tests for the one feed-state ranking and the JSON form of a connection's status.

import assert from "node:assert/strict";
import { connectionReport, FEED_STATES, type FeedState, overallState } from "./feed_state.ts";

const at = (s: FeedState): number => FEED_STATES.indexOf(s);

Deno.test("overallState: the worse of every pair, by FEED_STATES order, whatever the order given", () => {
  for (const a of FEED_STATES) {
    for (const b of FEED_STATES) {
      const worst = at(a) <= at(b) ? a : b;
      assert.equal(overallState([{ state: a }, { state: b }]), worst, `${a}, ${b}`);
      assert.equal(overallState([{ state: b }, { state: a }]), worst, `${b}, ${a}`);
    }
  }
});

Deno.test("overallState: connected only when all are; disconnected without connections", () => {
  assert.equal(overallState([]), "disconnected");
  assert.equal(overallState([{ state: "connected" }, { state: "connected" }]), "connected");
  assert.equal(overallState([{ state: "connected" }, { state: "connecting" }]), "connecting");
  assert.equal(overallState([{ state: "stalled" }, { state: "reconnecting" }]), "stalled");
  assert.equal(overallState([{ state: "auth_failed" }, { state: "failed" }]), "failed");
});

Deno.test("FEED_STATES lists every state once, failed worst and connected best", () => {
  assert.equal(new Set(FEED_STATES).size, FEED_STATES.length);
  assert.equal(FEED_STATES[0], "failed");
  assert.equal(FEED_STATES.at(-1), "connected");
});

Deno.test("connectionReport: ages from now, never negative; detail null when absent", () => {
  const base = {
    index: 2,
    state: "stalled" as const,
    symbols: 5,
    capacity: 10,
    restarts: 1,
    reconnects: 3,
    lastTickAt: 2_000,
    ticks: 9,
  };
  assert.deepEqual(connectionReport({ ...base, detail: "no data for 30 s" }, 2_500), {
    index: 2,
    state: "stalled",
    symbols: 5,
    capacity: 10,
    restarts: 1,
    reconnects: 3,
    last_tick_at: 2_000,
    last_tick_age_ms: 500,
    ticks: 9,
    detail: "no data for 30 s",
  });
  assert.equal(connectionReport(base, 1_000).last_tick_age_ms, 0);
  assert.equal(connectionReport({ ...base, lastTickAt: null }, 1_000).last_tick_age_ms, null);
  assert.equal(connectionReport(base, 1_000).detail, null);
});
