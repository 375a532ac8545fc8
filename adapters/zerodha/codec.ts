// Kite Ticker v3 wire codec: pure functions from binary frames to normalised ticks, the JSON
// requests the adapter sends, and the inverse encoders the simulator uses. No I/O here.

import { baseTick, type Depth, type DepthLevel, type Mode, type Tick } from "../../lib/types.ts";

/** Kite streaming mode names. */
export type KiteMode = "ltp" | "quote" | "full";

/** All Kite modes, lowest first. */
export const KITE_MODES: readonly KiteMode[] = ["ltp", "quote", "full"];

/** tickplex mode → the Kite mode that delivers it (LTP→ltp, Quote→quote, Depth→full). */
export const KITE_MODE: Readonly<Record<Mode, KiteMode>> = { 1: "ltp", 2: "quote", 3: "full" };

/** Kite mode → tickplex mode. */
export const MODE_OF_KITE: Readonly<Record<KiteMode, Mode>> = { ltp: 1, quote: 2, full: 3 };

/** Exchange segments, taken from the low byte of an instrument token. */
export const SEGMENT = {
  NSE: 1,
  NFO: 2,
  CDS: 3,
  BSE: 4,
  BFO: 5,
  BCD: 6,
  MCX: 7,
  MCXSX: 8,
  INDICES: 9,
} as const;

/** Packet kinds; Kite tells them apart only by length. */
export type PacketKind = "ltp" | "index_quote" | "index_full" | "quote" | "full";

/** Byte length of each packet kind. */
export const PACKET_LENGTH: Readonly<Record<PacketKind, number>> = {
  ltp: 8,
  index_quote: 28,
  index_full: 32,
  quote: 44,
  full: 184,
};

/** Most tokens a subscribe/unsubscribe/mode frame carries (tickplex's per-frame cap for Kite). */
export const MAX_TOKENS_PER_FRAME = 200;

/** Depth levels per side in a full packet. */
export const DEPTH_LEVELS = 5;

/**
 * Segment of an instrument token (its low byte).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(segmentOf(738561), 1); // NSE
 * ```
 */
export function segmentOf(token: number): number {
  return token & 0xff;
}

/**
 * Divisor that turns a token's wire price into rupees: CDS 1e7, BCD 1e4, everything else 100.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(priceDivisor((123 << 8) | 3), 10_000_000);
 * ```
 */
export function priceDivisor(token: number): number {
  const seg = token & 0xff;
  return seg === SEGMENT.CDS ? 10_000_000 : seg === SEGMENT.BCD ? 10_000 : 100;
}

/**
 * Whether a token is tradable (indices, segment 9, are not).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(isTradable(256265), false); // NIFTY 50
 * ```
 */
export function isTradable(token: number): boolean {
  return (token & 0xff) !== SEGMENT.INDICES;
}

/**
 * The packet kind Kite sends for a token streamed in `mode`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(packetKindFor(256265, "quote"), "index_quote");
 * ```
 */
export function packetKindFor(token: number, mode: KiteMode): PacketKind {
  if (mode === "ltp") return "ltp";
  if (isTradable(token)) return mode;
  return mode === "quote" ? "index_quote" : "index_full";
}

// ---- decoding ---------------------------------------------------------------------------------

/** Exchange and OpenAlgo symbol of a token. */
export interface InstrumentRef {
  exchange: string;
  symbol: string;
}

/** Resolves a token to its instrument; `undefined` drops that token's packets. */
export type TokenLookup = (token: number) => InstrumentRef | undefined;

/** Counters a decoder updates; one object lives as long as a connection. */
export interface DecodeStats {
  frames: number;
  heartbeats: number;
  packets: number;
  ticks: number;
  /** Sum of every malformed-input counter below. */
  errors: number;
  /** Frame shorter than its own header. */
  shortFrame: number;
  /** A packet length points past the end of the frame (or the count claims more packets). */
  overrun: number;
  /** Bytes left over after the announced packets. */
  trailingBytes: number;
  /** A packet whose length is none of 8/28/32/44/184 (skipped, like the official clients do). */
  unknownLength: number;
  /** Packets for tokens the lookup does not know (not an error: e.g. in flight after unsubscribe). */
  unknownToken: number;
}

