// tickplex configured for Angel One against the Angel simulator, end to end through :8765: every
// mode, Depth-20 acknowledged and delivered for NSE cash (5 elsewhere, 0 for indices), drop →
// reconnect and resubscribe, an expired JWT → auth_failed → a fresh token over the HTTP API.

import assert from "node:assert/strict";
import { expireAndRecover, startGateway, TestClient, until } from "../helpers/gateway.ts";
import { type AngelSimulator, startAngelSimulator } from "../../adapters/angel/simulator.ts";
import { SAMPLE_INSTRUMENTS } from "../../adapters/angel/simulator.ts";
import { tokenKey } from "../../adapters/angel/codec.ts";
import { assertConsistent, type BrokerView } from "../helpers/invariant.ts";

type Frame = Record<string, unknown>;

function angelView(sim: AngelSimulator): BrokerView {
  return { streamed: () => sim.subscriptions().reduce((n, c) => n + c.size, 0) };
}

async function setup() {
  const sim = await startAngelSimulator({ tickEveryMs: 50 });
  const c = sim.credentials;
  const gw = await startGateway({
    broker: {
      name: "angel",
      apiKey: c.apiKey,
      accessToken: c.accessToken,
      // TICKPLEX_BROKER_CLIENT_CODE / TICKPLEX_BROKER_FEED_TOKEN land here.
      extra: { client_code: c.clientCode, feed_token: c.feedToken },
      feedUrl: sim.url,
      instruments: SAMPLE_INSTRUMENTS,
      options: {
        pingIntervalMs: 200,
        silenceTimeoutMs: 1000,
        reconnectBaseMs: 50,
        reconnectMaxMs: 200,
        authRetryMinMs: 0,
      },
    },
  });
  return { sim, gw };
}

const data = (f: Frame) => f.data as Record<string, unknown>;
const levels = (f: Frame) => (data(f).depth as { buy: unknown[] } | null)?.buy.length ?? 0;

Deno.test("angel e2e: every mode through :8765, Depth-20 for NSE cash; drop → reconnect and resubscribe", async () => {
  const { sim, gw } = await setup();
  try {
    const c = await TestClient.connect(gw);
    await c.auth();
    const ack = await c.request({
      action: "subscribe",
      symbols: [
        { symbol: "RELIANCE", exchange: "NSE", mode: 2 },
        { symbol: "NIFTY", exchange: "NSE_INDEX", mode: 1 },
        { symbol: "NOPE", exchange: "NSE" },
      ],
    }, "subscribe");
    assert.equal(ack.status, "partial");
    assert.equal((ack.subscriptions as { code?: string }[])[2].code, "SYMBOL_NOT_FOUND");
    const deep = await c.request({
      action: "subscribe",
      symbols: [
        { symbol: "INFY", exchange: "NSE" },
        { symbol: "BANKNIFTY24APR24FUT", exchange: "NFO" },
        { symbol: "BANKNIFTY", exchange: "NSE_INDEX" },
      ],
      mode: 3,
      depth: 20,
    }, "subscribe");
    assert.equal(deep.status, "success");
    assert.deepEqual((deep.subscriptions as { depth: number }[]).map((s) => s.depth), [20, 5, 0]);

    const q = await c.waitFor((f) => f.type === "market_data" && f.symbol === "RELIANCE");
    assert.equal(q.mode, 2);
    assert.equal(q.broker, "angel");
    // The previous close is the simulator's; volumes are sent, OI (cash) is not.
    assert.equal(data(q).close, sim.quote(1, "2885").close);
    assert.equal(typeof data(q).change, "number");
    assert.equal(data(q).oi, null);
    const infy = await c.waitFor((f) =>
      f.type === "market_data" && f.symbol === "INFY" && levels(f) === 20
    );
    assert.equal(typeof data(infy).open, "number"); // the reference's zero OHLC bug (§2.5)
    const fut = await c.waitFor((f) =>
      f.type === "market_data" && f.symbol === "BANKNIFTY24APR24FUT"
    );
    assert.equal(levels(fut), 5);
    assert.equal(typeof data(fut).oi, "number");
    const idx = await c.waitFor((f) => f.type === "market_data" && f.symbol === "BANKNIFTY");
    assert.equal(levels(idx), 0, "an index has no book");
    assert.equal(data(idx).volume, null);
    await c.waitFor((f) => f.type === "market_data" && f.symbol === "NIFTY");
    assertConsistent(gw, angelView(sim));

    const handshakes = sim.handshakes;
    sim.drop();
    await until(() => sim.handshakes > handshakes, 5000, "reconnect");
    await until(() => sim.subscriptions()[0]?.size === 5, 5000, "resubscribed");
    const modes = sim.subscriptions()[0];
    assert.deepEqual([...modes.get(tokenKey(1, 1594))!].sort(), [3, 4], "INFY back on Depth-20");
    assert.deepEqual([...modes.get(tokenKey(1, 99926000))!], [1]);
    const mark = c.frames.length;
    await c.waitFor((f) => f.type === "market_data" && f.symbol === "INFY", 5000, mark);
    assertConsistent(gw, angelView(sim));
    await c.close();
    await until(() => gw.pool.streams().length === 0, 3000, "release");
    await until(() => sim.subscriptions().every((m) => m.size === 0), 3000, "broker released");
  } finally {
    await gw.stop();
    await sim.close();
  }
});

Deno.test("angel e2e: an expired JWT → auth_failed; a fresh token over the HTTP API recovers the feed", async () => {
  const { sim, gw } = await setup();
  try {
    const c = await TestClient.connect(gw);
    await c.auth();
    await c.request({ action: "subscribe", symbol: "TCS", exchange: "NSE", mode: 2 }, "subscribe");
    await c.waitFor((f) => f.type === "market_data");
    const fresh = await expireAndRecover(gw, c, () => sim.expireToken());
    assert.equal(sim.handshakeHeaders().at(-1)!["authorization"], `Bearer ${fresh}`);
    const mark = c.frames.length;
    await c.waitFor((f) => f.type === "market_data" && f.symbol === "TCS", 5000, mark);
    assertConsistent(gw, angelView(sim));
    await c.close();
  } finally {
    await gw.stop();
    await sim.close();
  }
});
