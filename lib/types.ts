// Core domain types shared by every component: modes, instruments, normalised ticks, feed states
// and the error-code catalogue of the client protocol.

/** Subscription mode: 1 = LTP, 2 = Quote, 3 = Depth. Higher modes carry every lower mode's fields. */
export type Mode = 1 | 2 | 3;

/** All modes, lowest first. */
export const MODES: readonly Mode[] = [1, 2, 3];

/** Labels used in acks and bus topics. */
export const MODE_LABEL: Readonly<Record<Mode, "LTP" | "Quote" | "Depth">> = {
  1: "LTP",
  2: "Quote",
  3: "Depth",
};

/** Upper-case mode names used in bus topics (`NSE_RELIANCE_QUOTE`). */
export const MODE_TOPIC: Readonly<Record<Mode, "LTP" | "QUOTE" | "DEPTH">> = {
  1: "LTP",
  2: "QUOTE",
  3: "DEPTH",
};

/** One price level of market depth. `orders` is null when the broker does not send it. */
export interface DepthLevel {
  price: number;
  quantity: number;
  orders: number | null;
}

/** Market depth, best level first on each side. */
export interface Depth {
  buy: DepthLevel[];
  sell: DepthLevel[];
}

/**
 * A normalised tick, as every adapter emits it. Field names are the client protocol's `data`
 * field names. A field the broker does not provide is `null`, never a fabricated 0.
 * `mode` says how rich the tick is: an LTP tick only guarantees the LTP fields.
 */
export interface Tick {
  exchange: string;
  symbol: string;
  mode: Mode;
  ltp: number;
  /** Exchange last-trade time, epoch ms. */
  ltt: number | null;
  /** Packet time (exchange time when the broker sends it, else receive time), epoch ms. */
  timestamp: number;
  open: number | null;
  high: number | null;
  low: number | null;
  /** Previous session close. */
  close: number | null;
  volume: number | null;
  last_trade_quantity: number | null;
  avg_trade_price: number | null;
  total_buy_quantity: number | null;
  total_sell_quantity: number | null;
  oi: number | null;
  change: number | null;
  change_percent: number | null;
  depth: Depth | null;
}

/**
 * `EXCHANGE:SYMBOL` — the key of an instrument regardless of mode: the one format every string
 * keyed by instrument uses (registry locks, pool, conflation, dedupe, logs). Hot paths that only
 * look an instrument up use `InstrumentMap` (lib/instrument_map.ts) and build no string at all.
 */
export type InstrumentKey = string;

/**
 * Builds the instrument key for an exchange and symbol.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { instrumentKey } from "./types.ts";
 * assert.equal(instrumentKey("NSE", "RELIANCE"), "NSE:RELIANCE");
 * ```
 */
export function instrumentKey(exchange: string, symbol: string): InstrumentKey {
  return `${exchange}:${symbol}`;
}

/** `EXCHANGE:SYMBOL:mode` — one subscription: an {@link InstrumentKey} at a mode. */
export type SubscriptionKey = string;

/**
 * Builds the subscription key of an instrument at a mode.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { subscriptionKey } from "./types.ts";
 * assert.equal(subscriptionKey("NSE", "RELIANCE", 2), "NSE:RELIANCE:2");
 * ```
 */
export function subscriptionKey(exchange: string, symbol: string, mode: Mode): SubscriptionKey {
  return `${instrumentKey(exchange, symbol)}:${mode}`;
}

// Connection states live beside their ranking and the connection status types.
export { FEED_STATES, type FeedState } from "./feed_state.ts";

/**
 * The error-code catalogue of the client protocol; every failure in tickplex carries one. The one
 * list: {@link ErrorCode} and the worker-message schema are derived from it.
 */
export const ERROR_CODES = [
  "INVALID_JSON",
  "INVALID_MESSAGE",
  "INVALID_ACTION",
  "INVALID_PARAMETERS",
  "INVALID_MODE",
  "INVALID_DEPTH",
  "NOT_AUTHENTICATED",
  "AUTHENTICATION_ERROR",
  "RATE_LIMITED",
  "SYMBOL_NOT_FOUND",
  "MAX_CAPACITY_REACHED",
  "NOT_SUBSCRIBED",
  "DOWNGRADE_FAILED",
  "BROKER_ERROR",
  "SERVER_ERROR",
] as const;

/** A code of the {@link ERROR_CODES} catalogue. */
export type ErrorCode = typeof ERROR_CODES[number];

/** The result of an operation that can fail with a catalogue code. */
export type Outcome<T = Record<never, never>> =
  | ({ ok: true } & T)
  | { ok: false; code: ErrorCode; message: string };

/** What an adapter declares about its broker; the pool enforces it, config may only lower it. */
export interface Capabilities {
  broker: string;
  /** host:port pairs (or hostnames) the adapter worker may reach; nothing else. */
  hosts: string[];
  /** Files the adapter worker may read (instrument masters). */
  readPaths: string[];
  maxSymbolsPerConnection: number;
  maxConnections: number;
  maxTokensPerFrame: number;
  /** Depth levels the broker can deliver per exchange; `*` is the default. */
  depthLevels: Record<string, number[]>;
  /** The broker's REST multi-quote API, when the adapter implements it (the poller's path). */
  quotes?: QuoteCapability;
}

/**
 * What a broker's REST quote API allows: instruments per request (per mode, since LTP-only
 * endpoints often take more) and requests per second over all its quote endpoints together.
 */
export interface QuoteCapability {
  /** Most instruments in one request at each mode (Kite: LTP 1000, quote 500). */
  maxInstruments: Readonly<Record<Mode, number>>;
  /** Quote requests the broker allows per second (Kite: 1). */
  requestsPerSecond: number;
}

/** Epoch milliseconds now. */
export type Clock = () => number;

/**
 * A tick with only the LTP fields set and every other field null — the base every adapter fills
 * in for richer modes (a field the broker does not send stays null, never a fabricated 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const t = baseTick("NSE", "RELIANCE", 1, 2940.7, null, 1_700_000_000_000);
 * assert.equal(t.ltp, 2940.7);
 * assert.equal(t.volume, null);
 * assert.equal(t.depth, null);
 * ```
 */
export function baseTick(
  exchange: string,
  symbol: string,
  mode: Mode,
  ltp: number,
  ltt: number | null,
  timestamp: number,
): Tick {
  return {
    exchange,
    symbol,
    mode,
    ltp,
    ltt,
    timestamp,
    open: null,
    high: null,
    low: null,
    close: null,
    volume: null,
    last_trade_quantity: null,
    avg_trade_price: null,
    total_buy_quantity: null,
    total_sell_quantity: null,
    oi: null,
    change: null,
    change_percent: null,
    depth: null,
  };
}

/** The Quote-mode fields a tick adds to the LTP fields, in protocol order. */
export const QUOTE_FIELDS = [
  "open",
  "high",
  "low",
  "close",
  "volume",
  "last_trade_quantity",
  "avg_trade_price",
  "total_buy_quantity",
  "total_sell_quantity",
  "oi",
  "change",
  "change_percent",
] as const satisfies readonly (keyof Tick)[];
