// Upstox Market Data Feed V3 codec: protobuf `FeedResponse` frames → normalised ticks, the JSON
// requests (sent as binary frames), and the encoders the simulator uses. Pure; never throws on input.

import protobuf from "protobufjs";
import { z } from "zod";
import { baseTick, type Depth, type DepthLevel, type Mode, type Tick } from "../../lib/types.ts";
import schemaText from "./MarketDataFeedV3.proto" with { type: "text" };

/** Upstox subscription modes (brokers.md §5.2). */
export type UpstoxMode = "ltpc" | "full" | "option_greeks" | "full_d30";

/** All Upstox modes. */
export const UPSTOX_MODES: readonly UpstoxMode[] = ["ltpc", "full", "option_greeks", "full_d30"];

/** Request methods. */
export type RequestMethod = "sub" | "unsub" | "change_mode";

/** `FeedResponse.type`. */
export type FeedType = "initial_feed" | "live_feed" | "market_info";

/** Wire values of `FeedResponse.type`. */
export const FEED_TYPE: Readonly<Record<FeedType, number>> = {
  initial_feed: 0,
  live_feed: 1,
  market_info: 2,
};

const FEED_TYPE_OF: readonly FeedType[] = ["initial_feed", "live_feed", "market_info"];

/** Wire values of `Feed.requestMode`, by the subscription mode that produces it. */
export const REQUEST_MODE: Readonly<Record<UpstoxMode, number>> = {
  ltpc: 0,
  full: 1,
  option_greeks: 2,
  full_d30: 3,
};

/** Names of `MarketStatus` values, by wire value. */
export const MARKET_STATUS: readonly string[] = [
  "PRE_OPEN_START",
  "PRE_OPEN_END",
  "NORMAL_OPEN",
  "NORMAL_CLOSE",
  "CLOSING_START",
  "CLOSING_END",
];

/** Book levels in `full` and `full_d30` feeds. */
export const FULL_LEVELS = 5;
export const FULL_D30_LEVELS = 30;

const PACKAGE = "com.upstox.marketdatafeederv3udapi.rpc.proto";

/** The schema in MarketDataFeedV3.proto, with the well-known types it imports. */
function loadSchema(): protobuf.Type {
  const parsed = protobuf.parse(schemaText, { keepCase: true });
  for (const file of parsed.imports ?? []) {
    const common = protobuf.common.get(file);
    // The only import is google/protobuf/wrappers.proto, which protobufjs bundles.
    if (common === null) throw new Error(`MarketDataFeedV3.proto: unknown import ${file}`);
    parsed.root.addJSON(common.nested ?? {});
  }
  parsed.root.resolveAll();
  return parsed.root.lookupType(`${PACKAGE}.FeedResponse`);
}

const FeedResponse = loadSchema();

// ---- message shapes --------------------------------------------------------------------------

/** A protobuf int64 as protobufjs gives it (a `Long` object) or as encoders accept it. */
export type Int64 = number | { toNumber(): number };

/** `LTPC`: last trade price (rupees), time (epoch ms), quantity, previous close. */
export interface PbLtpc {
  ltp?: number;
  ltt?: Int64;
  ltq?: Int64;
  cp?: number;
  iep?: { value?: number } | null;
}

/** One book level: a bid and an ask side by side. */
export interface PbQuote {
  bidQ?: Int64;
  bidP?: number;
  askQ?: Int64;
  askP?: number;
}

/** One candle; `interval` names it (`1d`, `I1`, ...). */
export interface PbOhlc {
  interval?: string;
  open?: number;
  high?: number;
  low?: number;
  close?: number;
  vol?: Int64;
  ts?: Int64;
}

export interface PbGreeks {
  delta?: number;
  theta?: number;
  gamma?: number;
  vega?: number;
  rho?: number;
}

export interface PbMarketFullFeed {
  ltpc?: PbLtpc | null;
  marketLevel?: { bidAskQuote?: PbQuote[] } | null;
  optionGreeks?: PbGreeks | null;
  marketOHLC?: { ohlc?: PbOhlc[] } | null;
  atp?: number;
  vtt?: Int64;
  oi?: number;
  iv?: number;
  tbq?: number;
  tsq?: number;
}

export interface PbIndexFullFeed {
  ltpc?: PbLtpc | null;
  marketOHLC?: { ohlc?: PbOhlc[] } | null;
}

