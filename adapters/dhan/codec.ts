// Dhan live market feed v2 wire codec (brokers.md §3): little-endian packets (8-byte header, one or
// several per message) to normalised ticks, with previous-close and OI packets merged into each
// instrument's ticks; the JSON requests; and the encoders the simulator uses. No I/O here.

import { baseTick, type Depth, type DepthLevel, type Tick } from "../../lib/types.ts";

/** Exchange segment names (requests) and their numeric codes (response headers). */
export const SEGMENT = {
  IDX_I: 0,
  NSE_EQ: 1,
  NSE_FNO: 2,
  NSE_CURRENCY: 3,
  BSE_EQ: 4,
  MCX_COMM: 5,
  BSE_CURRENCY: 7,
  BSE_FNO: 8,
} as const;

/** A segment name. */
export type SegmentName = keyof typeof SEGMENT;

/** Numeric segment code → name. */
export const SEGMENT_NAME: Readonly<Record<number, SegmentName>> = Object.fromEntries(
  Object.entries(SEGMENT).map(([name, code]) => [code, name as SegmentName]),
);

/** Subscribe request codes; the unsubscribe code is one more. */
export const REQUEST = { TICKER: 15, QUOTE: 17, FULL: 21, DISCONNECT: 12 } as const;

/** A subscribe request code. */
export type SubscribeCode = 15 | 17 | 21;

/** Response codes (first header byte). */
export const RESPONSE = {
  TICKER: 2,
  QUOTE: 4,
  OI: 5,
  PREV_CLOSE: 6,
  MARKET_STATUS: 7,
  FULL: 8,
  DISCONNECT: 50,
} as const;

/** Total packet length (header included) of each response code. */
export const PACKET_LENGTH: Readonly<Record<number, number>> = {
  2: 16,
  4: 50,
  5: 12,
  6: 16,
  7: 8,
  8: 162,
  50: 10,
};

/** Header bytes: code u8, length u16, segment u8, security id i32. */
export const HEADER_BYTES = 8;

/** Levels per side in a Full packet. */
export const DEPTH_LEVELS = 5;

/** Why Dhan ended a session (the reason of a disconnect packet). */
export const DISCONNECT_REASON: Readonly<Record<number, string>> = {
  805: "too many connections",
  806: "data APIs not subscribed",
  807: "access token expired",
  808: "invalid client id",
  809: "authentication failed",
};

/**
 * A number key for a security within its segment (ids repeat across segments: 13 is both an
 * NSE equity and the NIFTY index).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(tokenKey(1, 1333), 10_000_001_333);
 * ```
 */
export function tokenKey(segment: number, securityId: number): number {
  return segment * 1e10 + securityId;
}

/** Currency segments quote four decimals, everything else two. */
function roundingOf(segment: number): number {
  return segment === SEGMENT.NSE_CURRENCY || segment === SEGMENT.BSE_CURRENCY ? 10_000 : 100;
}

/** Segments whose instruments carry open interest. */
function hasOi(segment: number): boolean {
  return segment !== SEGMENT.IDX_I && segment !== SEGMENT.NSE_EQ && segment !== SEGMENT.BSE_EQ;
}

// ---- decoding ---------------------------------------------------------------------------------

/** Exchange and OpenAlgo symbol of an instrument. */
export interface InstrumentRef {
  exchange: string;
  symbol: string;
}

/** Resolves a token key (see {@link tokenKey}) to its instrument; undefined drops its packets. */
export type TokenLookup = (key: number) => InstrumentRef | undefined;

/** What the feed said about an instrument in packets that are not ticks. */
export interface MergedFields {
  /** From the previous-close packet (code 6). */
  prevClose: number | null;
  /** From OI packets (code 5) and Full packets. */
  oi: number | null;
}

/** Per-instrument merged fields, by token key; lives as long as a connection. */
export type MergeState = Map<number, MergedFields>;

/** Counters a decoder updates. */
export interface DecodeStats {
  frames: number;
  packets: number;
  ticks: number;
  /** Sum of the malformed-input counters below. */
  errors: number;
  /** Fewer bytes left than a header, or a length below the header's. */
  shortPacket: number;
  /** A packet's length runs past the end of the message. */
  overrun: number;
  /** A known code with the wrong length. */
  badLength: number;
  /** A response code this codec does not know. */
  unknownCode: number;
  /** Packets for instruments nobody wants (not an error). */
  unknownToken: number;
  /** Previous-close and OI packets merged into state. */
  merged: number;
  marketStatus: number;
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
    frames: 0,
    packets: 0,
    ticks: 0,
    errors: 0,
    shortPacket: 0,
    overrun: 0,
    badLength: 0,
    unknownCode: 0,
    unknownToken: 0,
    merged: 0,
    marketStatus: 0,
  };
}

