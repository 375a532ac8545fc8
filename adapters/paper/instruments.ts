// The paper market's instrument universe: NSE/BSE equities, indices, and NIFTY and BANKNIFTY futures
// and option chains in OpenAlgo symbol format, with expiries derived from a given time so tests are
// deterministic.

import { type InstrumentKey, instrumentKey } from "../../lib/types.ts";

/** Every paper price moves on this grid (rupees). */
export const PAPER_TICK_SIZE = 0.05;

/** Strikes listed on each side of the strike nearest the index's base level, per expiry. */
export const OPTION_STRIKES_EACH_SIDE = 40;

/** Distance between NIFTY option strikes (points). */
export const OPTION_STRIKE_STEP = 50;

/** NIFTY lot size for futures and options (units). */
export const NIFTY_LOT_SIZE = 75;

/** BANKNIFTY lot size for futures and options (units). */
export const BANKNIFTY_LOT_SIZE = 35;

/**
 * The indices with futures and options on NFO: strike step, lot size, and whether a weekly expiry
 * (with no future: the chain prices it on the spot with carry) is listed besides two monthlies.
 */
export const OPTION_UNDERLYINGS: readonly {
  symbol: string;
  strikeStep: number;
  lotSize: number;
  weekly: boolean;
}[] = [
  { symbol: "NIFTY", strikeStep: OPTION_STRIKE_STEP, lotSize: NIFTY_LOT_SIZE, weekly: true },
  { symbol: "BANKNIFTY", strikeStep: 100, lotSize: BANKNIFTY_LOT_SIZE, weekly: false },
];

/** What kind of instrument a paper symbol is; it decides how its price and fields are produced. */
export type InstrumentKind = "equity" | "index" | "future" | "option";

/** One instrument of the paper market. */
export interface PaperInstrument {
  readonly exchange: string;
  readonly symbol: string;
  readonly key: InstrumentKey;
  readonly kind: InstrumentKind;
  /**
   * Reference price level: the walk of an equity or index hovers around it. For derivatives it is
   * the price at build time and only informative (their price follows the underlying).
   */
  readonly basePrice: number;
  readonly lotSize: number;
  readonly tickSize: number;
  /** False for indices: no trades, so no volume, quantities or depth. */
  readonly tradable: boolean;
  /** Typical daily move of the log price (0.015 = 1.5 %). */
  readonly dailyVolatility: number;
  /** Instrument key of the underlying index for futures and options, else null. */
  readonly underlying: InstrumentKey | null;
  /** Expiry instant (epoch ms, 15:30 IST) for futures and options, else null. */
  readonly expiry: number | null;
  readonly strike: number | null;
  readonly optionType: "CE" | "PE" | null;
}

/** A futures or options symbol taken apart. */
export interface DerivativeSymbol {
  underlying: string;
  /** Expiry day at 15:30 IST, epoch ms. */
  expiry: number;
  kind: "future" | "option";
  strike: number | null;
  optionType: "CE" | "PE" | null;
}

const MONTHS = [
  "JAN",
  "FEB",
  "MAR",
  "APR",
  "MAY",
  "JUN",
  "JUL",
  "AUG",
  "SEP",
  "OCT",
  "NOV",
  "DEC",
] as const;

const IST_OFFSET_MS = 330 * 60_000;
/** 15:30 IST expressed in UTC. */
const EXPIRY_UTC_HOUR = 10;
const TUESDAY = 2;

// [symbol, base price, daily volatility]
const NSE_EQUITIES: readonly (readonly [string, number, number])[] = [
  ["RELIANCE", 1410, 0.014],
  ["TCS", 3120, 0.013],
  ["INFY", 1560, 0.016],
  ["HDFCBANK", 985, 0.012],
  ["ICICIBANK", 1390, 0.013],
  ["SBIN", 955, 0.016],
  ["ITC", 405, 0.011],
  ["LT", 3980, 0.014],
  ["AXISBANK", 1260, 0.016],
  ["KOTAKBANK", 2120, 0.014],
  ["BHARTIARTL", 2080, 0.013],
  ["HINDUNILVR", 2440, 0.011],
  ["WIPRO", 248, 0.016],
  ["TATAMOTORS", 680, 0.021],
  ["MARUTI", 16150, 0.014],
];

