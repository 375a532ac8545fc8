// The primary's lease protocol spoken by hand over a real nats-server: renew reconciles (acquires
// what an edge lists, releases what it no longer lists), bad messages are refused and counted, and
// a lease that is not renewed expires.

import assert from "node:assert/strict";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startGateway, until } from "../helpers/gateway.ts";
import { startNatsServer } from "../helpers/nats_server.ts";

const LEASE_MS = 600;

async function ask(
  nc: NatsConnection,
  op: string,
  body: unknown,
): Promise<Record<string, unknown>> {
  const m = await nc.request(`tickplex.ctl.v1.${op}`, JSON.stringify(body), { timeout: 5000 });
  return JSON.parse(m.string());
}

Deno.test("leases: renew reconciles, bad messages are refused, silence expires the lease", async () => {
  const nats = await startNatsServer();
  const gw = await startGateway({ nats: { servers: [nats.url], leaseMs: LEASE_MS } });
  const nc = await connect({ servers: nats.url });
  const keys = () => gw.registry.list().map((r) => `${r.symbol}:${r.mode}=${r.consumers}`).sort();
  try {
    const key = (symbol: string, mode: number) => ({ exchange: "NSE", symbol, mode, depth: 5 });
    const sub = await ask(nc, "subscribe", { v: 1, edge: "e1", leaseMs: 60_000, ...key("TCS", 2) });
    assert.deepEqual(sub, { ok: true, depth: 5 });
    // A renew that lists INFY but not TCS: the edge dropped TCS (its unsubscribe got lost).
    const renew = await ask(nc, "renew", {
      v: 1,
      edge: "e1",
      leaseMs: 60_000,
      keys: [key("INFY", 1)],
    });
    assert.equal(renew.ok, true);
    assert.equal(renew.broker, "paper");
    assert.equal(renew.session, gw.nats!.bus.session);
    assert.equal(renew.failed, 0);
    assert.deepEqual(keys(), ["INFY:1=1"]);
    // Refused without effect: wrong version, unknown mode, not JSON.
    for (const bad of [{ v: 2, edge: "e1", leaseMs: 1000, keys: [] }, { v: 1, edge: "e1" }]) {
      const r = await ask(nc, "renew", bad);
      assert.equal(r.ok, false);
      assert.equal(r.code, "INVALID_MESSAGE");
    }
    const notJson = await nc.request("tickplex.ctl.v1.subscribe", "{", { timeout: 5000 });
    assert.equal(JSON.parse(notJson.string()).code, "INVALID_MESSAGE");
    assert.equal(gw.nats!.leases.counters.invalid, 3);
    assert.deepEqual(keys(), ["INFY:1=1"]);
    // A short lease nobody renews: released, the edge forgotten.
    await ask(nc, "renew", { v: 1, edge: "e1", leaseMs: LEASE_MS, keys: [key("INFY", 1)] });
    await until(() => keys().length === 0, 10_000, "the lease expired");
    assert.equal(gw.nats!.leases.edges, 0);
    assert.equal(gw.nats!.leases.counters.expired, 1);
    assert.deepEqual(gw.pool.streams(), []);
  } finally {
    await nc.close();
    await gw.stop();
    await nats.stop();
  }
});
