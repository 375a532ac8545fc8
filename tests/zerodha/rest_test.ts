// Kite REST market quotes: the decoder against random and truncated input, the simulator's
// /quote endpoints and rate limit, the official kiteconnect client reading the simulator, and the
// adapter worker answering `quote` requests with normalised ticks.

import assert from "node:assert/strict";
import { KiteConnect } from "kiteconnect";
import {
  decodeKiteQuotes,
  fetchKiteQuotes,
  type KiteQuoteItem,
  kiteTimeMs,
  type QuoteTarget,
} from "../../adapters/zerodha/rest.ts";
import { startZerodhaSimulator } from "../../adapters/zerodha/simulator.ts";
import { prng } from "../../lib/adapter/sim/mod.ts";
import type { Tick } from "../../lib/types.ts";
import { SAMPLE_INSTRUMENTS, WorkerHarness } from "./harness.ts";

const CSV = await Deno.readTextFile(SAMPLE_INSTRUMENTS);

const ITEMS: KiteQuoteItem[] = [
  { kiteKey: "NSE:RELIANCE", target: { exchange: "NSE", symbol: "RELIANCE", index: false } },
  { kiteKey: "NSE:INFY", target: { exchange: "NSE", symbol: "INFY", index: false } },
  { kiteKey: "NSE:NIFTY 50", target: { exchange: "NSE_INDEX", symbol: "NIFTY", index: true } },
  { kiteKey: "NSE:NOSUCH", target: { exchange: "NSE", symbol: "NOSUCH", index: false } },
];

function targetsOf(items: KiteQuoteItem[]): Map<string, QuoteTarget> {
  return new Map(items.map((i) => [i.kiteKey, i.target]));
}

const creds = (sim: { apiKey: string; accessToken: string }) => ({
  apiKey: sim.apiKey,
  accessToken: sim.accessToken,
});

Deno.test("Kite quote decoder: random and truncated input is counted and skipped, never thrown", async () => {
  await using sim = await startZerodhaSimulator({
    tickIntervalMs: 0,
    heartbeatIntervalMs: 0,
    instrumentsCsv: CSV,
    quoteRequestsPerSecond: 100,
  });
  const url = new URL("/quote", sim.apiUrl);
  for (const i of ITEMS) url.searchParams.append("i", i.kiteKey);
  const res = await fetch(url, {
    headers: { Authorization: `token ${sim.apiKey}:${sim.accessToken}` },
  });
  const text = await res.text();
  const targets = targetsOf(ITEMS);
  const good = decodeKiteQuotes(JSON.parse(text), 3, targets, 0);
  assert.equal(good.ticks.length, 3);
  assert.deepEqual(good.missing, ["NSE:NOSUCH"]);
  const rnd = prng(7);
  let decoded = 0;
  for (let n = 0; n < 2000; n++) {
    // Truncations of a real answer, and the same answer with one value replaced by junk.
    const cut = text.slice(0, Math.floor(rnd() * text.length));
    let body: unknown;
    try {
      body = JSON.parse(cut);
    } catch {
      body = cut;
    }
    const d = decodeKiteQuotes(body, 3, targets, 0);
    assert.ok(d.ticks.length <= 3);
    const parsed = JSON.parse(text);
    const entry = parsed.data["NSE:INFY"];
    const keys = Object.keys(entry);
    const junk = [null, "x", -1, {}, [], 1e400, true][Math.floor(rnd() * 7)];
    entry[keys[Math.floor(rnd() * keys.length)]] = junk;
    const j = decodeKiteQuotes(parsed, (1 + Math.floor(rnd() * 3)) as 1 | 2 | 3, targets, 0);
    assert.ok(j.error === null && j.ticks.length >= 2 && j.ticks.length + j.missing.length === 4);
    for (const t of j.ticks) assert.ok(Number.isFinite(t.ltp));
    decoded += j.ticks.length;
  }
  assert.ok(decoded > 4000);
  // Wholly random values.
  for (let n = 0; n < 500; n++) {
    const bytes = new Uint8Array(Math.floor(rnd() * 64));
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rnd() * 256);
    const d = decodeKiteQuotes(new TextDecoder().decode(bytes), 2, targets, 0);
    assert.equal(d.ticks.length, 0);
    assert.notEqual(d.error, null);
  }
  const unknownKey = decodeKiteQuotes(
    { status: "success", data: { "NSE:OTHER": { instrument_token: 1, last_price: 1 } } },
    1,
    targets,
    0,
  );
  assert.equal(unknownKey.bad, 1);
  assert.equal(unknownKey.ticks.length, 0);
});

