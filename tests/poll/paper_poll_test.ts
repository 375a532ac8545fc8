// The paper market's simulated REST quote API: quotes from its market state through the pool
// (no stream opened), its simulated rate limit, and poll-routed clients of a paper gateway.

import assert from "node:assert/strict";
import { paperAdapter } from "../../adapters/paper/mod.ts";
import { ConnectionPool, workerLinkFactory } from "../../lib/pool/mod.ts";
import { startGateway, TEST_KEY, TestClient, until } from "../helpers/gateway.ts";

Deno.test("paper quote API: ticks from the market state, batch size and rate limit enforced", async () => {
  const options = { seed: 3, quoteRequestsPerSecond: 2, quoteBatchSize: 3 };
  const caps = paperAdapter.capabilities(options);
  assert.deepEqual(caps.quotes, { maxInstruments: { 1: 3, 2: 3, 3: 3 }, requestsPerSecond: 2 });
  const pool = new ConnectionPool(caps, workerLinkFactory(paperAdapter), {
    adapterOptions: options,
  });
  await pool.start();
  try {
    const items = [
      { exchange: "NSE", symbol: "RELIANCE" },
      { exchange: "NSE_INDEX", symbol: "NIFTY" },
      { exchange: "NSE", symbol: "NOSUCH" },
    ];
    const r = await pool.quote(3, items);
    assert.ok(r.ok);
    assert.deepEqual(r.missing, [{ exchange: "NSE", symbol: "NOSUCH" }]);
    const rel = r.ticks.find((t) => t.symbol === "RELIANCE")!;
    assert.equal(rel.mode, 3);
    assert.equal(rel.depth?.buy.length, 5);
    assert.ok(rel.volume !== null && rel.ltp > 0);
    assert.equal(r.ticks.find((t) => t.symbol === "NIFTY")!.depth, null);
    const tooMany = await pool.quote(1, [...items, { exchange: "NSE", symbol: "TCS" }]);
    assert.equal(tooMany.ok ? "ok" : tooMany.code, "INVALID_PARAMETERS");
    // Two requests in this second already: the third is refused with a wait.
    const limited = await pool.quote(1, items.slice(0, 1));
    assert.ok(!limited.ok);
    assert.equal(limited.code, "RATE_LIMITED");
    assert.ok(limited.retryAfterMs !== undefined && limited.retryAfterMs <= 1000);
    // A check resolves symbols without a call against the rate limit.
    const checked = await pool.quote(2, items, true);
    assert.deepEqual(checked, { ok: true, ticks: [], missing: [items[2]] });
    // Quoting opened no stream.
    assert.deepEqual(pool.streams(), []);
  } finally {
    await pool.close();
  }
});

Deno.test("paper gateway: a poll-routed class gets source:poll frames and holds no stream", async () => {
  const DISPLAY_KEY = "display-key-0123456789abcdef";
  const gw = await startGateway({
    apiKeys: [
      { name: "algo", key: TEST_KEY, class: "trading" },
      { name: "dashboard", key: DISPLAY_KEY, class: "display" },
    ],
    budget: { routing: { display: "poll" }, pollIntervalMs: 300 },
    broker: { name: "paper", options: { seed: 5, quoteRequestsPerSecond: 5 } },
  });
  try {
    const dash = await TestClient.connect(gw);
    await dash.auth(DISPLAY_KEY);
    const ack = await dash.request({
      action: "subscribe",
      symbols: [{ symbol: "RELIANCE", exchange: "NSE" }, {
        symbol: "NIFTY",
        exchange: "NSE_INDEX",
      }],
      mode: "Depth",
    }, "subscribe");
    assert.equal(ack.status, "success");
    const f = await dash.waitFor((x) => x.type === "market_data" && x.symbol === "RELIANCE");
    assert.equal(f.source, "poll");
    assert.equal(f.mode, 3);
    await until(
      () => dash.frames.filter((x) => x.symbol === "RELIANCE").length >= 3,
      10_000,
      "polls",
    );
    assert.equal(gw.pool.symbolCount, 0);
    assert.deepEqual(gw.pool.streams(), []);
    assert.deepEqual(gw.registry.list(), []);
    assert.equal(gw.pollRegistry.list().length, 2);
    const s = gw.poller.stats();
    assert.equal(s.keys, 2);
    assert.equal(s.errors, 0);
  } finally {
    await gw.stop();
  }
});
