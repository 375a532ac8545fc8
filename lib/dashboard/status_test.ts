import assert from "node:assert/strict";
import type { ConnectionStatus } from "../feed_state.ts";
import type { HealthReport } from "../market_data/mod.ts";
import type { SubscriptionRow } from "../subscriptions/mod.ts";
import { MAX_EVENTS, StatusCollector, type StatusSources } from "./status.ts";

function fakeSources(now: () => number) {
  const conns: ConnectionStatus[] = [{
    index: 0,
    state: "connected",
    symbols: 2,
    capacity: 1000,
    restarts: 1,
    reconnects: 0,
    lastTickAt: 900,
    ticks: 40,
  }];
  const rows: SubscriptionRow[] = [
    { exchange: "NSE", symbol: "TCS", mode: 2, depth: 5, consumers: 1 },
    { exchange: "NSE", symbol: "RELIANCE", mode: 3, depth: 5, consumers: 2 },
    { exchange: "NSE", symbol: "RELIANCE", mode: 1, depth: 5, consumers: 1 },
  ];
  const counters = { ticksIn: 0 };
  const totals = { framesOut: 0, ticksOut: 0 };
  const health = (): HealthReport => ({
    status: "paused",
    safe: false,
    reason: "Connection lost - trade management paused for safety",
    feed_state: conns[0].state,
    connections: conns.map((c) => ({
      index: c.index,
      state: c.state,
      symbols: c.symbols,
      capacity: c.capacity,
      restarts: c.restarts,
      reconnects: c.reconnects,
      last_tick_at: c.lastTickAt,
      last_tick_age_ms: c.lastTickAt === null ? null : now() - c.lastTickAt,
      ticks: c.ticks,
      detail: c.detail ?? null,
    })),
    data_fresh: true,
    last_tick_at: 900,
    last_tick_age_ms: now() - 900,
    paused_since: 950,
    counters: { pauses: 3 },
  } as unknown as HealthReport);
  const sources: StatusSources = {
    broker: "paper",
    userId: "local",
    pool: {
      status: () => conns,
      streams: () => [{ exchange: "NSE", symbol: "RELIANCE", connection: 1 }],
      counters,
    },
    registry: { list: () => rows },
    proxy: { clientCount: 3, totals },
    marketData: { health },
  };
  return { sources, conns, counters, totals };
}

Deno.test("status: the document joins pool, gate, registry, clients and throughput", () => {
  let t = 1000;
  const { sources, counters, totals } = fakeSources(() => t);
  const c = new StatusCollector(sources, { clock: () => t });
  c.sample();
  counters.ticksIn = 250;
  totals.framesOut = 40;
  totals.ticksOut = 90;
  t = 2000;
  const s = c.snapshot();
  assert.equal(s.broker, "paper");
  assert.equal(s.server_time, 2000);
  assert.equal(s.clients, 3);
  assert.deepEqual(s.connections[0], {
    index: 0,
    state: "connected",
    symbols: 2,
    capacity: 1000,
    restarts: 1,
    reconnects: 0,
    last_tick_at: 900,
    last_tick_age_ms: 1100,
    ticks: 40,
    detail: null,
  });
  assert.deepEqual(s.gate, {
    safe: false,
    reason: "Connection lost - trade management paused for safety",
    data_fresh: true,
    paused_since: 950,
    pauses: 3,
  });
  assert.deepEqual(
    s.subscriptions.map((r) => [r.symbol, r.mode, r.consumers, r.connection]),
    [["RELIANCE", 1, 1, 1], ["RELIANCE", 3, 2, 1], ["TCS", 2, 1, null]],
    "sorted by exchange, symbol, mode; the streaming connection joined in",
  );
  assert.deepEqual(s.throughput, {
    interval_ms: 1000,
    window_ms: 300_000,
    samples: [{ t: 2000, ticks_in: 250, frames_out: 40 }],
  });
  assert.deepEqual(s.totals, { ticks_in: 250, frames_out: 40, ticks_out: 90 });
});

Deno.test("status: gate and connection transitions are logged, newest last, bounded", () => {
  const t = 5000;
  const { sources, conns } = fakeSources(() => t);
  const c = new StatusCollector(sources, { clock: () => t });
  conns[0].detail = "worker terminated by request";
  c.connectionChanged(0, "disconnected");
  c.gateChanged({
    safe: false,
    reason: "Connection lost - trade management paused for safety",
    cause: "connection_lost",
    at: 5001,
  });
  c.gateChanged({ safe: true, reason: "", cause: "recovered", at: 5400, pausedForMs: 399 });
  c.gateChanged({ safe: true, reason: "", cause: "no_subscriptions", at: 5500 });
  assert.deepEqual(c.events(), [
    {
      at: 5000,
      kind: "connection",
      level: "error",
      text: "Connection 1: disconnected (worker terminated by request)",
    },
    {
      at: 5001,
      kind: "gate",
      level: "error",
      text: "Paused: Connection lost - trade management paused for safety",
    },
    { at: 5400, kind: "gate", level: "ok", text: "Safe again after 0.4 s" },
    { at: 5500, kind: "gate", level: "ok", text: "Safe: nothing subscribed" },
  ]);
  for (let i = 0; i < MAX_EVENTS + 10; i++) c.connectionChanged(0, "connected");
  assert.equal(c.events().length, MAX_EVENTS);
  assert.equal(c.events().at(-1)?.text, "Connection 1: connected");
});