Deno.test("simulator /quote: Kite's shape, unknown instruments omitted, 403 without credentials", async () => {
  await using sim = await startZerodhaSimulator({
    tickIntervalMs: 0,
    heartbeatIntervalMs: 0,
    instrumentsCsv: CSV,
    quoteRequestsPerSecond: 100,
  });
  const r = await fetchKiteQuotes(sim.apiUrl, creds(sim), 3, ITEMS, AbortSignal.timeout(5000));
  assert.ok(r.ok);
  assert.deepEqual(r.missing, [{ exchange: "NSE", symbol: "NOSUCH" }]);
  const byName = new Map(r.ticks.map((t) => [t.symbol, t]));
  const rel = byName.get("RELIANCE")!;
  const st = sim.quote(738561);
  assert.equal(rel.ltp, st.lastPrice! / 100);
  assert.equal(rel.volume, st.volume);
  assert.equal(rel.close, st.close! / 100);
  assert.equal(rel.mode, 3);
  assert.equal(rel.depth?.buy.length, 5);
  assert.equal(rel.depth?.buy[0].price, st.depth!.buy[0].price / 100);
  assert.equal(rel.timestamp, st.exchangeTimestamp! * 1000);
  const nifty = byName.get("NIFTY")!;
  assert.equal(nifty.exchange, "NSE_INDEX");
  assert.equal(nifty.volume, null);
  assert.equal(nifty.depth, null);
  const ltp = await fetchKiteQuotes(sim.apiUrl, creds(sim), 1, ITEMS, AbortSignal.timeout(5000));
  assert.ok(ltp.ok);
  assert.deepEqual(ltp.ticks.map((t) => [t.symbol, t.mode, t.volume]).sort(), [
    ["INFY", 1, null],
    ["NIFTY", 1, null],
    ["RELIANCE", 1, null],
  ]);
  const denied = await fetchKiteQuotes(
    sim.apiUrl,
    { apiKey: sim.apiKey, accessToken: "wrong" },
    2,
    ITEMS,
    AbortSignal.timeout(5000),
  );
  assert.deepEqual(denied.ok ? null : denied.code, "AUTHENTICATION_ERROR");
  assert.equal(sim.stats.quoteRequests, 2);
});

Deno.test("simulator /quote enforces Kite's one request per second with HTTP 429 and Kite's error JSON", async () => {
  await using sim = await startZerodhaSimulator({
    tickIntervalMs: 0,
    heartbeatIntervalMs: 0,
    instrumentsCsv: CSV,
  });
  const url = new URL("/quote/ltp", sim.apiUrl);
  url.searchParams.append("i", "NSE:INFY");
  const headers = { Authorization: `token ${sim.apiKey}:${sim.accessToken}` };
  const first = await fetch(url, { headers });
  assert.equal(first.status, 200);
  await first.body?.cancel();
  const second = await fetch(url, { headers });
  assert.equal(second.status, 429);
  assert.deepEqual(await second.json(), {
    status: "error",
    message: "Too many requests",
    data: null,
    error_type: "NetworkException",
  });
  assert.equal(sim.stats.quoteRateLimited, 1);
  assert.equal(sim.stats.maxQuoteRequestsPerSecond, 2);
  const r = await fetchKiteQuotes(sim.apiUrl, creds(sim), 1, ITEMS, AbortSignal.timeout(5000));
  assert.equal(r.ok ? "ok" : r.code, "RATE_LIMITED");
  // Scripted 429s, then a second later the limit lets one through again.
  await new Promise((res) => setTimeout(res, 1100));
  sim.faults.rateLimitNextQuotes(1);
  const scripted = await fetchKiteQuotes(
    sim.apiUrl,
    creds(sim),
    1,
    ITEMS,
    AbortSignal.timeout(5000),
  );
  assert.equal(scripted.ok ? "ok" : scripted.code, "RATE_LIMITED");
  const fine = await fetchKiteQuotes(sim.apiUrl, creds(sim), 1, ITEMS, AbortSignal.timeout(5000));
  assert.equal(fine.ok, true);
  // Kite's batch size: more than 500 instruments on /quote is refused.
  await new Promise((res) => setTimeout(res, 1100));
  const many = new URL("/quote", sim.apiUrl);
  for (let i = 0; i < 501; i++) many.searchParams.append("i", `NSE:X${i}`);
  const tooMany = await fetch(many, { headers });
  assert.equal(tooMany.status, 400);
  assert.equal((await tooMany.json()).error_type, "InputException");
});

interface KiteQuoteShape {
  instrument_token: number;
  last_price: number;
  volume: number;
  ohlc: { open: number; high: number; low: number; close: number };
  depth: { buy: { price: number; quantity: number; orders: number }[] };
  timestamp: Date | string;
}