/** What one message held. */
export interface DhanFrameResult {
  ticks: Tick[];
  /** The reason code of a disconnect packet (805–809). */
  disconnect?: number;
  /** The first malformed-input reason met. */
  malformed?: string;
}

function bad(stats: DecodeStats, counter: keyof DecodeStats, reason: string): DhanFrameResult {
  stats[counter]++;
  stats.errors++;
  return { ticks: [], malformed: reason };
}

/** A float32 rupee price as the exchange quoted it (2 or 4 decimals); 0 → null. */
function price(v: DataView, o: number, round: number): number | null {
  const x = v.getFloat32(o, true);
  return x === 0 || !Number.isFinite(x) ? null : Math.round(x * round) / round;
}

function stateOf(state: MergeState, key: number): MergedFields {
  let s = state.get(key);
  if (s === undefined) {
    s = { prevClose: null, oi: null };
    state.set(key, s);
  }
  return s;
}

/**
 * Decodes one binary message (one or several concatenated packets) into ticks. The framing of
 * the whole message is checked first: a message whose lengths do not add up yields nothing.
 * Previous-close (6) and OI (5) packets update `state` and produce no tick; Quote and Full ticks
 * take `close` (the previous close), `change`, `change_percent` and `oi` from it. Never throws.
 *
 * Field rules: prices are float32 rupees rounded to the tick's decimals; a 0 price is null; the
 * packets' own `close` field (sent only after the close) is not the previous close and is not
 * used; indices get null volumes and no book (their Quote ticks are Depth ticks without levels);
 * cash segments get null OI; `ltt` is the packet's seconds ×1000 (Dhan's epoch base is unverified, brokers.md §3.3); `timestamp` is `now`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const frame = encodeTicker(1, 1333, 1642.5, 1_700_000_000);
 * const r = decodeFrame(frame, () => ({ exchange: "NSE", symbol: "HDFCBANK" }), 0, new Map(),
 *   createDecodeStats());
 * assert.equal(r.ticks[0].ltp, 1642.5);
 * ```
 */