/**
 * A zeroed set of decode counters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const stats = createDecodeStats();
 * assert.equal(stats.errors, 0);
 * decodeFrame(new Uint8Array([0, 1]), () => undefined, Date.now(), stats); // a truncated frame
 * assert.equal(stats.errors, 1, "counted, never thrown");
 * ```
 */
export function createDecodeStats(): DecodeStats {
  return {
    frames: 0,
    heartbeats: 0,
    packets: 0,
    ticks: 0,
    errors: 0,
    shortFrame: 0,
    overrun: 0,
    trailingBytes: 0,
    unknownLength: 0,
    unknownToken: 0,
  };
}

function changeOf(rawLtp: number, rawClose: number, div: number): number {
  // Integer difference first, so 294070 - 292540 gives 15.3, not 15.299999999999727.
  return (rawLtp - rawClose) / div;
}

function changePercentOf(rawLtp: number, rawClose: number): number | null {
  return rawClose === 0 ? null : ((rawLtp - rawClose) * 100) / rawClose;
}

function decodeDepth(v: DataView, base: number, div: number): Depth {
  const buy: DepthLevel[] = new Array(DEPTH_LEVELS);
  const sell: DepthLevel[] = new Array(DEPTH_LEVELS);
  for (let i = 0; i < 2 * DEPTH_LEVELS; i++) {
    const o = base + i * 12;
    const level: DepthLevel = {
      price: v.getInt32(o + 4) / div,
      quantity: v.getUint32(o),
      orders: v.getUint16(o + 8),
    };
    if (i < DEPTH_LEVELS) buy[i] = level;
    else sell[i - DEPTH_LEVELS] = level;
  }
  return { buy, sell };
}

/** Decodes one packet (already bounds-checked) at `o` of length `len` into a tick. */
function decodePacket(
  v: DataView,
  o: number,
  len: number,
  ref: InstrumentRef,
  token: number,
  now: number,
): Tick {
  const div = priceDivisor(token);
  const rawLtp = v.getInt32(o + 4);
  const tick: Tick = baseTick(ref.exchange, ref.symbol, 1, rawLtp / div, null, now);
  if (len === 8) return tick;
  if (len === 28 || len === 32) {
    // Index packets order the prices high, low, open, close (unlike the 44-byte quote). The raw
    // price-change field at 24 has no pinned-down scaling, so change is recomputed like the
    // official clients do.
    const rawClose = v.getInt32(o + 20);
    tick.mode = len === 32 ? 3 : 2;
    tick.high = v.getInt32(o + 8) / div;
    tick.low = v.getInt32(o + 12) / div;
    tick.open = v.getInt32(o + 16) / div;
    tick.close = rawClose / div;
    tick.change = changeOf(rawLtp, rawClose, div);
    tick.change_percent = changePercentOf(rawLtp, rawClose);
    if (len === 32) {
      const ts = v.getUint32(o + 28);
      if (ts !== 0) tick.timestamp = ts * 1000;
    }
    return tick;
  }
  // 44 (quote) or 184 (full)
  const rawClose = v.getInt32(o + 40);
  tick.mode = len === 184 ? 3 : 2;
  tick.last_trade_quantity = v.getUint32(o + 8);
  tick.avg_trade_price = v.getInt32(o + 12) / div;
  tick.volume = v.getUint32(o + 16);
  tick.total_buy_quantity = v.getUint32(o + 20);
  tick.total_sell_quantity = v.getUint32(o + 24);
  tick.open = v.getInt32(o + 28) / div;
  tick.high = v.getInt32(o + 32) / div;
  tick.low = v.getInt32(o + 36) / div;
  tick.close = rawClose / div;
  tick.change = changeOf(rawLtp, rawClose, div);
  tick.change_percent = changePercentOf(rawLtp, rawClose);
  if (len === 184) {
    const ltt = v.getUint32(o + 44);
    tick.ltt = ltt === 0 ? null : ltt * 1000;
    tick.oi = v.getUint32(o + 48);
    const ts = v.getUint32(o + 60);
    if (ts !== 0) tick.timestamp = ts * 1000;
    tick.depth = decodeDepth(v, o + 64, div);
  }
  return tick;
}

