// Upstox's JSON instrument master (the `complete.json` layout, plain or .gz, file or URL) →
// OpenAlgo symbols ↔ Upstox instrument keys, each row parsed with zod.

import { z } from "zod";
import {
  type BrokerInstrument,
  expiryFromEpochMs,
  futureSymbol,
  indexSymbol,
  InstrumentMaster,
  loadMasterBytes,
  optionSymbol,
} from "../../lib/adapter/mod.ts";

/** Upstox's daily master of every exchange (gzip JSON). */
export const UPSTOX_INSTRUMENTS_URL =
  "https://assets.upstox.com/market-quote/instruments/exchange/complete.json.gz";

/** An instrument the adapter can stream; `token` is the Upstox instrument key. */
export interface UpstoxInstrument extends BrokerInstrument {
  /** `NSE_EQ|INE002A01018`, `NSE_FO|43885`, `NSE_INDEX|Nifty 50`: the feed's key. */
  readonly token: string;
  /** Upstox segment (`NSE_EQ`, `NSE_FO`, `NSE_INDEX` ...). */
  readonly segment: string;
  readonly lotSize: number | null;
}

/** Upstox segment → OpenAlgo exchange; rows of other segments are skipped. */
export const EXCHANGE_OF_SEGMENT: Readonly<Record<string, string>> = {
  NSE_EQ: "NSE",
  BSE_EQ: "BSE",
  NSE_FO: "NFO",
  BSE_FO: "BFO",
  NCD_FO: "CDS",
  BCD_FO: "BCD",
  MCX_FO: "MCX",
  NSE_INDEX: "NSE_INDEX",
  BSE_INDEX: "BSE_INDEX",
  MCX_INDEX: "MCX_INDEX",
};

const rowSchema = z.object({
  instrument_key: z.string().min(3),
  segment: z.string(),
  exchange_token: z.union([z.string(), z.number()]).optional(),
  trading_symbol: z.string().min(1),
  instrument_type: z.string(),
  name: z.string().optional(),
  /** Epoch ms (the contract's last moment, IST). */
  expiry: z.number().optional(),
  strike_price: z.number().optional(),
  underlying_symbol: z.string().optional(),
  asset_symbol: z.string().optional(),
  lot_size: z.number().optional(),
});

type Row = z.infer<typeof rowSchema>;

/** The OpenAlgo symbol of a row, or null when the row cannot be named (a derivative without expiry). */
function symbolOf(row: Row, exchange: string): string | null {
  const type = row.instrument_type.toUpperCase();
  if (exchange.endsWith("_INDEX") || type === "INDEX") {
    return indexSymbol(row.name ?? row.trading_symbol);
  }
  if (type === "FUT" || type === "CE" || type === "PE") {
    const underlying = row.underlying_symbol ?? row.asset_symbol ?? row.name;
    const expiry = row.expiry === undefined ? null : expiryFromEpochMs(row.expiry);
    if (underlying === undefined || expiry === null) return null;
    if (type === "FUT") return futureSymbol(underlying, expiry);
    if (row.strike_price === undefined) return null;
    return optionSymbol(underlying, expiry, row.strike_price, type);
  }
  return row.trading_symbol.trim().toUpperCase();
}

/**
 * Parses the master's JSON text: an array of instrument objects. Rows of unknown segments or
 * with missing/ill-typed fields are skipped and counted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const m = parseUpstoxMaster(JSON.stringify([{
 *   instrument_key: "NSE_EQ|INE002A01018", segment: "NSE_EQ", exchange_token: "2885",
 *   trading_symbol: "RELIANCE", instrument_type: "EQ", lot_size: 1,
 * }]));
 * assert.equal(m.resolve("NSE", "RELIANCE").ok, true);
 * assert.equal(m.byToken("NSE_EQ|INE002A01018")?.symbol, "RELIANCE");
 * ```
 */
export function parseUpstoxMaster(text: string): InstrumentMaster<UpstoxInstrument> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(
      `Upstox instrument master is not JSON: ${err instanceof Error ? err.message : err}`,
    );
  }
  if (!Array.isArray(json)) throw new Error("Upstox instrument master is not a JSON array");
  const out: UpstoxInstrument[] = [];
  let skipped = 0;
  for (const raw of json) {
    const r = rowSchema.safeParse(raw);
    if (!r.success) {
      skipped++;
      continue;
    }
    const row = r.data;
    const exchange = EXCHANGE_OF_SEGMENT[row.segment];
    const symbol = exchange === undefined ? null : symbolOf(row, exchange);
    if (exchange === undefined || symbol === null) {
      skipped++;
      continue;
    }
    out.push({
      token: row.instrument_key,
      exchange,
      symbol,
      brokerSymbol: row.trading_symbol,
      segment: row.segment,
      lotSize: row.lot_size ?? null,
    });
  }
  return new InstrumentMaster(out, skipped);
}

/**
 * Loads the master from a file or URL (`.gz` names are inflated).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const path = await Deno.makeTempFile({ suffix: ".json" });
 * await Deno.writeTextFile(path, JSON.stringify([{ instrument_key: "NSE_INDEX|Nifty 50",
 *   segment: "NSE_INDEX", trading_symbol: "NIFTY", instrument_type: "INDEX", name: "Nifty 50" }]));
 * const m = await loadUpstoxMaster(path);
 * assert.equal(m.byToken("NSE_INDEX|Nifty 50")?.symbol, "NIFTY");
 * await Deno.remove(path);
 * ```
 */
export async function loadUpstoxMaster(
  location: string,
  signal?: AbortSignal,
): Promise<InstrumentMaster<UpstoxInstrument>> {
  const bytes = await loadMasterBytes({ location, signal });
  return parseUpstoxMaster(new TextDecoder().decode(bytes));
}