export function decodeFrame(
  frame: Uint8Array,
  lookup: TokenLookup,
  now: number,
  state: MergeState,
  stats: DecodeStats,
): DhanFrameResult {
  stats.frames++;
  const total = frame.byteLength;
  if (total === 0) return bad(stats, "shortPacket", "empty message");
  const v = new DataView(frame.buffer, frame.byteOffset, total);
  // First pass: the lengths must tile the message exactly.
  for (let o = 0; o < total;) {
    if (o + HEADER_BYTES > total) return bad(stats, "shortPacket", "short packet");
    const len = v.getUint16(o + 1, true);
    if (len < HEADER_BYTES) return bad(stats, "shortPacket", "length below header");
    if (o + len > total) return bad(stats, "overrun", "length past the end");
    o += len;
  }
  const result: DhanFrameResult = { ticks: [] };
  for (let o = 0; o < total;) {
    const code = frame[o];
    const len = v.getUint16(o + 1, true);
    const at = o;
    o += len;
    stats.packets++;
    const expected = PACKET_LENGTH[code];
    if (expected === undefined) {
      stats.unknownCode++;
      stats.errors++;
      result.malformed ??= "unknown response code";
      continue;
    }
    if (len !== expected) {
      stats.badLength++;
      stats.errors++;
      result.malformed ??= "length does not match code";
      continue;
    }
    if (code === RESPONSE.DISCONNECT) {
      result.disconnect = v.getUint16(at + 8, true);
      continue;
    }
    if (code === RESPONSE.MARKET_STATUS) {
      stats.marketStatus++;
      continue;
    }
    const segment = frame[at + 3];
    const key = tokenKey(segment, v.getInt32(at + 4, true));
    const ref = lookup(key);
    if (ref === undefined) {
      stats.unknownToken++;
      continue;
    }
    const round = roundingOf(segment);
    if (code === RESPONSE.PREV_CLOSE) {
      stateOf(state, key).prevClose = price(v, at + 8, round);
      stats.merged++;
      continue;
    }
    if (code === RESPONSE.OI) {
      if (hasOi(segment)) stateOf(state, key).oi = v.getUint32(at + 8, true);
      stats.merged++;
      continue;
    }
    const ltp = price(v, at + 8, round) ?? 0;
    if (code === RESPONSE.TICKER) {
      const ltt = v.getUint32(at + 12, true);
      result.ticks.push(
        baseTick(ref.exchange, ref.symbol, 1, ltp, ltt > 0 ? ltt * 1000 : null, now),
      );
      continue;
    }
    // Quote (4) and Full (8) share their first 34 bytes.
    const full = code === RESPONSE.FULL;
    const index = segment === SEGMENT.IDX_I;
    const ltt = v.getUint32(at + 14, true);
    // An index has no book, so its Quote is as rich as a Depth tick can be (Depth mode, no levels).
    const mode = full || index ? 3 : 2;
    const tick = baseTick(ref.exchange, ref.symbol, mode, ltp, ltt > 0 ? ltt * 1000 : null, now);
    if (!index) {
      tick.last_trade_quantity = v.getUint16(at + 12, true);
      tick.avg_trade_price = price(v, at + 18, round);
      tick.volume = v.getUint32(at + 22, true);
      tick.total_sell_quantity = v.getUint32(at + 26, true);
      tick.total_buy_quantity = v.getUint32(at + 30, true);
    }
    const ohlc = at + (full ? 46 : 34);
    // open, close, high, low — in that order on the wire.
    tick.open = price(v, ohlc, round);
    tick.high = price(v, ohlc + 8, round);
    tick.low = price(v, ohlc + 12, round);
    const merged = state.get(key);
    if (full && hasOi(segment)) {
      const oi = v.getUint32(at + 34, true);
      stateOf(state, key).oi = oi;
      tick.oi = oi;
    } else if (merged !== undefined && hasOi(segment)) {
      tick.oi = merged.oi;
    }
    const prevClose = merged?.prevClose ?? null;
    if (prevClose !== null) {
      tick.close = prevClose;
      tick.change = Math.round((ltp - prevClose) * round) / round;
      tick.change_percent = ((ltp - prevClose) * 100) / prevClose;
    }
    if (full && !index) tick.depth = decodeDepth(v, at + 62, round);
    result.ticks.push(tick);
  }
  stats.ticks += result.ticks.length;
  return result;
}

/** Five 20-byte entries, each one bid and one ask level. */
function decodeDepth(v: DataView, base: number, round: number): Depth {
  const buy: DepthLevel[] = new Array(DEPTH_LEVELS);
  const sell: DepthLevel[] = new Array(DEPTH_LEVELS);
  for (let i = 0; i < DEPTH_LEVELS; i++) {
    const o = base + i * 20;
    buy[i] = {
      price: Math.round(v.getFloat32(o + 12, true) * round) / round,
      quantity: v.getUint32(o, true),
      orders: v.getUint16(o + 8, true),
    };
    sell[i] = {
      price: Math.round(v.getFloat32(o + 16, true) * round) / round,
      quantity: v.getUint32(o + 4, true),
      orders: v.getUint16(o + 10, true),
    };
  }
  return { buy, sell };
}

// ---- requests ---------------------------------------------------------------------------------

/** One instrument in a request. */
export interface RequestInstrument {
  segment: SegmentName;
  securityId: string;
}

/**
 * A subscribe (15/17/21) or unsubscribe (16/18/22) request; at most 100 instruments.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(
 *   encodeRequest(15, [{ segment: "NSE_EQ", securityId: "1333" }]),
 *   '{"RequestCode":15,"InstrumentCount":1,"InstrumentList":[{"ExchangeSegment":"NSE_EQ","SecurityId":"1333"}]}',
 * );
 * ```
 */
export function encodeRequest(code: number, instruments: readonly RequestInstrument[]): string {
  return JSON.stringify({
    RequestCode: code,
    InstrumentCount: instruments.length,
    InstrumentList: instruments.map((i) => ({
      ExchangeSegment: i.segment,
      SecurityId: i.securityId,
    })),
  });
}

/**
 * The request that ends the session.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(encodeDisconnectRequest(), '{"RequestCode":12}');
 * ```
 */
export function encodeDisconnectRequest(): string {
  return JSON.stringify({ RequestCode: REQUEST.DISCONNECT });
}

/** A client request as the server reads it. */
export interface DhanRequest {
  code: number;
  instruments: RequestInstrument[];
}

/**
 * Parses a client request (simulator side); a string says what is wrong with it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(decodeRequest('{"RequestCode":12}'), { code: 12, instruments: [] });
 * assert.equal(typeof decodeRequest('{"RequestCode":"15"}'), "string");
 * ```
 */
