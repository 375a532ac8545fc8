// `tickplex record --capture` as a user runs it: a separate recorder process asks the gateway to
// hold its symbols (API key from TICKPLEX_API_KEY), records them with no client connected, and
// releases the capture when stopped with SIGTERM.

import assert from "node:assert/strict";
import { startGateway, TEST_KEY, until } from "../helpers/gateway.ts";
import { query, tempDir } from "./helpers.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("record --capture: the gateway holds the recorder's symbols until it exits", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/captured.duckdb`;
  const gw = await startGateway({
    broker: { name: "paper", options: { ticksPerSecond: 20, intervalMs: 20 } },
  });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--config",
      `${ROOT}deno.json`,
      "-P=test",
      `${ROOT}main.ts`,
      "record",
      "--bus",
      gw.bus.endpoint,
      "--db",
      db,
      "--symbols",
      "NSE:RELIANCE:Depth,NSE_INDEX:NIFTY",
      "--capture",
      "--gateway",
      `http://127.0.0.1:${gw.proxy.addr.port}`,
      "--flush-ms",
      "100",
      "--progress",
      "json",
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { TICKPLEX_API_KEY: TEST_KEY, TICKPLEX_LOG_LEVEL: "error" },
  }).spawn();
  const out = new Response(child.stdout).text();
  const err = new Response(child.stderr).text();
  let exited = false;
  try {
    await until(() => gw.pool.streams().length === 2, 30_000, "captures taken");
    const held = gw.registry.list().map((r) => `${r.exchange}:${r.symbol}:${r.mode}`).sort();
    assert.deepEqual(
      held,
      ["NSE:RELIANCE:3", "NSE_INDEX:NIFTY:2"],
      "Depth as asked, Quote default",
    );
    await new Promise((r) => setTimeout(r, 800));
    child.kill("SIGTERM");
    const status = await child.status;
    exited = true;
    assert.equal(status.code, 0, await err);
    await until(() => gw.pool.streams().length === 0, 5000, "captures released at exit");
    const lines = (await out).trim().split("\n").map((l) => JSON.parse(l));
    const captured = lines.find((l) => l.event === "captured");
    assert.equal(captured.ok, 2);
    const [{ n }] = await query(`SELECT count(*)::INTEGER AS n FROM rec.ticks`, db);
    assert.ok((n as number) > 0, "ticks recorded with no client connected");
    const topics = await query(`SELECT DISTINCT topic FROM rec.ticks ORDER BY topic`, db);
    assert.deepEqual(topics.map((t) => t.topic), ["NSE_INDEX_NIFTY_QUOTE", "NSE_RELIANCE_DEPTH"]);
  } finally {
    if (!exited) {
      child.kill("SIGKILL");
      await child.status;
    }
    await out.catch(() => {});
    await err.catch(() => {});
    await gw.stop();
  }
});

Deno.test("record --capture without an API key is a usage error", async () => {
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--config",
      `${ROOT}deno.json`,
      "-P=test",
      `${ROOT}main.ts`,
      "record",
      "--capture",
      "--symbols",
      "NSE:TCS",
      "--db",
      "/nonexistent/never-created.duckdb",
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { TICKPLEX_API_KEY: "" },
  }).output();
  assert.equal(r.code, 2);
  assert.match(new TextDecoder().decode(r.stderr), /TICKPLEX_API_KEY/);
});
