// JetStream gap recovery with a real nats-server (-js): ticks an edge missed on a key (a seq gap)
// are fetched from the primary's bounded stream and delivered in order before the live ones.

import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { configSchema } from "../../lib/config/mod.ts";
import { decodeEnvelope } from "../../lib/bus/envelope.ts";
import { EdgeGateway } from "../../lib/edge.ts";
import { startGateway, TEST_KEY, TestClient, until } from "../helpers/gateway.ts";
import { startNatsServer } from "../helpers/nats_server.ts";

Deno.test("jetstream: an edge fills a seq gap from the stream, in order, without duplicates", async () => {
  const dir = await Deno.makeTempDir();
  const nats = await startNatsServer(["-js", "-sd", dir]);
  const natsConfig = { servers: [nats.url], jetstream: { maxAgeMs: 60_000 } };
  const gw = await startGateway({
    broker: { name: "paper", options: { ticksPerSecond: 50, intervalMs: 20, seed: 5 } },
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
  // What the primary published on the subject, as a plain subscriber sees it.
  const nc = await connect({ servers: nats.url });
  const published: string[] = [];
  nc.subscribe("tickplex.v1.NSE.RELIANCE.LTP", {
    callback: (_e, m) => {
      const d = decodeEnvelope(m.data);
      if (d.ok) published.push(`${d.envelope.data.ltp}@${d.envelope.data.timestamp}`);
    },
  });
  await nc.flush();
  const client = await TestClient.connect(edge.proxy.addr.port);
  try {
    await client.auth();
    await client.request(
      { action: "subscribe", symbol: "RELIANCE", exchange: "NSE", mode: 1 },
      "subscribe",
    );
    const ticks = () =>
      client.frames.filter((f) => f.type === "market_data").map((f) => {
        const d = f.data as { ltp: number; timestamp: number };
        return `${d.ltp}@${d.timestamp}`;
      });
    await until(() => ticks().length >= 3, 10_000, "first ticks on the edge");
    edge.upstream.testing.dropNext = 4;
    await until(() => edge.upstream.counters.recovered >= 4, 10_000, "the gap filled");
    const seen = ticks().length;
    await until(() => ticks().length >= seen + 3, 10_000, "live ticks after the gap");
    assert.equal(edge.upstream.counters.gaps, 1);
    // The client got exactly what the primary published, in order: nothing lost, nothing twice.
    const got = ticks();
    const start = published.indexOf(got[0]);
    assert.ok(start >= 0, "the first tick the client got was published");
    assert.deepEqual(got, published.slice(start, start + got.length));
  } finally {
    await client.close();
    await nc.close();
    await edge.stop();
    await gw.stop();
    await nats.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("jetstream: a primary refuses to start when the server has no JetStream", async () => {
  const nats = await startNatsServer();
  try {
    await assert.rejects(
      startGateway({ nats: { servers: [nats.url], jetstream: {} } }),
      /no JetStream/,
    );
  } finally {
    await nats.stop();
  }
});