function isKnownLength(len: number): boolean {
  return len === 8 || len === 28 || len === 32 || len === 44 || len === 184;
}

/**
 * Decodes one binary WebSocket message from Kite into normalised ticks, one per packet whose
 * token `lookup` knows. A 1-byte message is a heartbeat. A frame whose framing is inconsistent
 * (too short, a length past the end, trailing bytes) is rejected whole; a packet of unknown length
 * is skipped. Every such case is counted in `stats`; nothing throws.
 *
 * @param frame the message bytes
 * @param lookup token → exchange/symbol
 * @param now receive time (epoch ms), used as `timestamp` when the packet has no exchange time
 * @param stats counters to update
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const bytes = new Uint8Array([0, 1, 0, 8, 0, 0x0b, 0x45, 0x01, 0, 0x04, 0x7c, 0xb6]);
 * const ticks = decodeFrame(bytes, () => ({ exchange: "NSE", symbol: "RELIANCE" }), Date.now(),
 *   createDecodeStats());
 * assert.equal(ticks[0].ltp, 2940.7);
 * ```
 */
export function decodeFrame(
  frame: Uint8Array,
  lookup: TokenLookup,
  now: number,
  stats: DecodeStats,
): Tick[] {
  const len = frame.byteLength;
  if (len === 1) {
    stats.heartbeats++;
    return [];
  }
  stats.frames++;
  if (len < 2) {
    stats.shortFrame++;
    stats.errors++;
    return [];
  }
  const v = new DataView(frame.buffer, frame.byteOffset, len);
  const count = v.getUint16(0);
  // First pass: check the framing end to end, so a misframed message yields no tick at all.
  let off = 2;
  for (let i = 0; i < count; i++) {
    if (off + 2 > len) {
      stats.overrun++;
      stats.errors++;
      return [];
    }
    const plen = v.getUint16(off);
    off += 2 + plen;
    if (off > len) {
      stats.overrun++;
      stats.errors++;
      return [];
    }
  }
  if (off !== len) {
    stats.trailingBytes++;
    stats.errors++;
    return [];
  }
  const ticks: Tick[] = [];
  off = 2;
  for (let i = 0; i < count; i++) {
    const plen = v.getUint16(off);
    const o = off + 2;
    off = o + plen;
    stats.packets++;
    if (!isKnownLength(plen)) {
      stats.unknownLength++;
      stats.errors++;
      continue;
    }
    const token = v.getUint32(o);
    const ref = lookup(token);
    if (ref === undefined) {
      stats.unknownToken++;
      continue;
    }
    ticks.push(decodePacket(v, o, plen, ref, token, now));
  }
  stats.ticks += ticks.length;
  return ticks;
}

// ---- encoding (simulator side) ----------------------------------------------------------------

/** One depth entry in wire units (price in the token's price units). */
export interface KiteDepthEntry {
  quantity: number;
  price: number;
  orders: number;
}

/**
 * One packet in wire units: prices are integers in the token's price units (paise for most
 * segments; see {@link priceDivisor}), times are unix seconds. Fields a kind does not carry are
 * ignored; missing ones are sent as 0.
 */
export interface KitePacket {
  kind: PacketKind;
  token: number;
  lastPrice: number;
  lastQuantity?: number;
  averagePrice?: number;
  volume?: number;
  buyQuantity?: number;
  sellQuantity?: number;
  open?: number;
  high?: number;
  low?: number;
  close?: number;
  /** Index packets only; Kite's scaling is undocumented (the simulator sends ltp − close). */
  priceChange?: number;
  lastTradeTime?: number;
  oi?: number;
  oiDayHigh?: number;
  oiDayLow?: number;
  exchangeTimestamp?: number;
  depth?: { buy: KiteDepthEntry[]; sell: KiteDepthEntry[] };
}

function putInt32(v: DataView, o: number, x: number | undefined, field: string): void {
  const n = x ?? 0;
  if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) {
    throw new RangeError(`${field} ${n} is not an int32`);
  }
  v.setInt32(o, n);
}

