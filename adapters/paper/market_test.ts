// Unit tests for the paper market and its instrument universe: determinism, mode projection, the
// price grid, depth shape, derivatives and synthetic symbols. No timers, no workers.

import assert from "node:assert/strict";
import { type Mode, QUOTE_FIELDS, type Tick } from "../../lib/types.ts";
import {
  buildUniverse,
  extraSymbolName,
  formatExpiry,
  futureSymbol,
  monthlyExpiry,
  NIFTY_LOT_SIZE,
  OPTION_STRIKE_STEP,
  OPTION_STRIKES_EACH_SIDE,
  optionSymbol,
  PAPER_DEPTH_LEVELS,
  paperAdapter,
  PaperMarket,
  parseDerivativeSymbol,
  parsePaperOptions,
  Prng,
} from "./mod.ts";

/** Mon 1 Dec 2025, 11:30 IST: the December monthly expiry is Tue 30 Dec 2025. */
const NOW = Date.UTC(2025, 11, 1, 6);
const UNIVERSE = buildUniverse({ now: NOW, extraSymbols: 20 });

const TRADE_FIELDS = [
  "volume",
  "last_trade_quantity",
  "avg_trade_price",
  "total_buy_quantity",
  "total_sell_quantity",
] as const;

function market(seed = 7): PaperMarket {
  return new PaperMarket({ seed, universe: UNIVERSE });
}

function onGrid(price: number): boolean {
  return Math.abs(price * 20 - Math.round(price * 20)) < 1e-6;
}

function sequence(m: PaperMarket, n: number): Tick[] {
  const symbols: [string, string][] = [
    ["NSE", "RELIANCE"],
    ["NSE_INDEX", "NIFTY"],
    ["NFO", "NIFTY30DEC25FUT"],
    ["NFO", "NIFTY30DEC2526000PE"],
    ["BSE", "TCS"],
  ];
  const out: Tick[] = [];
  for (let i = 0; i < n; i++) {
    const [ex, sym] = symbols[i % symbols.length];
    out.push(m.nextTick(ex, sym, ((i % 3) + 1) as Mode, NOW + i * 137));
  }
  return out;
}

