// Angel One SmartAPI WebSocket 2.0 wire codec (brokers.md §2): little-endian binary packets (one
// per message) to normalised ticks, the JSON requests and text messages, and the encoders the
// simulator uses. No I/O here.

import { baseTick, type Depth, type DepthLevel, type Tick } from "../../lib/types.ts";

/** Angel subscription modes: 1 LTP, 2 Quote, 3 SnapQuote (best five), 4 Depth-20. */
export type AngelMode = 1 | 2 | 3 | 4;

/** Named Angel modes. */
export const ANGEL_MODE = { LTP: 1, QUOTE: 2, SNAP_QUOTE: 3, DEPTH_20: 4 } as const;

/** Angel `exchangeType` codes. */
export const EXCHANGE_TYPE = {
  nse_cm: 1,
  nse_fo: 2,
  bse_cm: 3,
  bse_fo: 4,
  mcx_fo: 5,
  ncx_fo: 7,
  cde_fo: 13,
} as const;

/** Byte length of the packet each mode streams. */
export const PACKET_LENGTH: Readonly<Record<AngelMode, number>> = { 1: 51, 2: 123, 3: 379, 4: 443 };

/** Bytes of the NUL-padded ASCII token. */
export const TOKEN_BYTES = 25;

/** Levels per side of a SnapQuote packet's best five. */
export const BEST_FIVE = 5;

/** Levels per side of a Depth-20 packet. */
export const DEPTH_20 = 20;

/** Angel tokens are decimal numbers of at most this many digits (our key packs them in a number). */
const MAX_TOKEN_DIGITS = 10;

const TWO_32 = 4294967296;

/**
 * A number key for a token within its exchange type: Angel tokens are unique only per exchange
 * type (an NSE and a BSE token may be equal), so the session keys instruments by both.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(tokenKey(1, 2885), 10_000_002_885);
 * ```
 */
export function tokenKey(exchangeType: number, token: number): number {
  return exchangeType * 1e10 + token;
}

/**
 * Divisor from wire price units to rupees: paise everywhere except the currency segment, whose
 * prices carry seven decimals (commonly cited; unverified against the live feed, brokers.md §2.3).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(priceDivisor(1), 100);
 * assert.equal(priceDivisor(13), 1e7);
 * ```
 */
export function priceDivisor(exchangeType: number): number {
  return exchangeType === EXCHANGE_TYPE.cde_fo ? 1e7 : 100;
}

/** Cash segments carry no open interest. */
function hasOi(exchangeType: number): boolean {
  return exchangeType !== EXCHANGE_TYPE.nse_cm && exchangeType !== EXCHANGE_TYPE.bse_cm;
}

// ---- decoding ---------------------------------------------------------------------------------

/** Exchange and OpenAlgo symbol of an instrument. */
export interface InstrumentRef {
  exchange: string;
  symbol: string;
}

/** Resolves a token key (see {@link tokenKey}) to its instrument; undefined drops the packet. */
export type TokenLookup = (key: number) => InstrumentRef | undefined;

/** Counters a decoder updates; one object lives as long as a connection. */
export interface DecodeStats {
  packets: number;
  ticks: number;
  /** Sum of the malformed-input counters below. */
  errors: number;
  /** Shorter than the common header. */
  shortPacket: number;
  /** Subscription mode byte outside 1–4. */
  unknownMode: number;
  /** Length is not the length of the packet's mode. */
  badLength: number;
  /** Token field is not a NUL-padded decimal number. */
  badToken: number;
  /** Packets for tokens nobody wants (not an error: in flight after an unsubscribe). */
  unknownToken: number;
  /** SnapQuote best-five entries whose buy/sell flag disagrees with their position. */
  flagMismatch: number;
}

/**
 * A zeroed set of decode counters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(createDecodeStats().errors, 0);
 * ```
 */
export function createDecodeStats(): DecodeStats {
  return {
    packets: 0,
    ticks: 0,
    errors: 0,
    shortPacket: 0,
    unknownMode: 0,
    badLength: 0,
    badToken: 0,
    unknownToken: 0,
    flagMismatch: 0,
  };
}

/** What one binary message held. */
export type AngelPacketResult =
  /** A LTP, Quote or SnapQuote packet, as a tick (SnapQuote → Depth mode with five levels). */
  | { kind: "tick"; key: number; tick: Tick }
  /** A Depth-20 packet: a book without prices of its own, merged into the instrument's tick. */
  | { kind: "depth20"; key: number; timestamp: number | null; depth: Depth }
  /** Nothing to publish; `malformed` names the reason when the packet was bad. */
  | { kind: "skip"; malformed?: string };