const BSE_EQUITIES: readonly string[] = ["RELIANCE", "TCS", "INFY", "HDFCBANK", "SBIN", "ITC"];

// [exchange, symbol, base level, daily volatility]
const INDICES: readonly (readonly [string, string, number, number])[] = [
  ["NSE_INDEX", "NIFTY", 25950, 0.008],
  ["NSE_INDEX", "BANKNIFTY", 58200, 0.009],
  ["NSE_INDEX", "FINNIFTY", 27400, 0.009],
  ["BSE_INDEX", "SENSEX", 84800, 0.008],
];

/**
 * The monthly expiry in force at `now`: the last Tuesday of the month at 15:30 IST, or next month's
 * when this month's has passed. Exchange holidays are not modelled.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // Tue 30 Dec 2025, 15:30 IST
 * assert.equal(new Date(monthlyExpiry(Date.UTC(2025, 11, 1))).toISOString(), "2025-12-30T10:00:00.000Z");
 * ```
 */
export function monthlyExpiry(now: number): number {
  const ist = new Date(now + IST_OFFSET_MS);
  let year = ist.getUTCFullYear();
  let month = ist.getUTCMonth();
  for (;;) {
    const expiry = lastTuesday(year, month);
    if (expiry >= now) return expiry;
    month++;
    if (month === 12) {
      month = 0;
      year++;
    }
  }
}

/**
 * The weekly expiry in force at `now`: the next Tuesday 15:30 IST not yet passed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // Mon 1 Dec 2025 → Tue 2 Dec 2025, 15:30 IST
 * assert.equal(new Date(weeklyExpiry(Date.UTC(2025, 11, 1))).toISOString(), "2025-12-02T10:00:00.000Z");
 * ```
 */
export function weeklyExpiry(now: number): number {
  const ist = new Date(now + IST_OFFSET_MS);
  const ahead = (TUESDAY - ist.getUTCDay() + 7) % 7;
  const expiry = Date.UTC(
    ist.getUTCFullYear(),
    ist.getUTCMonth(),
    ist.getUTCDate() + ahead,
    EXPIRY_UTC_HOUR,
  );
  return expiry >= now ? expiry : expiry + 7 * 86_400_000;
}

function lastTuesday(year: number, month: number): number {
  const lastDay = new Date(Date.UTC(year, month + 1, 0));
  const back = (lastDay.getUTCDay() - TUESDAY + 7) % 7;
  return Date.UTC(year, month, lastDay.getUTCDate() - back, EXPIRY_UTC_HOUR);
}

/**
 * Formats an expiry as OpenAlgo's `DDMMMYY` (IST calendar date).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(formatExpiry(Date.UTC(2025, 11, 30, 10)), "30DEC25");
 * ```
 */
export function formatExpiry(expiry: number): string {
  const d = new Date(expiry + IST_OFFSET_MS);
  const dd = String(d.getUTCDate()).padStart(2, "0");
  const yy = String(d.getUTCFullYear() % 100).padStart(2, "0");
  return `${dd}${MONTHS[d.getUTCMonth()]}${yy}`;
}

/**
 * The OpenAlgo futures symbol: underlying + expiry + `FUT`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(futureSymbol("NIFTY", Date.UTC(2025, 11, 30, 10)), "NIFTY30DEC25FUT");
 * ```
 */
export function futureSymbol(underlying: string, expiry: number): string {
  return `${underlying}${formatExpiry(expiry)}FUT`;
}

