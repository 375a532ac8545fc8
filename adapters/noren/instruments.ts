// Noren instrument masters (Shoonya's `NSE_symbols.txt`-style CSVs with a trailing comma, and
// Flattrade's per-segment CSVs, which spell the same columns differently) → OpenAlgo symbols ↔
// `EXCH|token` scrip keys, the form Noren subscriptions use.

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

/** One Noren scrip. */
export interface NorenInstrument extends BrokerInstrument {
  /** `EXCH|token` (`NSE|2885`): Noren tokens are unique only within an exchange. */
  readonly token: string;
  /** Noren's exchange (`NSE`, `NFO` ...), which indices share with their exchange's stocks. */
  readonly segment: string;
  readonly brokerSymbol: string;
  readonly lotSize: number;
  readonly tickSize: number;
}

/** Canonical column → the spellings masters use (compared lower-case, without spaces). */
const COLUMNS = {
  exchange: ["exchange"],
  token: ["token"],
  lotSize: ["lotsize"],
  symbol: ["symbol"],
  tradingSymbol: ["tradingsymbol"],
  instrument: ["instrument"],
  expiry: ["expiry"],
  optionType: ["optiontype"],
  strike: ["strikeprice", "strike"],
  tickSize: ["ticksize"],
} as const;
type Column = keyof typeof COLUMNS;

/** Cash segments: equities keep their name, minus the `-EQ`/`-BE` series suffix. */
const CASH = new Set(["NSE", "BSE"]);
const SERIES_SUFFIX = /-(EQ|BE)$/;

/** The header spelling of each canonical column in this file (undefined when absent). */
function headerMap(row: Record<string, string>): Partial<Record<Column, string>> {
  const byNorm = new Map<string, string>();
  for (const h of Object.keys(row)) byNorm.set(h.toLowerCase().replace(/\s+/g, ""), h);
  const out: Partial<Record<Column, string>> = {};
  for (const [col, names] of Object.entries(COLUMNS) as [Column, readonly string[]][]) {
    const found = names.map((n) => byNorm.get(n)).find((h) => h !== undefined);
    if (found !== undefined) out[col] = found;
  }
  return out;
}

/** Instruments of one master file and the rows that are not instruments tickplex can map. */
export interface ParsedMaster {
  instruments: NorenInstrument[];
  skipped: number;
}

/**
 * Parses one Noren master CSV. Indices (`Instrument` = `INDEX`) go to `<EXCH>_INDEX` under their
 * OpenAlgo name (`Nifty 50` → `NIFTY`); futures (`OptionType` `XX` or a `FUT…` instrument) and
 * options get OpenAlgo derivative symbols; equities drop the `-EQ`/`-BE` series. Rows that are
 * none of these, or lack a token or expiry, are counted in `skipped`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const { instruments } = parseNorenMaster(
 *   "Exchange,Token,LotSize,Symbol,TradingSymbol,Instrument,TickSize,\n" +
 *     "NSE,26000,1,Nifty 50,NIFTY INDEX,INDEX,0,\nNSE,2885,1,RELIANCE,RELIANCE-EQ,EQ,0.05,\n",
 * );
 * assert.deepEqual(instruments.map((i) => [i.token, i.exchange, i.symbol]), [
 *   ["NSE|2885", "NSE", "RELIANCE"], ["NSE|26000", "NSE_INDEX", "NIFTY"],
 * ]);
 * ```
 */
