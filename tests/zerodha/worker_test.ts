// The real Zerodha adapter worker against the Kite simulator: subscribe and tick values, frame
// splitting, mode changes, drop/stall/403 recovery and garbage frames.

import assert from "node:assert/strict";
import { decodeRequest, type KiteMode } from "../../adapters/zerodha/codec.ts";
import { startZerodhaSimulator, type ZerodhaSimulator } from "../../adapters/zerodha/simulator.ts";
import { SAMPLE_INSTRUMENTS, until, WorkerHarness, writeBigInstruments } from "./harness.ts";

const RELIANCE = 738561;
const NIFTY = 256265;
const NIFTY_CE = 12010754;
const USDINR_CDS = 1054723;

function options(sim: ZerodhaSimulator, extra: Record<string, unknown> = {}) {
  return {
    apiKey: sim.apiKey,
    accessToken: sim.accessToken,
    feedUrl: sim.url,
    instrumentsPath: SAMPLE_INSTRUMENTS,
    reconnectBaseMs: 50,
    reconnectMaxMs: 400,
    silenceTimeoutMs: 3000,
    ...extra,
  };
}

/** Runs `fn` with a fresh simulator and worker, always cleaning both up. */
async function withWorker(
  simOpts: Parameters<typeof startZerodhaSimulator>[0],
  extra: Record<string, unknown>,
  fn: (sim: ZerodhaSimulator, h: WorkerHarness) => Promise<void>,
  readPaths?: string[],
): Promise<void> {
  const sim = await startZerodhaSimulator({
    tickIntervalMs: 0,
    heartbeatIntervalMs: 200,
    ...simOpts,
  });
  let h: WorkerHarness | undefined;
  try {
    h = await WorkerHarness.start(sim.port, options(sim, extra), readPaths);
    await fn(sim, h);
    assert.deepEqual(h.invalid, []);
  } finally {
    await h?.close();
    await sim.close();
  }
}

function openModes(sim: ZerodhaSimulator): Map<number, KiteMode> {
  const open = sim.subscriptions();
  assert.equal(open.length, 1, "one open connection");
  return open[0].tokens;
}

Deno.test("zerodha worker: subscribe → ticks with the simulator's exact values", () =>
  withWorker({}, {}, async (sim, h) => {
    assert.deepEqual(h.statuses().map((s) => s.state), ["connecting", "connected"]);
    const ready = h.messages.find((m) => m.type === "ready");
    assert.ok(ready?.type === "ready");
    sim.setQuote(RELIANCE, {
      lastPrice: 294070,
      lastQuantity: 10,
      averagePrice: 293812,
      volume: 123456,
      buyQuantity: 5000,
      sellQuantity: 4800,
      open: 293000,
      high: 295050,
      low: 292100,
      close: 292540,
    });
    sim.setQuote(USDINR_CDS, { lastPrice: 835012500 });
    const from = h.mark;
    const ack = await h.request("subscribe", [
      { exchange: "NSE", symbol: "RELIANCE", mode: 2 },
      { exchange: "NSE_INDEX", symbol: "NIFTY", mode: 3 },
      { exchange: "NFO", symbol: "NIFTY28MAR2420800CE", mode: 3 },
      { exchange: "CDS", symbol: "USDINR26APR24FUT", mode: 1 },
      { exchange: "NSE", symbol: "BOGUS", mode: 2 },
    ]);
    assert.deepEqual(ack.results, [
      { exchange: "NSE", symbol: "RELIANCE", ok: true },
      // An index has no order book: the ack says so with depth 0.
      { exchange: "NSE_INDEX", symbol: "NIFTY", ok: true, depth: 0 },
      { exchange: "NFO", symbol: "NIFTY28MAR2420800CE", ok: true, depth: 5 },
      { exchange: "CDS", symbol: "USDINR26APR24FUT", ok: true },
      {
        exchange: "NSE",
        symbol: "BOGUS",
        ok: false,
        code: "SYMBOL_NOT_FOUND",
        message: "Symbol not found: BOGUS on NSE",
      },
    ]);
    const rel = await h.waitForTick((t) => t.symbol === "RELIANCE", 5000, from);
    assert.equal(rel.exchange, "NSE");
    assert.equal(rel.mode, 2);
    assert.equal(rel.ltp, 2940.7);
    assert.equal(rel.last_trade_quantity, 10);
    assert.equal(rel.avg_trade_price, 2938.12);
    assert.equal(rel.volume, 123456);
    assert.equal(rel.open, 2930);
    assert.equal(rel.high, 2950.5);
    assert.equal(rel.low, 2921);
    assert.equal(rel.close, 2925.4);
    assert.equal(rel.change, 15.3);
    const cds = await h.waitForTick((t) => t.symbol === "USDINR26APR24FUT", 5000, from);
    assert.equal(cds.ltp, 83.50125);
    const ce = await h.waitForTick((t) => t.symbol === "NIFTY28MAR2420800CE" && t.mode === 3);
    const q = sim.quote(NIFTY_CE);
    assert.equal(ce.ltp, q.lastPrice / 100);
    assert.equal(ce.oi, q.oi);
    assert.equal(ce.depth?.buy.length, 5);
    assert.equal(ce.depth?.buy[0].price, (q.depth?.buy[0].price ?? NaN) / 100);
    const idx = await h.waitForTick((t) => t.symbol === "NIFTY" && t.mode === 3);
    assert.equal(idx.exchange, "NSE_INDEX");
    assert.equal(idx.depth, null);
    assert.equal(idx.open, (sim.quote(NIFTY).open ?? NaN) / 100);
    assert.deepEqual(
      openModes(sim),
      new Map<number, KiteMode>([
        [RELIANCE, "quote"],
        [NIFTY, "full"],
        [NIFTY_CE, "full"],
        [USDINR_CDS, "ltp"],
      ]),
    );
    // Each worker message is one broker frame: never more than one message per frame sent.
    const batches = h.messages.slice(from).filter((m) => m.type === "ticks").length;
    assert.ok(batches <= sim.stats.dataFrames, `${batches} batches > ${sim.stats.dataFrames}`);
  }));