/**
 * The OpenAlgo options symbol: underlying + expiry + strike + `CE`/`PE`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(optionSymbol("NIFTY", Date.UTC(2025, 11, 30, 10), 25000, "CE"), "NIFTY30DEC2525000CE");
 * ```
 */
export function optionSymbol(
  underlying: string,
  expiry: number,
  strike: number,
  optionType: "CE" | "PE",
): string {
  return `${underlying}${formatExpiry(expiry)}${strike}${optionType}`;
}

const DERIVATIVE_RE =
  /^([A-Z&-]+?)(\d{2})(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)(\d{2})(?:(FUT)|(\d+(?:\.\d+)?)(CE|PE))$/;

/**
 * Takes an OpenAlgo futures/options symbol apart; null when `symbol` is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseDerivativeSymbol("NIFTY30DEC2525000CE"), {
 *   underlying: "NIFTY", expiry: Date.UTC(2025, 11, 30, 10), kind: "option", strike: 25000,
 *   optionType: "CE",
 * });
 * assert.equal(parseDerivativeSymbol("RELIANCE"), null);
 * ```
 */
export function parseDerivativeSymbol(symbol: string): DerivativeSymbol | null {
  const m = DERIVATIVE_RE.exec(symbol);
  if (m === null) return null;
  const [, underlying, dd, mmm, yy, fut, strike, optionType] = m;
  const month = MONTHS.indexOf(mmm as (typeof MONTHS)[number]);
  const day = Number(dd);
  const expiry = Date.UTC(2000 + Number(yy), month, day, EXPIRY_UTC_HOUR);
  if (new Date(expiry).getUTCDate() !== day) return null;
  if (fut !== undefined) {
    return { underlying, expiry, kind: "future", strike: null, optionType: null };
  }
  return {
    underlying,
    expiry,
    kind: "option",
    strike: Number(strike),
    optionType: optionType as "CE" | "PE",
  };
}

/** Name of the `n`-th synthetic equity (1-based): `PAPER0001`, … */
export function extraSymbolName(n: number): string {
  return `PAPER${String(n).padStart(4, "0")}`;
}

/** Options for {@link buildUniverse}. */
export interface UniverseOptions {
  /** Epoch ms the expiries are derived from. */
  now: number;
  /** Synthetic NSE equities `PAPER0001`..`PAPERnnnn` to add (capacity tests, load benchmarks). */
  extraSymbols?: number;
}

/** The instruments of one paper market, looked up by exchange and symbol. */
export class InstrumentUniverse {
  readonly #byKey: Map<InstrumentKey, PaperInstrument>;
  /** Every instrument, in build order. */
  readonly instruments: readonly PaperInstrument[];
  /** The nearest monthly expiry the derivatives were built for (epoch ms). */
  readonly expiry: number;

  constructor(instruments: readonly PaperInstrument[], expiry: number) {
    this.instruments = instruments;
    this.expiry = expiry;
    this.#byKey = new Map(instruments.map((i) => [i.key, i]));
  }

  /** Number of instruments. */
  get size(): number {
    return this.#byKey.size;
  }

  /** The instrument, or undefined when the paper market does not list it. */
  get(exchange: string, symbol: string): PaperInstrument | undefined {
    return this.#byKey.get(instrumentKey(exchange, symbol));
  }

  /** The instrument with this key, or undefined. */
  byKey(key: InstrumentKey): PaperInstrument | undefined {
    return this.#byKey.get(key);
  }
}

function instrument(
  fields:
    & Omit<PaperInstrument, "key" | "tickSize" | "underlying" | "expiry" | "strike" | "optionType">
    & Partial<Pick<PaperInstrument, "underlying" | "expiry" | "strike" | "optionType">>,
): PaperInstrument {
  return {
    underlying: null,
    expiry: null,
    strike: null,
    optionType: null,
    ...fields,
    key: instrumentKey(fields.exchange, fields.symbol),
    tickSize: PAPER_TICK_SIZE,
  };
}

