// Tests for the pure safety-gate parts: feed assessment from connection states and data flow,
// and the gate's transitions, events and counters.

import assert from "node:assert/strict";
import type { ConnectionStatus } from "../feed_state.ts";
import type { FeedState } from "../types.ts";
import {
  assessFeed,
  CONNECTION_LOST_REASON,
  connectionLost,
  SafetyGate,
  STALE_REASON,
} from "./gate.ts";
import type { GateEvent } from "./types.ts";

function conn(state: FeedState, symbols = 1, index = 0): ConnectionStatus {
  return {
    index,
    state,
    symbols,
    capacity: 10,
    restarts: 0,
    reconnects: 0,
    lastTickAt: null,
    ticks: 0,
  };
}

Deno.test("connectionLost: any state but connected, except an empty connecting connection", () => {
  assert.equal(connectionLost([]), false);
  assert.equal(connectionLost([conn("connected")]), false);
  for (const s of ["stalled", "reconnecting", "auth_failed", "disconnected"] as const) {
    assert.equal(connectionLost([conn("connected"), conn(s, 0, 1)]), true, s);
  }
  assert.equal(connectionLost([conn("connected"), conn("connecting", 0, 1)]), false);
  assert.equal(connectionLost([conn("connecting", 3)]), true);
});

Deno.test("assessFeed: stale after the threshold, connection loss first, nothing without subscriptions", () => {
  const base = {
    connections: [conn("connected")],
    hasSubscriptions: true,
    now: 100_000,
    lastDataAt: 70_000,
    lastIdleAt: 0,
    staleAfterMs: 30_000,
  };
  assert.equal(assessFeed(base), "ok");
  assert.equal(assessFeed({ ...base, now: 100_001 }), "stale");
  assert.equal(assessFeed({ ...base, now: 100_001, hasSubscriptions: false }), "ok");
  assert.equal(assessFeed({ ...base, connections: [conn("reconnecting")] }), "connection_lost");
  // Silence is measured from when subscriptions began if that is later than the last data.
  assert.equal(assessFeed({ ...base, now: 200_000, lastIdleAt: 190_000 }), "ok");
  assert.equal(assessFeed({ ...base, lastDataAt: null, lastIdleAt: null }), "ok");
});

Deno.test("SafetyGate: pause, reason switch, release — with events and counters", () => {
  const g = new SafetyGate();
  const events: GateEvent[] = [];
  const off = g.onChange((e) => events.push(e));
  g.onChange(() => {
    throw new Error("listener failure must not break the gate");
  });
  assert.deepEqual(g.safety(), { safe: true, reason: "" });
  assert.equal(g.release("recovered", 1), false);
  assert.equal(g.pause("stale", 10), true);
  assert.equal(g.pause("stale", 11), false);
  assert.deepEqual(g.safety(), { safe: false, reason: STALE_REASON });
  assert.equal(g.pause("connection_lost", 12), true);
  assert.deepEqual(g.safety(), { safe: false, reason: CONNECTION_LOST_REASON });
  assert.equal(g.pausedSince, 10);
  assert.equal(g.release("recovered", 40), true);
  assert.deepEqual(g.counters, { pauses: 1, staleEvents: 1, connectionPauses: 1, releases: 1 });
  assert.deepEqual(events.map((e) => [e.safe, e.cause]), [
    [false, "stale"],
    [false, "connection_lost"],
    [true, "recovered"],
  ]);
  assert.equal(events[2].pausedForMs, 30);
  off();
  g.pause("stale", 50);
  assert.equal(events.length, 3);
});