Deno.test("zerodha worker: >200 tokens go out in frames of at most 200", async () => {
  const path = await writeBigInstruments(450);
  try {
    await withWorker({}, { instrumentsPath: path }, async (sim, h) => {
      const items = Array.from({ length: 450 }, (_, i) => ({
        exchange: "NSE",
        symbol: `SYM${i}`,
        mode: 1 as const,
      }));
      const ack = await h.request("subscribe", items);
      assert.equal(ack.results.filter((r) => r.ok).length, 450);
      await until(() => openModes(sim).size === 450, 5000, "450 tokens at the simulator");
      const reqs = sim.requests().map((r) => decodeRequest(r.text));
      for (const r of reqs) {
        assert.ok(typeof r !== "string");
        assert.ok(r.tokens.length <= 200, `frame with ${r.tokens.length} tokens`);
      }
      // Each chunk of ≤200 tokens is subscribed and then set to its mode.
      assert.deepEqual(reqs.map((r) => typeof r !== "string" && r.a), [
        "subscribe",
        "mode",
        "subscribe",
        "mode",
        "subscribe",
        "mode",
      ]);
      await until(() => [...openModes(sim).values()].every((m) => m === "ltp"), 5000, "all ltp");
      await h.waitFor((m) =>
        m.type === "ticks" && m.ticks.some((t) => t.symbol === "SYM449") ? 1 : undefined
      );
    }, [path]);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("zerodha worker: mode upgrades, downgrades and unsubscribe reach the broker", () =>
  withWorker({}, {}, async (sim, h) => {
    await h.request("subscribe", [{ exchange: "NSE", symbol: "RELIANCE", mode: 1 }]);
    await until(() => openModes(sim).get(RELIANCE) === "ltp", 3000, "ltp");
    let from = h.mark;
    let ack = await h.request("set_mode", [{ exchange: "NSE", symbol: "RELIANCE", mode: 3 }]);
    assert.deepEqual(ack.results, [{ exchange: "NSE", symbol: "RELIANCE", ok: true, depth: 5 }]);
    await until(() => openModes(sim).get(RELIANCE) === "full", 3000, "full");
    const deep = await h.waitForTick((t) => t.symbol === "RELIANCE" && t.mode === 3, 3000, from);
    assert.equal(deep.depth?.sell.length, 5);
    from = h.mark;
    await h.request("set_mode", [{ exchange: "NSE", symbol: "RELIANCE", mode: 2 }]);
    await until(() => openModes(sim).get(RELIANCE) === "quote", 3000, "quote");
    await h.waitForTick((t) => t.symbol === "RELIANCE" && t.mode === 2, 3000, from);
    ack = await h.request("set_mode", [{ exchange: "NSE", symbol: "INFY", mode: 3 }]);
    assert.equal(ack.results[0].ok, false);
    assert.equal(!ack.results[0].ok && ack.results[0].code, "NOT_SUBSCRIBED");
    ack = await h.request("unsubscribe", [{ exchange: "NSE", symbol: "RELIANCE" }]);
    assert.deepEqual(ack.results, [{ exchange: "NSE", symbol: "RELIANCE", ok: true }]);
    await until(() => openModes(sim).size === 0, 3000, "unsubscribed");
    ack = await h.request("unsubscribe", [{ exchange: "NSE", symbol: "RELIANCE" }]);
    assert.equal(!ack.results[0].ok && ack.results[0].code, "NOT_SUBSCRIBED");
    // A subscribe for a token already streamed at another mode is a mode change.
    await h.request("subscribe", [{ exchange: "NSE", symbol: "TCS", mode: 2 }]);
    await h.request("subscribe", [{ exchange: "NSE", symbol: "TCS", mode: 3 }]);
    await until(() => openModes(sim).get(2953217) === "full", 3000, "TCS full");
  }));

Deno.test("zerodha worker: capacity option caps instruments per connection", () =>
  withWorker({}, { maxSymbolsPerConnection: 2 }, async (_sim, h) => {
    const ack = await h.request("subscribe", [
      { exchange: "NSE", symbol: "RELIANCE", mode: 1 },
      { exchange: "NSE", symbol: "INFY", mode: 1 },
      { exchange: "NSE", symbol: "TCS", mode: 1 },
    ]);
    assert.deepEqual(ack.results.map((r) => r.ok ? "ok" : r.code), [
      "ok",
      "ok",
      "MAX_CAPACITY_REACHED",
    ]);
  }));

async function subscribeMixed(sim: ZerodhaSimulator, h: WorkerHarness): Promise<void> {
  await h.request("subscribe", [
    { exchange: "NSE", symbol: "RELIANCE", mode: 1 },
    { exchange: "NSE", symbol: "INFY", mode: 2 },
    { exchange: "NSE_INDEX", symbol: "NIFTY", mode: 3 },
  ]);
  await until(() => sameModes(openModes(sim), MIXED), 3000, "mixed modes");
}

function sameModes(a: Map<number, KiteMode>, b: Map<number, KiteMode>): boolean {
  return a.size === b.size && [...a].every(([t, m]) => b.get(t) === m);
}

const MIXED = new Map<number, KiteMode>([[RELIANCE, "ltp"], [408065, "quote"], [NIFTY, "full"]]);

Deno.test("zerodha worker: dropped connection → reconnect and resubscribe every token in its mode", () =>
  withWorker({}, {}, async (sim, h) => {
    await subscribeMixed(sim, h);
    const firstId = sim.subscriptions()[0].id;
    const from = h.mark;
    assert.equal(sim.faults.drop(), 1);
    await h.waitForState("reconnecting", 3000, from);
    await h.waitForState("connected", 5000, from);
    await until(() => sim.subscriptions().length === 1 && sameModes(openModes(sim), MIXED), 3000);
    assert.notEqual(sim.subscriptions()[0].id, firstId);
    assert.deepEqual(openModes(sim), MIXED);
    await h.waitForTick((t) => t.symbol === "RELIANCE" && t.mode === 1, 3000, from);
    await h.waitForTick((t) => t.symbol === "NIFTY" && t.mode === 3, 3000, from);
  }));

Deno.test("zerodha worker: stall → stalled, then recovers on a new connection", () =>
  withWorker({}, { silenceTimeoutMs: 600 }, async (sim, h) => {
    await subscribeMixed(sim, h);
    const from = h.mark;
    const t0 = Date.now();
    sim.faults.stall();
    const stalledAt = await h.waitForState("stalled", 3000, from);
    assert.ok(Date.now() - t0 >= 550, "stall detected too early");
    await h.waitForState("connected", 5000, stalledAt);
    await until(
      () => sim.subscriptions().some((c) => !c.stalled && sameModes(c.tokens, MIXED)),
      3000,
      "resubscribed on a fresh connection",
    );
    await h.waitForTick((t) => t.symbol === "INFY" && t.mode === 2, 3000, stalledAt);
  }));

Deno.test("zerodha worker: data stall with live heartbeats → stalled and resubscribed", () =>
  withWorker({ heartbeatIntervalMs: 100 }, { dataStallMs: 700 }, async (sim, h) => {
    await h.request("subscribe", [{ exchange: "NSE", symbol: "SBIN", mode: 2 }]);
    sim.faults.silence(779521);
    const from = h.mark;
    const at = await h.waitForState("stalled", 3000, from);
    const s = h.messages[at];
    assert.match(s.type === "status" ? s.detail ?? "" : "", /no ticks/);
    sim.faults.unsilence(779521);
    await h.waitForState("connected", 5000, at);
    await h.waitForTick((t) => t.symbol === "SBIN", 3000, at);
  }));

Deno.test("zerodha worker: 403 → auth_failed, no retry storm, fresh token → reconnects", () =>
  withWorker({}, { authRetryMs: 60_000 }, async (sim, h) => {
    await subscribeMixed(sim, h);
    const from = h.mark;
    sim.setCredentials({ accessToken: "rolled-over" });
    sim.faults.drop();
    const failedAt = await h.waitForState("auth_failed", 5000, from);
    const handshakes = sim.stats.handshakes;
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(sim.stats.handshakes, handshakes, "retried without a new token");
    assert.equal(sim.subscriptions().length, 0);
    h.send({ type: "token", accessToken: "rolled-over" });
    await h.waitForState("connected", 5000, failedAt);
    await until(() => sim.subscriptions().length === 1 && sameModes(openModes(sim), MIXED), 3000);
    await h.waitForTick((t) => t.symbol === "RELIANCE", 3000, failedAt);
  }));

Deno.test("zerodha worker: 403 retries with the same token are bounded", () =>
  withWorker({}, { authRetryMs: 100, maxAuthRetries: 3 }, async (sim, h) => {
    const from = h.mark;
    sim.faults.rejectNextHandshakes(1000);
    const before = sim.stats.rejected403;
    sim.faults.drop();
    await h.waitFor(
      (m) => m.type === "status" && /3 rejections/.test(m.detail ?? "") ? m : undefined,
      5000,
      "auth retries exhausted",
      from,
    );
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(sim.stats.rejected403 - before, 3);
  }));

Deno.test("zerodha worker: garbage frames are counted and logged, the feed carries on", () =>
  withWorker({}, {}, async (sim, h) => {
    await h.request("subscribe", [{ exchange: "NSE", symbol: "RELIANCE", mode: 2 }]);
    const from = h.mark;
    sim.faults.garbage();
    sim.faults.garbage(["random", "random", "random"]);
    const log = await h.waitFor(
      (m) => m.type === "log" && /malformed/.test(m.message) ? m.message : undefined,
      3000,
      "malformed log",
      from,
    );
    assert.match(log, /total \d+/);
    sim.tick();
    await h.waitForTick((t) => t.symbol === "RELIANCE", 3000, from);
    await until(
      () => {
        const all = h.messages.slice(from).flatMap((m) => m.type === "log" ? [m.message] : []);
        const totals = all.map((l) => Number(/total (\d+)/.exec(l)?.[1] ?? 0));
        return Math.max(0, ...totals) >= 8;
      },
      4000,
      "all garbage frames counted",
    );
    assert.ok(h.statuses().every((s) => s.state !== "reconnecting"), "garbage caused a reconnect");
  }));

Deno.test("zerodha worker: instruments from the instruments URL with credentials", async () => {
  const csv = await Deno.readTextFile(SAMPLE_INSTRUMENTS);
  const sim = await startZerodhaSimulator({ tickIntervalMs: 0, instrumentsCsv: csv });
  let h: WorkerHarness | undefined;
  try {
    const { instrumentsPath: _, ...rest } = options(sim);
    h = await WorkerHarness.start(sim.port, { ...rest, instrumentsUrl: sim.instrumentsUrl }, []);
    const ack = await h.request("subscribe", [{
      exchange: "BSE_INDEX",
      symbol: "SENSEX",
      mode: 2,
    }]);
    assert.deepEqual(ack.results, [{ exchange: "BSE_INDEX", symbol: "SENSEX", ok: true }]);
    await h.waitForTick((t) => t.symbol === "SENSEX" && t.mode === 2 && t.volume === null);
    assert.deepEqual(h.invalid, []);
  } finally {
    await h?.close();
    await sim.close();
  }
});
