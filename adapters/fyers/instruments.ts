// Fyers' symbol master (the published CSVs: no header row, 21 columns; NSE_CM, NSE_FO, …) →
// OpenAlgo symbols ↔ HSM topic tokens. The topic comes from the Fytoken column (segment from its
// first four digits, exchange token from char 10 on), so no symbol-token REST call is needed;
// indices stream by the names Fyers' own client uses.

import {
  expiryFromEpochMs,
  futureSymbol,
  indexSymbol,
  InstrumentMaster,
  optionSymbol,
  parseCsv,
} from "../../lib/adapter/mod.ts";
import type { HsmInstrument } from "../hsm/ticks.ts";
import { loadSources } from "../hsm/sources.ts";

/** Fyers' public symbol masters (no credentials needed). */
export const FYERS_MASTER_URLS = [
  "https://public.fyers.in/sym_details/NSE_CM.csv",
  "https://public.fyers.in/sym_details/NSE_FO.csv",
] as const;

/** The 21 columns of Fyers' symbol master, in order (the files have no header row). */
export const FYERS_COLUMNS = [
  "fyToken",
  "description",
  "instrumentType",
  "lotSize",
  "tickSize",
  "isin",
  "tradingSession",
  "lastUpdate",
  "expiry",
  "ticker",
  "exchange",
  "segment",
  "scripCode",
  "underlying",
  "underlyingScripCode",
  "strike",
  "optionType",
  "underlyingFyToken",
  "reserved1",
  "reserved2",
  "reserved3",
] as const;

/** HSM segment by the first four digits of a Fytoken (brokers.md §4.1). */
export const FYERS_SEGMENTS: Readonly<Record<string, string>> = {
  "1010": "nse_cm",
  "1011": "nse_fo",
  "1012": "cde_fo",
  "1020": "nse_com",
  "1120": "mcx_fo",
  "1210": "bse_cm",
  "1211": "bse_fo",
  "1212": "bcs_fo",
};

/** OpenAlgo exchange of an HSM segment. */
const EXCHANGE_OF_SEGMENT: Readonly<Record<string, string>> = {
  nse_cm: "NSE",
  nse_fo: "NFO",
  cde_fo: "CDS",
  nse_com: "NCO",
  mcx_fo: "MCX",
  bse_cm: "BSE",
  bse_fo: "BFO",
  bcs_fo: "BCD",
};

/**
 * Index tickers → the names their `if` topics use (the names Fyers' data socket client maps
 * them to; the symbol master does not carry them). Indices not listed cannot be streamed.
 */
export const FYERS_INDEX_NAMES: Readonly<Record<string, string>> = {
  "NSE:NIFTY50-INDEX": "Nifty 50",
  "NSE:NIFTYBANK-INDEX": "Nifty Bank",
  "NSE:FINNIFTY-INDEX": "Nifty Fin Service",
  "NSE:MIDCPNIFTY-INDEX": "NIFTY MID SELECT",
  "NSE:NIFTYMIDSELECT-INDEX": "NIFTY MID SELECT",
  "NSE:NIFTYNXT50-INDEX": "Nifty Next 50",
  "NSE:NIFTYNEXT50-INDEX": "Nifty Next 50",
  "NSE:INDIAVIX-INDEX": "India VIX",
  "NSE:NIFTYIT-INDEX": "Nifty IT",
  "NSE:NIFTY100-INDEX": "Nifty 100",
  "NSE:NIFTY200-INDEX": "Nifty 200",
  "NSE:NIFTY500-INDEX": "Nifty 500",
  "NSE:NIFTYMIDCAP100-INDEX": "NIFTY MIDCAP 100",
  "NSE:NIFTYPHARMA-INDEX": "Nifty Pharma",
  "NSE:NIFTYAUTO-INDEX": "Nifty Auto",
  "NSE:NIFTYFMCG-INDEX": "Nifty FMCG",
  "NSE:NIFTYMETAL-INDEX": "Nifty Metal",
  "NSE:NIFTYPSUBANK-INDEX": "Nifty PSU Bank",
  "NSE:NIFTYPVTBANK-INDEX": "Nifty Pvt Bank",
  "NSE:NIFTYREALTY-INDEX": "Nifty Realty",
  "NSE:NIFTYENERGY-INDEX": "Nifty Energy",
  "NSE:NIFTYMEDIA-INDEX": "Nifty Media",
  "BSE:SENSEX-INDEX": "SENSEX",
  "BSE:BANKEX-INDEX": "BANKEX",
  "BSE:SNSX50-INDEX": "SNSX50",
};

