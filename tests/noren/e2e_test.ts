// tickplex configured for Flattrade and Shoonya against the Noren simulator, end to end through
// :8765: LTP/Quote/Depth values equal to the simulator's market, LTP→Quote upgrades without a
// broker request, drop → resubscribe, the second connection per login, token expiry → fresh token
// over the HTTP API, and the connection kept (nothing subscribed) when the last client leaves.

import assert from "node:assert/strict";
import { expireAndRecover, startGateway, TestClient, until } from "../helpers/gateway.ts";
import { assertConsistent, type BrokerView } from "../helpers/invariant.ts";
import {
  NOREN_BROKERS,
  type NorenSimulator,
  startNorenSimulator,
} from "../../adapters/noren/mod.ts";
import type { Gateway } from "../../lib/gateway.ts";

type Frame = Record<string, unknown>;

function norenView(sim: NorenSimulator): BrokerView {
  return { streamed: () => sim.streams().reduce((n, m) => n + m.size, 0) };
}

async function setup(
  broker: "flattrade" | "shoonya",
  config: Record<string, unknown> = {},
  simOpts: Parameters<typeof startNorenSimulator>[1] = {},
): Promise<{ sim: NorenSimulator; gw: Gateway }> {
  const sim = await startNorenSimulator(NOREN_BROKERS[broker], { tickEveryMs: 50, ...simOpts });
  const o = sim.adapterOptions;
  const gw = await startGateway({
    broker: {
      name: broker,
      accessToken: sim.accessToken,
      extra: { user_id: sim.userId },
      feedUrl: sim.server.url,
      // One --instruments string naming both masters, as the command line gives it.
      instruments: sim.instrumentsUrls.join(","),
      options: {
        login: o.login,
        reconnectBaseMs: 50,
        reconnectMaxMs: 200,
        dataStallMs: 3000,
        authRetryMinMs: 0,
      },
      ...config,
    },
  });
  return { sim, gw };
}

const isData = (symbol: string, mode?: number) => (f: Frame) =>
  f.type === "market_data" && f.symbol === symbol && (mode === undefined || f.mode === mode);