const SKIP: AngelPacketResult = Object.freeze({ kind: "skip" });

/** Reads a little-endian int64 that fits a double exactly (prices, quantities, times). */
function int64(v: DataView, o: number): number {
  return v.getUint32(o, true) + v.getInt32(o + 4, true) * TWO_32;
}

/** The decimal token at 2..26, or -1 when it is not NUL-padded digits. */
function readToken(b: Uint8Array): number {
  let n = 0;
  let digits = 0;
  let i = 2;
  for (; i < 2 + TOKEN_BYTES; i++) {
    const c = b[i];
    if (c === 0) break;
    if (c < 48 || c > 57 || digits === MAX_TOKEN_DIGITS) return -1;
    n = n * 10 + (c - 48);
    digits++;
  }
  if (digits === 0) return -1;
  for (; i < 2 + TOKEN_BYTES; i++) if (b[i] !== 0) return -1;
  return n;
}

/** A price field: null when the exchange sent 0 (no price yet; no listed price is 0). */
function price(raw: number, div: number): number | null {
  return raw === 0 ? null : raw / div;
}

/** A float64 quantity; NaN and infinities (never sent for real) are null. */
function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function malformed(stats: DecodeStats, counter: keyof DecodeStats, reason: string) {
  stats[counter]++;
  stats.errors++;
  return { kind: "skip", malformed: reason } as const;
}

/**
 * Decodes one binary message (one packet). Packets of tokens `lookup` does not know are skipped;
 * malformed packets are counted in `stats` and reported by reason. Never throws.
 *
 * Field rules: prices are paise ÷100 (currency ÷1e7); a 0 price is null; `close` is the previous
 * close and `change` is computed from it; indices (`*_INDEX`) get null volumes and no book; cash
 * segments get null OI; LTP and Quote packets carry no trade time (`ltt` null).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const p = encodePacket({ mode: 1, exchangeType: 1, token: "2885", exchangeTimestamp: 1, ltp: 294070 });
 * const r = decodePacket(p, () => ({ exchange: "NSE", symbol: "RELIANCE" }), 0, createDecodeStats());
 * assert.equal(r.kind === "tick" && r.tick.ltp, 2940.7);
 * ```
 */
export function decodePacket(
  bytes: Uint8Array,
  lookup: TokenLookup,
  now: number,
  stats: DecodeStats,
): AngelPacketResult {
  stats.packets++;
  const len = bytes.byteLength;
  if (len < 2 + TOKEN_BYTES) return malformed(stats, "shortPacket", "short packet");
  const mode = bytes[0];
  if (mode < 1 || mode > 4) return malformed(stats, "unknownMode", "unknown mode");
  if (len !== PACKET_LENGTH[mode as AngelMode]) {
    return malformed(stats, "badLength", "length does not match mode");
  }
  const token = readToken(bytes);
  if (token < 0) return malformed(stats, "badToken", "bad token");
  const exchangeType = bytes[1];
  const key = tokenKey(exchangeType, token);
  const ref = lookup(key);
  if (ref === undefined) {
    stats.unknownToken++;
    return SKIP;
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, len);
  const div = priceDivisor(exchangeType);
  if (mode === 4) {
    const ts = int64(v, 27);
    return { kind: "depth20", key, timestamp: ts > 0 ? ts : null, depth: decodeDepth20(v, div) };
  }
  const ts = int64(v, 35);
  const rawLtp = int64(v, 43);
  const tick = baseTick(ref.exchange, ref.symbol, 1, rawLtp / div, null, ts > 0 ? ts : now);
  stats.ticks++;
  if (mode === 1) return { kind: "tick", key, tick };
  const index = ref.exchange.endsWith("_INDEX");
  tick.mode = mode === 3 ? 3 : 2;
  if (!index) {
    tick.last_trade_quantity = int64(v, 51);
    tick.avg_trade_price = price(int64(v, 59), div);
    tick.volume = int64(v, 67);
    tick.total_buy_quantity = finite(v.getFloat64(75, true));
    tick.total_sell_quantity = finite(v.getFloat64(83, true));
  }
  tick.open = price(int64(v, 91), div);
  tick.high = price(int64(v, 99), div);
  tick.low = price(int64(v, 107), div);
  const rawClose = int64(v, 115);
  tick.close = price(rawClose, div);
  if (rawClose !== 0) {
    // Integer difference first, so 294070 - 292540 gives 15.3, not 15.299999999999727.
    tick.change = (rawLtp - rawClose) / div;
    tick.change_percent = ((rawLtp - rawClose) * 100) / rawClose;
  }
  if (mode === 2) return { kind: "tick", key, tick };
  const ltt = int64(v, 123);
  tick.ltt = ltt > 0 ? ltt * 1000 : null;
  if (!index) {
    if (hasOi(exchangeType)) tick.oi = int64(v, 131);
    tick.depth = decodeBestFive(v, div, stats);
  }
  return { kind: "tick", key, tick };
}

