// tickplex configured for Zerodha against the Kite simulator, end to end through :8765: correct
// quote/depth ticks, reconnect + resubscribe after a drop, 403 → auth_failed → fresh token via the
// HTTP API → recovery, and pooling with Kite's real 3000-instrument limit.

import assert from "node:assert/strict";
import { startGateway, TEST_KEY, TestClient, until } from "../helpers/gateway.ts";
import {
  SIM_ACCESS_TOKEN,
  SIM_API_KEY,
  startZerodhaSimulator,
} from "../../adapters/zerodha/mod.ts";
import { SAMPLE_INSTRUMENTS } from "./harness.ts";
import type { Gateway } from "../../lib/gateway.ts";
import { assertConsistent, kiteView } from "../helpers/invariant.ts";

type Sim = Awaited<ReturnType<typeof startZerodhaSimulator>>;

function assertAgree(gw: Gateway, sim: Sim): void {
  assertConsistent(gw, kiteView(sim));
}

async function setup(
  options: Record<string, unknown> = {},
  simOptions: Record<string, unknown> = {},
) {
  const sim = await startZerodhaSimulator({ tickIntervalMs: 50, ...simOptions });
  const gw = await startGateway({
    broker: {
      name: "zerodha",
      apiKey: SIM_API_KEY,
      accessToken: SIM_ACCESS_TOKEN,
      feedUrl: sim.url,
      instruments: (options.instruments as string) ?? SAMPLE_INSTRUMENTS,
      options: {
        reconnectBaseMs: 50,
        reconnectMaxMs: 200,
        silenceTimeoutMs: 3000,
        authRetryMinMs: 0,
        ...(options.adapter as object ?? {}),
      },
    },
  });
  return { sim, gw };
}

Deno.test("zerodha e2e: quote and depth ticks through :8765; drop → reconnect and resubscribe", async () => {
  const { sim, gw } = await setup();
  try {
    const c = await TestClient.connect(gw);
    await c.auth();
    const ack = await c.request({
      action: "subscribe",
      symbols: [
        { symbol: "RELIANCE", exchange: "NSE", mode: 2 },
        { symbol: "INFY", exchange: "NSE", mode: 3 },
        { symbol: "NIFTY", exchange: "NSE_INDEX", mode: 1 },
        { symbol: "NOPE", exchange: "NSE" },
      ],
    }, "subscribe");
    assert.equal(ack.status, "partial");
    assert.equal((ack.subscriptions as { code?: string }[])[3].code, "SYMBOL_NOT_FOUND");
    const q = await c.waitFor((f) => f.type === "market_data" && f.symbol === "RELIANCE", 5000);
    const data = q.data as Record<string, number>;
    assert.equal(q.mode, 2);
    assert.ok(data.ltp > 0 && data.close > 0 && data.volume >= 0);
    // The value the client sees is exactly the simulator's market state (paise → rupees).
    const d = await c.waitFor((f) => f.type === "market_data" && f.symbol === "INFY", 5000);
    const depth =
      (d.data as { depth: { buy: { price: number }[]; sell: { price: number }[] } }).depth;
    assert.equal(depth.buy.length, 5);
    assert.ok(depth.buy[0].price <= depth.sell[0].price);
    await c.waitFor((f) => f.type === "market_data" && f.symbol === "NIFTY", 5000);
    assertAgree(gw, sim);

    const handshakes = sim.stats.handshakes;
    sim.faults.drop();
    await until(() => sim.stats.handshakes > handshakes, 5000, "reconnect");
    await until(
      () => sim.subscriptions().filter((x) => x.open).reduce((n, x) => n + x.tokens.size, 0) === 3,
      5000,
      "resubscribed",
    );
    const mark = c.frames.length;
    await c.waitFor((f) => f.type === "market_data" && f.symbol === "INFY", 5000, mark);
    assertAgree(gw, sim);
    const modes = [...sim.subscriptions().find((x) => x.open)!.tokens.values()].sort();
    assert.deepEqual(modes, ["full", "ltp", "quote"], "each token resubscribed in its mode");
    await c.close();
    await until(() => gw.pool.streams().length === 0, 3000, "release");
    await until(
      () => sim.subscriptions().filter((x) => x.open).every((x) => x.tokens.size === 0),
      3000,
      "broker released",
    );
  } finally {
    await gw.stop();
    await sim.close();
  }
});

