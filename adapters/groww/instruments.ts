// Groww's instrument master (instrument.csv, file or URL) → OpenAlgo symbols both ways. Each
// instrument's kit token is its stream key (`eq/nse/2885`), so NSE and BSE tokens never collide
// and the decoder finds an instrument from the subject a message arrived on.

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
import { streamKey, type SubjectExchange, type SubjectGroup } from "./codec.ts";

export { GROWW_INSTRUMENTS_URL } from "./options.ts";

/** One Groww instrument. */
export interface GrowwInstrument extends BrokerInstrument {
  /** Stream key `<group>/<exchange>/<exchange_token>`. */
  readonly token: string;
  readonly group: SubjectGroup;
  readonly feedExchange: SubjectExchange;
  /** The CSV's `exchange_token`, the last part of the instrument's subjects. */
  readonly exchangeToken: string;
}

/** Groww index trading symbols whose OpenAlgo names the shared table does not know. */
const GROWW_INDEX_NAMES: Readonly<Record<string, string>> = {
  NIFTYJR: "NIFTYNXT50",
  NIFTYMIDSELECT: "MIDCPNIFTY",
};

const FEED_EXCHANGES: Readonly<Record<string, SubjectExchange>> = { NSE: "nse", BSE: "bse" };
const DERIVATIVE_EXCHANGE: Readonly<Record<SubjectExchange, string>> = { nse: "NFO", bse: "BFO" };

/** One CSV row → instrument; null for rows the feed cannot stream (MCX) or cannot be read. */
function instrumentOf(row: Record<string, string>): GrowwInstrument | null {
  const feedExchange = FEED_EXCHANGES[(row.exchange ?? "").toUpperCase()];
  const exchangeToken = row.exchange_token ?? "";
  const tradingSymbol = row.trading_symbol ?? "";
  // Groww publishes no commodity or currency subjects: those rows are not streamable.
  if (feedExchange === undefined || !/^[A-Za-z0-9_-]+$/.test(exchangeToken) || !tradingSymbol) {
    return null;
  }
  const type = (row.instrument_type ?? "").toUpperCase();
  const segment = (row.segment ?? "").toUpperCase();
  const base = { feedExchange, exchangeToken, brokerSymbol: tradingSymbol };
  if (type === "IDX") {
    const key = tradingSymbol.toUpperCase();
    return {
      ...base,
      token: streamKey("indices", feedExchange, exchangeToken),
      group: "indices",
      exchange: indexExchange(feedExchange),
      symbol: GROWW_INDEX_NAMES[key] ?? indexSymbol(key),
    };
  }
  if (segment === "CASH") {
    return {
      ...base,
      token: streamKey("eq", feedExchange, exchangeToken),
      group: "eq",
      exchange: feedExchange.toUpperCase(),
      symbol: tradingSymbol.toUpperCase(),
    };
  }
  if (segment !== "FNO") return null;
  const expiry = parseExpiry(row.expiry_date ?? "");
  const underlying = row.underlying_symbol ?? "";
  if (expiry === null || underlying === "") return null;
  let symbol: string;
  if (type === "FUT") symbol = futureSymbol(underlying, expiry);
  else if (type === "CE" || type === "PE") {
    const strike = Number(row.strike_price);
    if (!Number.isFinite(strike) || strike <= 0) return null;
    symbol = optionSymbol(underlying, expiry, strike, type);
  } else return null;
  return {
    ...base,
    token: streamKey("fo", feedExchange, exchangeToken),
    group: "fo",
    exchange: DERIVATIVE_EXCHANGE[feedExchange],
    symbol,
  };
}

/**
 * Parses Groww's instrument CSV. Rows the feed cannot stream (MCX, currency) or cannot be read
 * (no token, bad expiry or strike) are counted in `skipped`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const csv = "exchange,exchange_token,trading_symbol,instrument_type,segment\n" +
 *   "NSE,2885,RELIANCE,EQ,CASH\nNSE,NIFTY,NIFTY,IDX,CASH\n";
 * const m = parseGrowwMaster(csv);
 * assert.equal(m.resolve("NSE", "RELIANCE").ok, true);
 * assert.equal(m.byToken("indices/nse/NIFTY")?.exchange, "NSE_INDEX");
 * ```
 */
export function parseGrowwMaster(text: string): InstrumentMaster<GrowwInstrument> {
  return InstrumentMaster.fromRows(parseCsv(text), instrumentOf);
}

/**
 * Loads the master from a file path or http(s) URL (Groww's public asset needs no credentials).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const m = await loadGrowwMaster(new URL("./testdata/instruments.csv", import.meta.url).href);
 * assert.ok(m.size > 0);
 * ```
 */
export async function loadGrowwMaster(
  location: string,
  signal?: AbortSignal,
): Promise<InstrumentMaster<GrowwInstrument>> {
  return parseGrowwMaster(await loadMasterText({ location, signal }));
}
