// The whole data path with the real paper adapter worker: worker → pool → WebSocket clients and the
// bus; a killed worker is restarted and resubscribed while clients keep their subscriptions.

import assert from "node:assert/strict";
import { startGateway, TestClient, until } from "./helpers/gateway.ts";
import { BusReader } from "../lib/bus/reader.ts";

Deno.test("paper feed: ticks reach clients and the bus; a killed worker restarts and resubscribes", async () => {
  const gw = await startGateway({
    broker: { name: "paper", options: { ticksPerSecond: 20, intervalMs: 20, seed: 7 } },
  });
  const reader = BusReader.connect({ address: gw.bus.endpoint, topics: ["NSE_RELIANCE_"] });
  try {
    const a = await TestClient.connect(gw), b = await TestClient.connect(gw);
    await a.auth();
    await b.auth();
    await a.request({
      action: "subscribe",
      symbols: [{ symbol: "RELIANCE", exchange: "NSE" }, {
        symbol: "NIFTY",
        exchange: "NSE_INDEX",
      }],
      mode: 2,
    }, "subscribe");
    await b.request(
      { action: "subscribe", symbol: "RELIANCE", exchange: "NSE", mode: 3 },
      "subscribe",
    );
    assert.deepEqual(gw.pool.streams().map((s) => `${s.exchange}:${s.symbol}:${s.mode}`).sort(), [
      "NSE:RELIANCE:3",
      "NSE_INDEX:NIFTY:2",
    ]);
    const q = await a.waitFor((f) => f.type === "market_data" && f.symbol === "RELIANCE");
    assert.equal(q.mode, 2);
    assert.ok(!("depth" in (q.data as object)), "a Quote client gets the Quote payload, not Depth");
    const d = await b.waitFor((f) => f.type === "market_data");
    const depth =
      (d.data as { depth: { buy: { price: number }[]; sell: { price: number }[] } }).depth;
    assert.equal(depth.buy.length, 5);
    assert.ok(depth.buy[0].price < depth.sell[0].price, "best bid below best ask");

    // The bus carries the same ticks under each mode topic that has a consumer.
    const topics = new Set<string>();
    for await (const ev of reader) {
      if (ev.kind !== "tick") continue;
      topics.add(ev.topic);
      assert.equal(ev.envelope.v, 1);
      assert.equal(ev.envelope.broker, "paper");
      if (topics.has("NSE_RELIANCE_QUOTE") && topics.has("NSE_RELIANCE_DEPTH")) break;
    }
    assert.deepEqual([...topics].sort(), ["NSE_RELIANCE_DEPTH", "NSE_RELIANCE_QUOTE"]);

    // Kill the adapter worker: the pool restarts it and resubscribes; clients do nothing.
    assert.ok(gw.pool.testing.killWorker(0));
    assert.equal(gw.pool.status()[0].state, "disconnected");
    await until(
      () => gw.pool.status()[0].state === "connected" && gw.pool.streams().length === 2,
      10_000,
      "restart",
    );
    const mark = b.frames.length;
    await b.waitFor((f) => f.type === "market_data", 5000, mark);
    const markA = a.frames.length;
    await a.waitFor((f) => f.type === "market_data" && f.symbol === "NIFTY", 5000, markA);
    assert.equal(gw.pool.status()[0].restarts, 1);
    assert.equal((await a.request({ action: "get_subscriptions" }, "subscriptions")).count, 2);
    await a.close();
    await b.close();
    await until(() => gw.pool.streams().length === 0, 3000, "release after clients leave");
  } finally {
    reader.close();
    await gw.stop();
  }
});

Deno.test("paper feed: a worker that crashes on its own is restarted too", async () => {
  const gw = await startGateway({
    broker: { name: "paper", options: { ticksPerSecond: 20, intervalMs: 20 } },
  });
  try {
    const c = await TestClient.connect(gw);
    await c.auth();
    await c.request({ action: "subscribe", symbol: "TCS", exchange: "NSE", mode: 1 }, "subscribe");
    await c.waitFor((f) => f.type === "market_data");
    gw.pool.testing.injectFault(0, "crash");
    await until(() => gw.pool.status()[0].restarts === 1, 5000, "crash noticed");
    await until(() => gw.pool.status()[0].state === "connected", 5000, "restarted");
    const mark = c.frames.length;
    await c.waitFor((f) => f.type === "market_data", 5000, mark);
    await c.close();
  } finally {
    await gw.stop();
  }
});

Deno.test("paper feed: a blocked main isolate gets a bounded backlog, not every tick the worker made", async () => {
  // 20k ticks/s in 100-tick batches every 5 ms; the main isolate then stalls for 3 s.
  const gw = await startGateway({
    broker: { name: "paper", options: { totalRate: 20_000, intervalMs: 5, seed: 9 } },
  });
  try {
    const c = await TestClient.connect(gw);
    await c.auth();
    await c.request({
      action: "subscribe",
      symbols: ["RELIANCE", "TCS", "INFY", "SBIN", "ITC"].map((symbol) => ({
        symbol,
        exchange: "NSE",
      })),
      mode: 1,
    }, "subscribe");
    await c.waitFor((f) => f.type === "market_data");
    const before = gw.pool.counters.ticksIn;
    const blockedFor = 3000;
    const end = Date.now() + blockedFor;
    while (Date.now() < end) { /* the main isolate is stuck (a long GC, a heavy callback) */ }
    await new Promise((r) => setTimeout(r, 1000));
    const received = gw.pool.counters.ticksIn - before;
    // The worker made ~80k ticks in those 4 s; at most 256 unconsumed batches (~25.6k ticks) plus
    // the newest tick per instrument may queue up while main is stuck.
    assert.ok(received < 60_000, `received ${received} ticks: the backlog was not bounded`);
    const mark = c.frames.length;
    await c.waitFor((f) => f.type === "market_data", 5000, mark);
    await c.close();
  } finally {
    await gw.stop();
  }
});
