// Kite instrument master: parses Kite's instruments CSV (from a file or the instruments URL) and
// maps OpenAlgo common symbols (RELIANCE, NIFTY28MAR2420800CE, BANKNIFTY24APR24FUT, NIFTY on
// NSE_INDEX) to Kite instrument tokens and back.

import { instrumentKey } from "../../lib/types.ts";
import type { InstrumentRef } from "./codec.ts";

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
export interface Instrument {
  token: number;
  exchangeToken: number;
  /** Kite `tradingsymbol`, e.g. `NIFTY24MAR20800CE`. */
  tradingSymbol: string;
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

/** Kite index trading symbols whose OpenAlgo names differ. */
const INDEX_NAMES: Readonly<Record<string, string>> = {
  "NIFTY 50": "NIFTY",
  "NIFTY NEXT 50": "NIFTYNXT50",
  "NIFTY FIN SERVICE": "FINNIFTY",
  "NIFTY BANK": "BANKNIFTY",
  "NIFTY MID SELECT": "MIDCPNIFTY",
  "INDIA VIX": "INDIAVIX",
  "SNSX50": "SENSEX50",
};

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

/** `2024-03-28` → `28MAR24`; null when the date is not in that form. */
function expiryCode(expiry: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(expiry);
  if (m === null) return null;
  const month = MONTHS[Number(m[2]) - 1];
  if (month === undefined) return null;
  return `${m[3]}${month}${m[1].slice(2)}`;
}

/** 20800 → "20800", 83.25 → "83.25" (no trailing ".0", as OpenAlgo writes strikes). */
function strikeCode(strike: number): string {
  return String(strike);
}

/**
 * The OpenAlgo exchange and symbol of a Kite instrument row.
 *
 * @example
 * ```ts
 * openAlgoSymbol({ tradingsymbol: "NIFTY 50", name: "NIFTY 50", expiry: "", strike: 0,
 *   instrument_type: "EQ", segment: "INDICES", exchange: "NSE" });
 * // { exchange: "NSE_INDEX", symbol: "NIFTY" }
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
}): InstrumentRef {
  if (row.segment === "INDICES") {
    const symbol = INDEX_NAMES[row.tradingsymbol] ?? row.tradingsymbol.replace(/\s+/g, "");
    return { exchange: `${row.exchange}_INDEX`, symbol };
  }
  const type = row.instrument_type;
  if (type === "FUT" || type === "CE" || type === "PE") {
    const exp = expiryCode(row.expiry);
    if (exp !== null && row.name !== "") {
      const symbol = type === "FUT"
        ? `${row.name}${exp}FUT`
        : `${row.name}${exp}${strikeCode(row.strike)}${type}`;
      return { exchange: row.exchange, symbol: symbol.replace(/\s+/g, "") };
    }
  }
  return { exchange: row.exchange, symbol: row.tradingsymbol };
}

/**
 * Splits CSV text into rows of fields (RFC 4180: quoted fields, doubled quotes, CRLF).
 *
 * @example
 * ```ts
 * parseCsv('a,"b,c"\n1,2'); // [["a", "b,c"], ["1", "2"]]
 * ```
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += c;
      i++;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
    i++;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
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
 * ```ts ignore
 * const { instruments } = parseInstrumentsCsv(await Deno.readTextFile("instruments.csv"));
 * ```
 */
export function parseInstrumentsCsv(text: string): ParsedInstruments {
  const rows = parseCsv(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  const header = rows.shift()?.map((h) => h.trim()) ?? [];
  const col: Record<string, number> = {};
  for (const name of INSTRUMENT_COLUMNS) {
    const idx = header.indexOf(name);
    if (idx < 0) throw new Error(`instruments CSV: missing column ${name}`);
    col[name] = idx;
  }
  const instruments: Instrument[] = [];
  let skipped = 0;
  for (const r of rows) {
    if (r.length === 1 && r[0].trim() === "") continue;
    if (r.length < header.length) {
      skipped++;
      continue;
    }
    const get = (name: (typeof INSTRUMENT_COLUMNS)[number]) => r[col[name]].trim();
    const token = Number(get("instrument_token"));
    if (!Number.isInteger(token) || token <= 0 || token > 0xffffffff) {
      skipped++;
      continue;
    }
    const num = (s: string) => {
      const x = Number(s);
      return s === "" || !Number.isFinite(x) ? 0 : x;
    };
    const row = {
      tradingsymbol: get("tradingsymbol"),
      name: get("name"),
      expiry: get("expiry"),
      strike: num(get("strike")),
      instrument_type: get("instrument_type"),
      segment: get("segment"),
      exchange: get("exchange"),
    };
    if (row.tradingsymbol === "" || row.exchange === "") {
      skipped++;
      continue;
    }
    const ref = openAlgoSymbol(row);
    instruments.push({
      token,
      exchangeToken: num(get("exchange_token")),
      tradingSymbol: row.tradingsymbol,
      name: row.name,
      exchange: ref.exchange,
      symbol: ref.symbol,
      kiteExchange: row.exchange,
      kiteSegment: row.segment,
      instrumentType: row.instrument_type,
      expiry: row.expiry === "" ? null : row.expiry,
      strike: row.strike,
      tickSize: num(get("tick_size")),
      lotSize: num(get("lot_size")),
    });
  }
  return { instruments, skipped };
}

/** Result of {@link InstrumentMaster.resolve}. */
export type Resolved =
  | { ok: true; instrument: Instrument }
  | { ok: false; code: "SYMBOL_NOT_FOUND"; message: string };

function keyOf(exchange: string, symbol: string): string {
  return instrumentKey(exchange.trim().toUpperCase(), symbol.trim().toUpperCase());
}

/** OpenAlgo symbol ↔ Kite token, both ways. */
export class InstrumentMaster {
  readonly #byKey = new Map<string, Instrument>();
  readonly #byToken = new Map<number, Instrument>();
  /** Rows skipped while parsing. */
  readonly skipped: number;
  /** Instruments whose OpenAlgo key was already taken by an earlier row (first one wins). */
  readonly duplicates: number;

  /** Builds a master from parsed instruments. */
  constructor(instruments: readonly Instrument[], skipped = 0) {
    let duplicates = 0;
    for (const ins of instruments) {
      this.#byToken.set(ins.token, ins);
      const key = keyOf(ins.exchange, ins.symbol);
      if (this.#byKey.has(key)) duplicates++;
      else this.#byKey.set(key, ins);
    }
    // Kite's own trading symbols work too where they differ (`NIFTY 50`, `NIFTY24MAR20800CE`).
    for (const ins of instruments) {
      const alias = keyOf(ins.exchange, ins.tradingSymbol);
      if (!this.#byKey.has(alias)) this.#byKey.set(alias, ins);
    }
    this.skipped = skipped;
    this.duplicates = duplicates;
  }

  /**
   * Parses Kite's CSV into a master.
   *
   * @example
   * ```ts ignore
   * const master = InstrumentMaster.fromCsv(text);
   * master.resolve("NSE", "RELIANCE"); // { ok: true, token: 738561, ... }
   * ```
   */
  static fromCsv(text: string): InstrumentMaster {
    const { instruments, skipped } = parseInstrumentsCsv(text);
    return new InstrumentMaster(instruments, skipped);
  }

  /** Number of instruments (by token). */
  get size(): number {
    return this.#byToken.size;
  }

  /** Resolves an OpenAlgo exchange/symbol to its instrument, or `SYMBOL_NOT_FOUND`. */
  resolve(exchange: string, symbol: string): Resolved {
    const instrument = this.#byKey.get(keyOf(exchange, symbol));
    if (instrument === undefined) {
      return {
        ok: false,
        code: "SYMBOL_NOT_FOUND",
        message: `Symbol not found: ${symbol} on ${exchange}`,
      };
    }
    return { ok: true, instrument };
  }

  /** The token of an OpenAlgo exchange/symbol, if known. */
  tokenOf(exchange: string, symbol: string): number | undefined {
    return this.#byKey.get(keyOf(exchange, symbol))?.token;
  }

  /** The instrument of a token, if known. */
  byToken(token: number): Instrument | undefined {
    return this.#byToken.get(token);
  }

  /** Every instrument, in file order of first appearance by token. */
  all(): Instrument[] {
    return [...this.#byToken.values()];
  }
}

/**
 * Loads the master from a Kite instruments CSV file.
 *
 * @example
 * ```ts ignore
 * const master = await loadInstrumentsFile("adapters/zerodha/testdata/instruments.csv");
 * ```
 */
export async function loadInstrumentsFile(path: string | URL): Promise<InstrumentMaster> {
  return InstrumentMaster.fromCsv(await Deno.readTextFile(path));
}

/**
 * Downloads the master from Kite's instruments URL with the user's credentials
 * (`Authorization: token api_key:access_token`). A 403 throws an error whose message says so.
 *
 * @example
 * ```ts ignore
 * const master = await fetchInstruments(KITE_INSTRUMENTS_URL, apiKey, accessToken);
 * ```
 */
export async function fetchInstruments(
  url: string,
  apiKey: string,
  accessToken: string,
  signal?: AbortSignal,
): Promise<InstrumentMaster> {
  const res = await fetch(url, {
    headers: { "X-Kite-Version": "3", Authorization: `token ${apiKey}:${accessToken}` },
    signal,
  });
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`instruments download failed: HTTP ${res.status}`);
  }
  return InstrumentMaster.fromCsv(await res.text());
}
