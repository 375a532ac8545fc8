// The instrument master every broker adapter keeps: OpenAlgo (exchange, symbol) ↔ broker token,
// loaded from a file or an http(s) URL, with CSV parsed by csv-parse (not by hand).

import { parse as parseCsvText } from "csv-parse/sync";
import { instrumentKey } from "../types.ts";
import { AuthError } from "./errors.ts";

/** The part of an instrument every broker shares; brokers extend it with their own fields. */
export interface BrokerInstrument {
  /** The broker's identity of the instrument, unique within its master (token, `seg|id` ...). */
  readonly token: string | number;
  /** OpenAlgo exchange (`NSE`, `NFO`, `NSE_INDEX` ...). */
  readonly exchange: string;
  /** OpenAlgo symbol (`RELIANCE`, `NIFTY28MAR2420800CE`, `NIFTY`). */
  readonly symbol: string;
  /** The broker's own trading symbol, accepted as an alias where it differs. */
  readonly brokerSymbol?: string;
}

/** Result of {@link InstrumentMaster.resolve}. */
export type Resolved<I> =
  | { ok: true; instrument: I }
  | { ok: false; code: "SYMBOL_NOT_FOUND"; message: string };

function keyOf(exchange: string, symbol: string): string {
  return instrumentKey(exchange.trim().toUpperCase(), symbol.trim().toUpperCase());
}

/**
 * OpenAlgo symbol ↔ broker token, both ways. The first row for an OpenAlgo key wins; later rows
 * with the same key are counted in `duplicates`. Broker trading symbols resolve too.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const m = new InstrumentMaster([{ token: 2885, exchange: "NSE", symbol: "RELIANCE", brokerSymbol: "RELIANCE-EQ" }]);
 * assert.equal(m.resolve("nse", "RELIANCE-EQ").ok, true);
 * assert.equal(m.byToken(2885)?.symbol, "RELIANCE");
 * assert.deepEqual(m.resolve("NSE", "BOGUS"), {
 *   ok: false, code: "SYMBOL_NOT_FOUND", message: "Symbol not found: BOGUS on NSE",
 * });
 * ```
 */
export class InstrumentMaster<I extends BrokerInstrument> {
  readonly #byKey = new Map<string, I>();
  readonly #byToken = new Map<string | number, I>();
  /** Rows the parser skipped (not instruments, bad fields). */
  readonly skipped: number;
  /** Instruments whose OpenAlgo key was already taken by an earlier row. */
  readonly duplicates: number;