export function parseNorenMaster(text: string): ParsedMaster {
  const rows = parseCsv(text);
  if (rows.length === 0) return { instruments: [], skipped: 0 };
  const col = headerMap(rows[0]);
  if (col.exchange === undefined || col.token === undefined) {
    throw new Error("not a Noren master: no Exchange and Token columns");
  }
  const get = (row: Record<string, string>, c: Column): string => {
    const h = col[c];
    return h === undefined ? "" : (row[h] ?? "");
  };
  // Equities of the EQ series first, so that RELIANCE is RELIANCE-EQ, not another series.
  const first: NorenInstrument[] = [];
  const rest: NorenInstrument[] = [];
  let skipped = 0;
  for (const row of rows) {
    const segment = get(row, "exchange").toUpperCase();
    const scrip = get(row, "token");
    const tradingSymbol = get(row, "tradingSymbol");
    const name = get(row, "symbol");
    if (segment === "" || !/^\d+$/.test(scrip) || (tradingSymbol === "" && name === "")) {
      skipped++;
      continue;
    }
    const instrument = get(row, "instrument").toUpperCase();
    let exchange = segment;
    let symbol: string;
    if (instrument === "INDEX") {
      exchange = indexExchange(segment);
      symbol = indexSymbol(name !== "" ? name : tradingSymbol);
    } else if (CASH.has(segment)) {
      symbol = (tradingSymbol !== "" ? tradingSymbol : name).toUpperCase().replace(
        SERIES_SUFFIX,
        "",
      );
    } else {
      const expiry = parseExpiry(get(row, "expiry"));
      const opt = get(row, "optionType").toUpperCase();
      if (expiry === null || name === "") {
        skipped++;
        continue;
      }
      if (opt === "XX" || (opt === "" && instrument.startsWith("FUT"))) {
        symbol = futureSymbol(name, expiry);
      } else if (opt === "CE" || opt === "PE") {
        const strike = Number(get(row, "strike"));
        if (!Number.isFinite(strike) || get(row, "strike") === "") {
          skipped++;
          continue;
        }
        symbol = optionSymbol(name, expiry, strike, opt);
      } else {
        skipped++;
        continue;
      }
    }
    const ins: NorenInstrument = {
      token: `${segment}|${scrip}`,
      exchange,
      symbol,
      segment,
      brokerSymbol: tradingSymbol !== "" ? tradingSymbol : name,
      lotSize: Number(get(row, "lotSize")) || 1,
      tickSize: Number(get(row, "tickSize")) || 0,
    };
    (/-EQ$/i.test(tradingSymbol) ? first : rest).push(ins);
  }
  return { instruments: [...first, ...rest], skipped };
}

/**
 * Splits the instruments option into sources: a list, or one string naming several files or URLs
 * separated by commas.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(masterSources("a.txt, b.txt"), ["a.txt", "b.txt"]);
 * assert.deepEqual(masterSources(["x"]), ["x"]);
 * ```
 */
export function masterSources(option: string | readonly string[]): string[] {
  const list = typeof option === "string" ? option.split(",") : [...option];
  return list.map((s) => s.trim()).filter((s) => s !== "");
}

/**
 * Loads and merges Noren masters (files or http(s) URLs, typically one per exchange). A source
 * that cannot be read or is not a Noren master fails the load, naming the source.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "Exchange,Token,LotSize,Symbol,TradingSymbol,Instrument,TickSize,\n" +
 *   "NSE,22,1,ACC,ACC-EQ,EQ,0.05,\n");
 * const master = await loadNorenMaster([path]);
 * assert.equal(master.resolve("NSE", "ACC").ok, true);
 * await Deno.remove(path);
 * ```
 */
export async function loadNorenMaster(
  sources: readonly string[],
  signal?: AbortSignal,
): Promise<InstrumentMaster<NorenInstrument>> {
  const all: NorenInstrument[] = [];
  let skipped = 0;
  for (const location of sources) {
    const text = await loadMasterText({ location, signal });
    let parsed: ParsedMaster;
    try {
      parsed = parseNorenMaster(text);
    } catch (err) {
      throw new Error(`instruments ${location}: ${err instanceof Error ? err.message : err}`);
    }
    for (const ins of parsed.instruments) all.push(ins);
    skipped += parsed.skipped;
  }
  return new InstrumentMaster(all, skipped);
}