function putUint32(v: DataView, o: number, x: number | undefined, field: string): void {
  const n = x ?? 0;
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new RangeError(`${field} ${n} is not a uint32`);
  }
  v.setUint32(o, n);
}

/**
 * Encodes one packet (without its length prefix). Throws RangeError on a non-integer or
 * out-of-range field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(encodePacket({ kind: "ltp", token: 738561, lastPrice: 294070 }).byteLength, 8);
 * ```
 */
export function encodePacket(p: KitePacket): Uint8Array {
  const out = new Uint8Array(PACKET_LENGTH[p.kind]);
  const v = new DataView(out.buffer);
  putUint32(v, 0, p.token, "token");
  putInt32(v, 4, p.lastPrice, "lastPrice");
  if (p.kind === "ltp") return out;
  if (p.kind === "index_quote" || p.kind === "index_full") {
    putInt32(v, 8, p.high, "high");
    putInt32(v, 12, p.low, "low");
    putInt32(v, 16, p.open, "open");
    putInt32(v, 20, p.close, "close");
    putInt32(v, 24, p.priceChange, "priceChange");
    if (p.kind === "index_full") putUint32(v, 28, p.exchangeTimestamp, "exchangeTimestamp");
    return out;
  }
  putUint32(v, 8, p.lastQuantity, "lastQuantity");
  putInt32(v, 12, p.averagePrice, "averagePrice");
  putUint32(v, 16, p.volume, "volume");
  putUint32(v, 20, p.buyQuantity, "buyQuantity");
  putUint32(v, 24, p.sellQuantity, "sellQuantity");
  putInt32(v, 28, p.open, "open");
  putInt32(v, 32, p.high, "high");
  putInt32(v, 36, p.low, "low");
  putInt32(v, 40, p.close, "close");
  if (p.kind === "quote") return out;
  putUint32(v, 44, p.lastTradeTime, "lastTradeTime");
  putUint32(v, 48, p.oi, "oi");
  putUint32(v, 52, p.oiDayHigh, "oiDayHigh");
  putUint32(v, 56, p.oiDayLow, "oiDayLow");
  putUint32(v, 60, p.exchangeTimestamp, "exchangeTimestamp");
  const sides = [p.depth?.buy ?? [], p.depth?.sell ?? []];
  for (let s = 0; s < 2; s++) {
    for (let i = 0; i < DEPTH_LEVELS; i++) {
      const e = sides[s][i];
      if (e === undefined) continue;
      const o = 64 + (s * DEPTH_LEVELS + i) * 12;
      putUint32(v, o, e.quantity, "depth.quantity");
      putInt32(v, o + 4, e.price, "depth.price");
      if (!Number.isInteger(e.orders) || e.orders < 0 || e.orders > 0xffff) {
        throw new RangeError(`depth.orders ${e.orders} is not a uint16`);
      }
      v.setUint16(o + 8, e.orders);
    }
  }
  return out;
}

/**
 * Frames packets into one binary message: uint16 count, then (uint16 length, packet) each.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const frame = encodeFrame([encodePacket({ kind: "ltp", token: 738561, lastPrice: 294070 })]);
 * assert.equal(frame.byteLength, 2 + 2 + 8); // packet count, packet length, the packet
 * ```
 */
export function encodeFrame(packets: readonly Uint8Array[]): Uint8Array {
  if (packets.length > 0xffff) throw new RangeError("too many packets for one frame");
  let size = 2;
  for (const p of packets) {
    if (p.byteLength > 0xffff) throw new RangeError("packet too long");
    size += 2 + p.byteLength;
  }
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint16(0, packets.length);
  let off = 2;
  for (const p of packets) {
    v.setUint16(off, p.byteLength);
    out.set(p, off + 2);
    off += 2 + p.byteLength;
  }
  return out;
}

/**
 * The 1-byte heartbeat message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(encodeHeartbeat().byteLength, 1);
 * ```
 */
export function encodeHeartbeat(): Uint8Array {
  return new Uint8Array(1);
}

// ---- JSON requests and text messages ----------------------------------------------------------

