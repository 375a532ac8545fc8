// Dhan instrument master: the compact scrip master CSV (`api-scrip-master.csv`, from a file or
// URL) → OpenAlgo symbols and Dhan (exchange segment, security id) pairs, both ways.

import {
  futureSymbol,
  indexSymbol,
  InstrumentMaster,
  loadMasterText,
  optionSymbol,
  parseCsv,
  parseExpiry,
} from "../../lib/adapter/mod.ts";
import type { BrokerInstrument } from "../../lib/adapter/mod.ts";
import { SEGMENT, type SegmentName, tokenKey } from "./codec.ts";

/** Dhan's public compact scrip master (no credentials needed). */
export const DHAN_INSTRUMENTS_URL = "https://images.dhan.co/api-data/api-scrip-master.csv";

/** One Dhan instrument with its OpenAlgo symbol. */
export interface DhanInstrument extends BrokerInstrument {
  /** {@link tokenKey} of segment and security id: ids repeat across segments. */
  readonly token: number;
  /** `SEM_SMST_SECURITY_ID` as requests spell it. */
  readonly securityId: string;
  /** Request segment name (`NSE_EQ`, `IDX_I` ...). */
  readonly segment: SegmentName;
  /** Dhan `SEM_TRADING_SYMBOL` (`NIFTY-Mar2024-20800-CE`). */
  readonly brokerSymbol: string;
  readonly lotSize: number;
  /** Rupees. */
  readonly tickSize: number;
}

const FNO = new Set(["FUTIDX", "FUTSTK", "OPTIDX", "OPTSTK"]);
const CURRENCY = new Set(["FUTCUR", "OPTCUR"]);
const COMMODITY = new Set(["FUTCOM", "OPTFUT", "FUTIDX", "OPTCOM"]);

/** (exchange, instrument name) → OpenAlgo exchange and Dhan segment; null when unsupported. */
function placeOf(
  exch: string,
  instrument: string,
): { exchange: string; segment: SegmentName } | null {
  if (instrument === "EQUITY") {
    if (exch === "NSE") return { exchange: "NSE", segment: "NSE_EQ" };
    if (exch === "BSE") return { exchange: "BSE", segment: "BSE_EQ" };
    return null;
  }
  if (instrument === "INDEX") {
    return exch === "NSE" || exch === "BSE"
      ? { exchange: `${exch}_INDEX`, segment: "IDX_I" }
      : null;
  }
  if (exch === "MCX" && COMMODITY.has(instrument)) return { exchange: "MCX", segment: "MCX_COMM" };
  if (FNO.has(instrument)) {
    if (exch === "NSE") return { exchange: "NFO", segment: "NSE_FNO" };
    if (exch === "BSE") return { exchange: "BFO", segment: "BSE_FNO" };
  }
  if (CURRENCY.has(instrument)) {
    if (exch === "NSE") return { exchange: "CDS", segment: "NSE_CURRENCY" };
    if (exch === "BSE") return { exchange: "BCD", segment: "BSE_CURRENCY" };
  }
  return null;
}

function num(s: string | undefined, fallback: number): number {
  const n = Number(s);
  return s !== undefined && s !== "" && Number.isFinite(n) ? n : fallback;
}

/**
 * The instrument of one CSV row (keyed by column name), or null when it is not streamable.
 *
 * Symbols: equities keep the trading symbol; indices (`IDX_I`) become `NSE_INDEX`/`BSE_INDEX` with
 * OpenAlgo index names; futures and options are rebuilt from the underlying (the trading symbol
 * before its first `-`), `SEM_EXPIRY_DATE`, `SEM_STRIKE_PRICE` and `SEM_OPTION_TYPE`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const i = dhanInstrument({ SEM_EXM_EXCH_ID: "NSE", SEM_SEGMENT: "D", SEM_SMST_SECURITY_ID: "43650",
 *   SEM_INSTRUMENT_NAME: "OPTIDX", SEM_TRADING_SYMBOL: "NIFTY-Mar2024-20800-CE", SEM_LOT_UNITS: "50",
 *   SEM_EXPIRY_DATE: "2024-03-28 14:30:00", SEM_STRIKE_PRICE: "20800.00000", SEM_OPTION_TYPE: "CE",
 *   SEM_TICK_SIZE: "5.0000" });
 * assert.equal(i?.symbol, "NIFTY28MAR2420800CE");
 * assert.equal(i?.segment, "NSE_FNO");
 * ```
 */
export function dhanInstrument(row: Record<string, string>): DhanInstrument | null {
  const exch = (row.SEM_EXM_EXCH_ID ?? "").toUpperCase();
  const instrument = (row.SEM_INSTRUMENT_NAME ?? "").toUpperCase();
  const id = row.SEM_SMST_SECURITY_ID ?? "";
  const trading = row.SEM_TRADING_SYMBOL ?? "";
  const place = placeOf(exch, instrument);
  if (place === null || !/^\d{1,10}$/.test(id) || trading === "") return null;
  let symbol: string;
  if (instrument === "EQUITY") {
    symbol = trading.toUpperCase();
  } else if (instrument === "INDEX") {
    symbol = indexSymbol(trading);
  } else {
    const expiry = parseExpiry(row.SEM_EXPIRY_DATE ?? "");
    const underlying = trading.split("-")[0];
    if (expiry === null || underlying === "") return null;
    if (instrument.startsWith("FUT")) {
      symbol = futureSymbol(underlying, expiry);
    } else {
      const right = (row.SEM_OPTION_TYPE ?? "").toUpperCase();
      const strike = num(row.SEM_STRIKE_PRICE, NaN);
      if ((right !== "CE" && right !== "PE") || !(strike > 0)) return null;
      symbol = optionSymbol(underlying, expiry, strike, right);
    }
  }
  return {
    token: tokenKey(SEGMENT[place.segment], Number(id)),
    exchange: place.exchange,
    symbol,
    brokerSymbol: trading,
    securityId: id,
    segment: place.segment,
    lotSize: num(row.SEM_LOT_UNITS, 1),
    // Published in paise.
    tickSize: num(row.SEM_TICK_SIZE, 0) / 100,
  };
}

/**
 * Parses the scrip master CSV (header row with the `SEM_*` column names). Rows that are not
 * streamable are counted in `skipped`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const m = parseDhanMaster(
 *   "SEM_EXM_EXCH_ID,SEM_SEGMENT,SEM_SMST_SECURITY_ID,SEM_INSTRUMENT_NAME,SEM_TRADING_SYMBOL\n" +
 *     "NSE,E,1333,EQUITY,HDFCBANK\nNSE,E,x,EQUITY,BAD\n",
 * );
 * assert.equal(m.resolve("NSE", "HDFCBANK").ok, true);
 * assert.equal(m.skipped, 1);
 * ```
 */
export function parseDhanMaster(csv: string): InstrumentMaster<DhanInstrument> {
  return InstrumentMaster.fromRows(parseCsv(csv), dhanInstrument);
}

/**
 * Loads the master from a file path or an http(s) URL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const m = await loadDhanInstruments(
 *   new URL("./testdata/api-scrip-master.csv", import.meta.url).pathname,
 * );
 * assert.ok(m.size > 0);
 * ```
 */
export async function loadDhanInstruments(
  location: string,
  signal?: AbortSignal,
): Promise<InstrumentMaster<DhanInstrument>> {
  return parseDhanMaster(await loadMasterText({ location, signal }));
}
