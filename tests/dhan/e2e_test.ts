// tickplex configured for Dhan against the Dhan simulator, end to end through :8765: every mode
// with the previous close and OI merged in (the reference drops them), Depth at 5 levels, drop →
// reconnect and resubscribe, token expiry (807) → auth_failed → a fresh token over the HTTP API
// used in the next handshake's URL.

import assert from "node:assert/strict";
import { expireAndRecover, startGateway, TestClient, until } from "../helpers/gateway.ts";
import {
  type DhanSimulator,
  SAMPLE_INSTRUMENTS,
  startDhanSimulator,
} from "../../adapters/dhan/simulator.ts";
import { tokenKey } from "../../adapters/dhan/codec.ts";
import { assertConsistent, type BrokerView } from "../helpers/invariant.ts";

type Frame = Record<string, unknown>;

function dhanView(sim: DhanSimulator): BrokerView {
  return { streamed: () => sim.subscriptions().reduce((n, c) => n + c.size, 0) };
}

async function setup() {
  const sim = await startDhanSimulator({ tickEveryMs: 50 });
  const c = sim.credentials;
  const gw = await startGateway({
    broker: {
      name: "dhan",
      accessToken: c.accessToken,
      // TICKPLEX_BROKER_CLIENT_ID lands here.
      extra: { client_id: c.clientId },
      feedUrl: sim.url,
      instruments: SAMPLE_INSTRUMENTS,
      options: { dataStallMs: 2000, reconnectBaseMs: 50, reconnectMaxMs: 200, authRetryMinMs: 0 },
    },
  });
  return { sim, gw };
}

const data = (f: Frame) => f.data as Record<string, unknown>;
const levels = (f: Frame) => (data(f).depth as { buy: unknown[] } | null)?.buy.length ?? 0;

Deno.test("dhan e2e: every mode through :8765 with previous close and OI; drop → reconnect and resubscribe", async () => {
  const { sim, gw } = await setup();
  try {
    const c = await TestClient.connect(gw);
    await c.auth();
    const ack = await c.request({
      action: "subscribe",
      symbols: [
        { symbol: "RELIANCE", exchange: "NSE", mode: 2 },
        { symbol: "BANKNIFTY24APR24FUT", exchange: "NFO", mode: 2 },
        { symbol: "NIFTY", exchange: "NSE_INDEX", mode: 1 },
        { symbol: "NOPE", exchange: "NSE" },
      ],
    }, "subscribe");
    assert.equal(ack.status, "partial");
    assert.equal((ack.subscriptions as { code?: string }[])[3].code, "SYMBOL_NOT_FOUND");
    const deep = await c.request({
      action: "subscribe",
      symbols: [{ symbol: "INFY", exchange: "NSE" }, { symbol: "SENSEX", exchange: "BSE_INDEX" }],
      mode: 3,
      depth: 20,
    }, "subscribe");
    // No 20-level socket is opened: 5 levels, and the ack says so; an index has no book.
    assert.deepEqual((deep.subscriptions as { depth: number }[]).map((s) => s.depth), [5, 0]);

    const q = await c.waitFor((f) => f.type === "market_data" && f.symbol === "RELIANCE");
    assert.equal(q.broker, "dhan");
    assert.equal(data(q).close, sim.quote(1, 2885).close, "previous close merged");
    assert.equal(typeof data(q).change, "number");
    assert.equal(typeof data(q).change_percent, "number");
    assert.equal(data(q).oi, null);
    const fut = await c.waitFor((f) =>
      f.type === "market_data" && f.symbol === "BANKNIFTY24APR24FUT" && data(f).oi !== null
    );
    assert.equal(typeof data(fut).oi, "number", "OI packets merged");
    const infy = await c.waitFor((f) => f.type === "market_data" && f.symbol === "INFY");
    assert.equal(levels(infy), 5);
    const sensex = await c.waitFor((f) => f.type === "market_data" && f.symbol === "SENSEX");
    assert.equal(levels(sensex), 0);
    assert.equal(data(sensex).volume, null);
    await c.waitFor((f) => f.type === "market_data" && f.symbol === "NIFTY");
    assertConsistent(gw, dhanView(sim));

    const handshakes = sim.handshakes;
    sim.drop();
    await until(() => sim.handshakes > handshakes, 5000, "reconnect");
    await until(() => sim.subscriptions()[0]?.size === 5, 5000, "resubscribed");
    const codes = sim.subscriptions()[0];
    assert.deepEqual([...codes.get(tokenKey(1, 1594))!], [21]);
    assert.deepEqual([...codes.get(tokenKey(1, 2885))!], [17]);
    assert.deepEqual([...codes.get(tokenKey(0, 13))!], [15]);
    const mark = c.frames.length;
    const again = await c.waitFor(
      (f) => f.type === "market_data" && f.symbol === "RELIANCE",
      5000,
      mark,
    );
    assert.equal(data(again).close, sim.quote(1, 2885).close, "previous close after reconnect");
    assertConsistent(gw, dhanView(sim));
    await c.close();
    await until(() => gw.pool.streams().length === 0, 3000, "release");
    await until(() => sim.subscriptions().every((m) => m.size === 0), 3000, "broker released");
  } finally {
    await gw.stop();
    await sim.close();
  }
});

Deno.test("dhan e2e: token expiry (807) → auth_failed; a fresh token over the HTTP API recovers", async () => {
  const { sim, gw } = await setup();
  try {
    const c = await TestClient.connect(gw);
    await c.auth();
    await c.request({ action: "subscribe", symbol: "TCS", exchange: "NSE", mode: 2 }, "subscribe");
    await c.waitFor((f) => f.type === "market_data");
    const fresh = await expireAndRecover(gw, c, () => sim.expireToken());
    assert.equal(new URL(sim.handshakeUrls().at(-1)!).searchParams.get("token"), fresh);
    const mark = c.frames.length;
    await c.waitFor((f) => f.type === "market_data" && f.symbol === "TCS", 5000, mark);
    assertConsistent(gw, dhanView(sim));
    await c.close();
  } finally {
    await gw.stop();
    await sim.close();
  }
});
