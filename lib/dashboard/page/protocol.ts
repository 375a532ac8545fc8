// The page's side of the client protocol (pure): the frames it sends, and the replies and market
// data it reads, turned into typed values at the boundary.

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

/** A reply the page acts on. */
export type ServerMessage =
  | { kind: "auth"; ok: boolean; broker: string; message: string; code: string }
  | { kind: "subscribe"; entries: SubscribeEntryResult[]; message: string }
  | { kind: "ticks"; ticks: MarketTick[] }
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
    case "subscribe": {
      const entries: SubscribeEntryResult[] = [];
      if (Array.isArray(v.subscriptions)) {
        for (const e of v.subscriptions) {
          if (!isObj(e)) continue;
          entries.push({
            exchange: str(e.exchange),
            symbol: str(e.symbol),
            ok: e.status === "success",
            message: str(e.message),
          });
        }
      }
      return { kind: "subscribe", entries, message: str(v.message) };
    }
    default:
      if (v.status === "error") {
        return { kind: "error", code: str(v.code), message: str(v.message) };
      }
      return { kind: "other" };
  }
}
