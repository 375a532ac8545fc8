// tickplex configured for Upstox against the V3 simulator, end to end through :8765: quote and
// depth values as the simulated market holds them (close = previous close, 5 and 30 levels, no
// order counts), drop → resubscribe, expired token → auth_failed → fresh token over the HTTP API.

import assert from "node:assert/strict";
import { expireAndRecover, startGateway, TestClient, until } from "../helpers/gateway.ts";
import { assertConsistent, type BrokerView } from "../helpers/invariant.ts";
import {
  SIM_ACCESS_TOKEN,
  SIM_INSTRUMENTS,
  startUpstoxSimulator,
  type UpstoxSimulator,
} from "../../adapters/upstox/simulator.ts";

function view(sim: UpstoxSimulator): BrokerView {
  return { streamed: () => sim.streams().reduce((n, m) => n + m.size, 0) };
}

async function setup() {
  const sim = await startUpstoxSimulator({ tickEveryMs: 50 });
  const gw = await startGateway({
    broker: {
      name: "upstox",
      accessToken: SIM_ACCESS_TOKEN,
      feedUrl: sim.restUrl,
      instruments: SIM_INSTRUMENTS,
      options: {
        fullD30: true,
        reconnectBaseMs: 50,
        reconnectMaxMs: 200,
        dataStallMs: 2000,
        authRetryMinMs: 0,
      },
    },
  });
  return { sim, gw };
}

type Level = { price: number; quantity: number; orders: number | null };
type Data = Record<string, number | null> & { depth?: { buy: Level[]; sell: Level[] } };

Deno.test("upstox e2e: quote and depth through :8765 carry the market's values; drop → resubscribe", async () => {
  const { sim, gw } = await setup();
  try {
    const c = await TestClient.connect(gw);
    await c.auth();
    const ack = await c.request({
      action: "subscribe",
      symbols: [
        { symbol: "RELIANCE", exchange: "NSE", mode: 2 },
        { symbol: "NIFTY28MAR2422000CE", exchange: "NFO", mode: 3 },
        { symbol: "NIFTY", exchange: "NSE_INDEX", mode: 1 },
        { symbol: "NOPE", exchange: "NSE" },
      ],
    }, "subscribe");
    assert.equal(ack.status, "partial");
    const subs = ack.subscriptions as { code?: string; depth?: number }[];
    assert.equal(subs[3].code, "SYMBOL_NOT_FOUND");
    // Depth is per request: 30 levels stream Upstox's full_d30.
    const deepAck = await c.request(
      { action: "subscribe", symbol: "INFY", exchange: "NSE", mode: 3, depth: 30 },
      "subscribe",
    );
    assert.equal((deepAck.subscriptions as { depth?: number }[])[0].depth, 30);
    const q = await c.waitFor((f) => f.type === "market_data" && f.symbol === "RELIANCE", 5000);
    const data = q.data as Data;
    const market = sim.market.quote("NSE_EQ|INE002A01018");
    // The previous close never moves; the day candle's close is the running price.
    assert.equal(data.close, market.close);
    assert.equal(data.open, market.open);
    assert.ok((data.high as number) >= (data.low as number));
    assert.equal(data.change, Math.round(((data.ltp as number) - market.close) * 1e4) / 1e4);
    assert.equal(data.oi, null, "equities carry no OI");
    const d = await c.waitFor(
      (f) => f.type === "market_data" && f.symbol === "NIFTY28MAR2422000CE",
      5000,
    );
    const dd = d.data as Data;
    assert.equal(dd.depth?.buy.length, 5);
    assert.equal(dd.depth?.buy[0].orders, null);
    assert.ok(dd.depth!.buy[0].price < dd.depth!.sell[0].price);
    assert.ok((dd.oi as number) > 0, "options carry OI");
    const deep = await c.waitFor(
      (f) =>
        f.type === "market_data" && f.symbol === "INFY" &&
        (f.data as Data).depth?.buy.length === 30,
      5000,
    );
    assert.equal((deep.data as Data).depth?.sell.length, 30);
    await c.waitFor((f) => f.type === "market_data" && f.symbol === "NIFTY", 5000);
    assertConsistent(gw, view(sim));

    const handshakes = sim.handshakes;
    const authorizations = sim.authorizations.length;
    sim.drop();
    await until(() => sim.handshakes > handshakes, 5000, "reconnect");
    assert.ok(sim.authorizations.length > authorizations, "authorised again");
    await until(() => view(sim).streamed() === 4, 5000, "resubscribed");
    const modes = [...sim.streams().flatMap((m) => [...m])].sort();
    assert.deepEqual(modes, [
      ["NFO:NIFTY28MAR2422000CE", 3],
      ["NSE:INFY", 3],
      ["NSE:RELIANCE", 3],
      ["NSE_INDEX:NIFTY", 1],
    ]);
    const mark = c.frames.length;
    await c.waitFor((f) => f.type === "market_data" && f.symbol === "INFY", 5000, mark);
    assertConsistent(gw, view(sim));
    await c.close();
    await until(() => gw.pool.streams().length === 0, 3000, "release");
    await until(() => view(sim).streamed() === 0, 3000, "broker released");
  } finally {
    await gw.stop();
    await sim.close();
  }
});

Deno.test("upstox e2e: expired token → auth_failed; a fresh token over the HTTP API recovers", async () => {
  const { sim, gw } = await setup();
  try {
    const c = await TestClient.connect(gw);
    await c.auth();
    await c.request({ action: "subscribe", symbol: "TCS", exchange: "NSE", mode: 2 }, "subscribe");
    await c.waitFor((f) => f.type === "market_data", 5000);
    const fresh = await expireAndRecover(gw, c, () => sim.expireToken());
    assert.equal(sim.authorizations.at(-1), `Bearer ${fresh}`);
    const mark = c.frames.length;
    await c.waitFor((f) => f.type === "market_data" && f.symbol === "TCS", 5000, mark);
    assertConsistent(gw, view(sim));
    await c.close();
  } finally {
    await gw.stop();
    await sim.close();
  }
});
