// Stream-or-poll routing end to end against the Kite simulator: a class routed to `poll` is served
// from /quote with "source":"poll" frames and takes no streaming slot (the simulator's websocket
// never sees its tokens), stays under Kite's one request per second, backs off on 429, and reuses
// the stream when another client streams the same instrument.

import assert from "node:assert/strict";
import { startGateway, TEST_KEY, TestClient, until } from "../helpers/gateway.ts";
import { startZerodhaSimulator } from "../../adapters/zerodha/mod.ts";
import { SAMPLE_INSTRUMENTS, writeBigInstruments } from "../zerodha/harness.ts";

const DISPLAY_KEY = "display-key-0123456789abcdef";
const MONITOR_KEY = "monitor-key-0123456789abcdef";

type Frame = Record<string, unknown>;

async function setup(instruments: string, budget: Record<string, unknown> = {}) {
  const sim = await startZerodhaSimulator({
    tickIntervalMs: 0,
    heartbeatIntervalMs: 500,
    instrumentsCsv: await Deno.readTextFile(instruments),
  });
  const gw = await startGateway({
    apiKeys: [
      { name: "algo", key: TEST_KEY, class: "trading" },
      { name: "dashboard", key: DISPLAY_KEY, class: "display" },
      { name: "watcher", key: MONITOR_KEY, class: "monitoring" },
    ],
    budget: { routing: { display: "poll" }, pollIntervalMs: 500, ...budget },
    broker: {
      name: "zerodha",
      apiKey: sim.apiKey,
      accessToken: sim.accessToken,
      feedUrl: sim.url,
      instruments,
      options: { apiUrl: sim.apiUrl, reconnectBaseMs: 50, reconnectMaxMs: 200 },
    },
  });
  return { sim, gw };
}

/** Every token the simulator's websocket connections hold. */
function streamedTokens(sim: Awaited<ReturnType<typeof startZerodhaSimulator>>): number[] {
  return sim.subscriptions().flatMap((c) => [...c.tokens.keys()]);
}

function marketFrames(c: TestClient, symbol: string): Frame[] {
  return c.frames.filter((f) => f.type === "market_data" && f.symbol === symbol);
}

Deno.test("a polled subscription takes no streaming slot at the simulator and stays within Kite's quote rate", async () => {
  const N = 1200; // three /quote batches of 500 per cycle at one request per second
  const instruments = await writeBigInstruments(N);
  const { sim, gw } = await setup(instruments);
  try {
    const dash = await TestClient.connect(gw);
    await dash.auth(DISPLAY_KEY);
    const symbols = Array.from({ length: N }, (_, i) => ({ symbol: `SYM${i}`, exchange: "NSE" }));
    const ack = await dash.request({ action: "subscribe", symbols, mode: "Quote" }, "subscribe");
    assert.equal(ack.status, "success");
    const subs = ack.subscriptions as Frame[];
    assert.ok(subs.every((s) => s.source === "poll"));
    // Every symbol arrives as a poll frame carrying the simulator's values.
    await until(() => new Set(dash.frames.map((f) => f.symbol)).size >= N, 20_000, "all polled");
    const f = marketFrames(dash, "SYM7")[0];
    assert.equal(f.source, "poll");
    assert.equal(f.mode, 2);
    const st = sim.quote(((1000 + 7) << 8) | 1);
    const data = f.data as Record<string, number>;
    assert.equal(data.ltp, st.lastPrice! / 100);
    assert.equal(data.volume, st.volume);
    assert.equal(data.close, st.close! / 100);
    // A second full cycle, then the checks at the simulator.
    await until(() => sim.stats.quoteRequests >= 6, 20_000, "two cycles");
    assert.deepEqual(streamedTokens(sim), [], "the websocket never saw a polled token");
    assert.equal(gw.pool.symbolCount, 0);
    assert.equal(sim.stats.quoteRateLimited, 0);
    assert.ok(
      sim.stats.maxQuoteRequestsPerSecond <= 1,
      `${sim.stats.maxQuoteRequestsPerSecond} requests within one second`,
    );
    assert.ok(sim.quoteRequestLog().every((keys) => keys.length <= 500));
    const stats = gw.poller.stats();
    assert.equal(stats.keys, N);
    assert.equal(stats.polled, N);
    assert.equal(stats.errors, 0);
    assert.ok(stats.requestsPerSecond > 0 && stats.requestsPerSecond <= 1);
    // The poller's figures are in /metrics.
    const metrics = await (await fetch(`http://127.0.0.1:${gw.proxy.addr.port}/metrics`, {
      headers: { authorization: `Bearer ${TEST_KEY}` },
    })).text();
    assert.match(metrics, new RegExp(`^tickplex_poll_keys ${N}$`, "m"));
    assert.match(metrics, /^tickplex_poll_rate_limit 1$/m);
    // /api/v1/budget: the polled keys and their rate, and not one streaming slot used.
    const budget = await (await fetch(`http://127.0.0.1:${gw.proxy.addr.port}/api/v1/budget`, {
      headers: { authorization: `Bearer ${TEST_KEY}` },
    })).json();
    assert.equal(budget.used, 0);
    assert.equal(budget.classes.display.slots, 0);
    assert.equal(budget.classes.display.route, "poll");
    assert.equal(budget.poll.keys, N);
    assert.ok(budget.poll.requests_per_second > 0 && budget.poll.requests_per_second <= 1);
    // Leaving releases the keys: nothing more is polled.
    await dash.close();
    await until(() => gw.poller.stats().keys === 0, 5000, "keys released");
  } finally {
    await gw.stop();
    await sim.close();
    await Deno.remove(instruments);
  }
});

