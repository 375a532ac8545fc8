// The NATS server itself restarts under a primary and an edge: both reconnect on their own, the
// edge re-announces its keys, and its client gets ticks again without doing anything.

import assert from "node:assert/strict";
import { configSchema } from "../../lib/config/mod.ts";
import { EdgeGateway } from "../../lib/edge.ts";
import { startGateway, TEST_KEY, TestClient, until } from "../helpers/gateway.ts";
import { startNatsServer } from "../helpers/nats_server.ts";

Deno.test("nats restart: primary and edge reconnect, the edge's client gets ticks again", async () => {
  let nats = await startNatsServer();
  const natsConfig = { servers: [nats.url], leaseMs: 1500 };
  const gw = await startGateway({
    broker: { name: "paper", options: { ticksPerSecond: 20, intervalMs: 20, seed: 9 } },
    nats: natsConfig,
  });
  const edge = await EdgeGateway.start({
    config: configSchema.parse({
      port: 0,
      apiKeys: [TEST_KEY],
      logLevel: "error",
      edge: true,
      nats: natsConfig,
    }),
  });
  const client = await TestClient.connect(edge.proxy.addr.port);
  try {
    await client.auth();
    await client.request(
      { action: "subscribe", symbol: "SBIN", exchange: "NSE", mode: 2 },
      "subscribe",
    );
    await client.waitFor((f) => f.type === "market_data");
    await nats.stop();
    await until(() => edge.upstream.state === "reconnecting", 10_000, "the edge noticed");
    nats = await startNatsServer([], nats.port);
    const from = client.frames.length;
    await client.waitFor((f) => f.type === "market_data", 30_000, from);
    // Its renewals reach the primary again (the first may come before the primary reconnected).
    await until(() => edge.upstream.state === "connected", 10_000, "renewals answered");
    assert.deepEqual(gw.pool.streams().map((s) => `${s.symbol}:${s.mode}`), ["SBIN:2"]);
  } finally {
    await client.close();
    await edge.stop();
    await gw.stop();
    await nats.stop();
  }
});