/** Best five: ten 20-byte entries, five buy (flag 1) then five sell (flag 0). */
function decodeBestFive(v: DataView, div: number, stats: DecodeStats): Depth {
  // Split by position, as the layout states; the flag is checked but not trusted.
  const buy: DepthLevel[] = new Array(BEST_FIVE);
  const sell: DepthLevel[] = new Array(BEST_FIVE);
  let mismatches = 0;
  for (let i = 0; i < 2 * BEST_FIVE; i++) {
    const o = 147 + i * 20;
    const isBuy = i < BEST_FIVE;
    const flag = v.getInt16(o, true);
    const quantity = int64(v, o + 2);
    if (quantity !== 0 && flag !== (isBuy ? 1 : 0)) mismatches++;
    const level: DepthLevel = {
      price: int64(v, o + 10) / div,
      quantity,
      orders: v.getInt16(o + 18, true),
    };
    if (isBuy) buy[i] = level;
    else sell[i - BEST_FIVE] = level;
  }
  if (mismatches > 0) stats.flagMismatch++;
  return { buy, sell };
}

/** Depth-20: twenty 10-byte bids from 43, twenty asks from 243 (qty i32, price i32, orders i16). */
function decodeDepth20(v: DataView, div: number): Depth {
  const buy: DepthLevel[] = new Array(DEPTH_20);
  const sell: DepthLevel[] = new Array(DEPTH_20);
  for (let i = 0; i < DEPTH_20; i++) {
    const b = 43 + i * 10;
    const s = 243 + i * 10;
    buy[i] = {
      quantity: v.getInt32(b, true),
      price: v.getInt32(b + 4, true) / div,
      orders: v.getInt16(b + 8, true),
    };
    sell[i] = {
      quantity: v.getInt32(s, true),
      price: v.getInt32(s + 4, true) / div,
      orders: v.getInt16(s + 8, true),
    };
  }
  return { buy, sell };
}

/** A server text message. */
export type AngelText =
  | { kind: "pong" }
  | { kind: "error"; correlationID: string; errorCode: string; errorMessage: string }
  | { kind: "unknown" };

/**
 * Reads a server text message: the heartbeat answer `pong`, or a JSON error object
 * `{"correlationID","errorCode","errorMessage"}`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(decodeText("pong"), { kind: "pong" });
 * assert.equal(decodeText('{"errorCode":"E1002","errorMessage":"x"}').kind, "error");
 * ```
 */
export function decodeText(text: string): AngelText {
  if (text === "pong") return { kind: "pong" };
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return { kind: "unknown" };
  }
  if (typeof m !== "object" || m === null) return { kind: "unknown" };
  const { correlationID, errorCode, errorMessage } = m as Record<string, unknown>;
  if (typeof errorCode !== "string" && typeof errorMessage !== "string") return { kind: "unknown" };
  return {
    kind: "error",
    correlationID: typeof correlationID === "string" ? correlationID : "",
    errorCode: typeof errorCode === "string" ? errorCode : "",
    errorMessage: typeof errorMessage === "string" ? errorMessage : "",
  };
}

// ---- requests ---------------------------------------------------------------------------------

/** Tokens of one exchange type in a request. */
export interface TokenGroup {
  exchangeType: number;
  tokens: string[];
}

/** `action` values. */
export const ACTION = { UNSUBSCRIBE: 0, SUBSCRIBE: 1 } as const;

/**
 * A subscribe (`action` 1) or unsubscribe (0) request for `mode`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(
 *   encodeRequest(1, 3, [{ exchangeType: 1, tokens: ["2885"] }], "tp00000001"),
 *   '{"correlationID":"tp00000001","action":1,"params":{"mode":3,"tokenList":[{"exchangeType":1,"tokens":["2885"]}]}}',
 * );
 * ```
 */
export function encodeRequest(
  action: 0 | 1,
  mode: AngelMode,
  tokenList: readonly TokenGroup[],
  correlationID?: string,
): string {
  const params = {
    mode,
    tokenList: tokenList.map((g) => ({ exchangeType: g.exchangeType, tokens: g.tokens })),
  };
  return JSON.stringify(
    correlationID === undefined ? { action, params } : { correlationID, action, params },
  );
}

