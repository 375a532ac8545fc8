// The page's side of the client protocol (pure): the frames it sends, and the replies and market
// data it reads, turned into typed values at the boundary.

import { type Candle, type CandleInterval, isCandleInterval } from "../../candles/mod.ts";
import { isMode, type Mode, type WatchItem } from "./watchlist.ts";

/** One price level of a depth ladder. */
export interface DepthLevel {
  price: number;
  quantity: number;
  orders: number | null;
}

/** Tick fields the page shows; absent or null fields are null. */
export interface TickView {
  ltp: number;
  change: number | null;
  changePercent: number | null;
  volume: number | null;
  /** Best first; null unless the tick carries depth. */
  depth: { buy: DepthLevel[]; sell: DepthLevel[] } | null;
}

/** A market-data tick for one instrument at one subscribed mode. */
export interface MarketTick {
  exchange: string;
  symbol: string;
  mode: Mode;
  data: TickView;
}

/** A per-instrument result of a subscribe. */
export interface SubscribeEntryResult {
  exchange: string;
  symbol: string;
  ok: boolean;
  message: string;
}

/** A `candle` frame: a forming or closed bar of one instrument's series. */
export interface CandleUpdate {
  exchange: string;
  symbol: string;
  interval: CandleInterval;
  /** The bar (the gateway's own {@link Candle} type: the page reads the same shape). */
  bar: Candle;
}

/** An instrument of a candle request. */
export interface Instrument {
  exchange: string;
  symbol: string;
}

/** A reply the page acts on. */
export type ServerMessage =
  | { kind: "auth"; ok: boolean; broker: string; message: string; code: string }
  | { kind: "subscribe"; entries: SubscribeEntryResult[]; message: string }
  | { kind: "ticks"; ticks: MarketTick[] }
  | { kind: "candle"; candle: CandleUpdate }
  | { kind: "subscribe_candles"; interval: string; entries: SubscribeEntryResult[] }
  | { kind: "error"; code: string; message: string }
  | { kind: "other" };

/** The `authenticate` request: batched market data, conflated per key. */
export function authFrame(apiKey: string): string {
  return JSON.stringify({ action: "authenticate", api_key: apiKey, batch: true });
}

/** A `subscribe` request for many instruments, each with its own mode. */
export function subscribeFrame(items: readonly WatchItem[], depth = 5): string {
  return JSON.stringify({
    action: "subscribe",
    symbols: items.map((i) => ({ symbol: i.symbol, exchange: i.exchange, mode: i.mode })),
    depth,
  });
}

/** An `unsubscribe` request, each instrument at its own mode. */
export function unsubscribeFrame(items: readonly WatchItem[]): string {
  return JSON.stringify({
    action: "unsubscribe",
    symbols: items.map((i) => ({ symbol: i.symbol, exchange: i.exchange, mode: i.mode })),
  });
}

/** A `subscribe_candles` request: one instrument's bars at `interval`. */
export function subscribeCandlesFrame(item: Instrument, interval: CandleInterval): string {
  return JSON.stringify({
    action: "subscribe_candles",
    symbols: [{ symbol: item.symbol, exchange: item.exchange }],
    interval,
  });
}