export interface PbFirstLevelWithGreeks {
  ltpc?: PbLtpc | null;
  firstDepth?: PbQuote | null;
  optionGreeks?: PbGreeks | null;
  vtt?: Int64;
  oi?: number;
  iv?: number;
}

/** One instrument's feed: one of ltpc, fullFeed, firstLevelWithGreeks. */
export interface PbFeed {
  ltpc?: PbLtpc | null;
  fullFeed?: { marketFF?: PbMarketFullFeed | null; indexFF?: PbIndexFullFeed | null } | null;
  firstLevelWithGreeks?: PbFirstLevelWithGreeks | null;
  requestMode?: number;
}

/** One server frame. */
export interface PbFeedResponse {
  type?: number;
  feeds?: Record<string, PbFeed>;
  currentTs?: Int64;
  marketInfo?: { segmentStatus?: Record<string, number> } | null;
}

// ---- decoding ----------------------------------------------------------------------------------

/** Counters the decoder keeps; every rejected case is counted. */
export interface DecodeStats {
  frames: number;
  marketInfo: number;
  snapshots: number;
  updates: number;
  feeds: number;
  ticks: number;
  /** Feeds for keys nobody (or nobody any more) wants. */
  unknownKey: number;
  /** Bytes that are not a FeedResponse. */
  notProtobuf: number;
  /** A FeedResponse whose type is not one of the three. */
  badType: number;
  /** A feed with none of ltpc / fullFeed / firstLevelWithGreeks. */
  emptyFeed: number;
  /** A feed whose last price is missing or not a finite number. */
  badValue: number;
  errors: number;
}

/** Fresh zeroed counters. */
export function createDecodeStats(): DecodeStats {
  return {
    frames: 0,
    marketInfo: 0,
    snapshots: 0,
    updates: 0,
    feeds: 0,
    ticks: 0,
    unknownKey: 0,
    notProtobuf: 0,
    badType: 0,
    emptyFeed: 0,
    badValue: 0,
    errors: 0,
  };
}

/** Where an instrument key's ticks go. */
export interface InstrumentRef {
  exchange: string;
  symbol: string;
}

/** Instrument key → OpenAlgo exchange/symbol; undefined for keys not wanted. */
export type KeyLookup = (key: string) => InstrumentRef | undefined;

/** What one server frame held. */
export type FeedFrame =
  | {
    ok: true;
    type: FeedType;
    ticks: Tick[];
    /** Segment → market status name (`NSE_EQ` → `NORMAL_OPEN`), from `market_info` frames. */
    segmentStatus: Record<string, string> | null;
  }
  | { ok: false; reason: "not_protobuf" | "bad_type" };

function int(v: Int64 | undefined | null): number {
  if (v === undefined || v === null) return 0;
  return typeof v === "number" ? v : v.toNumber();
}

/** A price difference to 4 decimals (prices carry at most 4), without float noise. */
function priceDiff(a: number, b: number): number {
  return Math.round((a - b) * 10_000) / 10_000;
}

/** Cash segments have no open interest: theirs stays null rather than the wire's default 0. */
function hasOi(exchange: string): boolean {
  return exchange !== "NSE" && exchange !== "BSE" && !exchange.endsWith("_INDEX");
}

function dayCandle(candles: readonly PbOhlc[] | undefined): PbOhlc | undefined {
  if (candles === undefined) return undefined;
  for (const c of candles) if (c.interval === "1d") return c;
  return undefined;
}

function depthOf(levels: readonly PbQuote[]): Depth {
  const buy: DepthLevel[] = new Array(levels.length);
  const sell: DepthLevel[] = new Array(levels.length);
  for (let i = 0; i < levels.length; i++) {
    const q = levels[i];
    // Upstox sends no order counts.
    buy[i] = { price: q.bidP ?? 0, quantity: int(q.bidQ), orders: null };
    sell[i] = { price: q.askP ?? 0, quantity: int(q.askQ), orders: null };
  }
  return { buy, sell };
}

/** The LTP fields (and previous close, change, last quantity) from an LTPC. */
function ltpcTick(ref: InstrumentRef, mode: Mode, l: PbLtpc, ts: number): Tick | null {
  const ltp = l.ltp;
  if (ltp === undefined || !Number.isFinite(ltp)) return null;
  const ltt = int(l.ltt);
  const tick = baseTick(ref.exchange, ref.symbol, mode, ltp, ltt > 0 ? ltt : null, ts);
  tick.last_trade_quantity = int(l.ltq);
  const cp = l.cp ?? 0;
  if (cp > 0 && Number.isFinite(cp)) {
    tick.close = cp;
    tick.change = priceDiff(ltp, cp);
    tick.change_percent = (tick.change * 100) / cp;
  }
  return tick;
}