/**
 * Builds the paper market's instruments for the time `now`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const u = buildUniverse({ now: Date.UTC(2025, 11, 1), extraSymbols: 2 });
 * assert.equal(u.get("NFO", "NIFTY30DEC25FUT")?.lotSize, 75);
 * assert.equal(u.get("NSE", "PAPER0002")?.kind, "equity");
 * ```
 */
export function buildUniverse(options: UniverseOptions): InstrumentUniverse {
  const list: PaperInstrument[] = [];
  for (const [symbol, basePrice, vol] of NSE_EQUITIES) {
    list.push(equity("NSE", symbol, basePrice, vol));
  }
  for (const symbol of BSE_EQUITIES) {
    const nse = NSE_EQUITIES.find(([s]) => s === symbol);
    if (nse !== undefined) list.push(equity("BSE", symbol, nse[1], nse[2]));
  }
  for (const [exchange, symbol, basePrice, vol] of INDICES) {
    list.push(instrument({
      exchange,
      symbol,
      kind: "index",
      basePrice,
      lotSize: 1,
      tradable: false,
      dailyVolatility: vol,
    }));
  }

  const expiry = monthlyExpiry(options.now);
  // The next monthly: the first expiry after this month's.
  const nextMonthly = monthlyExpiry(expiry + 7 * 86_400_000);
  for (const u of OPTION_UNDERLYINGS) {
    const index = INDICES.find(([, s]) => s === u.symbol)!;
    const expiries = [expiry, nextMonthly];
    if (u.weekly) {
      const weekly = weeklyExpiry(options.now);
      if (weekly !== expiry) expiries.unshift(weekly);
    }
    // Only monthlies have a future; a weekly chain is priced on the spot with carry.
    for (const e of expiries) {
      list.push(...derivatives(index, u, e, e === expiry || e === nextMonthly));
    }
  }

  const extra = options.extraSymbols ?? 0;
  for (let n = 1; n <= extra; n++) {
    // Spread synthetic prices over 50..5000 without two neighbours looking alike.
    const basePrice = 50 + ((n * 7919) % 4951);
    list.push(equity("NSE", extraSymbolName(n), basePrice, 0.012 + ((n * 31) % 11) / 1000));
  }
  return new InstrumentUniverse(list, expiry);
}

/** The future (monthlies only) and the strikes of one expiry of an index. */
function derivatives(
  index: readonly [string, string, number, number],
  u: (typeof OPTION_UNDERLYINGS)[number],
  expiry: number,
  withFuture: boolean,
): PaperInstrument[] {
  const [exchange, symbol, level, vol] = index;
  const underlying = instrumentKey(exchange, symbol);
  const out: PaperInstrument[] = [];
  const common = {
    exchange: "NFO",
    lotSize: u.lotSize,
    tradable: true,
    dailyVolatility: vol,
    underlying,
    expiry,
  };
  if (withFuture) {
    out.push(instrument({
      ...common,
      symbol: futureSymbol(symbol, expiry),
      kind: "future",
      basePrice: level,
    }));
  }
  const atm = Math.round(level / u.strikeStep) * u.strikeStep;
  for (let i = -OPTION_STRIKES_EACH_SIDE; i <= OPTION_STRIKES_EACH_SIDE; i++) {
    const strike = atm + i * u.strikeStep;
    for (const optionType of ["CE", "PE"] as const) {
      out.push(instrument({
        ...common,
        symbol: optionSymbol(symbol, expiry, strike, optionType),
        kind: "option",
        basePrice: Math.max(0, optionType === "CE" ? level - strike : strike - level),
        strike,
        optionType,
      }));
    }
  }
  return out;
}

function equity(
  exchange: string,
  symbol: string,
  basePrice: number,
  dailyVolatility: number,
): PaperInstrument {
  return instrument({
    exchange,
    symbol,
    kind: "equity",
    basePrice,
    lotSize: 1,
    tradable: true,
    dailyVolatility,
  });
}
