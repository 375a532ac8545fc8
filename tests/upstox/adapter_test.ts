// The Upstox adapter in-process against its simulator: authorise with the current token on every
// (re)connect, one upstream stream for Quote and Depth(5), full_d30 for 30 levels, ticks per mode.

import assert from "node:assert/strict";
import { BrokerAdapter } from "../../lib/adapter/mod.ts";
import type { FeedState, Tick } from "../../lib/types.ts";
import { upstoxSpec } from "../../adapters/upstox/dialect.ts";
import { startUpstoxSimulator } from "../../adapters/upstox/simulator.ts";

async function until(cond: () => boolean, label: string, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function rig() {
  const sim = await startUpstoxSimulator({ tickEveryMs: 50 });
  const ticks: Tick[] = [];
  const states: FeedState[] = [];
  const logs: string[] = [];
  const adapter = new BrokerAdapter(upstoxSpec);
  await adapter.init(0, sim.adapterOptions, {
    ticks: (t) => ticks.push(...t),
    status: (s) => states.push(s),
    log: (_l, m) => logs.push(m),
  });
  const latest = (symbol: string) => ticks.findLast((t) => t.symbol === symbol);
  return {
    sim,
    adapter,
    ticks,
    states,
    logs,
    latest,
    async [Symbol.asyncDispose]() {
      await adapter.close();
      await sim.close();
    },
  };
}

const item = (symbol: string, mode: 1 | 2 | 3, depth = 5, exchange = "NSE") => ({
  exchange,
  symbol,
  mode,
  depth,
});

Deno.test("requests per mode: Quote → Depth(5) sends nothing, Depth(30) changes to full_d30", async () => {
  await using r = await rig();
  await until(() => r.states.includes("connected"), "connected");
  assert.equal(r.sim.authorizations.length, 1);
  assert.ok(r.logs.some((l) => /market status: NSE_EQ NORMAL_OPEN/.test(l)));
  const res = await r.adapter.subscribe([item("RELIANCE", 1), item("INFY", 2)]);
  assert.ok(res.every((x) => x.ok));
  await until(() => r.sim.requests.length === 2, "two sub requests");
  assert.deepEqual(
    r.sim.requests.map((q) => [q.method, q.mode, q.instrumentKeys]),
    [["sub", "ltpc", ["NSE_EQ|INE002A01018"]], ["sub", "full", ["NSE_EQ|INE009A01021"]]],
  );
  await until(() => r.latest("RELIANCE")?.mode === 1 && r.latest("INFY")?.mode === 3, "ticks");
  assert.equal(r.latest("INFY")?.depth?.buy.length, 5);
  assert.equal(r.latest("INFY")?.depth?.buy[0].orders, null);

  const d5 = await r.adapter.setMode([item("INFY", 3, 5)]);
  assert.deepEqual(d5, [{ exchange: "NSE", symbol: "INFY", ok: true, depth: 5 }]);
  const d30 = await r.adapter.setMode([item("INFY", 3, 50)]);
  assert.deepEqual(d30, [{ exchange: "NSE", symbol: "INFY", ok: true, depth: 30 }]);
  await until(() => r.sim.requests.length === 3, "one change_mode");
  assert.deepEqual(r.sim.requests[2], {
    method: "change_mode",
    mode: "full_d30",
    instrumentKeys: ["NSE_EQ|INE009A01021"],
  });
  await until(() => r.latest("INFY")?.depth?.buy.length === 30, "30-level ticks");

  // An index at Depth: depth 0, ticks with OHLC and no book.
  const idx = await r.adapter.subscribe([item("NIFTY", 3, 5, "NSE_INDEX")]);
  assert.deepEqual(idx, [{ exchange: "NSE_INDEX", symbol: "NIFTY", ok: true, depth: 0 }]);
  await until(() => r.latest("NIFTY") !== undefined, "index ticks");
  assert.equal(r.latest("NIFTY")?.depth, null);
  assert.equal(typeof r.latest("NIFTY")?.open, "number");

  const un = await r.adapter.unsubscribe([{ exchange: "NSE", symbol: "RELIANCE" }]);
  assert.ok(un[0].ok);
  await until(() => r.sim.requests.at(-1)?.method === "unsub", "unsub");
  assert.deepEqual(r.sim.requests.at(-1)?.instrumentKeys, ["NSE_EQ|INE002A01018"]);
});

Deno.test("every reconnect authorises again, with the token current at that moment", async () => {
  await using r = await rig();
  await until(() => r.states.includes("connected"), "connected");
  await r.adapter.subscribe([item("SBIN", 2)]);
  await until(() => r.latest("SBIN") !== undefined, "ticks");
  r.sim.drop();
  await until(
    () => r.sim.authorizations.length === 2 && r.states.at(-1) === "connected",
    "reconnected",
  );
  const fresh = r.sim.expireToken();
  await until(() => r.states.at(-1) === "auth_failed", "auth_failed");
  assert.equal(r.sim.authorizations.at(-1), `Bearer ${r.sim.adapterOptions.accessToken}`);
  r.adapter.token(fresh);
  await until(() => r.states.at(-1) === "connected", "connected with the fresh token");
  assert.equal(r.sim.authorizations.at(-1), `Bearer ${fresh}`);
  // The wanted set was resubscribed on the new connection.
  const count = r.ticks.length;
  await until(() => r.ticks.length > count + 2, "ticks again");
});
