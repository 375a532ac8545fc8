// Primary + two edge processes + a real nats-server: one broker subscription for clients spread over
// both edges; an edge killed with SIGKILL has its keys released once its lease runs out; a restarted
// primary re-learns the edges' leases and their clients get ticks again without doing anything.

import assert from "node:assert/strict";
import { freePort, startGateway, TEST_KEY, TestClient, until } from "../helpers/gateway.ts";
import { type Proc, spawnGateway, waitHealthy } from "../helpers/process.ts";
import type { Gateway } from "../../lib/gateway.ts";
import { startNatsServer } from "../helpers/nats_server.ts";

const LEASE_MS = 1500;
const PAPER = { name: "paper", options: { ticksPerSecond: 20, intervalMs: 20, seed: 3 } };

function primary(url: string): Promise<Gateway> {
  return startGateway({ broker: PAPER, nats: { servers: [url], leaseMs: LEASE_MS } });
}

async function edge(url: string, configFile: string): Promise<{ proc: Proc; port: number }> {
  const port = freePort();
  const proc = spawnGateway(
    ["--config", configFile, "--upstream", url, "--port", String(port)],
    { perms: ["-P=edge"], env: { TICKPLEX_LOG_LEVEL: "info" } },
  );
  await waitHealthy(port, proc, 60_000);
  return { proc, port };
}

const streams = (gw: Gateway) =>
  gw.pool.streams().map((s) => `${s.exchange}:${s.symbol}:${s.mode}`).sort();

Deno.test("edges: refcounts across edges, SIGKILL releases after the lease, primary restart recovers", async (t) => {
  const nats = await startNatsServer();
  const dir = await Deno.makeTempDir();
  const configFile = `${dir}/edge.json`;
  await Deno.writeTextFile(
    configFile,
    JSON.stringify({ apiKeys: [TEST_KEY], nats: { servers: [nats.url], leaseMs: LEASE_MS } }),
  );
  let gw = await primary(nats.url);
  const edges: { proc: Proc; port: number }[] = [];
  const clients: TestClient[] = [];
  try {
    edges.push(await edge(nats.url, configFile), await edge(nats.url, configFile));
    const [e1, e2] = edges;
    const connect = async (port: number) => {
      const c = await TestClient.connect(port);
      clients.push(c);
      await c.auth();
      return c;
    };
    const a = await connect(e1.port); // Quote on edge 1
    const b = await connect(e2.port); // Quote on edge 2
    const c = await connect(e1.port); // LTP on edge 1
    const d = await connect(gw.proxy.addr.port); // Quote on the primary itself
    const k = await connect(e2.port); // TCS, on edge 2 only

    await t.step("one broker subscription for clients spread over both edges", async () => {
      for (const x of [a, b, d]) {
        const r = await x.request(
          { action: "subscribe", symbol: "RELIANCE", exchange: "NSE", mode: 2 },
          "subscribe",
        );
        assert.equal(r.status, "success", JSON.stringify(r));
      }
      await c.request(
        { action: "subscribe", symbol: "RELIANCE", exchange: "NSE", mode: 1 },
        "subscribe",
      );
      await k.request(
        { action: "subscribe", symbol: "TCS", exchange: "NSE", mode: 2 },
        "subscribe",
      );
      assert.deepEqual(
        streams(gw),
        ["NSE:RELIANCE:2", "NSE:TCS:2"],
        "one broker stream per instrument",
      );
      const rows = gw.registry.list().map((r) =>
        `${r.exchange}:${r.symbol}:${r.mode}=${r.consumers}`
      )
        .sort();
      // The primary sees each edge once per key: RELIANCE Quote = edge 1 + edge 2 + client d.
      assert.deepEqual(rows, ["NSE:RELIANCE:1=1", "NSE:RELIANCE:2=3", "NSE:TCS:2=1"]);
      assert.equal(gw.nats!.leases.edges, 2);
      for (const [x, mode] of [[a, 2], [b, 2], [c, 1], [d, 2]] as const) {
        const f = await x.waitFor((f) => f.type === "market_data" && f.symbol === "RELIANCE");
        assert.equal(f.mode, mode);
        assert.equal(f.broker, "paper");
      }
      // An LTP client of an edge gets the LTP payload once per tick, not the Quote one as well.
      const ltp = await c.waitFor((f) => f.type === "market_data" && f.symbol === "RELIANCE");
      assert.ok(!("volume" in (ltp.data as object)));
      assert.ok(c.frames.every((f) => f.type !== "market_data" || f.mode === 1));
      // Each tick once: the Quote envelope of a tick must not reach the LTP client as well.
      await c.waitFor((f) => f.type === "market_data", 10_000, c.frames.length + 5);
      const seen = c.frames.filter((f) => f.type === "market_data").map((f) => {
        const d = f.data as { ltp: number; timestamp: number };
        return `${d.ltp}@${d.timestamp}`;
      });
      assert.equal(new Set(seen).size, seen.length, "no tick delivered twice");
    });

    await t.step("an edge killed with SIGKILL: its keys are released after the lease", async () => {
      e2.proc.child.kill("SIGKILL");
      await e2.proc.status;
      await until(() => !streams(gw).includes("NSE:TCS:2"), 10 * LEASE_MS, "TCS released");
      assert.deepEqual(streams(gw), ["NSE:RELIANCE:2"], "RELIANCE stays: edge 1 and d hold it");
      const q = gw.registry.list().find((r) => r.symbol === "RELIANCE" && r.mode === 2);
      assert.equal(q?.consumers, 2);
      assert.equal(gw.nats!.leases.edges, 1);
      assert.ok(gw.nats!.leases.counters.expired >= 1);
    });

    await t.step(
      "a restarted primary re-learns the leases; edge clients recover untouched",
      async () => {
        await gw.stop();
        gw = await primary(nats.url);
        const keys = () =>
          gw.registry.list().map((r) => `${r.exchange}:${r.symbol}:${r.mode}`).sort().join();
        await until(
          () => keys() === "NSE:RELIANCE:1,NSE:RELIANCE:2",
          10 * LEASE_MS,
          "edge 1 re-announced its keys",
        ).catch((err) => {
          throw new Error(`${err.message}: keys ${keys()}; edge 1 said:\n${e1.proc.output()}`);
        });
        assert.deepEqual(streams(gw), ["NSE:RELIANCE:2"]);
        const session = gw.nats!.bus.session;
        const from = a.frames.length;
        // Edge 1's clients get ticks of the new primary without sending anything.
        await a.waitFor((f) => f.type === "market_data" && f.symbol === "RELIANCE", 10_000, from);
        await c.waitFor((f) => f.type === "market_data" && f.mode === 1, 10_000, c.frames.length);
        assert.ok(session.length > 0);
        assert.equal(gw.nats!.leases.edges, 1);
      },
    );
  } finally {
    for (const c of clients) await c.close().catch(() => {});
    for (const e of edges) {
      try {
        e.proc.child.kill("SIGTERM");
      } catch { /* already gone */ }
      await e.proc.status;
    }
    await gw.stop();
    await nats.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