export function decodeRequest(text: string): DhanRequest | string {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return "invalid JSON";
  }
  if (typeof m !== "object" || m === null) return "not an object";
  const { RequestCode, InstrumentCount, InstrumentList } = m as Record<string, unknown>;
  if (typeof RequestCode !== "number" || !Number.isInteger(RequestCode)) {
    return "RequestCode is not an integer";
  }
  if (InstrumentList === undefined) return { code: RequestCode, instruments: [] };
  if (!Array.isArray(InstrumentList)) return "InstrumentList is not an array";
  if (InstrumentCount !== InstrumentList.length) return "InstrumentCount does not match the list";
  const instruments: RequestInstrument[] = [];
  for (const i of InstrumentList) {
    if (typeof i !== "object" || i === null) return "bad instrument";
    const { ExchangeSegment, SecurityId } = i as Record<string, unknown>;
    if (typeof ExchangeSegment !== "string" || !(ExchangeSegment in SEGMENT)) {
      return `unknown ExchangeSegment ${String(ExchangeSegment)}`;
    }
    if (typeof SecurityId !== "string" || !/^\d{1,10}$/.test(SecurityId)) {
      return `bad SecurityId ${String(SecurityId)}`;
    }
    instruments.push({ segment: ExchangeSegment as SegmentName, securityId: SecurityId });
  }
  return { code: RequestCode, instruments };
}

// ---- encoding (simulator side) ----------------------------------------------------------------

/** Quote fields in rupees (floats) and quantities; `ltt` epoch seconds. */
export interface DhanQuote {
  ltp: number;
  lastQuantity: number;
  ltt: number;
  averagePrice: number;
  volume: number;
  totalSellQuantity: number;
  totalBuyQuantity: number;
  open: number;
  /** The packets' close field (Dhan fills it only after the close). */
  close: number;
  high: number;
  low: number;
}

/** One Full-packet depth entry: a bid level and an ask level. */
export interface DhanDepthEntry {
  bidQuantity: number;
  askQuantity: number;
  bidOrders: number;
  askOrders: number;
  bidPrice: number;
  askPrice: number;
}

/** Full-packet fields. */
export interface DhanFull extends DhanQuote {
  oi: number;
  oiDayHigh: number;
  oiDayLow: number;
  depth: DhanDepthEntry[];
}

function checkUint(x: number, max: number, field: string): number {
  if (!Number.isInteger(x) || x < 0 || x > max) throw new RangeError(`${field} ${x} out of range`);
  return x;
}

function header(code: number, segment: number, securityId: number): [Uint8Array, DataView] {
  const len = PACKET_LENGTH[code];
  const out = new Uint8Array(len);
  const v = new DataView(out.buffer);
  out[0] = code;
  v.setUint16(1, len, true);
  out[3] = checkUint(segment, 255, "segment");
  if (!Number.isInteger(securityId) || securityId < 0 || securityId > 0x7fffffff) {
    throw new RangeError(`securityId ${securityId} out of range`);
  }
  v.setInt32(4, securityId, true);
  return [out, v];
}

function putQuote(v: DataView, q: DhanQuote): void {
  v.setFloat32(8, q.ltp, true);
  v.setUint16(12, checkUint(q.lastQuantity, 0xffff, "lastQuantity"), true);
  v.setUint32(14, checkUint(q.ltt, 0xffffffff, "ltt"), true);
  v.setFloat32(18, q.averagePrice, true);
  v.setUint32(22, checkUint(q.volume, 0xffffffff, "volume"), true);
  v.setUint32(26, checkUint(q.totalSellQuantity, 0xffffffff, "totalSellQuantity"), true);
  v.setUint32(30, checkUint(q.totalBuyQuantity, 0xffffffff, "totalBuyQuantity"), true);
}

/**
 * A Ticker packet (16 B).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(encodeTicker(1, 1333, 1642.5, 0).byteLength, 16);
 * ```
 */
export function encodeTicker(
  segment: number,
  securityId: number,
  ltp: number,
  ltt: number,
): Uint8Array {
  const [out, v] = header(RESPONSE.TICKER, segment, securityId);
  v.setFloat32(8, ltp, true);
  v.setUint32(12, checkUint(ltt, 0xffffffff, "ltt"), true);
  return out;
}

