// tickplex configured for Fyers and Kotak Neo against their HSM simulators, end to end through
// :8765: LTP/Quote/Depth values equal to the simulator's market, an index in Depth acknowledged
// with depth 0 and no volume, Fyers' full mode and acks, drop → resubscribe, and Kotak's daily
// session end → auth_failed → a fresh token over the HTTP API.

import assert from "node:assert/strict";
import { expireAndRecover, startGateway, TestClient, until } from "../helpers/gateway.ts";
import { assertConsistent, type BrokerView } from "../helpers/invariant.ts";
import { startFyersSimulator } from "../../adapters/fyers/mod.ts";
import { startKotakSimulator } from "../../adapters/kotak/mod.ts";
import type { HsmSimulator } from "../../adapters/hsm/simulator.ts";

type Frame = Record<string, unknown>;

function view(sim: HsmSimulator): BrokerView {
  return { streamed: () => sim.streams().reduce((n, m) => n + m.size, 0) };
}

const isData = (symbol: string, mode?: number) => (f: Frame) =>
  f.type === "market_data" && f.symbol === symbol && (mode === undefined || f.mode === mode);

const TIMINGS = {
  reconnectBaseMs: 50,
  reconnectMaxMs: 200,
  dataStallMs: 3000,
  authRetryMinMs: 0,
};

Deno.test("fyers e2e: LTP, Quote, Depth and an index through :8765 with the simulator's values; full mode, acks; drop → resubscribe", async () => {
  const sim = await startFyersSimulator({ tickIntervalMs: 50, ackEvery: 3 });
  const gw = await startGateway({
    broker: {
      name: "fyers",
      accessToken: sim.accessToken,
      feedUrl: sim.url,
      instruments: (sim.adapterOptions.instruments as string[]).join(","),
      options: TIMINGS,
    },
  });
  try {
    const c = await TestClient.connect(gw);
    await c.auth();
    const ack = await c.request({
      action: "subscribe",
      symbols: [
        { symbol: "SBIN", exchange: "NSE", mode: 1 },
        { symbol: "NIFTY29SEP26FUT", exchange: "NFO", mode: 3, depth: 5 },
        { symbol: "NIFTY", exchange: "NSE_INDEX", mode: 3 },
        { symbol: "NOPE", exchange: "NSE" },
      ],
    }, "subscribe");
    assert.equal(ack.status, "partial");
    const subs = ack.subscriptions as { depth?: number; code?: string }[];
    assert.equal(subs[1].depth, 5);
    assert.equal(subs[2].depth, 0, "an index in Depth: no book");
    assert.equal(subs[3].code, "SYMBOL_NOT_FOUND");

    const ltp = await c.waitFor(isData("SBIN", 1));
    assert.ok((ltp.data as { ltp: number }).ltp > 0);
    const fut = await c.waitFor(isData("NIFTY29SEP26FUT", 3));
    const data = fut.data as {
      depth: { buy: { price: number }[]; sell: { price: number }[] };
      oi: number;
    };
    assert.equal(data.depth.buy.length, 5);
    assert.equal(data.depth.sell.length, 5);
    assert.ok(data.oi > 0, "a future carries OI");
    const nifty = await c.waitFor(isData("NIFTY", 3));
    const n = nifty.data as { volume?: number | null; close: number; ltp: number };
    assert.equal(n.volume ?? null, null, "an index has no volume");
    assert.ok(n.close > 0);
    // The client sees the simulator's market: a tick at the simulator's current LTP and volume.
    await until(
      () => {
        const q = sim.sim.market.quote("nse_fo|68407");
        const last = c.frames.findLast(isData("NIFTY29SEP26FUT", 3))?.data as
          | { ltp: number; volume: number }
          | undefined;
        return last?.ltp === q.ltp && last.volume === q.volume;
      },
      3000,
      "the future at the simulator's LTP and volume",
    );
    assertConsistent(gw, view(sim.sim));

    // Full mode was asked for on channel 11 (the simulator starts channels in lite mode), and
    // data frames were acknowledged every 3.
    const conn = sim.sim.server.connections()[0];
    assert.equal(conn.state.lite.get(11), false);
    await until(() => conn.state.acks.length >= 2, 3000, "acks");
    assert.equal(sim.sim.stats.lites, 0, "no lite items once in full mode");
    assert.deepEqual(
      [...sim.sim.topics()[0]].sort(),
      ["dp|nse_fo|68407", "if|nse_cm|Nifty 50", "sf|nse_cm|3045", "sf|nse_fo|68407"],
    );

    const connects = sim.sim.stats.connects;
    assert.equal(sim.drop(), 1);
    await until(() => sim.sim.stats.connects > connects, 5000, "auth again");
    await until(() => sim.sim.topics()[0]?.length === 4, 5000, "resubscribed");
    const mark = c.frames.length;
    await c.waitFor(isData("NIFTY29SEP26FUT", 3), 5000, mark);
    assertConsistent(gw, view(sim.sim));
    assert.equal(sim.sim.stats.badRequests, 0);
    assert.equal(sim.sim.stats.refusedRequests, 0);
    await c.close();
  } finally {
    await gw.stop();
    await sim.close();
  }
});