function withDay(tick: Tick, candles: readonly PbOhlc[] | undefined): void {
  // The day candle is picked by its interval: its position in the list is not part of the format,
  // and its close is the running price, not the previous close (which LTPC's `cp` carries).
  const day = dayCandle(candles);
  if (day === undefined) return;
  tick.open = day.open ?? null;
  tick.high = day.high ?? null;
  tick.low = day.low ?? null;
}

function feedTick(ref: InstrumentRef, feed: PbFeed, ts: number): Tick | null {
  if (feed.ltpc) return ltpcTick(ref, 1, feed.ltpc, ts);
  const full = feed.fullFeed;
  if (full?.marketFF) {
    const m = full.marketFF;
    const tick = m.ltpc ? ltpcTick(ref, 3, m.ltpc, ts) : null;
    if (tick === null) return null;
    withDay(tick, m.marketOHLC?.ohlc);
    tick.volume = int(m.vtt);
    tick.avg_trade_price = m.atp ?? null;
    tick.total_buy_quantity = m.tbq ?? null;
    tick.total_sell_quantity = m.tsq ?? null;
    if (hasOi(ref.exchange)) tick.oi = m.oi ?? 0;
    tick.depth = m.marketLevel ? depthOf(m.marketLevel.bidAskQuote ?? []) : null;
    return tick;
  }
  if (full?.indexFF) {
    const x = full.indexFF;
    const tick = x.ltpc ? ltpcTick(ref, 3, x.ltpc, ts) : null;
    if (tick === null) return null;
    withDay(tick, x.marketOHLC?.ohlc);
    // Indices have no trades, quantities or book: those fields stay null.
    tick.last_trade_quantity = null;
    return tick;
  }
  const g = feed.firstLevelWithGreeks;
  if (g) {
    const tick = g.ltpc ? ltpcTick(ref, 1, g.ltpc, ts) : null;
    if (tick === null) return null;
    tick.volume = int(g.vtt);
    if (hasOi(ref.exchange)) tick.oi = g.oi ?? 0;
    return tick;
  }
  return null;
}

/**
 * Reads one binary frame. `market_info` frames carry segment status and no ticks; `initial_feed`
 * and `live_feed` frames give one tick per feed whose key `lookup` knows. Prices are rupees, times
 * epoch ms; `timestamp` is the frame's `currentTs` (server time) or `now`. Bytes that are not a
 * FeedResponse, or one of an unknown type, are rejected whole; a feed without data or without a
 * finite last price is skipped. Every case is counted in `stats`; nothing throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const bytes = encodeFeedResponse({
 *   type: 1, currentTs: 1_700_000_000_000,
 *   feeds: { "NSE_EQ|INE002A01018": { ltpc: { ltp: 2940.7, ltt: 1_700_000_000_000, ltq: 5, cp: 2925.4 } } },
 * });
 * const f = decodeFeedFrame(bytes, () => ({ exchange: "NSE", symbol: "RELIANCE" }), 0, createDecodeStats());
 * assert.equal(f.ok && f.ticks[0].ltp, 2940.7);
 * assert.equal(f.ok && f.ticks[0].change, 15.3);
 * ```
 */
export function decodeFeedFrame(
  bytes: Uint8Array,
  lookup: KeyLookup,
  now: number,
  stats: DecodeStats,
): FeedFrame {
  stats.frames++;
  let msg: PbFeedResponse;
  try {
    msg = FeedResponse.decode(bytes) as PbFeedResponse;
  } catch {
    stats.notProtobuf++;
    stats.errors++;
    return { ok: false, reason: "not_protobuf" };
  }
  const type = FEED_TYPE_OF[msg.type ?? 0];
  if (type === undefined) {
    stats.badType++;
    stats.errors++;
    return { ok: false, reason: "bad_type" };
  }
  let segmentStatus: Record<string, string> | null = null;
  if (type === "market_info") {
    stats.marketInfo++;
    segmentStatus = {};
    for (const [segment, status] of Object.entries(msg.marketInfo?.segmentStatus ?? {})) {
      segmentStatus[segment] = MARKET_STATUS[status] ?? `UNKNOWN_${status}`;
    }
  } else if (type === "initial_feed") stats.snapshots++;
  else stats.updates++;
  const ticks: Tick[] = [];
  const ts = int(msg.currentTs);
  const stamp = ts > 0 && Number.isFinite(ts) ? ts : now;
  const feeds = msg.feeds ?? {};
  for (const key of Object.keys(feeds)) {
    stats.feeds++;
    const ref = lookup(key);
    if (ref === undefined) {
      stats.unknownKey++;
      continue;
    }
    const feed = feeds[key];
    if (
      !feed.ltpc && !feed.fullFeed?.marketFF && !feed.fullFeed?.indexFF &&
      !feed.firstLevelWithGreeks
    ) {
      stats.emptyFeed++;
      stats.errors++;
      continue;
    }
    const tick = feedTick(ref, feed, stamp);
    if (tick === null) {
      stats.badValue++;
      stats.errors++;
      continue;
    }
    ticks.push(tick);
  }
  stats.ticks += ticks.length;
  return { ok: true, type, ticks, segmentStatus };
}