Deno.test("Prng: same seed gives the same sequence, values in range", () => {
  const a = new Prng(42);
  const b = new Prng(42);
  const c = new Prng(43);
  const xs = Array.from({ length: 1000 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 1000 }, () => b.next()));
  assert.notDeepEqual(xs, Array.from({ length: 1000 }, () => c.next()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
  const ints = Array.from({ length: 1000 }, () => a.int(-3, 3));
  assert.ok(ints.every((x) => Number.isInteger(x) && x >= -3 && x <= 3));
  assert.equal(new Set(ints).size, 7);
  const normals = Array.from({ length: 20_000 }, () => a.normal());
  const nm = normals.reduce((s, x) => s + x, 0) / normals.length;
  const nv = normals.reduce((s, x) => s + (x - nm) ** 2, 0) / normals.length;
  assert.ok(Math.abs(nm) < 0.05 && Math.abs(nv - 1) < 0.05, `normal mean ${nm} var ${nv}`);
});

Deno.test("PaperMarket: the same seed gives the same ticks, another seed different ones", () => {
  const a = sequence(market(11), 600);
  assert.deepEqual(a, sequence(market(11), 600));
  assert.notDeepEqual(a, sequence(market(12), 600));
});

Deno.test("PaperMarket: the price path does not depend on call order or other instruments", () => {
  const inst = UNIVERSE.get("NSE_INDEX", "NIFTY")!;
  const a = market(5);
  const b = market(5);
  // b has already priced other instruments (and NIFTY at other times).
  sequence(b, 300);
  for (let i = 0; i < 50; i++) {
    const t = NOW + i * 60_000;
    assert.equal(a.fairPrice(inst, t), b.fairPrice(inst, t));
  }
});

Deno.test("PaperMarket: an LTP tick carries only the LTP fields", () => {
  const m = market();
  for (
    const [ex, sym] of [["NSE", "INFY"], ["NSE_INDEX", "BANKNIFTY"], ["NFO", "NIFTY30DEC25FUT"]]
  ) {
    const t = m.nextTick(ex, sym, 1, NOW);
    assert.equal(t.mode, 1);
    assert.equal(t.exchange, ex);
    assert.equal(t.symbol, sym);
    assert.ok(t.ltp > 0);
    assert.equal(t.ltt, NOW);
    assert.equal(t.timestamp, NOW);
    for (const f of QUOTE_FIELDS) assert.equal(t[f], null, `${sym} ${f}`);
    assert.equal(t.depth, null);
  }
});

Deno.test("PaperMarket: a Quote tick has session fields; indices have no trade fields", () => {
  const m = market();
  const eq = m.nextTick("NSE", "SBIN", 2, NOW + 1000);
  for (const f of QUOTE_FIELDS) {
    if (f === "oi") assert.equal(eq.oi, null, "equities have no open interest");
    else assert.equal(typeof eq[f], "number", f);
  }
  assert.equal(eq.depth, null);
  assert.ok(eq.low! <= eq.ltp && eq.ltp <= eq.high!);
  assert.ok(eq.low! <= eq.open! && eq.open! <= eq.high!);
  assert.equal(eq.change, Math.round((eq.ltp - eq.close!) * 100) / 100);
  assert.equal(eq.change_percent, Math.round(((eq.ltp - eq.close!) / eq.close!) * 10_000) / 100);
  assert.ok(Number.isInteger(eq.volume) && eq.volume! > 0);
  assert.ok(eq.last_trade_quantity! >= 1);

  const idx = m.nextTick("BSE_INDEX", "SENSEX", 2, NOW + 1000);
  for (const f of ["open", "high", "low", "close", "change", "change_percent"] as const) {
    assert.equal(typeof idx[f], "number", f);
  }
  for (const f of [...TRADE_FIELDS, "oi"] as const) assert.equal(idx[f], null, `SENSEX ${f}`);

  const opt = m.nextTick("NFO", "NIFTY30DEC2525950CE", 2, NOW + 1000);
  assert.ok(Number.isInteger(opt.oi) && opt.oi! > 0);
  assert.equal(opt.oi! % NIFTY_LOT_SIZE, 0);
  assert.equal(opt.last_trade_quantity! % NIFTY_LOT_SIZE, 0);
});

Deno.test("PaperMarket: a Depth tick has 5 levels a side, best first, around the LTP", () => {
  const m = market(3);
  const symbols = [
    ["NSE", "RELIANCE"],
    ["NSE", "MARUTI"],
    ["NSE", "WIPRO"],
    ["BSE", "ITC"],
    ["NFO", "NIFTY30DEC25FUT"],
    ["NFO", "NIFTY30DEC2526000CE"],
    ["NFO", "NIFTY30DEC2525500PE"],
    ["NSE", "PAPER0007"],
  ];
  for (let i = 0; i < 2000; i++) {
    const [ex, sym] = symbols[i % symbols.length];
    const t = m.nextTick(ex, sym, 3, NOW + i * 250);
    assert.equal(t.mode, 3);
    assert.ok(t.depth !== null);
    const { buy, sell } = t.depth;
    assert.equal(buy.length, PAPER_DEPTH_LEVELS, `${sym} buy levels`);
    assert.equal(sell.length, PAPER_DEPTH_LEVELS, `${sym} sell levels`);
    assert.ok(buy[0].price < t.ltp, `${sym}: best bid ${buy[0].price} < ltp ${t.ltp}`);
    assert.ok(sell[0].price > t.ltp, `${sym}: best ask ${sell[0].price} > ltp ${t.ltp}`);
    for (let j = 1; j < PAPER_DEPTH_LEVELS; j++) {
      assert.ok(buy[j].price < buy[j - 1].price, `${sym}: bids descend`);
      assert.ok(sell[j].price > sell[j - 1].price, `${sym}: asks ascend`);
    }
    for (const l of [...buy, ...sell]) {
      assert.ok(onGrid(l.price) && l.price > 0, `${sym}: level price ${l.price}`);
      assert.ok(Number.isInteger(l.quantity) && l.quantity > 0);
      assert.ok(Number.isInteger(l.orders) && l.orders! >= 1 && l.orders! <= l.quantity);
    }
    // Spreads stay realistic: under 0.5 % of the price.
    assert.ok((sell[0].price - buy[0].price) / t.ltp < 0.005, `${sym} spread`);
  }
});

Deno.test("PaperMarket: index Depth ticks carry quote fields and depth null", () => {
  const t = market().nextTick("NSE_INDEX", "NIFTY", 3, NOW);
  assert.equal(t.mode, 3);
  assert.equal(t.depth, null);
  assert.equal(typeof t.close, "number");
});

Deno.test("PaperMarket: 100k steps stay positive, on the tick grid and near the base price", () => {
  const m = market(99);
  for (const [ex, sym] of [["NSE", "WIPRO"], ["NSE_INDEX", "FINNIFTY"]]) {
    const base = UNIVERSE.get(ex, sym)!.basePrice;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < 100_000; i++) {
      const t = m.nextTick(ex, sym, 2, NOW + i * 500);
      assert.ok(t.ltp > 0 && onGrid(t.ltp), `${sym} step ${i}: ltp ${t.ltp}`);
      lo = Math.min(lo, t.ltp);
      hi = Math.max(hi, t.ltp);
      for (const p of [t.open!, t.high!, t.low!, t.close!]) assert.ok(p > 0 && onGrid(p));
    }
    assert.ok(lo > base * 0.7 && hi < base * 1.3, `${sym}: range ${lo}..${hi} for base ${base}`);
    assert.ok(hi - lo > base * 0.002, `${sym} moves: ${lo}..${hi}`);
  }
});