Deno.test("zerodha e2e: 403 → auth_failed; a fresh token over the HTTP API recovers the feed", async () => {
  const { sim, gw } = await setup();
  try {
    const c = await TestClient.connect(gw);
    await c.auth();
    await c.request({ action: "subscribe", symbol: "TCS", exchange: "NSE", mode: 2 }, "subscribe");
    await c.waitFor((f) => f.type === "market_data", 5000);
    // The daily rollover: the old token stops working and the connection drops.
    sim.setCredentials({ accessToken: "rolled-over-token-0001" });
    sim.faults.drop();
    await until(() => gw.pool.status()[0].state === "auth_failed", 5000, "auth_failed");
    const info = await c.request({ action: "get_broker_info" }, "broker_info");
    assert.equal(info.adapter_status, "auth_failed");
    const base = `http://127.0.0.1:${gw.proxy.addr.port}/api/v1/broker/token`;
    const denied = await fetch(base, {
      method: "POST",
      body: JSON.stringify({ accessToken: "x" }),
    });
    assert.equal(denied.status, 401);
    await denied.body?.cancel();
    const r = await fetch(base, {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_KEY}` },
      body: JSON.stringify({ accessToken: "rolled-over-token-0001" }),
    });
    assert.equal(r.status, 200, await r.text());
    await until(() => gw.pool.status()[0].state === "connected", 5000, "recovered");
    const mark = c.frames.length;
    await c.waitFor((f) => f.type === "market_data" && f.symbol === "TCS", 5000, mark);
    assertAgree(gw, sim);
    await c.close();
  } finally {
    await gw.stop();
    await sim.close();
  }
});

Deno.test("zerodha e2e: the 3001st instrument opens the second connection (real Kite limits)", async () => {
  const dir = await Deno.makeTempDir();
  const csv = [
    "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange",
  ];
  for (let i = 0; i < 3001; i++) {
    csv.push(`${100000 + i * 256},${1000 + i},SYM${i},"SYNTH ${i}",0,,0,0.05,1,EQ,NSE,NSE`);
  }
  const file = `${dir}/instruments.csv`;
  await Deno.writeTextFile(file, csv.join("\n") + "\n");
  const { sim, gw } = await setup({ instruments: file }, { tickIntervalMs: 500 });
  try {
    const c = await TestClient.connect(gw);
    await c.auth();
    const symbols = Array.from(
      { length: 3000 },
      (_, i) => ({ symbol: `SYM${i}`, exchange: "NSE" }),
    );
    const ack = await c.request({ action: "subscribe", symbols, mode: 1 }, "subscribe", 30_000);
    assert.equal(ack.status, "success");
    assert.equal(gw.pool.status().length, 1, "3000 instruments fit one Kite connection");
    const more = await c.request(
      { action: "subscribe", symbol: "SYM3000", exchange: "NSE", mode: 1 },
      "subscribe",
      10_000,
    );
    assert.equal(more.status, "success");
    const st = gw.pool.status();
    assert.deepEqual(st.map((s) => s.symbols), [3000, 1]);
    await until(
      () =>
        sim.subscriptions().filter((x) => x.open).map((x) => x.tokens.size).sort((a, b) => a - b)
          .join() === "1,3000",
      10_000,
      "broker view",
    );
    assertAgree(gw, sim);
    await c.close();
  } finally {
    await gw.stop();
    await sim.close();
    await Deno.remove(dir, { recursive: true });
  }
});
