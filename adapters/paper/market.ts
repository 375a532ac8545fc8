// The simulated market behind the paper adapter: seeded prices, session statistics and 5-level
// depth per instrument, projected onto a mode's fields. Pure: time comes in as `now`, no timers.

import { baseTick, type DepthLevel, instrumentKey, type Mode, type Tick } from "../../lib/types.ts";
import type { InstrumentUniverse, PaperInstrument } from "./instruments.ts";
// The formula file only: the descriptor imports this module, and needs none of the chain service.
import { black76Price } from "../../lib/options/black76.ts";

/** Depth levels the paper market quotes on each side. */
export const PAPER_DEPTH_LEVELS = 5;

const DAY_MS = 86_400_000;
const YEAR_MS = 365 * DAY_MS;
const IST_OFFSET_MS = 330 * 60_000;
/** Shortest time value an option keeps before expiry, so prices stay finite (one minute). */
const MIN_OPTION_T = 60_000 / YEAR_MS;
/** The rate the paper market prices futures and options with: the option chain's default. */
export const PAPER_RISK_FREE_RATE = 0.065;

// ---- seeded randomness ------------------------------------------------------------------------

/** Scrambles a 32-bit integer into a well-mixed 32-bit unsigned integer (xorshift-multiply). */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

/** 32-bit FNV-1a hash of a string. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * A small seeded pseudo-random generator: a Weyl sequence (golden-ratio increment) run through
 * {@link mix32}. Not cryptographic; fast, and the same seed always gives the same sequence.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const a = new Prng(42), b = new Prng(42);
 * assert.equal(a.next(), b.next(), "equal seeds, equal sequences");
 * ```
 */
