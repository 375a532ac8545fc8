// `--fanout-processes 2`: one command starts a primary and two edge processes on one port
// (SO_REUSEPORT); clients landing on any of them get ticks; the edges die with the parent, even
// when the parent is killed with SIGKILL.

import assert from "node:assert/strict";
import { freePort, TEST_KEY, TestClient } from "../helpers/gateway.ts";
import { spawnGateway, waitHealthy } from "../helpers/process.ts";
import { startNatsServer } from "../helpers/nats_server.ts";

async function portOpen(port: number): Promise<boolean> {
  try {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    c.close();
    return true;
  } catch {
    return false;
  }
}

Deno.test("fanout processes: primary + 2 edges share the port and die with the parent", async () => {
  const nats = await startNatsServer();
  const port = freePort();
  const proc = spawnGateway(
    ["--bus", nats.url, "--port", String(port), "--fanout-processes", "2"],
    { env: { TICKPLEX_API_KEY: TEST_KEY, TICKPLEX_BUS: `tcp://127.0.0.1:${freePort()}` } },
  );
  const clients: TestClient[] = [];
  try {
    await waitHealthy(port, proc, 60_000);
    // The edges come up after the primary; wait until both kinds answer on the shared port.
    const kinds = new Set<string>();
    const deadline = Date.now() + 60_000;
    while (kinds.size < 2) {
      if (Date.now() > deadline) throw new Error(`only ${[...kinds]} answered:\n${proc.output()}`);
      const r = await fetch(`http://127.0.0.1:${port}/metrics`, {
        headers: { connection: "close" },
      });
      const text = await r.text();
      kinds.add(text.includes("tickplex_edge_ticks_in_total") ? "edge" : "primary");
    }
    // An edge listens only once the primary has answered it, so every process on the port serves.
    for (let i = 0; i < 8; i++) {
      const c = await TestClient.connect(port);
      clients.push(c);
      await c.auth();
      const r = await c.request(
        { action: "subscribe", symbol: "INFY", exchange: "NSE", mode: 1 },
        "subscribe",
      );
      assert.equal(r.status, "success");
    }
    for (const c of clients) {
      const f = await c.waitFor((f) => f.type === "market_data");
      assert.equal(f.symbol, "INFY");
    }
    for (const c of clients) await c.close();
    clients.length = 0;

    proc.child.kill("SIGKILL");
    await proc.status;
    // Nothing may keep the port: the edges saw their stdin close and shut down.
    const until = Date.now() + 30_000;
    while (await portOpen(port)) {
      if (Date.now() > until) throw new Error("an edge outlived its killed parent");
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    for (const c of clients) await c.close().catch(() => {});
    try {
      proc.child.kill("SIGKILL");
    } catch { /* gone */ }
    await proc.status;
    await nats.stop();
  }
});
