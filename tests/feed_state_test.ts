// One worst-state ranking everywhere: with broker connections in different states, every surface
// that reports the feed as a whole (/health, get_broker_info, /api/v1/health, the dashboard's
// /api/v1/status) names the same state.

import assert from "node:assert/strict";
import { startGateway, TEST_KEY, TestClient, until } from "./helpers/gateway.ts";
import { fakeFactory } from "./helpers/fake_adapter.ts";
import type { FeedState } from "../lib/types.ts";

async function getJson(port: number, path: string): Promise<Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    headers: { authorization: `Bearer ${TEST_KEY}` },
  });
  assert.equal(res.status, 200, path);
  return await res.json();
}

Deno.test("every surface reports the same feed-wide state for two connections", async () => {
  const f = fakeFactory(new Set(["NSE:RELIANCE", "NSE:TCS"]));
  const gw = await startGateway({ broker: { name: "paper", maxSymbolsPerConnection: 1 } }, {
    linkFactory: f.factory,
  });
  const c = await TestClient.connect(gw);
  try {
    await c.auth();
    const sub = await c.request({
      action: "subscribe",
      symbols: [{ exchange: "NSE", symbol: "RELIANCE" }, { exchange: "NSE", symbol: "TCS" }],
      mode: 1,
    }, "subscribe");
    assert.equal(sub.status, "success", JSON.stringify(sub));
    await until(() => gw.pool.status().length === 2, 3000, "a second connection");
    const port = gw.proxy.addr.port;
    const pairs: [FeedState, FeedState, FeedState][] = [
      ["stalled", "reconnecting", "stalled"],
      ["reconnecting", "stalled", "stalled"],
      ["connecting", "reconnecting", "reconnecting"],
      ["disconnected", "auth_failed", "auth_failed"],
      ["failed", "auth_failed", "failed"],
      ["connected", "connected", "connected"],
    ];
    for (const [a, b, worst] of pairs) {
      f.links[0].onmessage?.({ type: "status", state: a });
      f.links[1].onmessage?.({ type: "status", state: b });
      const states = gw.pool.status().map((s) => s.state);
      assert.deepEqual(states, [a, b]);
      const proxyHealth = await getJson(port, "/health");
      const info = await c.request({ action: "get_broker_info" }, "broker_info");
      const mdHealth = await getJson(port, "/api/v1/health");
      const dashboard = await getJson(port, "/api/v1/status");
      assert.deepEqual({
        "/health": proxyHealth.feed_state,
        "get_broker_info": info.adapter_status,
        "/api/v1/health": mdHealth.feed_state,
        "/api/v1/status": dashboard.feed_state,
      }, {
        "/health": worst,
        "get_broker_info": worst,
        "/api/v1/health": worst,
        "/api/v1/status": worst,
      }, `connections [${a}, ${b}]`);
    }
  } finally {
    c.ws.close();
    await gw.stop();
  }
});
