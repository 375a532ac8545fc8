// Bus topic names: `EXCHANGE_SYMBOL_MODE` (e.g. `NSE_RELIANCE_QUOTE`, `NSE_INDEX_NIFTY_LTP`), the
// format users of the reference implementation already know. Pure functions, no I/O.

import { type CandleInterval, isCandleInterval } from "../candles/mod.ts";
import { type Mode, MODE_TOPIC } from "../types.ts";

/** Exchanges whose name is two `_`-separated segments; a topic starting with one keeps both. */
export const TWO_SEGMENT_EXCHANGES: ReadonlySet<string> = new Set([
  "NSE_INDEX",
  "BSE_INDEX",
  "MCX_INDEX",
  "GLOBAL_INDEX",
  "NSEIX_INDEX",
]);

/** The instrument and mode a market-data topic names. */
export interface ParsedTopic {
  exchange: string;
  symbol: string;
  mode: Mode;
}

/**
 * What a topic is: `market` (a parseable `EXCHANGE_SYMBOL_MODE`), `orders` (`*_orders`), `control`
 * (`CACHE_INVALIDATE_*`, `*_positions`, `*_margins`) or `invalid` (anything else).
 */
export type TopicKind = "market" | "orders" | "control" | "invalid";

const MODE_BY_NAME: Readonly<Record<string, Mode>> = { LTP: 1, QUOTE: 2, DEPTH: 3 };

/**
 * Builds the bus topic of an instrument at a mode.
 *
 * Throws a RangeError when the topic could not be parsed back into the same instrument: an empty
 * exchange or symbol, an exchange containing `_` that is not one of {@link TWO_SEGMENT_EXCHANGES},
 * or a symbol that would merge with the exchange into one (`NSE` + `INDEX_X`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(formatTopic("NSE", "RELIANCE", 2), "NSE_RELIANCE_QUOTE");
 * assert.equal(formatTopic("NSE_INDEX", "NIFTY", 1), "NSE_INDEX_NIFTY_LTP");
 * assert.throws(() => formatTopic("NSE", "INDEX_X", 1), RangeError);
 * ```
 */
export function formatTopic(exchange: string, symbol: string, mode: Mode): string {
  if (
    exchange === "" || symbol === "" ||
    (exchange.includes("_") ? !TWO_SEGMENT_EXCHANGES.has(exchange) : mergesWith(exchange, symbol))
  ) {
    throw new RangeError(`cannot build a bus topic for exchange "${exchange}" symbol "${symbol}"`);
  }
  const label = MODE_TOPIC[mode];
  if (label === undefined) throw new RangeError(`invalid mode ${mode}`);
  return `${exchange}_${symbol}_${label}`;
}

/**
 * Parses a market-data topic. The last segment is the mode (case-insensitive); the exchange is
 * the first segment, or the first two for {@link TWO_SEGMENT_EXCHANGES}; the symbol is the rest
 * re-joined with `_`. Returns null for control and order topics, fewer than three segments, an
 * empty exchange or symbol, or an unknown mode.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseTopic("CRYPTO_SOL_INR_LTP"), { exchange: "CRYPTO", symbol: "SOL_INR", mode: 1 });
 * assert.deepEqual(parseTopic("NSE_INDEX_NIFTY_ltp"), { exchange: "NSE_INDEX", symbol: "NIFTY", mode: 1 });
 * assert.equal(parseTopic("CACHE_INVALIDATE_ALL_7"), null);
 * ```
 */
export function parseTopic(topic: string): ParsedTopic | null {
  if (controlKind(topic) !== null) return null;
  const parts = topic.split("_");
  if (parts.length < 3) return null;
  const mode = MODE_BY_NAME[parts[parts.length - 1].toUpperCase()];
  if (mode === undefined) return null;
  const twoSegments = TWO_SEGMENT_EXCHANGES.has(`${parts[0]}_${parts[1]}`);
  const exchange = twoSegments ? `${parts[0]}_${parts[1]}` : parts[0];
  const symbol = parts.slice(twoSegments ? 2 : 1, -1).join("_");
  if (exchange === "" || symbol === "") return null;
  return { exchange, symbol, mode };
}