/** One Fyers instrument. */
export interface FyersInstrument extends HsmInstrument {
  /** `NSE:SBIN-EQ` */
  readonly ticker: string;
  readonly fyToken: string;
}

/** Rows of one master, mapped; `skipped` counts rows that are not streamable instruments. */
export interface FyersRows {
  instruments: FyersInstrument[];
  skipped: number;
}

/**
 * Maps the rows of a Fyers symbol master CSV.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const { instruments } = parseFyersMaster(
 *   "10100000003045,STATE BANK OF INDIA,0,1,0.05,INE062A01020,0915-1530:,2026-09-09,," +
 *     "NSE:SBIN-EQ,10,10,3045,SBIN,3045,-1.0,XX,10100000003045,None,1,3.7\n",
 * );
 * assert.equal(instruments[0].token, "nse_cm|3045");
 * assert.equal(instruments[0].symbol, "SBIN");
 * ```
 */
export function parseFyersMaster(text: string): FyersRows {
  const instruments: FyersInstrument[] = [];
  let skipped = 0;
  for (const row of parseCsv(text, { columns: FYERS_COLUMNS })) {
    const ins = fromRow(row);
    if (ins === null) skipped++;
    else instruments.push(ins);
  }
  return { instruments, skipped };
}

function fromRow(row: Record<string, string>): FyersInstrument | null {
  const fyToken = row.fyToken ?? "";
  const ticker = row.ticker ?? "";
  const segment = FYERS_SEGMENTS[fyToken.slice(0, 4)];
  const colon = ticker.indexOf(":");
  if (!/^\d{11,}$/.test(fyToken) || segment === undefined || colon < 0) return null;
  const name = ticker.slice(colon + 1);
  const cashExchange = EXCHANGE_OF_SEGMENT[segment];
  if (name.endsWith("-INDEX")) {
    const hsmName = FYERS_INDEX_NAMES[ticker];
    if (hsmName === undefined) return null;
    return {
      token: `${segment}|${hsmName}`,
      exchange: `${cashExchange}_INDEX`,
      symbol: indexSymbol(hsmName),
      brokerSymbol: name,
      index: true,
      hasOi: false,
      ticker,
      fyToken,
    };
  }
  const base = {
    token: `${segment}|${fyToken.slice(10)}`,
    exchange: cashExchange,
    brokerSymbol: name,
    index: false,
    ticker,
    fyToken,
  };
  if (segment === "nse_cm" || segment === "bse_cm") {
    const series = /-(EQ|BE)$/.exec(name);
    return { ...base, symbol: series ? name.slice(0, -3) : name, hasOi: false };
  }
  const expiry = expiryFromEpochMs(Number(row.expiry) * 1000);
  const underlying = row.underlying ?? "";
  if (expiry === null || underlying === "" || !(Number(row.expiry) > 0)) return null;
  const type = row.optionType;
  if (type === "CE" || type === "PE") {
    const strike = Number(row.strike);
    if (!Number.isFinite(strike) || strike <= 0) return null;
    return { ...base, symbol: optionSymbol(underlying, expiry, strike, type), hasOi: true };
  }
  return { ...base, symbol: futureSymbol(underlying, expiry), hasOi: true };
}

/**
 * Loads and merges Fyers masters from files or URLs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const m = await loadFyersInstruments([
 *   new URL("./testdata/NSE_CM.csv", import.meta.url).pathname,
 * ]);
 * assert.equal(m.resolve("NSE_INDEX", "NIFTY").ok, true);
 * ```
 */
export async function loadFyersInstruments(
  sources: readonly string[],
  signal?: AbortSignal,
): Promise<InstrumentMaster<FyersInstrument>> {
  const all: FyersInstrument[] = [];
  let skipped = 0;
  for (const { text } of await loadSources(sources, signal)) {
    const rows = parseFyersMaster(text);
    all.push(...rows.instruments);
    skipped += rows.skipped;
  }
  return new InstrumentMaster(all, skipped);
}
