// The Dhan adapter (kit BrokerAdapter + Dhan dialect, in process) against the Dhan simulator:
// query auth rebuilt per attempt, tick values with previous close and OI merged, ≤ 100
// instruments per request, mode changes and real unsubscribes, disconnect reasons 805–809, and
// the broker's WebSocket pings.

import assert from "node:assert/strict";
import { BrokerAdapter } from "../../lib/adapter/mod.ts";
import type { ItemResult } from "../../lib/adapter/mod.ts";
import type { Mode } from "../../lib/types.ts";
import { decodeRequest, tokenKey } from "../../adapters/dhan/codec.ts";
import { dhanSpec } from "../../adapters/dhan/dialect.ts";
import {
  type DhanSimulator,
  type DhanSimulatorOptions,
  startDhanSimulator,
} from "../../adapters/dhan/simulator.ts";
import { RecordingOutput, until } from "../helpers/recording_output.ts";

type Adapter = BrokerAdapter<Parameters<typeof dhanSpec.capabilities>[0], never>;

async function withAdapter(
  simOpts: DhanSimulatorOptions,
  extra: Record<string, unknown>,
  fn: (sim: DhanSimulator, adapter: Adapter, out: RecordingOutput) => Promise<void>,
): Promise<void> {
  const sim = await startDhanSimulator({ tickEveryMs: 0, ...simOpts });
  const out = new RecordingOutput();
  const adapter = new BrokerAdapter(dhanSpec) as unknown as Adapter;
  try {
    await adapter.init(0, { ...sim.adapterOptions, dataStallMs: 0, ...extra }, out);
    await fn(sim, adapter, out);
    assert.deepEqual(out.invalid, []);
  } finally {
    await adapter.close();
    await sim.close();
  }
}

const item = (exchange: string, symbol: string, mode: Mode, depth = 5) => ({
  exchange,
  symbol,
  mode,
  depth,
});

function ok(results: ItemResult[]): (number | undefined)[] {
  for (const r of results) assert.ok(r.ok, `${r.symbol}: ${!r.ok ? r.message : ""}`);
  return results.map((r) => (r.ok ? r.depth : undefined));
}

function parsedRequests(sim: DhanSimulator) {
  return sim.requests().map((r) => {
    const q = decodeRequest(r.text);
    assert.notEqual(typeof q, "string", r.text);
    return q as Exclude<ReturnType<typeof decodeRequest>, string>;
  });
}

const lastOf = (out: RecordingOutput, symbol: string) => out.of(symbol).at(-1);

Deno.test("dhan: the URL carries token and client id, rebuilt on every attempt (fresh token after 807)", () =>
  withAdapter({}, {}, async (sim, adapter, out) => {
    await until(() => out.state === "connected", "connected");
    const first = new URL(sim.handshakeUrls()[0]).searchParams;
    assert.deepEqual(
      [first.get("version"), first.get("token"), first.get("clientId"), first.get("authType")],
      ["2", "sim.dhan.jwt.0", "1100000001", "2"],
    );
    ok(await adapter.subscribe([item("NSE", "INFY", 2)]));
    const fresh = sim.expireToken(); // disconnect packet 807 on the live socket
    await until(() => out.state === "auth_failed", "auth_failed");
    assert.match(out.statuses.at(-1)!.detail ?? "", /807: access token expired/);
    adapter.token(fresh);
    await until(() => out.state === "connected", "connected with the fresh token");
    assert.equal(new URL(sim.handshakeUrls().at(-1)!).searchParams.get("token"), fresh);
    // Resubscribed on the new connection.
    await until(() => sim.subscriptions()[0]?.has(tokenKey(1, 1594)) === true, "INFY again");
  }));

Deno.test("dhan: ticks carry the simulator's values; previous close and OI are merged in", () =>
  withAdapter({}, {}, async (sim, adapter, out) => {
    const depths = ok(
      await adapter.subscribe([
        item("NSE", "RELIANCE", 1),
        item("NSE", "INFY", 2),
        item("NSE", "TCS", 3),
        item("NFO", "BANKNIFTY24APR24FUT", 2),
        item("NSE_INDEX", "NIFTY", 3),
      ]),
    );
    assert.deepEqual(depths, [undefined, undefined, 5, undefined, 0]);
    await until(() => new Set(out.received.map((t) => t.symbol)).size === 5, "a tick for each");
    const rel = lastOf(out, "RELIANCE")!;
    assert.equal(rel.mode, 1);
    assert.equal(rel.ltp, sim.quote(1, 2885).ltp);
    assert.equal(rel.ltt, sim.quote(1, 2885).ltt);

    const infy = lastOf(out, "INFY")!;
    const qi = sim.quote(1, 1594);
    assert.equal(infy.mode, 2);
    assert.deepEqual(
      [infy.ltp, infy.open, infy.high, infy.low, infy.volume, infy.avg_trade_price],
      [qi.ltp, qi.open, qi.high, qi.low, qi.volume, qi.averagePrice],
    );
    // The previous close comes in its own packet (code 6); the reference drops it.
    assert.equal(infy.close, qi.close);
    assert.equal(infy.change, Math.round((qi.ltp - qi.close) * 100) / 100);
    assert.ok(infy.change_percent !== null);
    assert.equal(infy.total_buy_quantity, qi.totalBuyQuantity);
    assert.equal(infy.total_sell_quantity, qi.totalSellQuantity);
    assert.equal(infy.oi, null);

    const tcs = lastOf(out, "TCS")!;
    const qt = sim.quote(1, 11536);
    assert.equal(tcs.mode, 3);
    assert.equal(tcs.close, qt.close);
    assert.deepEqual(tcs.depth?.buy, qt.bids);
    assert.deepEqual(tcs.depth?.sell, qt.asks);

    const fut = lastOf(out, "BANKNIFTY24APR24FUT")!;
    assert.equal(fut.close, sim.quote(2, 35001).close);

    const nifty = lastOf(out, "NIFTY")!;
    assert.equal(nifty.exchange, "NSE_INDEX");
    assert.equal(nifty.ltp, sim.quote(0, 13).ltp);
    assert.equal(nifty.volume, null);
    assert.equal(nifty.depth, null);
    // An index in Depth streams on the Quote code: no Full packets without a book.
    const codes = sim.subscriptions()[0].get(tokenKey(0, 13));
    assert.deepEqual([...codes!], [17]);
  }));