/** A client request as the server reads it. */
export interface AngelRequest {
  correlationID: string;
  action: 0 | 1;
  mode: AngelMode;
  tokenList: TokenGroup[];
}

/**
 * Parses a client request (simulator side); a string says what is wrong with it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const r = decodeRequest('{"action":0,"params":{"mode":1,"tokenList":[{"exchangeType":2,"tokens":["1"]}]}}');
 * assert.equal(typeof r !== "string" && r.action, 0);
 * assert.equal(typeof decodeRequest('{"action":1}'), "string");
 * ```
 */
export function decodeRequest(text: string): AngelRequest | string {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return "Invalid Request Payload";
  }
  if (typeof m !== "object" || m === null) return "Invalid Request Payload";
  const { correlationID, action, params } = m as Record<string, unknown>;
  if (action !== 0 && action !== 1) return "Invalid Action";
  if (typeof params !== "object" || params === null) return "Invalid Request Payload";
  const { mode, tokenList } = params as Record<string, unknown>;
  if (mode !== 1 && mode !== 2 && mode !== 3 && mode !== 4) return "Invalid Subscription Mode";
  if (!Array.isArray(tokenList)) return "Invalid Token List";
  const groups: TokenGroup[] = [];
  for (const g of tokenList) {
    if (typeof g !== "object" || g === null) return "Invalid Token List";
    const { exchangeType, tokens } = g as Record<string, unknown>;
    if (typeof exchangeType !== "number" || !Array.isArray(tokens)) return "Invalid Token List";
    if (!tokens.every((t) => typeof t === "string")) return "Invalid Token List";
    groups.push({ exchangeType, tokens: tokens as string[] });
  }
  return {
    correlationID: typeof correlationID === "string" ? correlationID : "",
    action,
    mode,
    tokenList: groups,
  };
}

/**
 * A server error message (simulator side).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(encodeError("c", "E1002", "x"), '{"correlationID":"c","errorCode":"E1002","errorMessage":"x"}');
 * ```
 */
export function encodeError(
  correlationID: string,
  errorCode: string,
  errorMessage: string,
): string {
  return JSON.stringify({ correlationID, errorCode, errorMessage });
}

// ---- encoding (simulator side) ----------------------------------------------------------------

/** One book entry in wire units (price in the segment's price units). */
export interface AngelLevel {
  quantity: number;
  price: number;
  orders: number;
}

/**
 * A LTP/Quote/SnapQuote packet in wire units: prices are integers in price units (paise; see
 * {@link priceDivisor}), `exchangeTimestamp` epoch ms, `lastTradedTimestamp` epoch s. Fields the
 * mode does not carry are ignored; missing ones are sent as 0.
 */
export interface AngelPacket {
  mode: 1 | 2 | 3;
  exchangeType: number;
  token: string;
  sequence?: number;
  exchangeTimestamp: number;
  ltp: number;
  lastTradedQuantity?: number;
  averagePrice?: number;
  volume?: number;
  totalBuyQuantity?: number;
  totalSellQuantity?: number;
  open?: number;
  high?: number;
  low?: number;
  close?: number;
  lastTradedTimestamp?: number;
  oi?: number;
  oiChangePercent?: number;
  /** Five buy entries (sent with flag 1), then five sell (flag 0). */
  bestFive?: { buy: AngelLevel[]; sell: AngelLevel[] };
  upperCircuit?: number;
  lowerCircuit?: number;
  high52Week?: number;
  low52Week?: number;
}

/** A Depth-20 packet in wire units. */
export interface AngelDepth20Packet {
  exchangeType: number;
  token: string;
  exchangeTimestamp: number;
  packetReceivedTime?: number;
  bids: AngelLevel[];
  asks: AngelLevel[];
}

function putInt64(v: DataView, o: number, x: number | undefined, field: string): void {
  const n = x ?? 0;
  if (!Number.isSafeInteger(n)) throw new RangeError(`${field} ${n} is not an int64`);
  v.setBigInt64(o, BigInt(n), true);
}

function putInt32(v: DataView, o: number, x: number, field: string): void {
  if (!Number.isInteger(x) || x < -0x80000000 || x > 0x7fffffff) {
    throw new RangeError(`${field} ${x} is not an int32`);
  }
  v.setInt32(o, x, true);
}

