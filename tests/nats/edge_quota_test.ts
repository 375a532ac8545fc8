// An edge enforces its own API keys' quotas across its clients; the primary counts the edge once.

import assert from "node:assert/strict";
import { configSchema } from "../../lib/config/mod.ts";
import { EdgeGateway } from "../../lib/edge.ts";
import { startGateway, TestClient } from "../helpers/gateway.ts";
import { startNatsServer } from "../helpers/nats_server.ts";

const KEY = "an-edge-display-key-0123456789";

Deno.test("edge budget: a key's quota holds across the edge's clients", async () => {
  const nats = await startNatsServer();
  const gw = await startGateway({ nats: { servers: [nats.url] } });
  const edge = await EdgeGateway.start({
    config: configSchema.parse({
      port: 0,
      apiKeys: [{ name: "wall", key: KEY, class: "display", quota: 1 }],
      logLevel: "error",
      edge: true,
      nats: { servers: [nats.url] },
    }),
  });
  const a = await TestClient.connect(edge.proxy.addr.port);
  const b = await TestClient.connect(edge.proxy.addr.port);
  try {
    await a.auth(KEY);
    await b.auth(KEY);
    const first = await a.request(
      { action: "subscribe", symbol: "TCS", exchange: "NSE", mode: 1 },
      "subscribe",
    );
    assert.equal(first.status, "success", JSON.stringify(first));
    // The same instrument from another client of the key is within the quota of one.
    const same = await b.request(
      { action: "subscribe", symbol: "TCS", exchange: "NSE", mode: 2 },
      "subscribe",
    );
    assert.equal(same.status, "success", JSON.stringify(same));
    const second = await b.request(
      { action: "subscribe", symbol: "INFY", exchange: "NSE", mode: 1 },
      "subscribe",
    );
    assert.notEqual(second.status, "success");
    assert.match(JSON.stringify(second), /Quota reached for API key 'wall'/);
    // The primary saw the edge as one consumer per key, charged to its holder "edges".
    const rows = gw.registry.list().map((r) => `${r.symbol}:${r.mode}=${r.consumers}`).sort();
    assert.deepEqual(rows, ["TCS:1=1", "TCS:2=1"]);
  } finally {
    await a.close();
    await b.close();
    await edge.stop();
    await gw.stop();
    await nats.stop();
  }
});