Deno.test("PaperMarket: a new IST day starts a new session", () => {
  const m = market();
  const a = m.nextTick("NSE", "LT", 2, NOW);
  const b = m.nextTick("NSE", "LT", 2, NOW + 86_400_000);
  assert.notEqual(a.open, b.open);
  assert.ok(b.volume! < a.volume! * 1.5 + 1e6, "volume restarts");
});

Deno.test("PaperMarket: options are priced off the underlying", () => {
  const m = market(21);
  const nifty = UNIVERSE.get("NSE_INDEX", "NIFTY")!;
  const fut = UNIVERSE.get("NFO", "NIFTY30DEC25FUT")!;
  const ce = UNIVERSE.get("NFO", "NIFTY30DEC2526000CE")!;
  const pe = UNIVERSE.get("NFO", "NIFTY30DEC2526000PE")!;
  const dSpot: number[] = [];
  const dCe: number[] = [];
  const dPe: number[] = [];
  for (let i = 0; i < 400; i++) {
    const t = NOW + i * 30_000;
    const spot = m.fairPrice(nifty, t);
    const f = m.fairPrice(fut, t);
    const c = m.fairPrice(ce, t);
    const p = m.fairPrice(pe, t);
    // Futures trade at a small premium; both options hold at least intrinsic value.
    assert.ok(f > spot && f < spot * 1.01, `future ${f} vs spot ${spot}`);
    assert.ok(c >= Math.max(0, spot - 26_000) && p >= Math.max(0, 26_000 - spot));
    // Put-call parity on the forward, within the futures' small basis noise.
    assert.ok(Math.abs(c - p - (f - 26_000)) < spot * 0.002, `parity at ${i}`);
    // A month out, at the money: time value in the hundreds of points.
    assert.ok(c > 100 && c < 1500 && p > 100 && p < 1500, `premiums ${c} ${p}`);
    if (i > 0) {
      dSpot.push(spot - m.fairPrice(nifty, t - 30_000));
      dCe.push(c - m.fairPrice(ce, t - 30_000));
      dPe.push(p - m.fairPrice(pe, t - 30_000));
    }
  }
  assert.ok(correlation(dSpot, dCe) > 0.8, "calls rise with the index");
  assert.ok(correlation(dSpot, dPe) < -0.8, "puts fall with the index");
});

