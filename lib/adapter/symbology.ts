// OpenAlgo common symbology, shared by every broker's instrument mapping: equities as the exchange
// names them, futures `BANKNIFTY24APR24FUT`, options `NIFTY28MAR2420800CE`, indices by their
// OpenAlgo names (`NIFTY`, `BANKNIFTY`, `SENSEX`) on `NSE_INDEX` / `BSE_INDEX`.

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

/** A calendar date (exchange-local), the form every broker's expiry is parsed into. */
export interface ExpiryDate {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
}

/**
 * `{2024, 3, 28}` → `28MAR24`, the expiry part of OpenAlgo derivative symbols.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(expiryCode({ year: 2024, month: 3, day: 28 }), "28MAR24");
 * ```
 */
export function expiryCode(d: ExpiryDate): string {
  return `${String(d.day).padStart(2, "0")}${MONTHS[d.month - 1]}${
    String(d.year % 100).padStart(2, "0")
  }`;
}

/**
 * Parses the expiry spellings brokers publish: `2024-03-28`, `28-03-2024`, `28MAR2024`,
 * `28-MAR-2024`, `28 MAR 2024`, `2024-03-28T14:30:00` (time ignored). Null when it is none of them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseExpiry("28-Mar-2024"), { year: 2024, month: 3, day: 28 });
 * assert.deepEqual(parseExpiry("2024-03-28"), { year: 2024, month: 3, day: 28 });
 * assert.equal(parseExpiry(""), null);
 * ```
 */
export function parseExpiry(text: string): ExpiryDate | null {
  const s = text.trim().toUpperCase();
  let m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$/.exec(s);
  if (m !== null) return checked(Number(m[1]), Number(m[2]), Number(m[3]));
  m = /^(\d{2})[-/](\d{2})[-/](\d{4})(?:[T ].*)?$/.exec(s);
  if (m !== null) return checked(Number(m[3]), Number(m[2]), Number(m[1]));
  m = /^(\d{1,2})[- ]?([A-Z]{3})[- ]?(\d{4}|\d{2})$/.exec(s);
  if (m !== null) {
    const month = MONTHS.indexOf(m[2]) + 1;
    const year = m[3].length === 2 ? 2000 + Number(m[3]) : Number(m[3]);
    return month === 0 ? null : checked(year, month, Number(m[1]));
  }
  return null;
}

/**
 * An expiry given as epoch seconds or milliseconds, read in IST (exchange time). Brokers that
 * publish expiries as timestamps (Angel-style epochs, Kotak's seconds from 1980) convert through
 * this after shifting to the Unix epoch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // 2024-03-28 15:30 IST
 * assert.deepEqual(expiryFromEpochMs(Date.UTC(2024, 2, 28, 10, 0)), { year: 2024, month: 3, day: 28 });
 * ```
 */
export function expiryFromEpochMs(ms: number): ExpiryDate | null {
  if (!Number.isFinite(ms)) return null;
  const d = new Date(ms + IST_OFFSET_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** India Standard Time, UTC+05:30 (no daylight saving). */
export const IST_OFFSET_MS = 5.5 * 3600_000;

function checked(year: number, month: number, day: number): ExpiryDate | null {
  if (month < 1 || month > 12 || day < 1 || day > 31 || year < 1990 || year > 2200) return null;
  return { year, month, day };
}

/**
 * A strike as OpenAlgo writes it: no trailing `.0`, decimals kept (`20800`, `83.25`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(strikeCode(20800), "20800");
 * assert.equal(strikeCode(83.25), "83.25");
 * ```
 */
export function strikeCode(strike: number): string {
  // Brokers publish strikes as floats (20800.000000) or scaled integers; round off float noise.
  return String(Math.round(strike * 10000) / 10000);
}

/** Underlying names are written without spaces (`NIFTY NXT 50` → `NIFTYNXT50`). */
function compact(s: string): string {
  return s.replace(/\s+/g, "").toUpperCase();
}

/**
 * OpenAlgo futures symbol.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(futureSymbol("BANKNIFTY", { year: 2024, month: 4, day: 24 }), "BANKNIFTY24APR24FUT");
 * ```
 */
export function futureSymbol(underlying: string, expiry: ExpiryDate): string {
  return `${compact(underlying)}${expiryCode(expiry)}FUT`;
}

/**
 * OpenAlgo options symbol.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(
 *   optionSymbol("NIFTY", { year: 2024, month: 3, day: 28 }, 20800, "CE"),
 *   "NIFTY28MAR2420800CE",
 * );
 * ```
 */
export function optionSymbol(
  underlying: string,
  expiry: ExpiryDate,
  strike: number,
  type: "CE" | "PE",
): string {
  return `${compact(underlying)}${expiryCode(expiry)}${strikeCode(strike)}${type}`;
}

/**
 * Index names as brokers publish them (upper-cased, spaces kept) → OpenAlgo index symbols. Names
 * not listed fall back to the name without spaces.
 */
const INDEX_NAMES: Readonly<Record<string, string>> = {
  "NIFTY 50": "NIFTY",
  "NIFTY": "NIFTY",
  "NIFTY50": "NIFTY",
  "NIFTY NEXT 50": "NIFTYNXT50",
  "NIFTY NXT 50": "NIFTYNXT50",
  "NIFTY FIN SERVICE": "FINNIFTY",
  "NIFTY FINANCIAL SERVICES": "FINNIFTY",
  "FINNIFTY": "FINNIFTY",
  "NIFTY BANK": "BANKNIFTY",
  "BANKNIFTY": "BANKNIFTY",
  "NIFTY MID SELECT": "MIDCPNIFTY",
  "NIFTY MIDCAP SELECT": "MIDCPNIFTY",
  "MIDCPNIFTY": "MIDCPNIFTY",
  "INDIA VIX": "INDIAVIX",
  "INDIAVIX": "INDIAVIX",
  "SENSEX": "SENSEX",
  "S&P BSE SENSEX": "SENSEX",
  "BSE SENSEX": "SENSEX",
  "SNSX50": "SENSEX50",
  "SENSEX 50": "SENSEX50",
  "BANKEX": "BANKEX",
  "S&P BSE BANKEX": "BANKEX",
};

/**
 * The OpenAlgo symbol of an index from the name a broker's master gives it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(indexSymbol("Nifty 50"), "NIFTY");
 * assert.equal(indexSymbol("Nifty Bank"), "BANKNIFTY");
 * assert.equal(indexSymbol("NIFTY IT"), "NIFTYIT");
 * ```
 */
export function indexSymbol(name: string): string {
  const key = name.trim().toUpperCase().replace(/\s+/g, " ");
  return INDEX_NAMES[key] ?? compact(key);
}

/**
 * The OpenAlgo index exchange for a cash exchange (`NSE` → `NSE_INDEX`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(indexExchange("BSE"), "BSE_INDEX");
 * ```
 */
export function indexExchange(exchange: string): string {
  return `${exchange.toUpperCase()}_INDEX`;
}

/** True for OpenAlgo index exchanges (`NSE_INDEX`, `BSE_INDEX`, `MCX_INDEX` ...). */
export function isIndexExchange(exchange: string): boolean {
  return exchange.endsWith("_INDEX");
}