/**
 * A Quote packet (50 B).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const q = { ltp: 1, lastQuantity: 1, ltt: 0, averagePrice: 1, volume: 1, totalSellQuantity: 0,
 *   totalBuyQuantity: 0, open: 1, close: 0, high: 1, low: 1 };
 * assert.equal(encodeQuote(1, 1333, q).byteLength, 50);
 * ```
 */
export function encodeQuote(segment: number, securityId: number, q: DhanQuote): Uint8Array {
  const [out, v] = header(RESPONSE.QUOTE, segment, securityId);
  putQuote(v, q);
  v.setFloat32(34, q.open, true);
  v.setFloat32(38, q.close, true);
  v.setFloat32(42, q.high, true);
  v.setFloat32(46, q.low, true);
  return out;
}

/**
 * A Full packet (162 B) with up to five depth entries.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const f = { ltp: 1, lastQuantity: 1, ltt: 0, averagePrice: 1, volume: 1, totalSellQuantity: 0,
 *   totalBuyQuantity: 0, open: 1, close: 0, high: 1, low: 1, oi: 0, oiDayHigh: 0, oiDayLow: 0,
 *   depth: [] };
 * assert.equal(encodeFull(2, 35001, f).byteLength, 162);
 * ```
 */
export function encodeFull(segment: number, securityId: number, f: DhanFull): Uint8Array {
  const [out, v] = header(RESPONSE.FULL, segment, securityId);
  putQuote(v, f);
  v.setUint32(34, checkUint(f.oi, 0xffffffff, "oi"), true);
  v.setUint32(38, checkUint(f.oiDayHigh, 0xffffffff, "oiDayHigh"), true);
  v.setUint32(42, checkUint(f.oiDayLow, 0xffffffff, "oiDayLow"), true);
  v.setFloat32(46, f.open, true);
  v.setFloat32(50, f.close, true);
  v.setFloat32(54, f.high, true);
  v.setFloat32(58, f.low, true);
  for (let i = 0; i < DEPTH_LEVELS && i < f.depth.length; i++) {
    const e = f.depth[i];
    const o = 62 + i * 20;
    v.setUint32(o, checkUint(e.bidQuantity, 0xffffffff, "bidQuantity"), true);
    v.setUint32(o + 4, checkUint(e.askQuantity, 0xffffffff, "askQuantity"), true);
    v.setUint16(o + 8, checkUint(e.bidOrders, 0xffff, "bidOrders"), true);
    v.setUint16(o + 10, checkUint(e.askOrders, 0xffff, "askOrders"), true);
    v.setFloat32(o + 12, e.bidPrice, true);
    v.setFloat32(o + 16, e.askPrice, true);
  }
  return out;
}

/**
 * An OI packet (12 B).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(encodeOi(2, 35001, 5000).byteLength, 12);
 * ```
 */
export function encodeOi(segment: number, securityId: number, oi: number): Uint8Array {
  const [out, v] = header(RESPONSE.OI, segment, securityId);
  v.setUint32(8, checkUint(oi, 0xffffffff, "oi"), true);
  return out;
}

/**
 * A previous-close packet (16 B).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(encodePrevClose(1, 1333, 1620, 0).byteLength, 16);
 * ```
 */
export function encodePrevClose(
  segment: number,
  securityId: number,
  prevClose: number,
  prevOi: number,
): Uint8Array {
  const [out, v] = header(RESPONSE.PREV_CLOSE, segment, securityId);
  v.setFloat32(8, prevClose, true);
  v.setUint32(12, checkUint(prevOi, 0xffffffff, "prevOi"), true);
  return out;
}

/**
 * A market-status packet (header only).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(encodeMarketStatus(1).byteLength, 8);
 * ```
 */
export function encodeMarketStatus(segment: number): Uint8Array {
  return header(RESPONSE.MARKET_STATUS, segment, 0)[0];
}

/**
 * A disconnect packet (10 B) with its reason (805–809).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const r = decodeFrame(encodeDisconnect(807), () => undefined, 0, new Map(), createDecodeStats());
 * assert.equal(r.disconnect, 807);
 * ```
 */
export function encodeDisconnect(reason: number): Uint8Array {
  const [out, v] = header(RESPONSE.DISCONNECT, 0, 0);
  v.setUint16(8, checkUint(reason, 0xffff, "reason"), true);
  return out;
}

/**
 * Concatenates packets into one message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(joinPackets([encodeOi(2, 1, 5), encodeOi(2, 2, 6)]).byteLength, 24);
 * ```
 */
export function joinPackets(packets: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of packets) size += p.byteLength;
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of packets) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}