/**
 * Classifies a topic the way a bus listener dispatches it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(classifyTopic("NSE_RELIANCE_QUOTE"), "market");
 * assert.equal(classifyTopic("ZERODHA_U42_orders"), "orders");
 * assert.equal(classifyTopic("CACHE_INVALIDATE_FEED_U42"), "control");
 * assert.equal(classifyTopic("NSE_RELIANCE_FULL"), "invalid");
 * ```
 */
export function classifyTopic(topic: string): TopicKind {
  return controlKind(topic) ?? (parseTopic(topic) === null ? "invalid" : "market");
}

const TWO_SEGMENT_HEADS: ReadonlySet<string> = new Set(
  [...TWO_SEGMENT_EXCHANGES].map((exchange) => exchange.slice(0, exchange.indexOf("_"))),
);

/** True when `EXCHANGE_SYMBOL` would read as a two-segment exchange (`NSE` + `INDEX_X`). */
function mergesWith(exchange: string, symbol: string): boolean {
  if (!TWO_SEGMENT_HEADS.has(exchange)) return false;
  const end = symbol.indexOf("_");
  return TWO_SEGMENT_EXCHANGES.has(`${exchange}_${end === -1 ? symbol : symbol.slice(0, end)}`);
}

/** The instrument and interval a candle topic names. */
export interface ParsedCandleTopic {
  exchange: string;
  symbol: string;
  interval: CandleInterval;
}

/**
 * Builds the bus topic of an instrument's closed bars at an interval:
 * `EXCHANGE_SYMBOL_CANDLE_<INTERVAL>` with the interval upper-cased (`1M` is one minute, `1D` one
 * day). Throws a RangeError for the instruments {@link formatTopic} refuses.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(formatCandleTopic("NSE", "RELIANCE", "1m"), "NSE_RELIANCE_CANDLE_1M");
 * assert.equal(formatCandleTopic("NSE_INDEX", "NIFTY", "15m"), "NSE_INDEX_NIFTY_CANDLE_15M");
 * assert.throws(() => formatCandleTopic("NSE", "", "1m"), RangeError);
 * ```
 */
export function formatCandleTopic(
  exchange: string,
  symbol: string,
  interval: CandleInterval,
): string {
  // formatTopic checks the instrument part; its mode suffix is replaced.
  const ltp = formatTopic(exchange, symbol, 1);
  if (!isCandleInterval(interval)) throw new RangeError(`invalid candle interval ${interval}`);
  return `${ltp.slice(0, -"LTP".length)}CANDLE_${interval.toUpperCase()}`;
}

/**
 * Parses a candle topic (`EXCHANGE_SYMBOL_CANDLE_<INTERVAL>`, interval case-insensitive); null for
 * anything else, tick topics included (their last segment is a mode, never an interval).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseCandleTopic("NSE_RELIANCE_CANDLE_1M"), {
 *   exchange: "NSE", symbol: "RELIANCE", interval: "1m",
 * });
 * assert.equal(parseCandleTopic("NSE_RELIANCE_LTP"), null);
 * assert.equal(parseCandleTopic("NSE_RELIANCE_CANDLE_2M"), null);
 * ```
 */
export function parseCandleTopic(topic: string): ParsedCandleTopic | null {
  const parts = topic.split("_");
  if (parts.length < 4 || parts[parts.length - 2] !== "CANDLE") return null;
  const interval = parts[parts.length - 1].toLowerCase();
  if (!isCandleInterval(interval)) return null;
  const twoSegments = TWO_SEGMENT_EXCHANGES.has(`${parts[0]}_${parts[1]}`);
  const exchange = twoSegments ? `${parts[0]}_${parts[1]}` : parts[0];
  const symbol = parts.slice(twoSegments ? 2 : 1, -2).join("_");
  if (exchange === "" || symbol === "") return null;
  return { exchange, symbol, interval };
}

function controlKind(topic: string): "orders" | "control" | null {
  if (topic.startsWith("CACHE_INVALIDATE")) return "control";
  if (topic.endsWith("_orders")) return "orders";
  if (topic.endsWith("_positions") || topic.endsWith("_margins")) return "control";
  return null;
}

/**
 * Topic of the publisher's heartbeat (every second; payload `{"v":1,"session","broker",
 * "published"}`). Readers use it to notice a publisher that went away; it is not a market topic.
 */
export const HEARTBEAT_TOPIC = "TICKPLEX_HEARTBEAT";
