// Security properties of the gateway: TLS on :8765, the browser Origin allow-list, API keys
// configured as hashes, and adapter workers confined to their declared hosts.

import assert from "node:assert/strict";
import { startGateway, TEST_KEY, TestClient } from "./helpers/gateway.ts";
import { hashKey } from "../lib/proxy/mod.ts";
import { workerLinkFactory } from "../lib/pool/mod.ts";
import type { Capabilities } from "../lib/types.ts";

const DATA = new URL("./testdata/", import.meta.url).pathname;

Deno.test("TLS: the same port serves https (and so wss) with the configured certificate", async () => {
  const gw = await startGateway({
    tls: { cert: `${DATA}tls_cert.pem`, key: `${DATA}tls_key.pem` },
  });
  const client = Deno.createHttpClient({
    caCerts: [await Deno.readTextFile(`${DATA}ca_cert.pem`)],
  });
  try {
    const r = await fetch(`https://127.0.0.1:${gw.proxy.addr.port}/health`, { client });
    assert.equal((await r.json()).broker, "paper");
    await assert.rejects(fetch(`http://127.0.0.1:${gw.proxy.addr.port}/health`));
  } finally {
    client.close();
    await gw.stop();
  }
});

Deno.test("TLS: unreadable certificate paths fail at start naming the field", async () => {
  await assert.rejects(
    startGateway({ tls: { cert: "/nonexistent/cert.pem", key: `${DATA}tls_key.pem` } }),
    /tls\.cert: cannot read/,
  );
});

async function upgradeStatus(port: number, origin: string | null): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const lines = [
      "GET / HTTP/1.1",
      `Host: 127.0.0.1:${port}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Version: 13",
      ...(origin ? [`Origin: ${origin}`] : []),
    ];
    await conn.write(new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n"));
    const buf = new Uint8Array(512);
    const n = await conn.read(buf);
    return Number(new TextDecoder().decode(buf.subarray(0, n ?? 0)).split(" ")[1]);
  } finally {
    conn.close();
  }
}

Deno.test("Origin allow-list: scripts and same-origin pages allowed, other browser origins refused", async () => {
  const gw = await startGateway({ allowedOrigins: ["https://dash.example.com"] });
  try {
    const port = gw.proxy.addr.port;
    assert.equal(await upgradeStatus(port, null), 101);
    assert.equal(await upgradeStatus(port, `http://127.0.0.1:${port}`), 101);
    assert.equal(await upgradeStatus(port, "https://dash.example.com"), 101);
    assert.equal(await upgradeStatus(port, "https://evil.example.com"), 403);
    assert.equal(await upgradeStatus(port, "null"), 403);
  } finally {
    await gw.stop();
  }
});

Deno.test("API keys configured as sha256 digests authenticate; the plaintext is never configured", async () => {
  const hashed = await hashKey("a-key-that-only-the-client-knows");
  assert.match(hashed, /^sha256:[0-9a-f]{64}$/);
  const gw = await startGateway({ apiKeys: [hashed] });
  try {
    const c = await TestClient.connect(gw);
    assert.equal((await c.auth("a-key-that-only-the-client-knows")).status, "success");
    const d = await TestClient.connect(gw);
    assert.equal((await d.auth(TEST_KEY)).code, "AUTHENTICATION_ERROR");
    assert.equal(
      (await d.auth(hashed)).code,
      "AUTHENTICATION_ERROR",
      "the digest itself is not a key",
    );
    await c.close();
    await d.close();
  } finally {
    await gw.stop();
  }
});

Deno.test("adapter workers reach only their declared hosts", async () => {
  const allowed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const other = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const allowedPort = (allowed.addr as Deno.NetAddr).port;
  const otherPort = (other.addr as Deno.NetAddr).port;
  const caps: Capabilities = {
    broker: "probe",
    hosts: [`127.0.0.1:${allowedPort}`],
    readPaths: [],
    maxSymbolsPerConnection: 1,
    maxConnections: 1,
    maxTokensPerFrame: 1,
    depthLevels: {},
  };
  const link = workerLinkFactory({
    name: "probe",
    title: "network probe",
    hosts: [],
    credentials: [],
    workerUrl: new URL("./helpers/net_probe_worker.ts", import.meta.url),
    capabilities: () => caps,
  })(0, caps);
  try {
    const answer = new Promise<Record<string, string>>((resolve) => {
      link.onmessage = (d) => resolve(d as Record<string, string>);
    });
    link.send({ type: "init", connection: 0, options: { ports: [allowedPort, otherPort] } });
    const r = await answer;
    assert.equal(r[String(allowedPort)], "connected");
    assert.match(r[String(otherPort)], /NotCapable|PermissionDenied|Requires net access/);
    assert.match(r.read, /NotCapable|PermissionDenied|Requires read access/);
    assert.match(r.env, /NotCapable|PermissionDenied|Requires env access/);
  } finally {
    link.terminate();
    allowed.close();
    other.close();
  }
});

Deno.test("the gateway permission set: the main isolate cannot reach an undeclared host", async () => {
  const a = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const b = Deno.listen({ hostname: "127.0.0.2", port: 0 });
  try {
    const root = new URL("..", import.meta.url).pathname;
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-P=gateway",
        "--config",
        `${root}deno.json`,
        `${root}tests/helpers/net_probe_main.ts`,
        String((a.addr as Deno.NetAddr).port),
        String((b.addr as Deno.NetAddr).port),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const r = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(r["127.0.0.1"], "connected");
    assert.match(r["127.0.0.2"], /NotCapable|Requires net access/);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("the bus refuses a non-loopback bind without CURVE keys", async () => {
  await assert.rejects(
    startGateway({ bus: "tcp://0.0.0.0:0" }),
    /CURVE keys are required to bind a non-loopback address/,
  );
});