function putInt16(v: DataView, o: number, x: number, field: string): void {
  if (!Number.isInteger(x) || x < -0x8000 || x > 0x7fff) {
    throw new RangeError(`${field} ${x} is not an int16`);
  }
  v.setInt16(o, x, true);
}

function putHeader(out: Uint8Array, mode: AngelMode, exchangeType: number, token: string): void {
  if (!/^\d{1,10}$/.test(token)) throw new RangeError(`token ${token} is not a decimal token`);
  if (!Number.isInteger(exchangeType) || exchangeType < 0 || exchangeType > 255) {
    throw new RangeError(`exchangeType ${exchangeType} is not a uint8`);
  }
  out[0] = mode;
  out[1] = exchangeType;
  for (let i = 0; i < token.length; i++) out[2 + i] = token.charCodeAt(i);
}

/**
 * Encodes a LTP (51 B), Quote (123 B) or SnapQuote (379 B) packet. Throws RangeError on a field
 * that does not fit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const p = encodePacket({ mode: 2, exchangeType: 1, token: "2885", exchangeTimestamp: 0, ltp: 1 });
 * assert.equal(p.byteLength, 123);
 * ```
 */
export function encodePacket(p: AngelPacket): Uint8Array {
  const out = new Uint8Array(PACKET_LENGTH[p.mode]);
  const v = new DataView(out.buffer);
  putHeader(out, p.mode, p.exchangeType, p.token);
  putInt64(v, 27, p.sequence, "sequence");
  putInt64(v, 35, p.exchangeTimestamp, "exchangeTimestamp");
  putInt64(v, 43, p.ltp, "ltp");
  if (p.mode === 1) return out;
  putInt64(v, 51, p.lastTradedQuantity, "lastTradedQuantity");
  putInt64(v, 59, p.averagePrice, "averagePrice");
  putInt64(v, 67, p.volume, "volume");
  v.setFloat64(75, p.totalBuyQuantity ?? 0, true);
  v.setFloat64(83, p.totalSellQuantity ?? 0, true);
  putInt64(v, 91, p.open, "open");
  putInt64(v, 99, p.high, "high");
  putInt64(v, 107, p.low, "low");
  putInt64(v, 115, p.close, "close");
  if (p.mode === 2) return out;
  putInt64(v, 123, p.lastTradedTimestamp, "lastTradedTimestamp");
  putInt64(v, 131, p.oi, "oi");
  v.setFloat64(139, p.oiChangePercent ?? 0, true);
  const sides = [p.bestFive?.buy ?? [], p.bestFive?.sell ?? []];
  for (let s = 0; s < 2; s++) {
    for (let i = 0; i < BEST_FIVE; i++) {
      const o = 147 + (s * BEST_FIVE + i) * 20;
      putInt16(v, o, s === 0 ? 1 : 0, "flag");
      const e = sides[s][i];
      if (e === undefined) continue;
      putInt64(v, o + 2, e.quantity, "bestFive.quantity");
      putInt64(v, o + 10, e.price, "bestFive.price");
      putInt16(v, o + 18, e.orders, "bestFive.orders");
    }
  }
  putInt64(v, 347, p.upperCircuit, "upperCircuit");
  putInt64(v, 355, p.lowerCircuit, "lowerCircuit");
  putInt64(v, 363, p.high52Week, "high52Week");
  putInt64(v, 371, p.low52Week, "low52Week");
  return out;
}

/**
 * Encodes a Depth-20 packet (443 B): up to twenty bids and twenty asks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const p = encodeDepth20({ exchangeType: 1, token: "2885", exchangeTimestamp: 0, bids: [], asks: [] });
 * assert.equal(p.byteLength, 443);
 * ```
 */
export function encodeDepth20(p: AngelDepth20Packet): Uint8Array {
  const out = new Uint8Array(PACKET_LENGTH[4]);
  const v = new DataView(out.buffer);
  putHeader(out, 4, p.exchangeType, p.token);
  putInt64(v, 27, p.exchangeTimestamp, "exchangeTimestamp");
  putInt64(v, 35, p.packetReceivedTime, "packetReceivedTime");
  const sides = [p.bids, p.asks];
  for (let s = 0; s < 2; s++) {
    for (let i = 0; i < DEPTH_20 && i < sides[s].length; i++) {
      const e = sides[s][i];
      const o = 43 + s * 200 + i * 10;
      putInt32(v, o, e.quantity, "depth.quantity");
      putInt32(v, o + 4, e.price, "depth.price");
      putInt16(v, o + 8, e.orders, "depth.orders");
    }
  }
  return out;
}
