// The subscription budget end to end on :8765 with the paper broker: named keys with classes, the
// trading reserve, LRU pre-emption announced to every client of the evicted key, per-key quotas,
// and the figures of /api/v1/budget, /metrics, get_broker_info and /api/v1/status.

import assert from "node:assert/strict";
import { startGateway, TestClient } from "./helpers/gateway.ts";

const ALGO = "algo-key-0123456789abcdef";
const WALL = "wall-key-0123456789abcdef";
const SCAN = "scan-key-0123456789abcdef";

async function budgetGateway() {
  return await startGateway({
    // 3 streaming slots: 1 reserved for trading.
    broker: { name: "paper", maxConnections: 1, maxSymbolsPerConnection: 3 },
    apiKeys: [
      { name: "algo", key: ALGO, class: "trading" },
      { name: "wall", key: WALL, class: "display" },
      { name: "scanner", key: SCAN, class: "monitoring", quota: 1 },
    ],
    budget: { reserveTrading: 1, preemptDisplay: true },
  });
}

async function subscribe(c: TestClient, symbol: string, mode = 1) {
  const r = await c.request({ action: "subscribe", symbol, exchange: "NSE", mode }, "subscribe");
  return (r.subscriptions as Record<string, unknown>[])[0];
}

async function getJson(port: number, path: string, key: string) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  return { status: res.status, body: await res.json() };
}

Deno.test("budget over :8765: reserve, LRU pre-emption with subscription_revoked, quotas, figures", async () => {
  const gw = await budgetGateway();
  const port = gw.proxy.addr.port;
  const [w1, w2, algo, scan] = await Promise.all([
    TestClient.connect(gw),
    TestClient.connect(gw),
    TestClient.connect(gw),
    TestClient.connect(gw),
  ]);
  try {
    await Promise.all([w1.auth(WALL), w2.auth(WALL), algo.auth(ALGO), scan.auth(SCAN)]);

    // Display fills the unreserved part: RELIANCE (two clients), TCS; INFY is refused.
    assert.equal((await subscribe(w1, "RELIANCE")).status, "success");
    assert.equal((await subscribe(w2, "RELIANCE", 2)).status, "success");
    assert.equal((await subscribe(w1, "TCS")).status, "success"); // TCS now used after RELIANCE
    const refused = await subscribe(w2, "INFY");
    assert.equal(refused.code, "MAX_CAPACITY_REACHED");
    assert.match(String(refused.message), /1 of 3 streaming slots are reserved for trading/);
    // Monitoring is not trading either: the reserve is not for it.
    assert.equal((await subscribe(scan, "SBIN")).code, "MAX_CAPACITY_REACHED");

    // Trading takes the reserve, then pre-empts the LRU display key (RELIANCE).
    assert.equal((await subscribe(algo, "INFY")).status, "success");
    const w1Before = w1.frames.length, w2Before = w2.frames.length;
    assert.equal((await subscribe(algo, "SBIN")).status, "success");
    const revoked1 = await w1.waitFor((f) => f.type === "subscription_revoked", 5000, w1Before);
    const revoked2 = await w2.waitFor((f) => f.type === "subscription_revoked", 5000, w2Before);
    assert.deepEqual(
      { ...revoked1, message: undefined },
      {
        type: "subscription_revoked",
        symbol: "RELIANCE",
        exchange: "NSE",
        mode: "LTP",
        reason: "preempted",
        message: undefined,
      },
    );
    assert.equal(revoked2.mode, "Quote");
    assert.match(String(revoked1.message), /budget\.preemptDisplay/);
    assert.equal(
      w1.frames.slice(w1Before).filter((f) => f.type === "subscription_revoked").length,
      1,
      "only the LRU key was evicted",
    );
    const subs = await w1.request({ action: "get_subscriptions" }, "subscriptions");
    assert.deepEqual((subs.subscriptions as { symbol: string }[]).map((s) => s.symbol), ["TCS"]);
    assert.deepEqual(gw.registry.list().map((k) => k.symbol).sort(), ["INFY", "SBIN", "TCS"]);

    // The quota of the scanner key: one instrument, shared or not.
    assert.equal((await subscribe(scan, "TCS")).status, "success"); // streamed: costs no slot
    const quota = await subscribe(scan, "INFY");
    assert.equal(quota.code, "MAX_CAPACITY_REACHED");
    assert.match(String(quota.message), /Quota reached for API key 'scanner' \(monitoring\)/);

    // The figures: /api/v1/budget equals the registry's counts.
    const { status, body } = await getJson(port, "/api/v1/budget", WALL);
    assert.equal(status, 200);
    assert.equal(body.capacity, 3);
    assert.equal(body.reserved, 1);
    assert.equal(body.used, gw.registry.instrumentCount);
    assert.equal(body.used, gw.pool.symbolCount);
    assert.deepEqual(
      Object.fromEntries(
        Object.entries(body.classes).map(([c, v]) => [c, (v as { slots: number }).slots]),
      ),
      { trading: 2, monitoring: 1, display: 0, capture: 0 },
      "TCS is charged to monitoring, the highest class holding it",
    );
    assert.equal(body.preempted_total, 1);
    assert.deepEqual(body.poll, { keys: 0, requests_per_second: 0, interval_ms: 1000 });
    const byName = Object.fromEntries(
      (body.keys as { name: string; held: number; quota: number | null }[]).map((k) => [k.name, k]),
    );
    assert.deepEqual(
      [byName.algo.held, byName.wall.held, byName.scanner.held, byName.scanner.quota],
      [2, 1, 1, 1],
    );
    assert.ok(!JSON.stringify(body).includes(WALL), "never the key itself");
    assert.equal((await getJson(port, "/api/v1/budget", "wrong-key-0123456789")).status, 401);

    // The same figures in /metrics.
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, /^tickplex_budget_capacity_slots 3$/m);
    assert.match(metrics, /^tickplex_budget_used_slots\{class="trading"\} 2$/m);
    assert.match(metrics, /^tickplex_budget_used_slots\{class="monitoring"\} 1$/m);
    assert.match(metrics, /^tickplex_budget_preempted_total 1$/m);
    assert.match(metrics, /^tickplex_budget_key_held\{key="algo",class="trading"\} 2$/m);

    // get_broker_info and /api/v1/status say which key holds what.
    const info = await w1.request({ action: "get_broker_info" }, "broker_info");
    assert.deepEqual(info.api_key, { name: "wall", class: "display", quota: null, held: 1 });
    assert.equal((info.budget as { used: number }).used, 3);
    const st = await getJson(port, "/api/v1/status", ALGO);
    const tcs = (st.body.subscriptions as { symbol: string; class: string; holders: string[] }[])
      .find((s) => s.symbol === "TCS");
    assert.deepEqual([tcs?.class, tcs?.holders], ["monitoring", ["scanner", "wall"]]);
    assert.equal(st.body.budget.used, 3);
  } finally {
    await Promise.all([w1.close(), w2.close(), algo.close(), scan.close()]);
    await gw.stop();
  }
});

