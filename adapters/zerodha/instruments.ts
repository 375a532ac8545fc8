// Kite instrument master: parses Kite's instruments CSV (from a file or the instruments URL) and
// maps OpenAlgo common symbols (RELIANCE, NIFTY28MAR2420800CE, BANKNIFTY24APR24FUT, NIFTY on
// NSE_INDEX) to Kite instrument tokens and back.

import {
  type BrokerInstrument,
  futureSymbol,
  indexExchange,
  indexSymbol,
  InstrumentMaster,
  loadMasterText,
  optionSymbol,
  parseCsv,
  parseExpiry,
} from "../../lib/adapter/mod.ts";

/** Kite's instruments dump (all exchanges); needs `api_key:access_token` authorisation. */
export const KITE_INSTRUMENTS_URL = "https://api.kite.trade/instruments";

/** The CSV columns Kite publishes, in order. */
export const INSTRUMENT_COLUMNS = [
  "instrument_token",
  "exchange_token",
  "tradingsymbol",
  "name",
  "last_price",
  "expiry",
  "strike",
  "tick_size",
  "lot_size",
  "instrument_type",
  "segment",
  "exchange",
] as const;

/** One instrument, with both its Kite identity and its OpenAlgo symbol. */
export interface Instrument extends BrokerInstrument {
  token: number;
  exchangeToken: number;
  /** Kite `tradingsymbol`, e.g. `NIFTY24MAR20800CE`. */
  tradingSymbol: string;
  brokerSymbol: string;
  name: string;
  /** OpenAlgo exchange, e.g. `NFO`, `NSE_INDEX`. */
  exchange: string;
  /** OpenAlgo symbol, e.g. `NIFTY28MAR2420800CE`. */
  symbol: string;
  /** Kite `exchange` column. */
  kiteExchange: string;
  /** Kite `segment` column, e.g. `NFO-OPT`, `INDICES`. */
  kiteSegment: string;
  instrumentType: string;
  /** `YYYY-MM-DD` or null. */
  expiry: string | null;
  strike: number;
  tickSize: number;
  lotSize: number;
}

/**
 * The OpenAlgo exchange and symbol of a Kite instrument row.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(
 *   openAlgoSymbol({ tradingsymbol: "NIFTY 50", name: "NIFTY 50", expiry: "", strike: 0,
 *     instrument_type: "EQ", segment: "INDICES", exchange: "NSE" }),
 *   { exchange: "NSE_INDEX", symbol: "NIFTY" },
 * );
 * ```
 */
export function openAlgoSymbol(row: {
  tradingsymbol: string;
  name: string;
  expiry: string;
  strike: number;
  instrument_type: string;
  segment: string;
  exchange: string;
}): { exchange: string; symbol: string } {
  if (row.segment === "INDICES") {
    return { exchange: indexExchange(row.exchange), symbol: indexSymbol(row.tradingsymbol) };
  }
  const type = row.instrument_type;
  const expiry = parseExpiry(row.expiry);
  if (expiry !== null && row.name !== "") {
    if (type === "FUT") return { exchange: row.exchange, symbol: futureSymbol(row.name, expiry) };
    if (type === "CE" || type === "PE") {
      return { exchange: row.exchange, symbol: optionSymbol(row.name, expiry, row.strike, type) };
    }
  }
  return { exchange: row.exchange, symbol: row.tradingsymbol };
}

/** Result of parsing an instruments CSV. */
export interface ParsedInstruments {
  instruments: Instrument[];
  /** Rows that were not valid instruments (bad token, wrong column count). */
  skipped: number;
}

/**
 * Parses Kite's instruments CSV. Columns are found by header name, so extra or reordered columns
 * are fine; a file without the required columns throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const csv = "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike," +
 *   "tick_size,lot_size,instrument_type,segment,exchange\n" +
 *   "738561,2885,RELIANCE,RELIANCE INDUSTRIES,0,,0,0.05,1,EQ,NSE,NSE\n";
 * assert.equal(parseInstrumentsCsv(csv).instruments[0].symbol, "RELIANCE");
 * ```
 */
export function parseInstrumentsCsv(text: string): ParsedInstruments {
  const end = text.indexOf("\n");
  const header = Object.values(
    parseCsv(end < 0 ? text : text.slice(0, end), { header: false })[0] ?? {},
  );
  for (const name of INSTRUMENT_COLUMNS) {
    if (!header.includes(name)) throw new Error(`instruments CSV: missing column ${name}`);
  }
  const rows = parseCsv(text);
  const instruments: Instrument[] = [];
  let skipped = 0;
  const num = (s: string | undefined) => {
    const x = Number(s);
    return s === undefined || s === "" || !Number.isFinite(x) ? 0 : x;
  };
  for (const r of rows) {
    if (INSTRUMENT_COLUMNS.some((c) => r[c] === undefined)) {
      skipped++;
      continue;
    }
    const token = Number(r.instrument_token);
    if (!Number.isInteger(token) || token <= 0 || token > 0xffffffff) {
      skipped++;
      continue;
    }
    const row = {
      tradingsymbol: r.tradingsymbol,
      name: r.name,
      expiry: r.expiry,
      strike: num(r.strike),
      instrument_type: r.instrument_type,
      segment: r.segment,
      exchange: r.exchange,
    };
    if (row.tradingsymbol === "" || row.exchange === "") {
      skipped++;
      continue;
    }
    const ref = openAlgoSymbol(row);
    instruments.push({
      token,
      exchangeToken: num(r.exchange_token),
      tradingSymbol: row.tradingsymbol,
      brokerSymbol: row.tradingsymbol,
      name: row.name,
      exchange: ref.exchange,
      symbol: ref.symbol,
      kiteExchange: row.exchange,
      kiteSegment: row.segment,
      instrumentType: row.instrument_type,
      expiry: row.expiry === "" ? null : row.expiry,
      strike: row.strike,
      tickSize: num(r.tick_size),
      lotSize: num(r.lot_size),
    });
  }
  return { instruments, skipped };
}

/** The Kite instrument master: OpenAlgo symbol ↔ Kite token. */
export type KiteMaster = InstrumentMaster<Instrument>;

/**
 * A master from Kite's CSV text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(masterFromCsv("instrument_token,exchange_token,tradingsymbol,name,last_price," +
 *   "expiry,strike,tick_size,lot_size,instrument_type,segment,exchange\n").size, 0);
 * ```
 */
export function masterFromCsv(text: string): KiteMaster {
  const { instruments, skipped } = parseInstrumentsCsv(text);
  return new InstrumentMaster(instruments, skipped);
}

/**
 * Loads the master from a file or URL; URLs are fetched with the user's credentials
 * (`Authorization: token api_key:access_token`), and a 401/403 throws `AuthError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const path = new URL("./testdata/instruments.csv", import.meta.url).pathname;
 * assert.ok((await loadKiteMaster(path, "k", "t")).size > 0);
 * ```
 */
export async function loadKiteMaster(
  location: string,
  apiKey: string,
  accessToken: string,
  signal?: AbortSignal,
): Promise<KiteMaster> {
  const text = await loadMasterText({
    location,
    headers: { "X-Kite-Version": "3", Authorization: `token ${apiKey}:${accessToken}` },
    signal,
  });
  return masterFromCsv(text);
}