function correlation(a: number[], b: number[]): number {
  const ma = a.reduce((s, x) => s + x, 0) / a.length;
  const mb = b.reduce((s, x) => s + x, 0) / b.length;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

Deno.test("PaperMarket: an unknown instrument throws", () => {
  assert.throws(() => market().nextTick("NSE", "BOGUS", 1, NOW), /Symbol not found: BOGUS on NSE/);
});

Deno.test("instruments: expiry is the last Tuesday of the month, rolling after it passes", () => {
  const dec30 = Date.UTC(2025, 11, 30, 10);
  assert.equal(monthlyExpiry(NOW), dec30);
  assert.equal(monthlyExpiry(dec30), dec30, "expiry day itself until 15:30 IST");
  // 30 Dec 2025 16:00 IST: December has expired; January's last Tuesday is the 27th.
  assert.equal(monthlyExpiry(Date.UTC(2025, 11, 30, 10, 30)), Date.UTC(2026, 0, 27, 10));
  // 31 Dec 2025 23:00 IST is still December in UTC but already past expiry.
  assert.equal(monthlyExpiry(Date.UTC(2025, 11, 31, 17, 30)), Date.UTC(2026, 0, 27, 10));
  assert.equal(formatExpiry(dec30), "30DEC25");
  assert.equal(futureSymbol("NIFTY", dec30), "NIFTY30DEC25FUT");
  assert.equal(optionSymbol("NIFTY", dec30, 25000, "CE"), "NIFTY30DEC2525000CE");
  for (let m = 0; m < 24; m++) {
    const e = monthlyExpiry(Date.UTC(2026, m, 1));
    const d = new Date(e);
    assert.equal(d.getUTCDay(), 2, "a Tuesday");
    assert.ok(new Date(e + 7 * 86_400_000).getUTCMonth() !== d.getUTCMonth(), "the last one");
  }
});

Deno.test("instruments: the universe lists equities, indices, the NIFTY future and chain", () => {
  for (
    const s of [
      "RELIANCE",
      "TCS",
      "INFY",
      "HDFCBANK",
      "ICICIBANK",
      "SBIN",
      "ITC",
      "LT",
      "AXISBANK",
      "KOTAKBANK",
      "BHARTIARTL",
      "HINDUNILVR",
      "WIPRO",
      "TATAMOTORS",
      "MARUTI",
    ]
  ) {
    const i = UNIVERSE.get("NSE", s);
    assert.ok(i !== undefined && i.kind === "equity" && i.tradable && i.basePrice > 50, s);
    assert.equal(i.tickSize, 0.05);
  }
  assert.equal(UNIVERSE.get("BSE", "RELIANCE")?.kind, "equity");
  for (
    const [ex, s] of [
      ["NSE_INDEX", "NIFTY"],
      ["NSE_INDEX", "BANKNIFTY"],
      ["NSE_INDEX", "FINNIFTY"],
      ["BSE_INDEX", "SENSEX"],
    ]
  ) {
    const i = UNIVERSE.get(ex, s);
    assert.ok(i !== undefined && i.kind === "index" && !i.tradable, s);
  }
  assert.equal(UNIVERSE.get("NSE", "NIFTY"), undefined);

  const fut = UNIVERSE.get("NFO", "NIFTY30DEC25FUT");
  assert.ok(fut !== undefined && fut.kind === "future" && fut.lotSize === NIFTY_LOT_SIZE);
  const options = UNIVERSE.instruments.filter((i) => i.kind === "option");
  assert.equal(options.length, (2 * OPTION_STRIKES_EACH_SIDE + 1) * 2);
  assert.ok(UNIVERSE.get("NFO", "NIFTY30DEC2525950CE") !== undefined, "ATM call");
  for (const i of UNIVERSE.instruments.filter((i) => i.exchange === "NFO")) {
    const p = parseDerivativeSymbol(i.symbol);
    assert.ok(p !== null, i.symbol);
    assert.equal(p.underlying, "NIFTY");
    assert.equal(p.expiry, i.expiry);
    assert.equal(p.kind, i.kind);
    assert.equal(p.strike, i.strike);
    assert.equal(p.optionType, i.optionType);
    if (i.strike !== null) assert.equal(i.strike % OPTION_STRIKE_STEP, 0);
  }
  assert.deepEqual(parseDerivativeSymbol("BANKNIFTY24APR24FUT"), {
    underlying: "BANKNIFTY",
    expiry: Date.UTC(2024, 3, 24, 10),
    kind: "future",
    strike: null,
    optionType: null,
  });
  assert.equal(parseDerivativeSymbol("NIFTY28MAR2420800CE")?.strike, 20800);
  assert.equal(parseDerivativeSymbol("RELIANCE"), null);
  assert.equal(parseDerivativeSymbol("NIFTY31FEB25FUT"), null, "no 31 February");
});

Deno.test("instruments: extraSymbols adds PAPER0001..PAPERnnnn", () => {
  const u = buildUniverse({ now: NOW, extraSymbols: 2500 });
  assert.equal(u.size, buildUniverse({ now: NOW }).size + 2500);
  assert.equal(extraSymbolName(1), "PAPER0001");
  assert.equal(extraSymbolName(12345), "PAPER12345");
  assert.ok(u.get("NSE", "PAPER0001") !== undefined);
  assert.ok(u.get("NSE", "PAPER2500") !== undefined);
  assert.equal(u.get("NSE", "PAPER2501"), undefined);
  assert.equal(buildUniverse({ now: NOW }).get("NSE", "PAPER0001"), undefined);
  const m = new PaperMarket({ seed: 1, universe: u });
  const t = m.nextTick("NSE", "PAPER1234", 3, NOW);
  assert.ok(t.ltp > 0 && t.depth?.buy.length === PAPER_DEPTH_LEVELS);
});

Deno.test("options schema: defaults, bounds, and errors that name the field", () => {
  const d = parsePaperOptions(undefined);
  assert.equal(d.ticksPerSecond, 2);
  assert.equal(d.intervalMs, 50);
  assert.equal(d.maxSymbolsPerConnection, 1000);
  assert.equal(d.maxConnections, 3);
  assert.equal(d.stallAfterMs, 5000);
  assert.equal(d.extraSymbols, 0);
  assert.equal(d.seed, undefined);
  assert.equal(d.totalRate, undefined);
  assert.throws(() => parsePaperOptions({ ticksPerSecond: 0 }), /ticksPerSecond/);
  assert.throws(() => parsePaperOptions({ seed: 1.5 }), /seed/);
  assert.throws(() => parsePaperOptions({ intervalMs: "50" }), /intervalMs/);
  assert.throws(() => parsePaperOptions({ tickzPerSecond: 3 }), /tickzPerSecond/);
  assert.throws(() => parsePaperOptions(5), /invalid paper options/);
  const caps = paperAdapter.capabilities({ maxSymbolsPerConnection: 50, maxConnections: 2 });
  assert.deepEqual(caps, {
    broker: "paper",
    hosts: [],
    readPaths: [],
    maxSymbolsPerConnection: 50,
    maxConnections: 2,
    maxTokensPerFrame: 1000,
    depthLevels: { "*": [5] },
    quotes: { maxInstruments: { 1: 500, 2: 500, 3: 500 }, requestsPerSecond: 2 },
  });
  assert.equal(paperAdapter.name, "paper");
  assert.ok(paperAdapter.workerUrl.href.endsWith("/adapters/paper/worker.ts"));
});