Deno.test("an in-process display subscriber is told when its instrument is pre-empted", async () => {
  const gw = await budgetGateway();
  const algo = await TestClient.connect(gw);
  try {
    await algo.auth(ALGO);
    const revoked: { symbol: string; reason: string }[] = [];
    const screen = await gw.marketData.subscribe({
      name: "screen",
      priority: "LOW",
      kind: "ltp",
      symbols: [{ exchange: "NSE", symbol: "RELIANCE" }, { exchange: "NSE", symbol: "TCS" }],
      consumerClass: "display",
      callback: () => {},
      onRevoked: (r) => revoked.push({ symbol: r.symbol, reason: r.reason }),
    });
    // Its class is display: the third slot is the trading reserve.
    await assert.rejects(
      gw.marketData.subscribe({
        name: "screen-2",
        priority: "LOW",
        kind: "ltp",
        symbols: [{ exchange: "NSE", symbol: "INFY" }],
        consumerClass: "display",
        callback: () => {},
      }),
      /reserved for trading/,
    );
    assert.equal((await subscribe(algo, "INFY")).status, "success");
    assert.equal((await subscribe(algo, "SBIN")).status, "success");
    assert.deepEqual(revoked, [{ symbol: "RELIANCE", reason: "preempted" }]);
    assert.equal(gw.budget.report().keys.find((k) => k.name === "service:screen")?.held, 1);
    await screen.unsubscribe(); // RELIANCE is no longer held: nothing to release, no error
    assert.deepEqual(gw.registry.list().map((k) => k.symbol).sort(), ["INFY", "SBIN"]);
  } finally {
    await algo.close();
    await gw.stop();
  }
});