/**
 * Encodes one server frame (simulator side, and golden tests). Fields left out are not sent,
 * as proto3 leaves out zeros.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual([...encodeFeedResponse({ type: 2 })], [0x08, 0x02]);
 * ```
 */
export function encodeFeedResponse(msg: PbFeedResponse): Uint8Array {
  const b = FeedResponse.encode(FeedResponse.fromObject(msg)).finish();
  // protobufjs hands out a Node Buffer where one exists; callers get a plain view of its bytes.
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

// ---- requests (client → server, JSON in a binary frame) ----------------------------------------

/** One request, as the broker reads it. */
export interface UpstoxRequest {
  guid: string;
  method: RequestMethod;
  data: { mode?: UpstoxMode; instrumentKeys: string[] };
}

const requestSchema = z.object({
  guid: z.string(),
  method: z.enum(["sub", "unsub", "change_mode"]),
  data: z.object({
    mode: z.enum(["ltpc", "full", "option_greeks", "full_d30"]).optional(),
    instrumentKeys: z.array(z.string().min(1)),
  }),
});

/**
 * A request as the bytes of a binary frame (Upstox reads requests only from binary frames).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const bytes = encodeRequest({ guid: "g1", method: "sub", data: { mode: "full", instrumentKeys: ["NSE_EQ|INE002A01018"] } });
 * assert.equal(new TextDecoder().decode(bytes),
 *   '{"guid":"g1","method":"sub","data":{"mode":"full","instrumentKeys":["NSE_EQ|INE002A01018"]}}');
 * ```
 */
export function encodeRequest(req: UpstoxRequest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(req));
}

/**
 * Parses a request (simulator side): the frame must be binary UTF-8 JSON of the request shape.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(decodeRequest('{"guid":"g","method":"sub","data":{"instrumentKeys":[]}}').ok, false);
 * ```
 */
export function decodeRequest(
  data: string | Uint8Array,
): { ok: true; request: UpstoxRequest } | { ok: false; reason: string } {
  if (typeof data === "string") return { ok: false, reason: "requests must be binary frames" };
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data));
  } catch {
    return { ok: false, reason: "not UTF-8 JSON" };
  }
  const r = requestSchema.safeParse(json);
  if (!r.success) {
    return {
      ok: false,
      reason: r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
    };
  }
  return { ok: true, request: r.data };
}

// ---- text replies (server → client) -------------------------------------------------------------

const replySchema = z.object({
  status: z.string().optional(),
  method: z.string().optional(),
  guid: z.string().optional(),
  error: z.unknown().optional(),
  message: z.string().optional(),
}).passthrough();

/** A JSON text reply: failures carry `status: "failed"` and an error. */
export type TextReply =
  | { ok: true; failed: boolean; text: string }
  | { ok: false };

/**
 * Reads a JSON text frame from the server (request failures; brokers.md §5.2).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const r = decodeTextReply('{"status":"failed","method":"sub","error":"Invalid instrument key"}');
 * assert.deepEqual(r, { ok: true, failed: true, text: 'sub failed: "Invalid instrument key"' });
 * ```
 */
export function decodeTextReply(text: string): TextReply {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false };
  }
  const r = replySchema.safeParse(json);
  if (!r.success) return { ok: false };
  const m = r.data;
  const failed = m.status === "failed" || m.status === "error" || m.error !== undefined;
  const what = m.method ?? "request";
  const detail = JSON.stringify(m.error ?? m.message ?? m.status ?? "").slice(0, 200);
  return {
    ok: true,
    failed,
    text: `${what} ${failed ? "failed" : m.status ?? "reply"}: ${detail}`,
  };
}