Deno.test({
  name: "kiteconnect getQuote / getLTP read the simulator, and agree with our decoder",
  // axios keeps sockets alive past the call.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using sim = await startZerodhaSimulator({
      tickIntervalMs: 0,
      heartbeatIntervalMs: 0,
      instrumentsCsv: CSV,
      quoteRequestsPerSecond: 100,
    });
    const Ctor = KiteConnect as unknown as new (o: Record<string, unknown>) => {
      getQuote(i: string[]): Promise<Record<string, KiteQuoteShape>>;
      getLTP(
        i: string[],
      ): Promise<Record<string, { instrument_token: number; last_price: number }>>;
      getOHLC(i: string[]): Promise<Record<string, { last_price: number; ohlc: unknown }>>;
    };
    const kc = new Ctor({ api_key: sim.apiKey, access_token: sim.accessToken, root: sim.apiUrl });
    const keys = ITEMS.map((i) => i.kiteKey);
    const theirs = await kc.getQuote(keys);
    assert.deepEqual(Object.keys(theirs).sort(), ["NSE:INFY", "NSE:NIFTY 50", "NSE:RELIANCE"]);
    const ours = await fetchKiteQuotes(sim.apiUrl, creds(sim), 3, ITEMS, AbortSignal.timeout(5000));
    assert.ok(ours.ok);
    const bySymbol = new Map<string, Tick>(ours.ticks.map((t) => [t.symbol, t]));
    for (const item of ITEMS.slice(0, 3)) {
      const k = theirs[item.kiteKey];
      const t = bySymbol.get(item.target.symbol)!;
      assert.equal(t.ltp, k.last_price);
      assert.equal(t.open, k.ohlc.open);
      assert.equal(t.close, k.ohlc.close);
      // The client turns Kite's 19-character timestamps into local-time Dates; ours are IST.
      assert.equal(typeof k.timestamp === "string" ? k.timestamp.length : 19, 19);
      if (!item.target.index) {
        assert.equal(t.volume, k.volume);
        assert.deepEqual(t.depth?.buy[0].price, k.depth.buy[0].price);
      }
    }
    const ltp = await kc.getLTP(keys);
    assert.equal(ltp["NSE:INFY"].last_price, bySymbol.get("INFY")!.ltp);
    const ohlc = await kc.getOHLC(["NSE:INFY"]);
    assert.deepEqual(ohlc["NSE:INFY"].ohlc, {
      open: bySymbol.get("INFY")!.open,
      high: bySymbol.get("INFY")!.high,
      low: bySymbol.get("INFY")!.low,
      close: bySymbol.get("INFY")!.close,
    });
    assert.equal(kiteTimeMs("2024-01-01 05:30:00"), Date.UTC(2024, 0, 1));
  },
});

Deno.test("the Zerodha worker answers `quote` with normalised ticks; credentials stay in the worker", async () => {
  await using sim = await startZerodhaSimulator({
    tickIntervalMs: 0,
    heartbeatIntervalMs: 200,
    instrumentsCsv: CSV,
  });
  const h = await WorkerHarness.start(sim.port, {
    apiKey: sim.apiKey,
    accessToken: sim.accessToken,
    feedUrl: sim.url,
    apiUrl: sim.apiUrl,
    instruments: SAMPLE_INSTRUMENTS,
  });
  try {
    h.send({
      type: "quote",
      id: 41,
      mode: 2,
      items: [
        { exchange: "NSE", symbol: "RELIANCE" },
        { exchange: "NSE_INDEX", symbol: "NIFTY" },
        { exchange: "NSE", symbol: "BOGUS" },
      ],
    });
    const answer = await h.waitFor((m) => m.type === "quotes" && m.id === 41 ? m : undefined);
    assert.deepEqual(answer.ticks.map((t) => `${t.exchange}:${t.symbol}:${t.mode}`).sort(), [
      "NSE:RELIANCE:2",
      "NSE_INDEX:NIFTY:2",
    ]);
    assert.deepEqual(answer.missing, [{ exchange: "NSE", symbol: "BOGUS" }]);
    assert.equal(
      answer.ticks.find((t) => t.symbol === "RELIANCE")!.ltp,
      sim.quote(738561).lastPrice! / 100,
    );
    // The second call within the second is refused by the broker: the worker says so.
    h.send({ type: "quote", id: 42, mode: 1, items: [{ exchange: "NSE", symbol: "INFY" }] });
    const refused = await h.waitFor((m) =>
      m.type === "quote_failed" && m.id === 42 ? m : undefined
    );
    assert.equal(refused.code, "RATE_LIMITED");
    assert.equal(sim.stats.quoteRequests, 1);
    assert.deepEqual(h.invalid, []);
    // No streaming slot was used for any of it.
    assert.deepEqual(sim.subscriptions().flatMap((c) => [...c.tokens.keys()]), []);
  } finally {
    await h.close();
  }
});
