// The client's send path with a fake socket: exact frame and tick counts through every path
// (direct, queued and drained, batched), so the dashboard and /metrics figures are right.

import assert from "node:assert/strict";
import { type ClientSocket, type SendScheduler, WsClient } from "./client.ts";
import { TickFrames } from "./frames.ts";
import type { Tick } from "../types.ts";

class FakeSocket implements ClientSocket {
  bufferedAmount = 0;
  open = true;
  readonly sent: string[] = [];
  readonly pings: string[] = [];
  send(data: string): void {
    this.sent.push(data);
  }
  ping(payload: string): void {
    this.pings.push(payload);
  }
  close(): void {
    this.open = false;
  }
  terminate(): void {
    this.open = false;
  }
}

function scheduler(): SendScheduler & { due: Set<WsClient> } {
  const due = new Set<WsClient>();
  return {
    totals: { framesOut: 0, ticksOut: 0 },
    stallMs: 0,
    due,
    queued: (c) => due.add(c),
    batchPending: () => {},
    corked: () => {},
  };
}

function tick(symbol: string, ltp: number): Tick {
  return {
    exchange: "NSE",
    symbol,
    mode: 1,
    ltp,
    ltt: null,
    timestamp: 0,
    open: null,
    high: null,
    low: null,
    close: null,
    volume: null,
    last_trade_quantity: null,
    avg_trade_price: null,
    total_buy_quantity: null,
    total_sell_quantity: null,
    oi: null,
    change: null,
    change_percent: null,
    depth: null,
  };
}

const limits = {
  sendHighWaterBytes: 1000,
  slowConsumerMs: 10_000,
  batchIntervalMs: 5,
  maxStalenessMs: 250,
};

Deno.test("drain: three queued frames count as three frames and three ticks (issue 10, bug 1)", () => {
  const socket = new FakeSocket();
  const s = scheduler();
  const c = new WsClient("c1", "127.0.0.1", socket, limits, s, 10);
  socket.bufferedAmount = 5000; // over the high-water mark: deliveries queue
  for (const sym of ["A", "B", "C"]) {
    const t = tick(sym, 1);
    c.deliver(t, 1, new TickFrames(t, '"paper"'));
  }
  assert.equal(socket.sent.length, 0);
  assert.equal(c.queued, 3);
  assert.ok(s.due.has(c));
  socket.bufferedAmount = 0;
  assert.equal(c.flush(Date.now()), true);
  assert.equal(socket.sent.length, 3);
  assert.deepEqual(s.totals, { framesOut: 3, ticksOut: 3 });
  assert.equal(c.counters.framesSent, 3);
  assert.equal(c.counters.ticksSent, 3);
});

Deno.test("a pass's frames are corked once and released by one uncork", () => {
  const socket = new FakeSocket();
  const calls: string[] = [];
  const corking = Object.assign(socket, {
    cork: () => void calls.push("cork"),
    uncork: () => void calls.push("uncork"),
  });
  const s = scheduler();
  const corked: WsClient[] = [];
  s.corked = (c) => void corked.push(c);
  const c = new WsClient("c1", "127.0.0.1", corking, limits, s, 10);
  for (const sym of ["A", "B", "C"]) {
    const t = tick(sym, 1);
    c.deliver(t, 1, new TickFrames(t, '"paper"'));
  }
  assert.deepEqual(calls, ["cork"]);
  assert.deepEqual(corked, [c]);
  assert.equal(socket.sent.length, 3);
  c.uncork();
  c.uncork();
  assert.deepEqual(calls, ["cork", "uncork"]);
});
