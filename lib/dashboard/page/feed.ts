// The page's WebSocket connection to the gateway: same host and port as the page, ws:// or wss://
// to match it; authenticates with batched frames, (re)subscribes the watchlist, reconnects with
// backoff, and hands typed messages to the page.

import type { CandleInterval } from "../../candles/mod.ts";
import {
  authFrame,
  type CandleUpdate,
  type Instrument,
  type MarketTick,
  parseServerMessage,
  subscribeCandlesFrame,
  type SubscribeEntryResult,
  subscribeFrame,
  unsubscribeCandlesFrame,
  unsubscribeFrame,
} from "./protocol.ts";
import type { WatchItem } from "./watchlist.ts";

/** Instruments per subscribe frame (well under the gateway's per-request limit). */
const CHUNK = 1000;

/** What the connection is doing, for the header. */
export type FeedPhase = "connecting" | "authenticating" | "live" | "offline" | "stopped";

/** Callbacks of a {@link FeedClient}. */
export interface FeedHandlers {
  onPhase(phase: FeedPhase, detail: string): void;
  /** Authentication answered; a refusal stops the client (no retry with a bad key). */
  onAuth(ok: boolean, broker: string, message: string): void;
  onTicks(ticks: MarketTick[]): void;
  onSubscribed(entries: SubscribeEntryResult[]): void;
  onError(code: string, message: string): void;
  /** Authenticated and the watchlist subscribed: candle subscriptions are (re)made now. */
  onLive?(): void;
  /** A forming or closed bar of a candle subscription. */
  onCandle?(candle: CandleUpdate): void;
  /** The reply to a `subscribe_candles`. */
  onCandlesSubscribed?(interval: string, entries: SubscribeEntryResult[]): void;
}

/** The WebSocket URL of the page's own gateway. */
export function feedUrl(loc: Location = location): string {
  return `${loc.protocol === "https:" ? "wss:" : "ws:"}//${loc.host}/`;
}

/**
 * One WebSocket to the gateway, kept open until {@link stop}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Gateway } from "../../gateway.ts";
 * import { ADAPTERS, adapterOptionsFor } from "../../../adapters/mod.ts";
 * import { configSchema } from "../../config/mod.ts";
 * const gw = await Gateway.start({
 *   config: configSchema.parse({
 *     port: 0, bus: "tcp://127.0.0.1:*", apiKeys: ["a-long-random-client-key"], logLevel: "error",
 *   }),
 *   adapters: ADAPTERS,
 *   adapterOptions: adapterOptionsFor,
 * });
 * // The page's own gateway: feedUrl() is ws://<host>/ for the page's location.
 * const url = feedUrl({ protocol: "http:", host: `127.0.0.1:${gw.proxy.addr.port}` } as Location);
 * const firstTicks = Promise.withResolvers<string>();
 * const feed = new FeedClient(url, "a-long-random-client-key", () => [
 *   { exchange: "NSE", symbol: "TCS", mode: 1 },
 * ], {
 *   onPhase: () => {},
 *   onAuth: (ok) => assert.ok(ok),
 *   onTicks: (ticks) => firstTicks.resolve(ticks[0].symbol),
 *   onSubscribed: () => {},
 *   onError: (code, message) => firstTicks.reject(new Error(`${code}: ${message}`)),
 * });
 * feed.start();
 * assert.equal(await firstTicks.promise, "TCS");
 * feed.stop();
 * await gw.stop();
 * ```
 */
export class FeedClient {
  #url: string;
  #key: string;
  #watched: () => WatchItem[];
  #h: FeedHandlers;
  #ws: WebSocket | null = null;
  #live = false;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;

  constructor(url: string, apiKey: string, watched: () => WatchItem[], handlers: FeedHandlers) {
    this.#url = url;
    this.#key = apiKey;
    this.#watched = watched;
    this.#h = handlers;
  }

  /** Opens the connection (and keeps reopening it). */
  start(): void {
    this.#stopped = false;
    this.#open();
  }

  /** Closes for good. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#ws?.close(1000, "dashboard closed");
    this.#ws = null;
    this.#live = false;
    this.#h.onPhase("stopped", "");
  }

  /** Subscribes now when live; otherwise the next authentication subscribes everything watched. */
  subscribe(items: readonly WatchItem[]): void {
    if (!this.#live) return;
    for (let i = 0; i < items.length; i += CHUNK) {
      this.#ws?.send(subscribeFrame(items.slice(i, i + CHUNK)));
    }
  }

  /** Unsubscribes (each item at its mode) when live. */
  unsubscribe(items: readonly WatchItem[]): void {
    if (!this.#live) return;
    for (let i = 0; i < items.length; i += CHUNK) {
      this.#ws?.send(unsubscribeFrame(items.slice(i, i + CHUNK)));
    }
  }

  /** Subscribes one instrument's bars at `interval` when live (else {@link FeedHandlers.onLive}). */
  subscribeCandles(item: Instrument, interval: CandleInterval): void {
    if (this.#live) this.#ws?.send(subscribeCandlesFrame(item, interval));
  }

  /** Releases one instrument's bars at `interval` when live (a new connection holds none). */
  unsubscribeCandles(item: Instrument, interval: CandleInterval): void {
    if (this.#live) this.#ws?.send(unsubscribeCandlesFrame(item, interval));
  }

  #open(): void {
    this.#h.onPhase("connecting", "");
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.#url);
    } catch (err) {
      this.#retry(err instanceof Error ? err.message : String(err));
      return;
    }
    this.#ws = ws;
    ws.onopen = () => {
      this.#h.onPhase("authenticating", "");
      ws.send(authFrame(this.#key));
    };
    ws.onmessage = (e) => {
      if (typeof e.data !== "string" || ws !== this.#ws) return;
      const m = parseServerMessage(e.data);
      switch (m.kind) {
        case "ticks":
          if (m.ticks.length > 0) this.#h.onTicks(m.ticks);
          return;
        case "auth":
          this.#h.onAuth(m.ok, m.broker, m.message);
          if (!m.ok) {
            this.stop();
            return;
          }
          this.#live = true;
          this.#attempt = 0;
          this.#h.onPhase("live", m.broker);
          this.subscribe(this.#watched());
          this.#h.onLive?.();
          return;
        case "candle":
          this.#h.onCandle?.(m.candle);
          return;
        case "subscribe_candles":
          this.#h.onCandlesSubscribed?.(m.interval, m.entries);
          return;
        case "subscribe":
          this.#h.onSubscribed(m.entries);
          return;
        case "error":
          this.#h.onError(m.code, m.message);
          return;
      }
    };
    ws.onclose = (e) => {
      if (ws !== this.#ws) return;
      this.#ws = null;
      this.#live = false;
      if (this.#stopped) return;
      this.#retry(e.reason || `closed (${e.code})`);
    };
  }

  #retry(why: string): void {
    const delay = Math.min(15_000, 1000 * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 4);
    this.#h.onPhase("offline", `${why}; retrying in ${Math.round(delay / 1000)} s`);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (!this.#stopped) this.#open();
    }, delay);
  }
}
