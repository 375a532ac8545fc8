// MarketDataService end to end on the real paper adapter worker: a CRITICAL subscriber takes a real
// broker subscription, the safety gate pauses when the worker is killed and releases when the
// restarted worker delivers again; the HTTP endpoints report the same.

import assert from "node:assert/strict";
import { startGateway, TestClient, until } from "./helpers/gateway.ts";
import type { GateEvent } from "../lib/market_data/mod.ts";

Deno.test("market data: CRITICAL watcher, worker killed → gate paused → restarted → released", async () => {
  const gw = await startGateway({
    broker: { name: "paper", options: { ticksPerSecond: 20, intervalMs: 20, seed: 3 } },
    marketData: { checkIntervalMs: 50, staleAfterMs: 2000 },
  });
  const events: GateEvent[] = [];
  const off = gw.marketData.onGateChange((e) => events.push(e));
  try {
    const seen: number[] = [];
    const handle = await gw.marketData.subscribe({
      priority: "CRITICAL",
      kind: "ltp",
      symbols: [{ exchange: "NSE", symbol: "RELIANCE" }],
      name: "stoploss",
      holdWhilePaused: true,
      callback: ({ data }) => {
        seen.push(data.ltp);
      },
    });
    // The service's subscription is a real one: the pool streams it.
    assert.deepEqual(gw.pool.streams().map((s) => `${s.exchange}:${s.symbol}`), ["NSE:RELIANCE"]);
    assert.deepEqual(gw.registry.list().map((r) => [r.symbol, r.consumers]), [["RELIANCE", 1]]);
    await until(() => seen.length >= 3, 5000, "ticks to the CRITICAL callback");
    assert.ok(seen.every((p) => p > 0));
    await until(() => gw.marketData.isTradeManagementSafe().safe, 5000, "gate safe");
    const ltp = gw.marketData.getLtp("NSE", "RELIANCE");
    assert.ok(ltp && ltp.data.ltp > 0);

    const base = `http://127.0.0.1:${gw.proxy.addr.port}`;
    assert.equal((await (await fetch(`${base}/api/v1/trade-safe`)).json()).safe, true);

    gw.pool.testing.killWorker(0);
    await until(() => !gw.marketData.isTradeManagementSafe().safe, 3000, "gate paused");
    assert.equal(
      gw.marketData.isTradeManagementSafe().reason,
      "Connection lost - trade management paused for safety",
    );
    const paused = await (await fetch(`${base}/api/v1/trade-safe`)).json();
    assert.equal(paused.safe, false);
    const heldAt = seen.length;
    await until(() => gw.marketData.isTradeManagementSafe().safe, 10_000, "gate released");
    assert.ok(events.some((e) => !e.safe) && events.at(-1)!.safe, JSON.stringify(events));
    await until(() => seen.length > heldAt, 5000, "CRITICAL callback resumes");
    const health = await (await fetch(`${base}/api/v1/health`)).json();
    assert.ok(JSON.stringify(health).includes("connected"));
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /tickplex_mds_/);

    // A WebSocket client on the same key shares the subscription; unsubscribe releases only ours.
    const c = await TestClient.connect(gw);
    await c.auth();
    await c.request(
      { action: "subscribe", symbol: "RELIANCE", exchange: "NSE", mode: 1 },
      "subscribe",
    );
    assert.deepEqual(gw.registry.list().map((r) => r.consumers), [2]);
    await handle.unsubscribe();
    assert.deepEqual(gw.registry.list().map((r) => r.consumers), [1]);
    await c.close();
    await until(() => gw.pool.streams().length === 0, 3000, "released upstream");
  } finally {
    off();
    await gw.stop();
  }
});

Deno.test("market data: silence with subscriptions pauses as stale; the next tick releases", async () => {
  const gw = await startGateway({
    broker: {
      name: "paper",
      options: { ticksPerSecond: 20, intervalMs: 20, stallAfterMs: 60_000 },
    },
    marketData: { checkIntervalMs: 50, staleAfterMs: 400 },
  });
  try {
    await gw.marketData.subscribe({
      priority: "HIGH",
      kind: "quote",
      symbols: [{ exchange: "NSE", symbol: "TCS" }],
      name: "alerts",
      callback: () => {},
    });
    await until(() => gw.marketData.isTradeManagementSafe().safe, 5000, "safe");
    gw.pool.testing.injectFault(0, "stall");
    await until(() => !gw.marketData.isTradeManagementSafe().safe, 3000, "stale pause");
    assert.equal(
      gw.marketData.isTradeManagementSafe().reason,
      "Data is stale - trade management paused for safety",
    );
    gw.pool.testing.injectFault(0, "resume");
    await until(() => gw.marketData.isTradeManagementSafe().safe, 3000, "released by a fresh tick");
  } finally {
    await gw.stop();
  }
});