Deno.test("flattrade e2e: LTP, Quote and Depth through :8765 with the simulator's values; LTP→Quote sends nothing to the broker; drop → resubscribe", async () => {
  const { sim, gw } = await setup("flattrade");
  try {
    const c = await TestClient.connect(gw);
    await c.auth();
    const ack = await c.request({
      action: "subscribe",
      symbols: [
        { symbol: "RELIANCE", exchange: "NSE", mode: 1 },
        { symbol: "INFY", exchange: "NSE", mode: 3 },
        { symbol: "NIFTY", exchange: "NSE_INDEX", mode: 2 },
        { symbol: "NOPE", exchange: "NSE" },
      ],
    }, "subscribe");
    assert.equal(ack.status, "partial");
    assert.equal((ack.subscriptions as { code?: string }[])[3].code, "SYMBOL_NOT_FOUND");
    const ltp = await c.waitFor(isData("RELIANCE", 1));
    assert.ok((ltp.data as { ltp: number }).ltp > 0);
    const d = await c.waitFor(isData("INFY", 3));
    const depth = (d.data as { depth: { buy: unknown[]; sell: unknown[] } }).depth;
    assert.equal(depth.buy.length, 5);
    assert.equal(depth.sell.length, 5);
    const nifty = await c.waitFor(isData("NIFTY", 2));
    assert.equal((nifty.data as { volume: number | null }).volume ?? null, null);
    assertConsistent(gw, norenView(sim));

    // A second client wants RELIANCE at Quote: same touchline, no request to the broker.
    const before = sim.requests.filter((r) => r.text.includes("NSE|2885")).length;
    const c2 = await TestClient.connect(gw);
    await c2.auth();
    await c2.request(
      { action: "subscribe", symbol: "RELIANCE", exchange: "NSE", mode: 2 },
      "subscribe",
    );
    const q = await c2.waitFor(isData("RELIANCE", 2));
    const data = q.data as Record<string, number>;
    assert.ok(data.volume > 0 && data.open > 0 && data.close > 0);
    // The client sees the simulator's market: wait for a tick matching the current quote.
    await until(
      () => {
        const last = c2.frames.findLast(isData("RELIANCE", 2));
        return (last?.data as { volume: number }).volume === sim.market.quote("NSE|2885").volume;
      },
      3000,
      "RELIANCE at the simulator's volume",
    );
    assert.equal(sim.requests.filter((r) => r.text.includes("NSE|2885")).length, before);
    await c2.close();

    const logins = sim.logins.accepted;
    assert.equal(sim.drop(), 1);
    await until(() => sim.logins.accepted > logins, 5000, "login again");
    await until(() => sim.streams()[0]?.size === 3, 5000, "resubscribed");
    assert.deepEqual(
      [...sim.streams()[0]].sort(),
      [["NSE:INFY", 3], ["NSE:RELIANCE", 2], ["NSE_INDEX:NIFTY", 2]],
    );
    const mark = c.frames.length;
    await c.waitFor(isData("INFY", 3), 5000, mark);
    assertConsistent(gw, norenView(sim));

    // The last client leaves: everything is unsubscribed at the broker, the connection stays.
    const handshakes = sim.handshakes;
    await c.close();
    await until(() => gw.pool.streams().length === 0, 3000, "released");
    await until(() => norenView(sim).streamed() === 0, 3000, "broker released");
    assert.equal(sim.streams().length, 1, "the logged-in connection is kept");
    assert.equal(sim.handshakes, handshakes);
    assert.deepEqual(sim.violations, {
      tooManyKeys: 0,
      overCapacity: 0,
      tooManyConnections: 0,
      beforeLogin: 0,
      badRequest: 0,
    });
  } finally {
    await gw.stop();
    await sim.close();
  }
});

Deno.test("shoonya e2e (t:c): the second connection per login takes the overflow", async () => {
  const { sim, gw } = await setup("shoonya", { maxSymbolsPerConnection: 2 }, {
    login: "c",
    acceptLogins: ["c"],
  });
  try {
    const c = await TestClient.connect(gw);
    await c.auth();
    const ack = await c.request({
      action: "subscribe",
      mode: 2,
      symbols: ["RELIANCE", "INFY", "TCS"].map((symbol) => ({ symbol, exchange: "NSE" })),
    }, "subscribe");
    assert.equal(ack.status, "success");
    assert.deepEqual(gw.pool.status().map((s) => s.symbols), [2, 1]);
    await until(
      () => sim.streams().map((m) => m.size).sort().join() === "1,2",
      5000,
      "two logged-in broker connections",
    );
    for (const s of ["RELIANCE", "INFY", "TCS"]) await c.waitFor(isData(s, 2));
    assert.equal(sim.logins.accepted, 2);
    assert.ok(sim.requests.every((r) => !r.text.includes('"t":"a"')), "legacy t:c login only");
    assertConsistent(gw, norenView(sim));
    await c.close();
  } finally {
    await gw.stop();
    await sim.close();
  }
});

Deno.test("shoonya e2e: expired session → auth_failed; a fresh token over the HTTP API recovers", async () => {
  const { sim, gw } = await setup("shoonya");
  try {
    const c = await TestClient.connect(gw);
    await c.auth();
    await c.request({ action: "subscribe", symbol: "TCS", exchange: "NSE", mode: 3 }, "subscribe");
    await c.waitFor(isData("TCS", 3));
    await expireAndRecover(gw, c, () => sim.expireToken());
    const mark = c.frames.length;
    await c.waitFor(isData("TCS", 3), 5000, mark);
    assert.ok(sim.logins.rejected >= 1);
    assertConsistent(gw, norenView(sim));
    await c.close();
  } finally {
    await gw.stop();
    await sim.close();
  }
});