Deno.test("routing per class from config: display polls, trading and monitoring stream", async () => {
  const { sim, gw } = await setup(SAMPLE_INSTRUMENTS);
  try {
    const dash = await TestClient.connect(gw);
    await dash.auth(DISPLAY_KEY);
    const watcher = await TestClient.connect(gw);
    await watcher.auth(MONITOR_KEY);
    const algo = await TestClient.connect(gw);
    await algo.auth(TEST_KEY);
    const sub = (c: TestClient, symbol: string) =>
      c.request({ action: "subscribe", symbol, exchange: "NSE", mode: "Quote" }, "subscribe");
    // An unknown symbol fails on the poll route as it does on the stream.
    const bogus = await sub(dash, "NOSUCH");
    assert.equal((bogus.subscriptions as Frame[])[0].code, "SYMBOL_NOT_FOUND");
    const d = await sub(dash, "TCS");
    const w = await sub(watcher, "HDFCBANK");
    const a = await sub(algo, "RELIANCE");
    assert.equal((d.subscriptions as Frame[])[0].source, "poll");
    assert.equal((w.subscriptions as Frame[])[0].source, undefined);
    assert.equal((a.subscriptions as Frame[])[0].source, undefined);
    await until(() => streamedTokens(sim).length === 2, 5000, "two streams");
    assert.deepEqual(streamedTokens(sim).sort((x, y) => x - y), [341249, 738561]);
    await dash.waitFor((f) =>
      f.type === "market_data" && f.symbol === "TCS" && f.source === "poll"
    );
    const http = await (await fetch(`http://127.0.0.1:${gw.proxy.addr.port}/api/v1/subscriptions`, {
      headers: { authorization: `Bearer ${TEST_KEY}` },
    })).json();
    assert.deepEqual(http.polled.map((k: Frame) => `${k.symbol}:${k.mode}`), ["TCS:2"]);
    assert.deepEqual(http.subscriptions.map((k: Frame) => k.symbol).sort(), [
      "HDFCBANK",
      "RELIANCE",
    ]);
    const listed = await dash.request({ action: "get_subscriptions" }, "subscriptions");
    assert.equal((listed.subscriptions as Frame[])[0].source, "poll");
    // Unsubscribing a polled key releases it from the poller, not the pool.
    const un = await dash.request(
      { action: "unsubscribe", symbol: "TCS", exchange: "NSE" },
      "unsubscribe",
    );
    assert.equal(un.status, "success");
    assert.equal(gw.poller.stats().keys, 0);
    assert.equal(gw.pool.symbolCount, 2);
  } finally {
    await gw.stop();
    await sim.close();
  }
});