export class Prng {
  #state: number;
  #spare = Number.NaN;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Uniform integer in [0, 2^32). */
  nextUint32(): number {
    this.#state = (this.#state + 0x9e3779b9) >>> 0;
    return mix32(this.#state);
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** Standard normal deviate (Box–Muller; the second value of each pair is kept for next call). */
  normal(): number {
    if (!Number.isNaN(this.#spare)) {
      const s = this.#spare;
      this.#spare = Number.NaN;
      return s;
    }
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

// ---- price paths ------------------------------------------------------------------------------

// A price path is base × exp(vol × noise(t)), where noise is a sum of piecewise-linear random
// octaves with periods 1 s … 18 h and amplitudes growing with √period, so it moves like a random
// walk at every scale yet stays near its base. It is a pure function of (seed, instrument, time):
// every connection of the paper adapter sees the same NIFTY, so options on one connection follow
// the index streamed on another, and no call order can change a price.
const OCTAVES = 9;
const PERIODS: readonly number[] = Array.from({ length: OCTAVES }, (_, o) => 1000 * 4 ** o);
const AMPLITUDES: readonly number[] = (() => {
  const raw = PERIODS.map((p) => Math.sqrt(p / 1000));
  // A lerp between two independent uniforms on [-1, 1] has mean square 2/9; scale to unit std.
  const norm = Math.sqrt((2 / 9) * raw.reduce((s, a) => s + a * a, 0));
  return raw.map((a) => a / norm);
})();

function lattice(seed: number, octave: number, index: number): number {
  const h = mix32(seed ^ mix32(((index >>> 0) + Math.imul(octave, 0x9e3779b9)) | 0));
  return h / 2147483648 - 1;
}

/**
 * A unit-variance random path, a pure function of its seed and the time. It remembers the lattice
 * values around the last time asked, since successive ticks mostly stay within the same cells.
 */
class NoisePath {
  readonly #seed: number;
  readonly #cell = new Float64Array(OCTAVES).fill(Number.NaN);
  readonly #a = new Float64Array(OCTAVES);
  readonly #b = new Float64Array(OCTAVES);

  constructor(seed: number) {
    this.#seed = seed;
  }

  at(t: number): number {
    let sum = 0;
    for (let o = 0; o < OCTAVES; o++) {
      const x = t / PERIODS[o];
      const i = Math.floor(x);
      if (i !== this.#cell[o]) {
        this.#cell[o] = i;
        this.#a[o] = lattice(this.#seed, o, i);
        this.#b[o] = lattice(this.#seed, o, i + 1);
      }
      const a = this.#a[o];
      sum += AMPLITUDES[o] * (a + (this.#b[o] - a) * (x - i));
    }
    return sum;
  }
}

// ---- per-instrument state ---------------------------------------------------------------------

interface InstrumentState {
  readonly inst: PaperInstrument;
  readonly seed: number;
  /**
   * The instrument's own random path: the price for equities and indices, the basis for futures,
   * the implied-volatility wander for options (shared by a strike's call and put, for parity).
   */
  readonly path: NoisePath;
  /** The underlying's state, for futures and options. */
  readonly under: InstrumentState | null;
  readonly rng: Prng;
  /** Price grid steps per rupee (20 for a 0.05 tick). */
  readonly grid: number;
  /** IST calendar day (days since epoch) the session fields belong to; -1 before the first tick. */
  day: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  turnover: number;
  lastQty: number;
  totalBuy: number;
  totalSell: number;
  oi: number;
}

/** Options for {@link PaperMarket}. */
export interface PaperMarketOptions {
  /** Any 32-bit integer; equal seeds give equal prices and equal tick sequences. */
  seed: number;
  universe: InstrumentUniverse;
}

/**
 * The paper market: one state per instrument, created on its first tick. `nextTick` advances the
 * instrument (one simulated trade for tradable ones) and returns a tick with the fields of `mode`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildUniverse } from "./instruments.ts";
 * const market = new PaperMarket({ seed: 7, universe: buildUniverse({ now: Date.now() }) });
 * const tick = market.nextTick("NSE", "RELIANCE", 2, Date.now());
 * assert.equal(tick.mode, 2);
 * assert.ok(tick.ltp > 0 && tick.volume !== null && tick.depth === null);
 * ```
 */
export class PaperMarket {
  readonly universe: InstrumentUniverse;
  readonly #seed: number;
  readonly #states = new Map<string, InstrumentState>();

  constructor(options: PaperMarketOptions) {
    this.universe = options.universe;
    this.#seed = options.seed >>> 0;
  }

  /**
   * The model ("fair") price of an instrument at `now`, before tick rounding and trade noise: the
   * same for every market built with the same seed.
   */
  fairPrice(inst: PaperInstrument, now: number): number {
    return this.#fair(this.#state(inst.key), now);
  }

  /**
   * Produces the next tick of an instrument at time `now` (epoch ms; also its `timestamp` and `ltt`).
   * Mode 1 sets only the LTP fields; mode 2 adds the session and trade fields (`oi` for futures and
   * options only); mode 3 adds 5 depth levels a side. Indices have no trades and no order book:
   * their volume, quantity, average-price and `oi` fields are null, and so is `depth` in mode 3.
   * Throws a RangeError for an instrument the paper market does not list.
   */
  nextTick(exchange: string, symbol: string, mode: Mode, now: number): Tick {
    const st = this.#state(instrumentKey(exchange, symbol));
    const inst = st.inst;
    const day = Math.floor((now + IST_OFFSET_MS) / DAY_MS);
    if (day !== st.day) this.#openDay(st, day, now);

    let k = Math.round(this.#fair(st, now) * st.grid);
    if (inst.tradable) {
      // Trades print at either side of the model price.
      const r = st.rng.next();
      if (r < 0.25) k--;
      else if (r >= 0.75) k++;
    }
    if (k < 1) k = 1;
    const ltp = k / st.grid;
    if (ltp > st.high) st.high = ltp;
    if (ltp < st.low) st.low = ltp;
    if (inst.tradable) this.#trade(st, ltp);

    const tick: Tick = baseTick(inst.exchange, inst.symbol, mode, ltp, now, now);
    if (mode === 1) return tick;

    tick.open = st.open;
    tick.high = st.high;
    tick.low = st.low;
    tick.close = st.close;
    tick.change = round2(ltp - st.close);
    tick.change_percent = round2(((ltp - st.close) / st.close) * 100);
    if (inst.tradable) {
      tick.volume = st.volume;
      tick.last_trade_quantity = st.lastQty;
      tick.avg_trade_price = st.volume > 0 ? round2(st.turnover / st.volume) : null;
      tick.total_buy_quantity = st.totalBuy;
      tick.total_sell_quantity = st.totalSell;
      if (inst.kind === "future" || inst.kind === "option") tick.oi = st.oi;
      if (mode === 3) tick.depth = { buy: this.#side(st, k, -1), sell: this.#side(st, k, 1) };
    }
    return tick;
  }

  #state(key: string): InstrumentState {
    let st = this.#states.get(key);
    if (st !== undefined) return st;
    const inst = this.universe.byKey(key);
    if (inst === undefined) {
      const at = key.indexOf(":");
      throw new RangeError(`Symbol not found: ${key.slice(at + 1)} on ${key.slice(0, at)}`);
    }
    const seed = mix32(this.#seed ^ hashString(key));
    st = {
      inst,
      seed,
      path: new NoisePath(
        inst.kind === "option"
          ? mix32(this.#seed ^ hashString(`${inst.underlying}:${inst.expiry}:${inst.strike}`))
          : seed,
      ),
      under: inst.underlying === null ? null : this.#state(inst.underlying),
      rng: new Prng(mix32(seed + 1)),
      grid: Math.round(1 / inst.tickSize),
      day: -1,
      open: 0,
      high: 0,
      low: 0,
      close: 0,
      volume: 0,
      turnover: 0,
      lastQty: 0,
      totalBuy: 0,
      totalSell: 0,
      oi: 0,
    };
    this.#states.set(key, st);
    return st;
  }

  #fair(st: InstrumentState, now: number): number {
    const inst = st.inst;
    if (st.under === null) return inst.basePrice * Math.exp(inst.dailyVolatility * st.path.at(now));
    const spot = this.#fair(st.under, now);
    const t = Math.max(0, (inst.expiry! - now) / YEAR_MS);
    const forward = spot * Math.exp(PAPER_RISK_FREE_RATE * t);
    if (inst.kind === "future") return forward * Math.exp(0.0004 * st.path.at(now));
    const strike = inst.strike!;
    const call = inst.optionType === "CE";
    if (t === 0) return Math.max(0, call ? spot - strike : strike - spot);
    const m = Math.log(strike / forward);
    // The index's annual volatility less a risk premium, a smile with a put skew, and a slowly
    // wandering level; priced by Black-76 (discounted), the option chain's model, so the chain's
    // implied volatilities come back near this surface.
    const level = st.under.inst.dailyVolatility * Math.sqrt(252) - 0.012;
    const vol = level + 1.6 * m * m - 0.25 * m + 0.01 * st.path.at(now);
    return black76Price(
      forward,
      strike,
      Math.max(t, MIN_OPTION_T),
      Math.max(0.03, vol),
      PAPER_RISK_FREE_RATE,
      call ? "CE" : "PE",
    );
  }

  /** Starts a new session day: open/previous close from the path, volume for the time elapsed. */
  #openDay(st: InstrumentState, day: number, now: number): void {
    const inst = st.inst;
    const dayStart = day * DAY_MS - IST_OFFSET_MS;
    const openFair = this.#fair(st, dayStart);
    const gapVol = inst.kind === "option" ? 0.05 : 0.3 * inst.dailyVolatility;
    const gap = gapVol * (mix32(st.seed ^ mix32(day)) / 2147483648 - 1);
    st.day = day;
    st.open = Math.max(1, Math.round(openFair * st.grid)) / st.grid;
    st.close = Math.max(1, Math.round(openFair * Math.exp(gap) * st.grid)) / st.grid;
    st.high = st.open;
    st.low = st.open;
    // The session began before this market did: sample the path so high/low cover the day so far.
    const samples = 16;
    for (let i = 1; i <= samples; i++) {
      const p = Math.round(
        this.#fair(st, dayStart + ((now - dayStart) * i) / samples) *
          st.grid,
      ) / st.grid;
      if (p > st.high) st.high = p;
      if (p < st.low) st.low = p;
    }
    if (!inst.tradable) return;
    const lot = inst.lotSize;
    const elapsed = Math.min(1, Math.max(0, (now - dayStart) / DAY_MS));
    const daily = dailyVolume(inst, this.universe);
    st.volume = roundLots(daily * elapsed * (0.8 + 0.4 * st.rng.next()), lot);
    st.turnover = st.volume * (st.open + st.high + st.low) / 3;
    st.lastQty = 0;
    st.totalBuy = Math.max(lot, roundLots(daily * 0.04 * (0.7 + 0.6 * st.rng.next()), lot));
    st.totalSell = Math.max(lot, roundLots(daily * 0.04 * (0.7 + 0.6 * st.rng.next()), lot));
    st.oi = baseOpenInterest(inst, this.universe);
  }

  /** One simulated trade (plus the unseen trades since the last tick) at `ltp`. */
  #trade(st: InstrumentState, ltp: number): void {
    const inst = st.inst;
    const rng = st.rng;
    const lot = inst.lotSize;
    // Cheap right-skewed sizes (cubes of uniforms): mostly small trades, now and then a big one.
    const u = rng.next();
    const qty = lot === 1
      ? 1 + Math.floor(400 * u * u * u * u)
      : lot * (1 + Math.floor(20 * u * u * u));
    const traded = qty * (1 + rng.int(0, 3));
    st.lastQty = qty;
    st.volume += traded;
    st.turnover += traded * ltp;
    st.totalBuy = Math.max(lot, roundLots(st.totalBuy * (0.98 + 0.04 * rng.next()), lot));
    st.totalSell = Math.max(lot, roundLots(st.totalSell * (0.98 + 0.04 * rng.next()), lot));
    if (inst.kind === "future" || inst.kind === "option") {
      st.oi = Math.max(0, st.oi + lot * rng.int(-3, 3));
    }
  }

  /**
   * One side of the book, best first: bids strictly below the last trade, asks strictly above (the
   * last trade took the touch). Bids stop at one tick, so a near-worthless option can have fewer.
   */
  #side(st: InstrumentState, ltpGrid: number, dir: -1 | 1): DepthLevel[] {
    const inst = st.inst;
    const rng = st.rng;
    const lot = inst.lotSize;
    // Spread grows with price: ~1 bp each side for equities, wider for options.
    const bps = inst.kind === "option" ? 0.001 : inst.kind === "future" ? 0.00002 : 0.00004;
    const halfSpread = Math.max(1, Math.round(ltpGrid * bps));
    const meanQty = lot === 1 ? Math.min(5000, Math.max(5, 150_000 / (ltpGrid / st.grid))) : 0;
    const levels: DepthLevel[] = [];
    let k = ltpGrid + dir * rng.int(1, halfSpread);
    for (let i = 0; i < PAPER_DEPTH_LEVELS && k >= 1; i++) {
      const u = rng.next();
      const size = 0.3 + 2.8 * u * u * u; // mean 1, up to 3.1
      const quantity = lot === 1
        ? Math.max(1, Math.round(meanQty * size))
        : lot * Math.max(1, Math.round(8 * size));
      const v = rng.next();
      const orders = Math.min(quantity / lot, 1 + Math.floor(10 * v * v * v));
      levels.push({ price: k / st.grid, quantity, orders });
      k += dir * (rng.next() < 0.7 ? 1 : rng.int(2, 1 + halfSpread));
    }
    return levels;
  }
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function roundLots(x: number, lot: number): number {
  return Math.round(x / lot) * lot;
}

/** Typical full-day traded quantity (units), options busiest at the money. */
function dailyVolume(inst: PaperInstrument, universe: InstrumentUniverse): number {
  switch (inst.kind) {
    case "equity":
      return 4e9 / inst.basePrice;
    case "future":
      return 4e6;
    case "option":
      return 6e7 * atTheMoneyWeight(inst, universe) + 1e6;
    case "index":
      return 0;
  }
}

/**
 * 1 at the money, falling off over a few percent of the underlying's base level; writers hold calls
 * a little above the money and puts a little below, as in index chains.
 */
function atTheMoneyWeight(inst: PaperInstrument, universe: InstrumentUniverse): number {
  const spot = universe.byKey(inst.underlying!)!.basePrice;
  const centre = spot * (inst.optionType === "PE" ? 0.99 : 1.01);
  const m = (inst.strike! - centre) / (spot * 0.025);
  return Math.exp(-m * m);
}

/** Starting open interest (units) for futures and options, peaking at the money. */
function baseOpenInterest(inst: PaperInstrument, universe: InstrumentUniverse): number {
  if (inst.kind === "future") return roundLots(1.4e7, inst.lotSize);
  if (inst.kind !== "option") return 0;
  return roundLots(6e6 * atTheMoneyWeight(inst, universe) + 3e5, inst.lotSize);
}
