// The Angel One adapter (kit BrokerAdapter + Angel dialect, in process) against the Angel
// simulator: handshake headers, ping/pong keep-alive, tick values per mode, request grouping,
// mode changes, Depth-20 grants and releases, 401 → auth_failed, broker error messages.

import assert from "node:assert/strict";
import { BrokerAdapter } from "../../lib/adapter/mod.ts";
import type { ItemResult } from "../../lib/adapter/mod.ts";
import type { Mode, Tick } from "../../lib/types.ts";
import { decodeRequest, tokenKey } from "../../adapters/angel/codec.ts";
import { angelSpec } from "../../adapters/angel/dialect.ts";
import { type AngelSimulator, startAngelSimulator } from "../../adapters/angel/simulator.ts";
import { RecordingOutput, until } from "../helpers/recording_output.ts";

type Adapter = BrokerAdapter<Parameters<typeof angelSpec.capabilities>[0], never>;

async function withAdapter(
  extra: Record<string, unknown>,
  fn: (sim: AngelSimulator, adapter: Adapter, out: RecordingOutput) => Promise<void>,
): Promise<void> {
  const sim = await startAngelSimulator({ tickEveryMs: 0 });
  const out = new RecordingOutput();
  const adapter = new BrokerAdapter(angelSpec) as unknown as Adapter;
  try {
    await adapter.init(0, { ...sim.adapterOptions, ...extra }, out);
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

/** Requests the simulator received, parsed (pings left out). */
function parsedRequests(sim: AngelSimulator) {
  return sim.requests().filter((r) => r.text !== "ping").map((r) => {
    const q = decodeRequest(r.text);
    assert.notEqual(typeof q, "string", r.text);
    return q as Exclude<ReturnType<typeof decodeRequest>, string>;
  });
}

function last(out: RecordingOutput, symbol: string, pred: (t: Tick) => boolean = () => true) {
  return out.of(symbol).filter(pred).at(-1);
}

Deno.test("angel: the handshake carries the four SmartAPI headers; ping/pong keeps an idle feed alive", () =>
  withAdapter({ pingIntervalMs: 100, silenceTimeoutMs: 400 }, async (sim, _a, out) => {
    await until(() => out.state === "connected", "connected");
    const [h] = sim.handshakeHeaders();
    assert.equal(h["authorization"], "Bearer sim.jwt.0");
    assert.equal(h["x-api-key"], "sim_api_key");
    assert.equal(h["x-client-code"], "S1234");
    assert.equal(h["x-feed-token"], "sim_feed_token");
    // No data at all: only the pongs keep the 400 ms silence watchdog quiet.
    await until(() => sim.requests().filter((r) => r.text === "ping").length >= 8, "eight pings");
    assert.equal(sim.handshakes, 1);
    assert.deepEqual(out.statuses.map((s) => s.state), ["connecting", "connected"]);
  }));

Deno.test("angel: ticks carry the simulator's values in LTP, Quote and SnapQuote", () =>
  withAdapter({}, async (sim, adapter, out) => {
    ok(
      await adapter.subscribe([
        item("NSE", "RELIANCE", 1),
        item("NSE", "INFY", 2),
        item("NSE", "TCS", 3),
        item("NFO", "BANKNIFTY24APR24FUT", 3),
        item("NSE_INDEX", "NIFTY", 2),
        item("CDS", "USDINR26APR24FUT", 2),
      ]),
    );
    await until(() => new Set(out.received.map((t) => t.symbol)).size === 6, "a tick for each");
    const rel = last(out, "RELIANCE")!;
    assert.equal(rel.mode, 1);
    assert.equal(rel.ltp, sim.quote(1, "2885").ltp);
    assert.equal(rel.close, null);

    const infy = last(out, "INFY")!;
    const qi = sim.quote(1, "1594");
    assert.equal(infy.mode, 2);
    assert.deepEqual(
      [infy.ltp, infy.open, infy.high, infy.low, infy.close, infy.volume],
      [qi.ltp, qi.open, qi.high, qi.low, qi.close, qi.volume],
    );
    assert.equal(infy.change, Math.round((qi.ltp - qi.close) * 100) / 100);
    assert.equal(infy.total_buy_quantity, qi.totalBuyQuantity);
    assert.equal(infy.oi, null);

    const tcs = last(out, "TCS")!;
    const qt = sim.quote(1, "11536");
    assert.equal(tcs.mode, 3);
    assert.equal(tcs.close, qt.close); // not the reference's zero OHLC in depth (§2.5)
    assert.equal(tcs.ltt, qt.ltt);
    assert.deepEqual(tcs.depth?.buy, qt.bids.slice(0, 5));
    assert.deepEqual(tcs.depth?.sell, qt.asks.slice(0, 5));
    assert.equal(tcs.oi, null);

    const fut = last(out, "BANKNIFTY24APR24FUT")!;
    assert.equal(fut.oi, sim.quote(2, "35001").oi);
    assert.ok(fut.oi! > 0);

    const nifty = last(out, "NIFTY")!;
    assert.equal(nifty.exchange, "NSE_INDEX");
    assert.equal(nifty.ltp, sim.quote(1, "99926000").ltp);
    assert.equal(nifty.volume, null);
    assert.equal(nifty.last_trade_quantity, null);

    const usd = last(out, "USDINR26APR24FUT")!;
    assert.equal(usd.ltp, sim.quote(13, "1169").ltp); // currency prices travel ×1e7
  }));

Deno.test("angel: one request per mode, tokens grouped by exchange type", () =>
  withAdapter({}, async (sim, adapter) => {
    ok(
      await adapter.subscribe([
        item("NSE", "RELIANCE", 2),
        item("NFO", "BANKNIFTY24APR24FUT", 2),
        item("NSE_INDEX", "NIFTY", 2),
        item("BSE", "RELIANCE", 2),
        item("MCX", "CRUDEOIL19APR24FUT", 1),
      ]),
    );
    await until(() => parsedRequests(sim).length === 2, "two requests");
    const [quote, ltp] = parsedRequests(sim);
    assert.equal(quote.action, 1);
    assert.equal(quote.mode, 2);
    assert.match(quote.correlationID, /^[a-z0-9]{10}$/);
    assert.deepEqual(quote.tokenList, [
      { exchangeType: 1, tokens: ["2885", "99926000"] },
      { exchangeType: 2, tokens: ["35001"] },
      { exchangeType: 3, tokens: ["500325"] },
    ]);
    assert.deepEqual(ltp.tokenList, [{ exchangeType: 5, tokens: ["234230"] }]);
    assert.equal(ltp.mode, 1);
  }));

Deno.test("angel: a mode change unsubscribes the old mode; unsubscribe is real", () =>
  withAdapter({}, async (sim, adapter, out) => {
    ok(await adapter.subscribe([item("NSE", "INFY", 1)]));
    ok(await adapter.setMode([item("NSE", "INFY", 2)]));
    await until(() => parsedRequests(sim).length === 3, "three requests");
    assert.deepEqual(parsedRequests(sim).map((r) => [r.action, r.mode]), [[1, 1], [0, 1], [1, 2]]);
    const key = tokenKey(1, 1594);
    await until(() => sim.subscriptions()[0]?.get(key)?.has(2) === true, "INFY at Quote");
    assert.deepEqual([...sim.subscriptions()[0].get(key)!], [2]);
    await until(() => last(out, "INFY")?.mode === 2, "a Quote tick");
    ok(await adapter.unsubscribe([{ exchange: "NSE", symbol: "INFY" }]));
    await until(() => sim.subscriptions()[0].size === 0, "nothing streamed");
  }));

Deno.test("angel: Depth-20 for NSE cash within the quota, 5 levels elsewhere, 0 for indices", () =>
  withAdapter({ maxDepth20Tokens: 2 }, async (sim, adapter, out) => {
    const depths = ok(
      await adapter.subscribe([
        item("NSE", "RELIANCE", 3, 20),
        item("NSE", "INFY", 3, 20),
        item("NSE", "TCS", 3, 20), // over the quota of 2
        item("NFO", "BANKNIFTY24APR24FUT", 3, 20), // not NSE cash
        item("NSE_INDEX", "NIFTY", 3, 20),
        item("NSE", "SBIN", 3, 5),
      ]),
    );
    assert.deepEqual(depths, [20, 20, 5, 5, 0, 5]);
    const subs = () => sim.subscriptions()[0];
    await until(() => subs()?.get(tokenKey(1, 2885))?.has(4) === true, "RELIANCE on Depth-20");
    assert.deepEqual([...subs().get(tokenKey(1, 2885))!].sort(), [3, 4]);
    assert.deepEqual([...subs().get(tokenKey(1, 11536))!], [3]);
    assert.deepEqual([...subs().get(tokenKey(2, 35001))!], [3]);
    // The Depth-20 book merged into the SnapQuote prices: 20 levels and real OHLC.
    await until(() => last(out, "RELIANCE")?.depth?.buy.length === 20, "a 20-level tick");
    const rel = last(out, "RELIANCE")!;
    const q = sim.quote(1, "2885");
    assert.equal(rel.mode, 3);
    assert.equal(rel.ltp, q.ltp);
    assert.equal(rel.close, q.close);
    assert.deepEqual(rel.depth?.buy, q.bids);
    assert.deepEqual(rel.depth?.sell, q.asks);
    // Later SnapQuotes keep the 20-level book.
    sim.snapshot();
    await until(() => out.of("RELIANCE").length >= 4, "more RELIANCE ticks");
    assert.ok(out.of("RELIANCE").slice(2).every((t) => t.depth?.buy.length === 20));
    assert.equal(last(out, "TCS")?.depth?.buy.length, 5);
    assert.equal(last(out, "NIFTY")?.depth, null);

    // Releasing a slot (unsubscribe, or a downgrade) stops mode 4 at Angel and frees it.
    ok(await adapter.unsubscribe([{ exchange: "NSE", symbol: "RELIANCE" }]));
    ok(await adapter.setMode([item("NSE", "INFY", 2)]));
    await until(() => !subs().has(tokenKey(1, 2885)), "RELIANCE gone");
    await until(() => subs().get(tokenKey(1, 1594))?.has(4) === false, "INFY off Depth-20");
    const unsubs = parsedRequests(sim).filter((r) => r.action === 0).map((r) => r.mode);
    assert.deepEqual(unsubs.sort(), [3, 3, 4, 4]);
    assert.deepEqual(ok(await adapter.subscribe([item("NSE", "ITC", 3, 20)])), [20]);
    // TCS already streams SnapQuote: its depth cannot change in place, and the ack says so.
    assert.deepEqual(ok(await adapter.subscribe([item("NSE", "TCS", 3, 20)])), [5]);
  }));

Deno.test("angel: HTTP 401 on the handshake → auth_failed; a fresh token connects", () =>
  withAdapter({ accessToken: "expired.jwt", authRetryMs: 60_000 }, async (sim, adapter, out) => {
    await until(() => out.state === "auth_failed", "auth_failed");
    assert.match(out.statuses.at(-1)!.detail ?? "", /401/);
    assert.equal(sim.handshakes, 1);
    adapter.token(sim.credentials.accessToken);
    await until(() => out.state === "connected", "connected with the fresh token");
    assert.equal(sim.handshakeHeaders()[0]["authorization"], "Bearer sim.jwt.0");
  }));

Deno.test("angel: broker error objects are logged, the feed carries on", () =>
  withAdapter({}, async (sim, adapter, out) => {
    ok(await adapter.subscribe([item("NSE", "INFY", 2)]));
    await until(() => out.of("INFY").length > 0, "a tick");
    sim.sendError("E1002", "Invalid Request Payload");
    await until(() => out.logs.some((l) => l.message.includes("E1002")), "the error logged");
    assert.equal(out.logs.find((l) => l.message.includes("E1002"))?.level, "warning");
    sim.snapshot();
    await until(() => out.of("INFY").length > 1, "ticks after the error");
    assert.equal(out.state, "connected");
  }));
