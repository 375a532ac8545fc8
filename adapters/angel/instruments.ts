// Angel One instrument master: the OpenAPIScripMaster JSON list (from a file or URL) → OpenAlgo
// symbols and Angel (exchange type, token) pairs, both ways.

import { z } from "zod";
import {
  futureSymbol,
  indexSymbol,
  InstrumentMaster,
  loadMasterText,
  optionSymbol,
  parseExpiry,
} from "../../lib/adapter/mod.ts";
import type { BrokerInstrument } from "../../lib/adapter/mod.ts";
import { EXCHANGE_TYPE, tokenKey } from "./codec.ts";

/** Angel's public scrip master (no credentials needed). */
export const ANGEL_INSTRUMENTS_URL =
  "https://margincalculator.angelbroking.com/OpenAPI_File/files/OpenAPIScripMaster.json";

/** One Angel instrument with its OpenAlgo symbol. */
export interface AngelInstrument extends BrokerInstrument {
  /** {@link tokenKey} of exchange type and token: Angel tokens repeat across exchanges. */
  readonly token: number;
  /** Angel's token as the feed spells it (`2885`). */
  readonly angelToken: string;
  /** Angel `exchangeType` (1 nse_cm, 2 nse_fo ...). */
  readonly exchangeType: number;
  /** Angel `symbol` (`RELIANCE-EQ`, `Nifty 50`). */
  readonly brokerSymbol: string;
  readonly lotSize: number;
  /** Rupees. */
  readonly tickSize: number;
}

/** Angel `exch_seg` → exchange type and OpenAlgo exchange (indices get `*_INDEX`). */
const SEGMENTS: Readonly<Record<string, { type: number; exchange: string }>> = {
  NSE: { type: EXCHANGE_TYPE.nse_cm, exchange: "NSE" },
  NFO: { type: EXCHANGE_TYPE.nse_fo, exchange: "NFO" },
  BSE: { type: EXCHANGE_TYPE.bse_cm, exchange: "BSE" },
  BFO: { type: EXCHANGE_TYPE.bse_fo, exchange: "BFO" },
  MCX: { type: EXCHANGE_TYPE.mcx_fo, exchange: "MCX" },
  NCDEX: { type: EXCHANGE_TYPE.ncx_fo, exchange: "NCDEX" },
  CDS: { type: EXCHANGE_TYPE.cde_fo, exchange: "CDS" },
};

/** Equity series suffixes OpenAlgo drops (`RELIANCE-EQ` → `RELIANCE`). */
const SERIES_SUFFIX = /-(EQ|BE|MF|SG)$/;

/** Master values come as strings (or numbers in some dumps). */
const text = z.union([z.string(), z.number()]).transform((v) => String(v).trim());

/** One row of the master, as far as we read it. */
export const angelRowSchema = z.object({
  token: text,
  symbol: text,
  name: text.default(""),
  expiry: text.default(""),
  strike: text.default("0"),
  lotsize: text.default("1"),
  instrumenttype: text.default(""),
  exch_seg: text,
  tick_size: text.default("0"),
});

/** A parsed master row. */
export type AngelRow = z.output<typeof angelRowSchema>;

function num(s: string, fallback: number): number {
  const n = Number(s);
  return Number.isFinite(n) ? n : fallback;
}

/**
 * The instrument of one master row, or null when the row is not streamable (unknown segment,
 * non-numeric token, an option without expiry ...).
 *
 * Symbols: equities drop the series suffix; indices (`AMXIDX`) become `NSE_INDEX`/`BSE_INDEX`/
 * `MCX_INDEX` with OpenAlgo index names; futures and options are rebuilt from name, expiry and
 * strike (strikes are published ×100, currency options ×1e7).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const i = angelInstrument({ token: "43650", symbol: "NIFTY28MAR2420800CE", name: "NIFTY",
 *   expiry: "28MAR2024", strike: "2080000.000000", lotsize: "50", instrumenttype: "OPTIDX",
 *   exch_seg: "NFO", tick_size: "5.000000" });
 * assert.equal(i?.symbol, "NIFTY28MAR2420800CE");
 * assert.equal(i?.exchangeType, 2);
 * ```
 */
export function angelInstrument(row: AngelRow): AngelInstrument | null {
  const seg = SEGMENTS[row.exch_seg.toUpperCase()];
  if (seg === undefined || !/^\d{1,10}$/.test(row.token) || row.symbol === "") return null;
  const type = row.instrumenttype.toUpperCase();
  let exchange = seg.exchange;
  let symbol: string;
  if (type === "AMXIDX") {
    if (seg.exchange !== "NSE" && seg.exchange !== "BSE" && seg.exchange !== "MCX") return null;
    exchange = `${seg.exchange}_INDEX`;
    symbol = indexSymbol(row.symbol);
  } else if (type.startsWith("FUT") || type.startsWith("OPT")) {
    const expiry = parseExpiry(row.expiry);
    if (expiry === null || row.name === "") return null;
    if (type.startsWith("FUT")) {
      symbol = futureSymbol(row.name, expiry);
    } else {
      const right = row.symbol.slice(-2).toUpperCase();
      if (right !== "CE" && right !== "PE") return null;
      const scale = seg.exchange === "CDS" ? 1e7 : 100;
      symbol = optionSymbol(row.name, expiry, num(row.strike, 0) / scale, right);
    }
  } else {
    symbol = row.symbol.toUpperCase().replace(SERIES_SUFFIX, "");
  }
  return {
    token: tokenKey(seg.type, Number(row.token)),
    exchange,
    symbol,
    brokerSymbol: row.symbol,
    angelToken: row.token,
    exchangeType: seg.type,
    lotSize: num(row.lotsize, 1),
    tickSize: num(row.tick_size, 0) / 100,
  };
}

/**
 * Parses the master JSON (an array of rows). Rows that fail the schema or are not streamable
 * are counted in `skipped`; text that is not a JSON array throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const m = parseAngelMaster(JSON.stringify([{ token: "2885", symbol: "RELIANCE-EQ",
 *   name: "RELIANCE", exch_seg: "NSE" }, { token: "x" }]));
 * assert.equal(m.resolve("NSE", "RELIANCE").ok, true);
 * assert.equal(m.skipped, 1);
 * ```
 */
export function parseAngelMaster(json: string): InstrumentMaster<AngelInstrument> {
  let rows: unknown;
  try {
    rows = JSON.parse(json);
  } catch (err) {
    throw new Error(`Angel instrument master is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(rows)) throw new Error("Angel instrument master is not a JSON array");
  return InstrumentMaster.fromRows(rows, (raw) => {
    const r = angelRowSchema.safeParse(raw);
    return r.success ? angelInstrument(r.data) : null;
  });
}

/**
 * Loads the master from a file path or an http(s) URL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const m = await loadAngelInstruments(
 *   new URL("./testdata/instruments.json", import.meta.url).pathname,
 * );
 * assert.ok(m.size > 0);
 * ```
 */
export async function loadAngelInstruments(
  location: string,
  signal?: AbortSignal,
): Promise<InstrumentMaster<AngelInstrument>> {
  return parseAngelMaster(await loadMasterText({ location, signal }));
}
