// tickplex configured for Groww against its NATS-over-WebSocket simulator, end to end through
// :8765: quote, depth and index values exactly as the simulator's market holds them, NSE and BSE
// kept apart, drop → reconnect and resubscribe, expired token → auth_failed → fresh token over
// the HTTP API → recovery.

import assert from "node:assert/strict";
import { expireAndRecover, startGateway, TestClient, until } from "../helpers/gateway.ts";
import { assertConsistent, type BrokerView } from "../helpers/invariant.ts";
import {
  type GrowwSimulator,
  SAMPLE_INSTRUMENTS,
  startGrowwSimulator,
} from "../../adapters/groww/mod.ts";

function growwView(sim: GrowwSimulator): BrokerView {
  return { streamed: () => sim.streams().reduce((n, m) => n + m.size, 0) };
}

async function setup(adapter: Record<string, unknown> = {}) {
  // No market clock: the simulator publishes on subscribe and when the test says so, so the
  // values a client sees can be compared with the simulator's state exactly.
  const sim = await startGrowwSimulator({ tickIntervalMs: 0 });
  const gw = await startGateway({
    broker: {
      name: "groww",
      accessToken: sim.accessToken,
      feedUrl: sim.url,
      instruments: SAMPLE_INSTRUMENTS,
      options: {
        reconnectBaseMs: 50,
        reconnectMaxMs: 200,
        keepAliveMs: 500,
        silenceTimeoutMs: 3000,
        authRetryMinMs: 0,
        ...adapter,
      },
    },
  });
  return { sim, gw };
}

type Data = Record<string, unknown> & {
  depth?: { buy: { price: number; quantity: number }[]; sell: { price: number }[] };
};

Deno.test("groww e2e: quote, depth and index through :8765 match the simulator; drop → resubscribe", async () => {
  const { sim, gw } = await setup();
  try {
    const c = await TestClient.connect(gw);
    await c.auth();
    const ack = await c.request({
      action: "subscribe",
      symbols: [
        { symbol: "RELIANCE", exchange: "NSE", mode: 2 },
        { symbol: "RELIANCE", exchange: "BSE", mode: 1 },
        { symbol: "INFY", exchange: "NSE", mode: 3 },
        { symbol: "NIFTY", exchange: "NSE_INDEX", mode: 2 },
        { symbol: "NOPE", exchange: "NSE" },
      ],
    }, "subscribe");
    assert.equal(ack.status, "partial");
    assert.equal((ack.subscriptions as { code?: string }[])[4].code, "SYMBOL_NOT_FOUND");
    const wait = (symbol: string, exchange = "NSE", from = 0) =>
      c.waitFor(
        (f) => f.type === "market_data" && f.symbol === symbol && f.exchange === exchange,
        5000,
        from,
      );
    const q = (await wait("RELIANCE")).data as Data;
    const rel = sim.quote("eq/nse/2885");
    assert.deepEqual(
      [q.ltp, q.open, q.high, q.low, q.close, q.volume],
      [rel.ltp, rel.open, rel.high, rel.low, rel.close, rel.volume],
    );
    const bse = (await wait("RELIANCE", "BSE")).data as Data;
    assert.equal(bse.ltp, sim.quote("eq/bse/500325").ltp, "BSE RELIANCE is BSE's token");
    assert.notEqual(sim.quote("eq/bse/500325").ltp, rel.ltp);
    const d = (await wait("INFY")).data as Data;
    const infy = sim.quote("eq/nse/1594");
    assert.equal(d.ltp, infy.ltp);
    assert.deepEqual(
      d.depth?.buy.map((l) => [l.price, l.quantity]),
      infy.bids.map((l) => [l.price, l.quantity]),
    );
    assert.equal(d.depth?.sell.length, 5);
    const n = (await wait("NIFTY", "NSE_INDEX")).data as Data;
    assert.equal(n.ltp, sim.quote("indices/nse/NIFTY").ltp);
    // Market moves reach the client.
    const mark = c.frames.length;
    sim.publish();
    const moved = (await wait("INFY", "NSE", mark)).data as Data;
    assert.equal(moved.volume, sim.quote("eq/nse/1594").volume);
    assertConsistent(gw, growwView(sim));

    const handshakes = sim.handshakes;
    assert.ok(sim.drop() >= 1);
    await until(() => sim.handshakes > handshakes, 5000, "reconnect");
    const want = "BSE:RELIANCE=2,NSE:INFY=3,NSE:RELIANCE=2,NSE_INDEX:NIFTY=2";
    const broker = () =>
      sim.streams().flatMap((m) => [...m].map(([k, v]) => `${k}=${v}`)).sort().join();
    await until(() => broker() === want, 5000, "each instrument resubscribed at its mode");
    const after = c.frames.length;
    sim.publish();
    await wait("INFY", "NSE", after);
    assertConsistent(gw, growwView(sim));
    await c.close();
    await until(() => gw.pool.streams().length === 0, 3000, "release");
    await until(() => broker() === "", 3000, "broker released");
  } finally {
    await gw.stop();
    await sim.close();
  }
});

Deno.test("groww e2e: expired token → auth_failed; a fresh token over the HTTP API recovers", async () => {
  const { sim, gw } = await setup({ authRetryMs: 60_000 });
  try {
    const c = await TestClient.connect(gw);
    await c.auth();
    await c.request({ action: "subscribe", symbol: "TCS", exchange: "NSE", mode: 2 }, "subscribe");
    await c.waitFor((f) => f.type === "market_data", 5000);
    const mints = sim.mints;
    await expireAndRecover(gw, c, () => sim.expireToken());
    assert.ok(sim.mints > mints, "a new socket token was minted with the fresh access token");
    const mark = c.frames.length;
    sim.publish();
    await c.waitFor((f) => f.type === "market_data" && f.symbol === "TCS", 5000, mark);
    assertConsistent(gw, growwView(sim));
    await c.close();
  } finally {
    await gw.stop();
    await sim.close();
  }
});
