// Kotak Neo's scrip masters (one CSV per segment, with the live header: `dTickSize `, `lExpiryDate `
// with trailing spaces, `dStrikePrice;` with a semicolon) → OpenAlgo symbols ↔ HSM topic tokens
// (`nse_cm|11536`; indices by name, `nse_cm|Nifty 50`, as Kotak's websocket docs subscribe them).

import {
  futureSymbol,
  indexSymbol,
  InstrumentMaster,
  optionSymbol,
  parseCsv,
} from "../../lib/adapter/mod.ts";
import type { ExpiryDate } from "../../lib/adapter/symbology.ts";
import type { HsmInstrument } from "../hsm/ticks.ts";
import { loadSources } from "../hsm/sources.ts";

/** OpenAlgo exchange of a Kotak segment. */
const EXCHANGE_OF_SEGMENT: Readonly<Record<string, string>> = {
  nse_cm: "NSE",
  bse_cm: "BSE",
  nse_fo: "NFO",
  bse_fo: "BFO",
  cde_fo: "CDS",
  mcx_fo: "MCX",
};

/**
 * Seconds to add to `lExpiryDate` to count from 1970: the NSE segments count from 1980-01-01
 * (brokers.md §10, OpenAlgo's `+ 315513000`), BSE F&O and MCX from 1970. Either way the result is
 * the exchange's wall-clock time, so the calendar date is read without a zone shift.
 */
const EXPIRY_EPOCH_OFFSET_S: Readonly<Record<string, number>> = {
  nse_fo: 315_532_800,
  cde_fo: 315_532_800,
  bse_fo: 0,
  mcx_fo: 0,
};

/** One Kotak instrument. */
export interface KotakInstrument extends HsmInstrument {
  /** Kotak's segment (`nse_cm`). */
  readonly segment: string;
  /** Kotak's numeric `pSymbol` (indices too; they stream by name). */
  readonly pSymbol: string;
}

/** Rows of one master, mapped; `skipped` counts rows that are not streamable instruments. */
export interface KotakRows {
  instruments: KotakInstrument[];
  skipped: number;
}

/**
 * The calendar date of a Kotak `lExpiryDate` in `segment`, or null.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // The live nse_fo sample row: NIFTY2692221000PE, 22 Sep 2026.
 * assert.deepEqual(kotakExpiry("nse_fo", "1474554600"), { year: 2026, month: 9, day: 22 });
 * assert.deepEqual(kotakExpiry("mcx_fo", "1790380799"), { year: 2026, month: 9, day: 25 });
 * assert.equal(kotakExpiry("nse_fo", "-1"), null);
 * ```
 */
export function kotakExpiry(segment: string, raw: string): ExpiryDate | null {
  const s = Number(raw);
  const offset = EXPIRY_EPOCH_OFFSET_S[segment];
  if (!Number.isFinite(s) || s <= 0 || offset === undefined) return null;
  const d = new Date((s + offset) * 1000);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** A column that may carry a trailing space or `;` in the live header. */
function col(row: Record<string, string>, name: string): string {
  return row[name] ?? row[`${name};`] ?? "";
}

function isNumeric(s: string): boolean {
  return /^\d+$/.test(s);
}

function fromRow(row: Record<string, string>): KotakInstrument | null {
  const pSymbol = col(row, "pSymbol");
  const segment = col(row, "pExchSeg").toLowerCase();
  const exchange = EXCHANGE_OF_SEGMENT[segment];
  if (!isNumeric(pSymbol) || exchange === undefined) return null;
  const name = col(row, "pSymbolName");
  const trading = col(row, "pTrdSymbol");
  if (segment === "nse_cm" || segment === "bse_cm") {
    if (col(row, "pISIN") === "" && col(row, "pGroup") === "") {
      // Indices have no ISIN; they stream by the name Kotak's docs use (`Nifty 50`), which the
      // master carries as the trading symbol.
      const indexName = [trading, col(row, "pDesc"), name].find((s) => s !== "" && !isNumeric(s));
      if (indexName === undefined) return null;
      return {
        token: `${segment}|${indexName}`,
        exchange: `${exchange}_INDEX`,
        symbol: indexSymbol(indexName),
        brokerSymbol: indexName,
        index: true,
        hasOi: false,
        segment,
        pSymbol,
      };
    }
    if (name === "") return null;
    return {
      token: `${segment}|${pSymbol}`,
      exchange,
      symbol: name,
      brokerSymbol: trading || undefined,
      index: false,
      hasOi: false,
      segment,
      pSymbol,
    };
  }
  const expiry = kotakExpiry(segment, col(row, "lExpiryDate"));
  if (expiry === null || name === "") return null;
  const base = {
    token: `${segment}|${pSymbol}`,
    exchange,
    brokerSymbol: trading || undefined,
    index: false,
    hasOi: true,
    segment,
    pSymbol,
  };
  const type = col(row, "pOptionType");
  if (type === "CE" || type === "PE") {
    // Strikes are published in paise (2.1e+06 → 21000).
    const strike = Number(col(row, "dStrikePrice")) / 100;
    if (!Number.isFinite(strike) || strike <= 0) return null;
    return { ...base, symbol: optionSymbol(name, expiry, strike, type) };
  }
  return { ...base, symbol: futureSymbol(name, expiry) };
}

/**
 * Maps the rows of one Kotak scrip master CSV (header row as published).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const { instruments } = parseKotakMaster(
 *   "pSymbol,pGroup,pExchSeg,pSymbolName,pTrdSymbol,pISIN\n11536,EQ,nse_cm,TCS,TCS-EQ,INE467B01029\n",
 * );
 * assert.equal(instruments[0].token, "nse_cm|11536");
 * ```
 */
export function parseKotakMaster(text: string): KotakRows {
  const instruments: KotakInstrument[] = [];
  let skipped = 0;
  const later: KotakInstrument[] = [];
  for (const row of parseCsv(text)) {
    const ins = fromRow(row);
    if (ins === null) skipped++;
    // EQ rows first, so `RENUKA` names the EQ line when a BE line shares the name.
    else if (ins.segment.endsWith("_cm") && !ins.index && col(row, "pGroup") !== "EQ") {
      later.push(ins);
    } else instruments.push(ins);
  }
  return { instruments: [...instruments, ...later], skipped };
}

/**
 * Loads and merges Kotak scrip masters from files or URLs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const m = await loadKotakInstruments([
 *   new URL("./testdata/nse_cm.csv", import.meta.url).pathname,
 * ]);
 * assert.equal(m.resolve("NSE_INDEX", "NIFTY").ok, true);
 * ```
 */
export async function loadKotakInstruments(
  sources: readonly string[],
  signal?: AbortSignal,
): Promise<InstrumentMaster<KotakInstrument>> {
  const all: KotakInstrument[] = [];
  let skipped = 0;
  for (const { text } of await loadSources(sources, signal)) {
    const rows = parseKotakMaster(text);
    all.push(...rows.instruments);
    skipped += rows.skipped;
  }
  return new InstrumentMaster(all, skipped);
}