Deno.test("the poller reuses the stream: a key streamed for someone else is not polled", async () => {
  const { sim, gw } = await setup(SAMPLE_INSTRUMENTS);
  try {
    const dash = await TestClient.connect(gw);
    await dash.auth(DISPLAY_KEY);
    const algo = await TestClient.connect(gw);
    await algo.auth(TEST_KEY);
    await algo.request(
      { action: "subscribe", symbol: "INFY", exchange: "NSE", mode: "Quote" },
      "subscribe",
    );
    await until(() => streamedTokens(sim).includes(408065), 5000, "INFY streamed");
    await dash.request({
      action: "subscribe",
      symbols: [{ symbol: "INFY", exchange: "NSE" }, { symbol: "RELIANCE", exchange: "NSE" }],
      mode: "Quote",
    }, "subscribe");
    const before = sim.stats.quoteRequests;
    await until(() => sim.stats.quoteRequests >= before + 2, 10_000, "two polls");
    // Only RELIANCE goes to /quote; INFY reaches the poll client from the stream.
    assert.ok(sim.quoteRequestLog().every((keys) => !keys.includes("NSE:INFY")));
    assert.ok(sim.quoteRequestLog().some((keys) => keys.includes("NSE:RELIANCE")));
    assert.equal(gw.poller.stats().reused, 1);
    const from = dash.frames.length;
    sim.tick();
    const streamed = await dash.waitFor(
      (f) => f.type === "market_data" && f.symbol === "INFY",
      5000,
      from,
    );
    assert.equal(streamed.source, undefined);
    assert.deepEqual(streamedTokens(sim), [408065], "the poll client added no stream");
    // The streaming client leaves: INFY is polled again for the poll client.
    await algo.close();
    await until(() => streamedTokens(sim).length === 0, 5000, "INFY released upstream");
    await dash.waitFor(
      (f) => f.type === "market_data" && f.symbol === "INFY" && f.source === "poll",
      10_000,
      dash.frames.length,
    );
    assert.ok(sim.quoteRequestLog().some((keys) => keys.includes("NSE:INFY")));
  } finally {
    await gw.stop();
    await sim.close();
  }
});

Deno.test("HTTP 429 from the quote API: the poller backs off, reports it, and recovers", async () => {
  const { sim, gw } = await setup(SAMPLE_INSTRUMENTS);
  try {
    const dash = await TestClient.connect(gw);
    await dash.auth(DISPLAY_KEY);
    await dash.request(
      { action: "subscribe", symbol: "TCS", exchange: "NSE", mode: "LTP" },
      "subscribe",
    );
    await dash.waitFor((f) => f.type === "market_data" && f.source === "poll");
    sim.faults.rateLimitNextQuotes(2);
    await until(() => gw.poller.stats().rateLimited >= 2, 15_000, "two 429s seen");
    const stats = gw.poller.stats();
    assert.ok(stats.errors >= 2);
    assert.match(stats.lastError ?? "", /RATE_LIMITED/);
    // Back off, then polling resumes.
    const served = sim.stats.quoteRequests;
    const from = dash.frames.length;
    await dash.waitFor((f) => f.type === "market_data" && f.source === "poll", 15_000, from);
    assert.ok(sim.stats.quoteRequests > served);
    assert.equal(sim.stats.quoteRateLimited, 2, "no 429 beyond the scripted ones");
    assert.ok(sim.stats.maxQuoteRequestsPerSecond <= 1);
    const metrics = await (await fetch(`http://127.0.0.1:${gw.proxy.addr.port}/metrics`, {
      headers: { authorization: `Bearer ${TEST_KEY}` },
    })).text();
    assert.match(metrics, /^tickplex_poll_rate_limited_total 2$/m);
  } finally {
    await gw.stop();
    await sim.close();
  }
});