/**
 * Splits tokens into frames of at most `max` tokens.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(chunkTokens([1, 2, 3], 2), [[1, 2], [3]]);
 * ```
 */
export function chunkTokens(tokens: readonly number[], max = MAX_TOKENS_PER_FRAME): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < tokens.length; i += max) out.push(tokens.slice(i, i + max));
  return out;
}

/**
 * `{"a":"subscribe","v":[…]}` — tokens as JSON numbers (Kite ignores strings).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(encodeSubscribe([408065]), '{"a":"subscribe","v":[408065]}');
 * ```
 */
export function encodeSubscribe(tokens: readonly number[]): string {
  return JSON.stringify({ a: "subscribe", v: tokens });
}

/**
 * `{"a":"unsubscribe","v":[…]}`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(encodeUnsubscribe([408065]), '{"a":"unsubscribe","v":[408065]}');
 * ```
 */
export function encodeUnsubscribe(tokens: readonly number[]): string {
  return JSON.stringify({ a: "unsubscribe", v: tokens });
}

/**
 * `{"a":"mode","v":["full",[…]]}`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(encodeSetMode("full", [408065]), '{"a":"mode","v":["full",[408065]]}');
 * ```
 */
export function encodeSetMode(mode: KiteMode, tokens: readonly number[]): string {
  return JSON.stringify({ a: "mode", v: [mode, tokens] });
}

/** A client request as the server understands it. */
export type KiteRequest =
  | { a: "subscribe" | "unsubscribe"; tokens: number[]; ignored: number }
  | { a: "mode"; mode: KiteMode; tokens: number[]; ignored: number };

function isToken(x: unknown): x is number {
  return typeof x === "number" && Number.isInteger(x) && x > 0 && x <= 0xffffffff;
}

/**
 * Parses a client request (server side). Non-numeric tokens are ignored and counted, as Kite
 * does; anything unrecognisable yields a string describing it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const r = decodeRequest('{"a":"mode","v":["ltp",[408065]]}');
 * assert.ok(typeof r !== "string" && r.a === "mode" && r.mode === "ltp");
 * assert.equal(typeof decodeRequest("{}"), "string", "an error message, not a throw");
 * ```
 */
export function decodeRequest(text: string): KiteRequest | string {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return "invalid JSON";
  }
  if (typeof msg !== "object" || msg === null) return "not an object";
  const { a, v } = msg as { a?: unknown; v?: unknown };
  const split = (xs: unknown[]) => {
    const tokens = xs.filter(isToken);
    return { tokens, ignored: xs.length - tokens.length };
  };
  if (a === "subscribe" || a === "unsubscribe") {
    if (!Array.isArray(v)) return `${a}: v is not an array`;
    return { a, ...split(v) };
  }
  if (a === "mode") {
    if (!Array.isArray(v) || v.length !== 2 || !Array.isArray(v[1])) {
      return "mode: v is not [mode, tokens]";
    }
    const mode = v[0];
    if (mode !== "ltp" && mode !== "quote" && mode !== "full") return `mode: unknown mode ${mode}`;
    return { a, mode, ...split(v[1]) };
  }
  return `unknown action ${String(a)}`;
}

/** A server text message: `{"type": …, "data": …}`. */
export interface KiteTextMessage {
  type: string;
  data: unknown;
}

/**
 * Parses a server text message; `null` when it is not `{type: string, …}`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(decodeTextMessage('{"type":"error","data":"bad"}'), { type: "error", data: "bad" });
 * ```
 */
export function decodeTextMessage(text: string): KiteTextMessage | null {
  try {
    const m = JSON.parse(text) as { type?: unknown; data?: unknown } | null;
    if (typeof m !== "object" || m === null || typeof m.type !== "string") return null;
    return { type: m.type, data: m.data };
  } catch {
    return null;
  }
}

/**
 * Serialises a server text message (simulator side).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(encodeTextMessage("error", "Invalid token"), '{"type":"error","data":"Invalid token"}');
 * ```
 */
export function encodeTextMessage(type: "order" | "error" | "message", data: unknown): string {
  return JSON.stringify({ type, data });
}
