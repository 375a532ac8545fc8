// NATS subject names of the bus and of the edge control plane: `tickplex.v1.<EXCHANGE>.<SYMBOL>.<MODE>`
// for ticks, with exchange and symbol escaped so a symbol can never add, merge or wildcard a token.

import { type CandleInterval, isCandleInterval } from "../candles/mod.ts";
import { type Mode, MODE_TOPIC } from "../types.ts";

const MODE_BY_NAME: Readonly<Record<string, Mode>> = { LTP: 1, QUOTE: 2, DEPTH: 3 };
const HEX = "0123456789ABCDEF";
const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** True for a byte that stands for itself in a token: printable ASCII but `.`, `*`, `>`, `%`. */
function plain(byte: number): boolean {
  return byte > 0x20 && byte < 0x7f && byte !== 0x2e && byte !== 0x2a && byte !== 0x3e &&
    byte !== 0x25;
}

/**
 * Escapes a value into one subject token: every UTF-8 byte that NATS gives a meaning to (`.`
 * separates tokens, `*` and `>` are wildcards), whitespace, control characters, non-ASCII and `%`
 * itself become `%XX` (upper-case hex); everything else stands for itself, so `M&M`, `BAJAJ-AUTO`
 * and `NSE_INDEX` read as they are. Throws a RangeError for an empty value (an empty token is not
 * a valid subject).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(escapeToken("M&M"), "M&M");
 * assert.equal(escapeToken("NIFTY 50"), "NIFTY%2050");
 * assert.equal(escapeToken("A.B*C>D%"), "A%2EB%2AC%3ED%25");
 * assert.equal(unescapeToken(escapeToken("NIFTY 50")), "NIFTY 50");
 * ```
 */
export function escapeToken(value: string): string {
  if (value === "") throw new RangeError("a subject token cannot be empty");
  let simple = true;
  for (let i = 0; i < value.length; i++) {
    if (!plain(value.charCodeAt(i))) {
      simple = false;
      break;
    }
  }
  if (simple) return value;
  let out = "";
  for (const byte of utf8.encode(value)) {
    out += plain(byte) ? String.fromCharCode(byte) : `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
  }
  return out;
}

/**
 * Reverses {@link escapeToken}; null when the token is not something `escapeToken` produces
 * (a malformed `%` escape, a byte that should have been escaped, invalid UTF-8, empty).
 */
export function unescapeToken(token: string): string | null {
  if (token === "") return null;
  if (!token.includes("%")) {
    for (let i = 0; i < token.length; i++) if (!plain(token.charCodeAt(i))) return null;
    return token;
  }
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c === 0x25) {
      const hi = HEX.indexOf(token[i + 1] ?? "");
      const lo = HEX.indexOf(token[i + 2] ?? "");
      if (hi < 0 || lo < 0) return null;
      const byte = hi * 16 + lo;
      if (plain(byte)) return null; // Not canonical: one value, one subject.
      bytes.push(byte);
      i += 2;
    } else if (plain(c)) bytes.push(c);
    else return null;
  }
  try {
    return utf8Strict.decode(new Uint8Array(bytes));
  } catch {
    return null;
  }
}

/**
 * The subject of an instrument's ticks at a mode.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(tickSubject("tickplex", "NSE", "RELIANCE", 2), "tickplex.v1.NSE.RELIANCE.QUOTE");
 * assert.equal(tickSubject("tickplex", "NSE_INDEX", "NIFTY 50", 1), "tickplex.v1.NSE_INDEX.NIFTY%2050.LTP");
 * ```
 */
export function tickSubject(prefix: string, exchange: string, symbol: string, mode: Mode): string {
  const label = MODE_TOPIC[mode];
  if (label === undefined) throw new RangeError(`invalid mode ${mode}`);
  return `${prefix}.v1.${escapeToken(exchange)}.${escapeToken(symbol)}.${label}`;
}

/**
 * The subject of an instrument's closed bars: `<prefix>.v1.<EXCHANGE>.<SYMBOL>.CANDLE_<INTERVAL>`
 * (interval upper-cased), so `<prefix>.v1.NSE.RELIANCE.>` carries everything of one instrument.
 */
export function candleSubject(
  prefix: string,
  exchange: string,
  symbol: string,
  interval: CandleInterval,
): string {
  if (!isCandleInterval(interval)) throw new RangeError(`invalid candle interval ${interval}`);
  return `${prefix}.v1.${escapeToken(exchange)}.${
    escapeToken(symbol)
  }.CANDLE_${interval.toUpperCase()}`;
}

/** The instrument and mode a tick subject names. */
export interface ParsedTickSubject {
  exchange: string;
  symbol: string;
  mode: Mode;
}

/**
 * Parses a tick subject under `prefix`; null for anything else (candle subjects included).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseTickSubject("tickplex", "tickplex.v1.NSE.M&M.LTP"), {
 *   exchange: "NSE", symbol: "M&M", mode: 1,
 * });
 * assert.equal(parseTickSubject("tickplex", "tickplex.v1.NSE.TCS.CANDLE_1M"), null);
 * ```
 */
export function parseTickSubject(prefix: string, subject: string): ParsedTickSubject | null {
  if (!subject.startsWith(`${prefix}.v1.`)) return null;
  const rest = subject.slice(prefix.length + 4).split(".");
  if (rest.length !== 3) return null;
  const mode = MODE_BY_NAME[rest[2]];
  if (mode === undefined) return null;
  const exchange = unescapeToken(rest[0]);
  const symbol = unescapeToken(rest[1]);
  if (exchange === null || symbol === null) return null;
  return { exchange, symbol, mode };
}

/** The control operations between edges and the primary (see docs/nats.md). */
export type ControlOp = "subscribe" | "unsubscribe" | "renew" | "hello";

/**
 * The subject of a control operation: `<prefix>.ctl.v1.<op>`. Its second token is never `v1`, so
 * the bus wildcard `<prefix>.v1.>` does not see control traffic.
 */
export function controlSubject(prefix: string, op: ControlOp): string {
  return `${prefix}.ctl.v1.${op}`;
}