Deno.test("QuoteSource (the option chain's way in): poll feeds take no slot, stream feeds do", async () => {
  const { sim, gw } = await setup(SAMPLE_INSTRUMENTS);
  try {
    const seen: string[] = [];
    const polled = gw.quoteSource.open("chain-test", {
      route: "poll",
      onTick: (t) => seen.push(t.symbol),
    });
    assert.equal(polled.route, "poll");
    const items = [{ exchange: "NSE", symbol: "TCS" }, { exchange: "NSE", symbol: "SBIN" }];
    const r = await polled.add(items, 2);
    assert.deepEqual(r.map((x) => x.ok), [true, true]);
    const bad = await polled.add([{ exchange: "NSE", symbol: "NOSUCH" }], 2);
    assert.equal(bad[0].ok ? "ok" : bad[0].code, "SYMBOL_NOT_FOUND");
    await until(() => polled.latest("NSE", "TCS") !== undefined, 10_000, "TCS polled");
    await until(() => polled.latest("NSE", "SBIN") !== undefined, 10_000, "SBIN polled");
    assert.equal(polled.latest("NSE", "TCS")!.ltp, sim.quote(2953217).lastPrice! / 100);
    assert.deepEqual(streamedTokens(sim), []);
    assert.equal(polled.held().length, 2);
    // The same instruments on a stream feed take slots at the simulator; the poll feed is then
    // served from that stream.
    const streamed = gw.quoteSource.open("chain-stream", {
      route: "stream",
      holder: { name: "option-chain", consumerClass: "display", kind: "in_process" },
    });
    await streamed.add(items, 2);
    await until(() => streamedTokens(sim).length === 2, 5000, "two streams");
    // Charged to its holder's class in the budget.
    assert.equal(gw.budget.report().classes.display.slots, 2);
    await until(() => gw.poller.stats().reused === 2, 10_000, "poll reuses the stream");
    await streamed.close();
    await polled.remove([items[0]], 2);
    assert.equal(polled.latest("NSE", "TCS"), undefined);
    await polled.close();
    assert.equal(gw.poller.stats().keys, 0);
    await until(() => streamedTokens(sim).length === 0, 5000, "streams released");
    assert.ok(seen.includes("TCS") && seen.includes("SBIN"));
  } finally {
    await gw.stop();
    await sim.close();
  }
});

Deno.test("an in-process subscriber of a poll class is served by the poller, with no slot", async () => {
  const { sim, gw } = await setup(SAMPLE_INSTRUMENTS);
  try {
    const seen: { symbol: string; ltp: number }[] = [];
    const screen = await gw.marketData.subscribe({
      name: "screen",
      priority: "LOW",
      kind: "quote",
      symbols: [{ exchange: "NSE", symbol: "TCS" }],
      consumerClass: "display",
      callback: ({ symbol, data }) => {
        seen.push({ symbol, ltp: data.ltp });
      },
    });
    await until(() => seen.length >= 2, 10_000, "polled ticks to the callback");
    assert.equal(seen[0].ltp, sim.quote(2953217).lastPrice! / 100);
    assert.deepEqual(streamedTokens(sim), []);
    assert.equal(gw.poller.stats().keys, 1);
    // The service's cache has the polled tick: a client subscribing gets it as a snapshot.
    assert.equal(gw.marketData.getLtp("NSE", "TCS")?.data.ltp, seen[0].ltp);
    // A trading-class subscriber of the same kind streams.
    const algo = await gw.marketData.subscribe({
      name: "algo",
      priority: "CRITICAL",
      kind: "ltp",
      symbols: [{ exchange: "NSE", symbol: "INFY" }],
      callback: () => {},
    });
    await until(() => streamedTokens(sim).includes(408065), 5000, "INFY streamed");
    assert.deepEqual(streamedTokens(sim), [408065]);
    await screen.unsubscribe();
    await algo.unsubscribe();
    assert.equal(gw.poller.stats().keys, 0);
  } finally {
    await gw.stop();
    await sim.close();
  }
});
