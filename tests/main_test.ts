// The gateway as users run it: a separate process under the `gateway` permission set — start,
// serve, SIGTERM shutdown (clients get 1001, exit 0, nothing left listening), port and bus
// conflicts, bad config, and the first-start API key file.

import assert from "node:assert/strict";
import { freePort, TestClient } from "./helpers/gateway.ts";
import { spawnGateway as spawn, waitHealthy } from "./helpers/process.ts";

const KEY = "process-test-key-0123456789";

function portFree(port: number): boolean {
  try {
    const l = Deno.listen({ hostname: "127.0.0.1", port });
    l.close();
    return true;
  } catch {
    return false;
  }
}

Deno.test("process: serves the paper market, SIGTERM closes clients with 1001 and exits 0", async () => {
  const port = freePort(), busPort = freePort();
  const proc = spawn(["--port", String(port), "--bus", `tcp://127.0.0.1:${busPort}`], {
    env: { TICKPLEX_API_KEY: KEY },
  });
  try {
    await waitHealthy(port, proc);
    const c = await TestClient.connect(port);
    await c.auth(KEY);
    const ack = await c.request({
      action: "subscribe",
      symbol: "RELIANCE",
      exchange: "NSE",
      mode: 2,
    }, "subscribe");
    assert.equal(ack.status, "success");
    const tick = await c.waitFor((f) => f.type === "market_data", 10_000);
    assert.ok((tick.data as { ltp: number }).ltp > 0);
    const started = Date.now();
    proc.child.kill("SIGTERM");
    const closed = await c.waitClose(10_000);
    assert.equal(closed.code, 1001);
    const status = await proc.status;
    assert.equal(status.code, 0, proc.output());
    assert.ok(Date.now() - started < 10_000, "shutdown within 10 s");
    assert.ok(portFree(port), "nothing left listening on the WebSocket port");
    assert.ok(portFree(busPort), "nothing left listening on the bus port");
    assert.match(proc.output(), /gateway stopped/);
    assert.ok(!proc.output().includes(KEY), "the API key never appears in logs");
  } finally {
    try {
      proc.child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await proc.status;
  }
});

Deno.test("process: a taken WebSocket port or bus port fails clearly with a non-zero exit", async () => {
  const blocker = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const taken = (blocker.addr as Deno.NetAddr).port;
  try {
    const p1 = spawn(["--port", String(taken), "--bus", `tcp://127.0.0.1:${freePort()}`], {
      env: { TICKPLEX_API_KEY: KEY },
    });
    const s1 = await p1.status;
    assert.notEqual(s1.code, 0);
    assert.match(p1.output(), new RegExp(`127\\.0\\.0\\.1:${taken} is already in use`));
    assert.match(p1.output(), /does not fall back/);
    const p2 = spawn(["--port", String(freePort()), "--bus", `tcp://127.0.0.1:${taken}`], {
      env: { TICKPLEX_API_KEY: KEY },
    });
    const s2 = await p2.status;
    assert.notEqual(s2.code, 0);
    assert.match(p2.output(), new RegExp(`tcp://127\\.0\\.0\\.1:${taken}`));
  } finally {
    blocker.close();
  }
});

Deno.test("process: bad configuration fails at start naming the field", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/bad.json`;
    await Deno.writeTextFile(file, JSON.stringify({ port: "eighty", limits: { authGraceMs: -1 } }));
    const p = spawn(["--config", file], { env: { TICKPLEX_API_KEY: KEY } });
    assert.equal((await p.status).code, 1);
    assert.match(p.output(), /invalid configuration/);
    assert.match(p.output(), /^port: /m);
    assert.match(p.output(), /^limits\.authGraceMs: /m);
    const p2 = spawn(["--port", "99999"], { env: { TICKPLEX_API_KEY: KEY } });
    assert.equal((await p2.status).code, 1);
    assert.match(p2.output(), /^port: /m);
    const p3 = spawn(["--bogus-flag"], { env: { TICKPLEX_API_KEY: KEY } });
    assert.equal((await p3.status).code, 1);
    assert.match(p3.output(), /bogus-flag/);
    const p4 = spawn([
      "--broker",
      "nosuchbroker",
      "--port",
      String(freePort()),
      "--bus",
      `tcp://127.0.0.1:${freePort()}`,
    ], { env: { TICKPLEX_API_KEY: KEY } });
    assert.equal((await p4.status).code, 1);
    assert.match(p4.output(), /broker\.name: unknown broker 'nosuchbroker'/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("process: with no key configured, one is generated into a 0600 file and its path printed", async () => {
  const dir = await Deno.makeTempDir();
  const port = freePort();
  const keyFile = `${dir}/keys/api_key`;
  await Deno.writeTextFile(`${dir}/cfg.json`, JSON.stringify({ keyFile }));
  const proc = spawn([
    "--config",
    `${dir}/cfg.json`,
    "--port",
    String(port),
    "--bus",
    `tcp://127.0.0.1:${freePort()}`,
  ], {
    perms: [
      `--allow-net=127.0.0.1`,
      `--allow-read`,
      `--allow-write=${dir}`,
      "--allow-env",
      "--allow-ffi",
      "--allow-sys",
    ],
  });
  try {
    await waitHealthy(port, proc);
    const st = await Deno.stat(keyFile);
    assert.equal(st.mode! & 0o777, 0o600);
    const key = (await Deno.readTextFile(keyFile)).trim();
    assert.equal(key.length, 64);
    assert.match(
      proc.output(),
      new RegExp(`stored it in ${keyFile.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`),
    );
    assert.ok(!proc.output().includes(key), "the generated key itself is not logged");
    const c = await TestClient.connect(port);
    assert.equal((await c.auth(key)).status, "success");
    await c.close();
  } finally {
    proc.child.kill("SIGTERM");
    await proc.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("process: --help prints usage and exits 0", async () => {
  const p = spawn(["--help"]);
  assert.equal((await p.status).code, 0);
  assert.match(p.output(), /Usage:/);
  assert.match(p.output(), /--port <n>/);
});

Deno.test("process: `sim` with a bad flag exits 2 with one line naming it", async () => {
  for (
    const [args, named] of [
      [
        ["sim", "flattrade", "--port", "0", "--login", "x"],
        /tickplex sim flattrade: bad --login x/,
      ],
      [["sim", "groww", "--port", "0", "--bogus", "1"], /tickplex sim groww: .*--bogus/],
      [["sim", "dhan", "--port", "http"], /tickplex sim dhan: bad --port http/],
    ] as const
  ) {
    const proc = spawn([...args], { perms: ["-P=sim"] });
    const status = await proc.status;
    assert.equal(status.code, 2, proc.output());
    assert.match(proc.output(), named);
    assert.doesNotMatch(proc.output(), /\n\s+at /, "no stack trace");
  }
});
