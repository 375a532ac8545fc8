// Every socket has a deadline (issue 19): connections that never complete a request, peers that
// ignore the close frame, keep-alive failures, and caps on connections per address and in total.
// Each is cut at the TCP level and counted per reason; the descriptor counts come from a process
// of their own (hostile_peers.ts) so no other test's sockets are counted.

import assert from "node:assert/strict";
import { RawClient, TEST_KEY, until } from "../helpers/gateway.ts";
import { connect, cut, type Report } from "./hostile_peers.ts";
import { startProxy } from "./helpers.ts";

/** Runs a scenario of hostile_peers.ts as its own process and returns its report. */
async function scenario(name: "request" | "close"): Promise<Report> {
  const root = new URL("../../", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-P=test",
      "--config",
      `${root}deno.json`,
      `${root}tests/proxy/hostile_peers.ts`,
      name,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(text);
}

Deno.test("connections that never complete a request are cut at the request deadline", async () => {
  const r = await scenario("request");
  assert.deepEqual(r.cut, [true, true, true, true], "silent, half headers, half body, idle");
  assert.deepEqual(r.drops, { request_timeout: 3, http_idle: 1 });
  assert.ok(r.fds.afterCut <= r.fds.listening, `descriptors ${JSON.stringify(r.fds)}`);
  assert.ok(r.fds.afterClose <= r.fds.before, `descriptors ${JSON.stringify(r.fds)}`);
});

Deno.test("peers that ignore our close frame are cut at the TCP level (after 4401 and 1009)", async () => {
  const r = await scenario("close");
  assert.deepEqual(r.cut, [true, true]);
  assert.deepEqual(r.drops, { auth_timeout: 1, message_too_big: 1, close_timeout: 2 });
  assert.ok(r.fds.afterCut <= r.fds.listening, `descriptors ${JSON.stringify(r.fds)}`);
  assert.ok(r.fds.afterClose <= r.fds.before, `descriptors ${JSON.stringify(r.fds)}`);
});

Deno.test("a client that stops answering keep-alive pings is dropped, counted and cut", async () => {
  const t = await startProxy({ idleTimeoutS: 1, closeTimeoutMs: 300 });
  try {
    const raw = await RawClient.connect(t.port);
    await raw.sendText(JSON.stringify({ action: "authenticate", api_key: TEST_KEY }));
    assert.ok(await cut(raw.conn), "cut");
    assert.equal(t.proxy.drops.count("keepalive_timeout"), 1);
    assert.equal(t.proxy.clientCount, 0);
    raw.close();
  } finally {
    await t.close();
  }
});

Deno.test("connections over the per-address or total cap are refused at accept, counted", async () => {
  for (
    const [limits, reason] of [
      [{ maxConnectionsPerAddress: 3, maxConnections: 100 }, "address_cap"],
      [{ maxConnectionsPerAddress: 100, maxConnections: 3 }, "connection_cap"],
    ] as const
  ) {
    const t = await startProxy(limits);
    try {
      const held = await Promise.all([1, 2, 3].map(() => connect(t.port)));
      await until(() => t.proxy.metricsText().includes("tickplex_tcp_connections 3"), 5000);
      const refused = await connect(t.port);
      assert.ok(await cut(refused), "refused at accept");
      assert.equal(t.proxy.drops.count(reason), 1, reason);
      // Closing one makes room again.
      held[0].close();
      await until(() => t.proxy.metricsText().includes("tickplex_tcp_connections 2"), 5000);
      const r = await fetch(`http://127.0.0.1:${t.port}/health`);
      assert.equal(r.status, 200);
      await r.body?.cancel();
      refused.close();
      for (const c of held.slice(1)) c.close();
    } finally {
      await t.close();
    }
  }
});