Deno.test("kotak e2e: Quote and Depth with the simulator's values over channels 2–16; session end → auth_failed → fresh token over the HTTP API", async () => {
  const sim = await startKotakSimulator({ tickIntervalMs: 50, ackEvery: 5 });
  const gw = await startGateway({
    broker: {
      name: "kotak",
      accessToken: sim.accessToken,
      extra: { sid: sim.sid },
      feedUrl: sim.url,
      instruments: (sim.adapterOptions.instruments as string[]).join(","),
      options: TIMINGS,
    },
  });
  try {
    const c = await TestClient.connect(gw);
    await c.auth();
    const ack = await c.request({
      action: "subscribe",
      symbols: [
        { symbol: "TCS", exchange: "NSE", mode: 2 },
        { symbol: "NIFTY22SEP2621000PE", exchange: "NFO", mode: 3 },
        { symbol: "NIFTY", exchange: "NSE_INDEX", mode: 2 },
      ],
    }, "subscribe");
    assert.equal(ack.status, "success");
    const q = await c.waitFor(isData("TCS", 2));
    const tcs = q.data as Record<string, number | null>;
    assert.ok((tcs.volume as number) > 0 && (tcs.close as number) > 0);
    assert.equal(tcs.oi ?? null, null, "an equity has no OI");
    await until(
      () => {
        const m = sim.sim.market.quote("nse_cm|11536");
        const last = c.frames.findLast(isData("TCS", 2))?.data as { ltp: number } | undefined;
        return last?.ltp === m.ltp;
      },
      3000,
      "TCS at the simulator's LTP",
    );
    const d = await c.waitFor(isData("NIFTY22SEP2621000PE", 3));
    assert.equal((d.data as { depth: { buy: unknown[] } }).depth.buy.length, 5);
    const nifty = await c.waitFor(isData("NIFTY", 2));
    assert.equal((nifty.data as { volume?: number | null }).volume ?? null, null);
    assert.deepEqual(
      [...sim.sim.topics()[0]].sort(),
      ["dp|nse_fo|56526", "if|nse_cm|Nifty 50", "sf|nse_cm|11536", "sf|nse_fo|56526"],
    );
    const conn = sim.sim.server.connections()[0];
    assert.ok([...conn.state.topics.values()].every((t) => t.channel >= 2 && t.channel <= 16));
    await until(() => conn.state.acks.length >= 1, 3000, "acks");
    assertConsistent(gw, view(sim.sim));

    // The daily session end: the socket closes, the old trade token is refused with `N`.
    await expireAndRecover(gw, c, () => sim.expireToken());
    const mark = c.frames.length;
    await c.waitFor(isData("TCS", 2), 5000, mark);
    assert.ok(sim.sim.stats.rejectedConnects >= 1);
    assertConsistent(gw, view(sim.sim));
    await c.close();
  } finally {
    await gw.stop();
    await sim.close();
  }
});