  constructor(instruments: Iterable<I>, skipped = 0) {
    let duplicates = 0;
    const all: I[] = [];
    for (const ins of instruments) {
      all.push(ins);
      this.#byToken.set(ins.token, ins);
      const key = keyOf(ins.exchange, ins.symbol);
      if (this.#byKey.has(key)) duplicates++;
      else this.#byKey.set(key, ins);
    }
    for (const ins of all) {
      if (ins.brokerSymbol === undefined) continue;
      const alias = keyOf(ins.exchange, ins.brokerSymbol);
      if (!this.#byKey.has(alias)) this.#byKey.set(alias, ins);
    }
    this.skipped = skipped;
    this.duplicates = duplicates;
  }

  /**
   * Builds a master from raw rows (CSV records, JSON objects): `map` turns a row into an
   * instrument or null for a row that is not one (counted in `skipped`, never thrown).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * const m = InstrumentMaster.fromRows(parseCsv("id,name\n7,ACC\nx,BAD\n"), (r) =>
   *   /^\d+$/.test(r.id) ? { token: Number(r.id), exchange: "NSE", symbol: r.name } : null
   * );
   * assert.equal(m.size, 1);
   * assert.equal(m.skipped, 1);
   * ```
   */
  static fromRows<R, I extends BrokerInstrument>(
    rows: Iterable<R>,
    map: (row: R) => I | null,
  ): InstrumentMaster<I> {
    const out: I[] = [];
    let skipped = 0;
    for (const row of rows) {
      const ins = map(row);
      if (ins === null) skipped++;
      else out.push(ins);
    }
    return new InstrumentMaster(out, skipped);
  }

  /** Number of instruments (by token). */
  get size(): number {
    return this.#byToken.size;
  }

  /** Resolves an OpenAlgo exchange/symbol (or the broker's trading symbol) to its instrument. */
  resolve(exchange: string, symbol: string): Resolved<I> {
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

  /** The instrument of a broker token, if known. */
  byToken(token: string | number): I | undefined {
    return this.#byToken.get(token);
  }

  /** Every instrument, in order of first appearance by token. */
  all(): I[] {
    return [...this.#byToken.values()];
  }
}

/** Where a master comes from: a file path, or an http(s) URL fetched with optional headers. */
export interface MasterSource {
  /** A path, `file://` URL or `http(s)://` URL. */
  location: string;
  /** Request headers for URLs (broker authorisation). */
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * True when `location` names a URL to download rather than a file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(isUrlSource("http://127.0.0.1:9101/instruments"), true);
 * assert.equal(isUrlSource("./instruments.csv"), false);
 * ```
 */
export function isUrlSource(location: string): boolean {
  return /^https?:\/\//i.test(location);
}

/**
 * Reads a master's text from a file or URL. A 401/403 throws {@link AuthError} (the credentials were
 * rejected); any other failure throws an Error naming the location and the HTTP status.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "token,symbol\n1,A\n");
 * assert.equal(await loadMasterText({ location: path }), "token,symbol\n1,A\n");
 * await Deno.remove(path);
 * ```
 */
export async function loadMasterText(source: MasterSource): Promise<string> {
  const bytes = await loadMasterBytes(source);
  const text = new TextDecoder().decode(bytes);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Reads a master's bytes from a file or URL (gzip-compressed sources are inflated when the name
 * ends in `.gz`). Errors as {@link loadMasterText}.
 */
export async function loadMasterBytes(source: MasterSource): Promise<Uint8Array> {
  const { location } = source;
  let bytes: Uint8Array;
  if (isUrlSource(location)) {
    let res: Response;
    try {
      res = await fetch(location, { headers: source.headers, signal: source.signal });
    } catch (err) {
      throw new Error(`instruments download from ${location} failed: ${errorText(err)}`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      const msg = `instruments download from ${location} failed: HTTP ${res.status}`;
      if (res.status === 401 || res.status === 403) throw new AuthError(msg);
      throw new Error(msg);
    }
    bytes = new Uint8Array(await res.arrayBuffer());
  } else {
    try {
      bytes = await Deno.readFile(location.startsWith("file:") ? new URL(location) : location);
    } catch (err) {
      throw new Error(`instruments file ${location}: ${errorText(err)}`);
    }
  }
  if (/\.gz(\?|$)/i.test(location)) {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
      .pipeThrough(new DecompressionStream("gzip"));
    bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  }
  return bytes;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Options of {@link parseCsv}. */
export interface CsvOptions {
  /** The first row names the columns (default true); rows become objects keyed by them. */
  header?: boolean;
  /** Column names when the file has no header row (Fyers' masters). */
  columns?: readonly string[];
  delimiter?: string;
}

/**
 * Parses CSV (quoted fields, CRLF, a trailing comma on every line as Noren's masters have) into
 * rows keyed by column name. Short rows keep the columns they have; values are trimmed strings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const rows = parseCsv('Exchange,Token,TradingSymbol,\nNSE,2885,"RELIANCE-EQ",\n');
 * assert.deepEqual(rows, [{ Exchange: "NSE", Token: "2885", TradingSymbol: "RELIANCE-EQ" }]);
 * ```
 */
export function parseCsv(text: string, options: CsvOptions = {}): Record<string, string>[] {
  const raw = parseCsvText(text, {
    delimiter: options.delimiter ?? ",",
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    trim: true,
    bom: true,
  }) as string[][];
  let names: string[];
  if (options.columns !== undefined) names = [...options.columns];
  else if (options.header === false) return raw.map((r) => Object.fromEntries(r.entries()));
  else names = (raw.shift() ?? []).map((h) => h.trim());
  const rows: Record<string, string>[] = [];
  for (const r of raw) {
    const row: Record<string, string> = {};
    for (let i = 0; i < names.length && i < r.length; i++) {
      if (names[i] !== "") row[names[i]] = r[i];
    }
    rows.push(row);
  }
  return rows;
}