/** An `unsubscribe_candles` request for one instrument's bars at `interval`. */
export function unsubscribeCandlesFrame(item: Instrument, interval: CandleInterval): string {
  return JSON.stringify({
    action: "unsubscribe_candles",
    symbols: [{ symbol: item.symbol, exchange: item.exchange }],
    interval,
  });
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function levels(v: unknown): DepthLevel[] {
  if (!Array.isArray(v)) return [];
  const out: DepthLevel[] = [];
  for (const l of v) {
    if (!isObj(l)) continue;
    const price = num(l.price), quantity = num(l.quantity);
    if (price === null || quantity === null) continue;
    out.push({ price, quantity, orders: num(l.orders) });
  }
  return out;
}

/** One `market_data` frame (or batch element) → a tick; null when it is not one. */
export function parseTick(v: unknown): MarketTick | null {
  if (!isObj(v) || !isObj(v.data) || !isMode(v.mode)) return null;
  const exchange = str(v.exchange), symbol = str(v.symbol);
  const d = v.data;
  const ltp = num(d.ltp);
  if (!exchange || !symbol || ltp === null) return null;
  const depth = isObj(d.depth) ? { buy: levels(d.depth.buy), sell: levels(d.depth.sell) } : null;
  return {
    exchange,
    symbol,
    mode: v.mode,
    data: {
      ltp,
      change: num(d.change),
      changePercent: num(d.change_percent),
      volume: num(d.volume),
      depth,
    },
  };
}

/**
 * A bar object (of a `candle` frame or a history response) → a bar; null when a price is missing
 * or the bar is inconsistent (high below low), so a chart never receives one it cannot draw.
 * A missing volume reads as 0; a missing `closed` as forming.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const bar = { time: 1_700_000_000_000, open: 10, high: 12, low: 9, close: 11, volume: 5, closed: true };
 * assert.deepEqual(parseCandle(bar), bar);
 * assert.equal(parseCandle({ ...bar, high: 8 }), null);
 * ```
 */
export function parseCandle(v: unknown): Candle | null {
  if (!isObj(v)) return null;
  const time = num(v.time), open = num(v.open), high = num(v.high), low = num(v.low);
  const close = num(v.close);
  if (time === null || open === null || high === null || low === null || close === null) {
    return null;
  }
  if (!Number.isInteger(time) || time < 0 || high < low) return null;
  if (open > high || open < low || close > high || close < low) return null;
  return { time, open, high, low, close, volume: num(v.volume) ?? 0, closed: v.closed === true };
}

function entries(v: unknown): SubscribeEntryResult[] {
  const out: SubscribeEntryResult[] = [];
  if (!Array.isArray(v)) return out;
  for (const e of v) {
    if (!isObj(e)) continue;
    out.push({
      exchange: str(e.exchange),
      symbol: str(e.symbol),
      ok: e.status === "success",
      message: str(e.message),
    });
  }
  return out;
}

/**
 * Reads one text frame from the gateway. Unknown or malformed frames are `other`, never thrown.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseServerMessage('{"type":"pong","status":"success"}'), { kind: "other" });
 * ```
 */
export function parseServerMessage(text: string): ServerMessage {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { kind: "other" };
  }
  if (!isObj(v)) return { kind: "other" };
  switch (v.type) {
    case "market_data_batch": {
      const ticks: MarketTick[] = [];
      if (Array.isArray(v.ticks)) {
        for (const t of v.ticks) {
          const tick = parseTick(t);
          if (tick) ticks.push(tick);
        }
      }
      return { kind: "ticks", ticks };
    }
    case "market_data": {
      const tick = parseTick(v);
      return tick ? { kind: "ticks", ticks: [tick] } : { kind: "other" };
    }
    case "auth":
      return {
        kind: "auth",
        ok: v.status === "success",
        broker: str(v.broker),
        message: str(v.message),
        code: str(v.code),
      };
    case "subscribe":
      return { kind: "subscribe", entries: entries(v.subscriptions), message: str(v.message) };
    case "subscribe_candles":
      return {
        kind: "subscribe_candles",
        interval: str(v.interval),
        entries: entries(v.subscriptions),
      };
    case "candle": {
      const exchange = str(v.exchange), symbol = str(v.symbol);
      const bar = parseCandle(v.data);
      if (!exchange || !symbol || !isCandleInterval(v.interval) || !bar) return { kind: "other" };
      return { kind: "candle", candle: { exchange, symbol, interval: v.interval, bar } };
    }
    default:
      if (v.status === "error") {
        return { kind: "error", code: str(v.code), message: str(v.message) };
      }
      return { kind: "other" };
  }
}