Deno.test("dhan: OI packets fill the OI of Quote ticks of derivatives", () =>
  withAdapter({ tickEveryMs: 50 }, {}, async (sim, adapter, out) => {
    ok(await adapter.subscribe([item("NFO", "BANKNIFTY24APR24FUT", 2)]));
    await until(() => out.of("BANKNIFTY24APR24FUT").length >= 3, "three ticks");
    const t = lastOf(out, "BANKNIFTY24APR24FUT")!;
    assert.ok(t.oi !== null && t.oi > 0);
    assert.ok(out.of("BANKNIFTY24APR24FUT").slice(1).every((x) => x.oi !== null));
    assert.equal(t.close, sim.quote(2, 35001).close);
  }));

Deno.test("dhan: at most 100 instruments per request", async () => {
  // A master of 250 NSE equities (ids 100000–100249).
  const rows = [
    "SEM_EXM_EXCH_ID,SEM_SEGMENT,SEM_SMST_SECURITY_ID,SEM_INSTRUMENT_NAME,SEM_TRADING_SYMBOL",
  ];
  for (let i = 0; i < 250; i++) rows.push(`NSE,E,${100000 + i},EQUITY,SYM${i}`);
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  try {
    await Deno.writeTextFile(path, rows.join("\n") + "\n");
    await withAdapter({}, { instruments: path }, async (sim, adapter) => {
      const items = Array.from({ length: 250 }, (_, i) => item("NSE", `SYM${i}`, 2));
      ok(await adapter.subscribe(items));
      await until(() => sim.subscriptions()[0]?.size === 250, "250 subscribed");
      assert.deepEqual(parsedRequests(sim).map((r) => [r.code, r.instruments.length]), [
        [17, 100],
        [17, 100],
        [17, 50],
      ]);
      assert.equal(sim.rejectedRequests, 0);
    });
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("dhan: mode changes unsubscribe the old code; unsubscribe is real (code + 1)", () =>
  withAdapter({}, {}, async (sim, adapter) => {
    ok(await adapter.subscribe([item("NSE", "INFY", 1), item("NSE_INDEX", "NIFTY", 2)]));
    ok(await adapter.setMode([item("NSE", "INFY", 2), item("NSE_INDEX", "NIFTY", 3)]));
    ok(await adapter.unsubscribe([{ exchange: "NSE", symbol: "INFY" }]));
    await until(() => parsedRequests(sim).length === 5, "five requests");
    // The index moves from Quote to Depth without a frame: both stream on code 17.
    assert.deepEqual(parsedRequests(sim).map((r) => [r.code, r.instruments[0]?.securityId]), [
      [15, "1594"],
      [17, "13"],
      [16, "1594"],
      [17, "1594"],
      [18, "1594"],
    ]);
    await until(() => !sim.subscriptions()[0].has(tokenKey(1, 1594)), "INFY gone at Dhan");
    assert.deepEqual([...sim.subscriptions()[0].keys()], [tokenKey(0, 13)]);
  }));

Deno.test("dhan: disconnect 805 reconnects; 806, 808 and 809 are auth failures", () =>
  withAdapter({}, { authRetryMs: 60_000 }, async (sim, adapter, out) => {
    ok(await adapter.subscribe([item("NSE", "INFY", 2)]));
    await until(() => out.state === "connected", "connected");
    const from = out.statuses.length;
    sim.disconnectAll(805);
    await until(
      () => out.statuses.slice(from).some((s) => s.state === "reconnecting"),
      "reconnect",
    );
    assert.match(out.statuses.slice(from)[0].detail ?? "", /805: too many connections/);
    await until(() => sim.subscriptions()[0]?.has(tokenKey(1, 1594)) === true, "resubscribed");
    for (const reason of [806, 808, 809]) {
      await until(() => out.state === "connected", "connected");
      sim.disconnectAll(reason);
      await until(() => out.state === "auth_failed", `auth_failed on ${reason}`);
      assert.match(out.statuses.at(-1)!.detail ?? "", new RegExp(`${reason}`));
      // The same token again (an operator fixed the account): a bounded retry reconnects.
      adapter.token(sim.credentials.accessToken);
    }
  }));

Deno.test("dhan: the broker's WebSocket pings are answered; an idle feed stays up", () =>
  withAdapter({ idleTimeoutS: 1 }, {}, async (sim, _adapter, out) => {
    await until(() => out.state === "connected", "connected");
    // Two and a half ping periods with nothing else on the wire: an unanswered ping would close.
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(sim.handshakes, 1);
    assert.equal(out.state, "connected");
  }));
