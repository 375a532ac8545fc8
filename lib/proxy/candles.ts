// Live candles for WebSocket clients (`subscribe_candles`): one CandleBook fed by a registry
// consumer holding a Quote subscription per instrument, so candles share the registry's
// refcounting with every other client (one upstream subscription however many subscribers).
// Closed bars are sent once, at once; the forming bar at most once per `formingMs`.

import { getLogger } from "../log.ts";
import {
  type Candle,
  CandleBook,
  type CandleInterval,
  type CandleSeries,
  type CandleSink,
} from "../candles/mod.ts";
import type { Consumer, SubscriptionRegistry } from "../subscriptions/mod.ts";
import { type ErrorCode, instrumentKey, type Mode, type Tick } from "../types.ts";
import type { EntryParse, Request } from "./protocol.ts";

const log = getLogger(["tickplex", "proxy", "candles"]);

/** Candles are built from Quote ticks: they carry the cumulative volume. */
const CANDLE_MODE: Mode = 2;
const CANDLE_DEPTH = 5;
/** How often forming bars go out (and the clock closes bars), ms. */
export const CANDLE_FORMING_MS = 1_000;

/** The part of a WebSocket client the candle feed writes to. */
export interface CandleClient {
  readonly id: string;
  readonly closed: boolean;
  sendControl(frame: string): void;
}

interface Held {
  exchange: string;
  symbol: string;
  interval: CandleInterval;
  series: CandleSeries;
}

type EntryResult = Record<string, unknown>;

/** Tuning of a {@link CandleFeed}. */
export interface CandleFeedOptions {
  /** Interval between forming-bar frames (and clock advances), ms; default 1000. */
  formingMs?: number;
  /** The clock that closes bars and fills flat ones, epoch ms; default `Date.now`. */
  clock?: () => number;
  /**
   * Called with each closed bar of every open series, exactly once per bar, whether or not a client
   * still watches that series (the gateway publishes them on the bus). Forming bars never reach it.
   */
  onClosed?: CandleSink;
  /**
   * Closed bars kept per open series for {@link CandleFeed.bars} (the history endpoint's current
   * session), newest kept; default 500 (a whole NSE day of 1m bars is 375). 0 keeps none.
   */
  retainBars?: number;
}

/** Default of {@link CandleFeedOptions.retainBars}. */
export const CANDLE_RETAIN_BARS = 500;

/** What a candle series holds in memory: its retained closed bars and the forming bar. */
export interface SeriesBars {
  /** Retained closed bars, oldest first (flat bars included). */
  closed: readonly Candle[];
  /** The bar forming now, or null. */
  forming: Candle | null;
}

/**
 * The candle side of the proxy: per-client candle subscriptions over one shared CandleBook.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Gateway } from "../gateway.ts";
 * import { ADAPTERS, adapterOptionsFor } from "../../adapters/mod.ts";
 * import { configSchema } from "../config/mod.ts";
 * // The proxy builds one: `new CandleFeed(registry, broker, maxPerClient)`; clients reach it
 * // through subscribe_candles on a paper gateway here.
 * const gw = await Gateway.start({
 *   config: configSchema.parse({
 *     port: 0, bus: "tcp://127.0.0.1:*", apiKeys: ["a-long-random-client-key"], logLevel: "error",
 *   }),
 *   adapters: ADAPTERS,
 *   adapterOptions: adapterOptionsFor,
 * });
 * const ws = new WebSocket(`ws://127.0.0.1:${gw.proxy.addr.port}`);
 * await new Promise((resolve) => ws.onopen = resolve);
 * const frames: { type: string; status?: string }[] = [];
 * const acked = Promise.withResolvers<void>();
 * ws.onmessage = (e) => {
 *   frames.push(JSON.parse(e.data));
 *   if (frames.at(-1)?.type === "subscribe_candles") acked.resolve();
 * };
 * ws.send(JSON.stringify({ action: "authenticate", api_key: "a-long-random-client-key" }));
 * ws.send(JSON.stringify({
 *   action: "subscribe_candles", symbols: [{ symbol: "TCS", exchange: "NSE" }], interval: "1m",
 * }));
 * await acked.promise;
 * assert.equal(frames.find((f) => f.type === "subscribe_candles")?.status, "success");
 * assert.deepEqual(gw.registry.list().map((k) => `${k.symbol}:${k.mode}`), ["TCS:2"]); // a Quote key
 * ws.close();
 * await gw.stop();
 * ```
 */
export class CandleFeed {
  readonly #registry: SubscriptionRegistry;
  readonly #broker: string;
  readonly #maxPerClient: number;
  readonly #formingMs: number;
  readonly #clock: () => number;
  readonly #onClosed: CandleSink | undefined;
  readonly #book = new CandleBook();
  /** The registry consumer that holds the Quote keys candles are built from. */
  readonly #consumer: Consumer;
  /** Candle subscriptions per instrument, across clients: the registry key is held while > 0. */
  readonly #refs = new Map<string, number>();
  readonly #byClient = new Map<CandleClient, Map<string, Held>>();
  readonly #subscribers = new Map<CandleSeries, Set<CandleClient>>();
  readonly #dirty = new Set<CandleSeries>();
  readonly #retainBars: number;
  /** Closed bars kept per series, oldest first, at most `#retainBars`. */
  readonly #retained = new Map<CandleSeries, Candle[]>();
  #timer: ReturnType<typeof setInterval> | null = null;
  /** Candle frames sent (forming and closed). */
  framesOut = 0;
  /** Late ticks of series already closed. */
  #retiredDropped = 0;

  constructor(
    registry: SubscriptionRegistry,
    broker: string,
    maxPerClient: number,
    options: CandleFeedOptions = {},
  ) {
    this.#registry = registry;
    this.#broker = broker;
    this.#maxPerClient = maxPerClient;
    this.#formingMs = options.formingMs ?? CANDLE_FORMING_MS;
    this.#clock = options.clock ?? Date.now;
    this.#onClosed = options.onClosed;
    this.#retainBars = options.retainBars ?? CANDLE_RETAIN_BARS;
    this.#consumer = {
      id: "candles",
      // Shared by every candle client, so it is never a pre-emption victim (only display is).
      holder: { name: "candles", consumerClass: "monitoring", kind: "in_process" },
      deliver: (tick: Tick) => this.#book.onTick(tick, this.#sink, this.#markDirty),
    };
  }

  /** Candle series open. */
  get size(): number {
    return this.#book.size;
  }

  /** Ticks dropped as late by every series so far (see lib/candles/series.ts). */
  get lateTicks(): number {
    let n = this.#retiredDropped;
    for (const s of this.#book.series()) n += s.late;
    return n;
  }

  /**
   * Answers a `subscribe_candles` / `unsubscribe_candles` request: the reply frame (per-entry
   * results as for subscribe / unsubscribe, `request_id` echoed), then, on subscribe, each entry's
   * forming bar so a chart has the current bar at once.
   */
  async handle(
    client: CandleClient,
    req: Extract<Request, { action: "subscribe_candles" | "unsubscribe_candles" }>,
  ): Promise<void> {
    let reply: Record<string, unknown>;
    if (req.action === "subscribe_candles") {
      const results = await this.subscribe(client, req.entries, req.interval);
      const failed = results.filter((r) => r.status !== "success").length;
      reply = {
        type: "subscribe_candles",
        status: overall(results.length - failed, failed),
        message: "Candle subscription processing complete",
        interval: req.interval,
        broker: this.#broker,
        subscriptions: results,
      };
    } else {
      const r = await this.unsubscribe(client, req.entries, req.interval);
      reply = {
        type: "unsubscribe_candles",
        status: overall(r.successful.length, r.failed.length),
        message: "Candle unsubscription processing complete",
        successful: r.successful,
        failed: r.failed,
        broker: this.#broker,
      };
    }
    if (req.requestId !== undefined) reply.request_id = req.requestId;
    client.sendControl(JSON.stringify(reply));
    if (req.action === "subscribe_candles") this.sendForming(client, req.entries, req.interval);
  }

  /**
   * The bars an open series of (exchange, symbol, interval) holds — what its subscribers have been
   * sent — or null when no client watches that series (nothing is kept for it then).
   */
  bars(exchange: string, symbol: string, interval: CandleInterval): SeriesBars | null {
    const series = this.#book.get(exchange, symbol, interval);
    if (!series) return null;
    return { closed: [...(this.#retained.get(series) ?? [])], forming: series.forming() };
  }

  /** Subscribes `client` to each entry's bars at `interval`; one result per entry. */
  subscribe(
    client: CandleClient,
    entries: EntryParse[],
    interval: CandleInterval,
  ): Promise<EntryResult[]> {
    const byKey = new Map<string, Promise<EntryResult>>();
    return Promise.all(entries.map((e) => {
      if (!e.ok) return Promise.resolve(this.#entryError(e, e.code, e.message));
      const key = `${instrumentKey(e.exchange, e.symbol)}:${interval}`;
      let outcome = byKey.get(key);
      if (!outcome) byKey.set(key, outcome = this.#subscribeOne(client, e, interval, key));
      return outcome;
    }));
  }

  async #subscribeOne(
    client: CandleClient,
    e: { exchange: string; symbol: string },
    interval: CandleInterval,
    key: string,
  ): Promise<EntryResult> {
    let held = this.#byClient.get(client);
    if (held?.has(key)) return this.#success(e, interval);
    if ((held?.size ?? 0) >= this.#maxPerClient) {
      return this.#entryError(
        e,
        "MAX_CAPACITY_REACHED",
        `Per-client limit reached: ${this.#maxPerClient} candle subscriptions`,
      );
    }
    if (!held) this.#byClient.set(client, held = new Map());
    // Count the instrument before awaiting, so a concurrent last release cannot drop the key.
    const ik = instrumentKey(e.exchange, e.symbol);
    this.#refs.set(ik, (this.#refs.get(ik) ?? 0) + 1);
    const series = this.#book.open(e.exchange, e.symbol, interval);
    held.set(key, { exchange: e.exchange, symbol: e.symbol, interval, series });
    const r = await this.#registry.acquire(
      this.#consumer,
      e.exchange,
      e.symbol,
      CANDLE_MODE,
      CANDLE_DEPTH,
    );
    if (!r.ok || client.closed) {
      await this.#drop(client, key);
      return r.ok
        ? this.#entryError(e, "SERVER_ERROR", "Client closed")
        : this.#entryError(e, r.code, r.message);
    }
    let subs = this.#subscribers.get(series);
    if (!subs) this.#subscribers.set(series, subs = new Set());
    subs.add(client);
    this.#timer ??= setInterval(this.#tick, this.#formingMs);
    return this.#success(e, interval);
  }

  /** The candle subscriptions a client holds. */
  list(client: CandleClient): { symbol: string; exchange: string; interval: CandleInterval }[] {
    return [...(this.#byClient.get(client)?.values() ?? [])].map((h) => ({
      symbol: h.symbol,
      exchange: h.exchange,
      interval: h.interval,
    }));
  }

  /** Sends each entry's forming bar, if any, to a client that just subscribed. */
  sendForming(client: CandleClient, entries: EntryParse[], interval: CandleInterval): void {
    const held = this.#byClient.get(client);
    for (const e of entries) {
      if (!e.ok) continue;
      const h = held?.get(`${instrumentKey(e.exchange, e.symbol)}:${interval}`);
      const bar = h?.series.forming();
      if (h && bar) this.#send(client, candleFrame(h.series, bar));
    }
  }

  /** Unsubscribes entries at `interval` (null: every interval held); successful and failed. */
  async unsubscribe(
    client: CandleClient,
    entries: EntryParse[],
    interval: CandleInterval | null,
  ): Promise<{ successful: EntryResult[]; failed: EntryResult[] }> {
    const successful: EntryResult[] = [];
    const failed: EntryResult[] = [];
    const held = this.#byClient.get(client);
    for (const e of entries) {
      if (!e.ok) {
        failed.push(this.#entryError(e, e.code, e.message));
        continue;
      }
      const ik = instrumentKey(e.exchange, e.symbol);
      const keys = [...(held?.values() ?? [])]
        .filter((h) =>
          instrumentKey(h.exchange, h.symbol) === ik &&
          (interval === null || h.interval === interval)
        )
        .map((h) => `${ik}:${h.interval}`);
      if (keys.length === 0) {
        failed.push(this.#entryError(
          e,
          "NOT_SUBSCRIBED",
          `No ${interval ?? ""}${interval ? " " : ""}candles of ${e.symbol} on ${e.exchange}`,
        ));
        continue;
      }
      const intervals = keys.map((k) => k.slice(ik.length + 1));
      await Promise.all(keys.map((k) => this.#drop(client, k)));
      successful.push({
        symbol: e.symbol,
        exchange: e.exchange,
        status: "success",
        intervals,
        broker: this.#broker,
      });
    }
    return { successful, failed };
  }

  /** Releases everything a disconnected client held. */
  async forget(client: CandleClient): Promise<void> {
    const held = this.#byClient.get(client);
    if (!held) return;
    await Promise.all([...held.keys()].map((k) => this.#drop(client, k)));
  }

  /** Stops the forming-bar timer. */
  close(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  async #drop(client: CandleClient, key: string): Promise<void> {
    const held = this.#byClient.get(client);
    const h = held?.get(key);
    if (!held || !h) return;
    held.delete(key);
    if (held.size === 0) this.#byClient.delete(client);
    const subs = this.#subscribers.get(h.series);
    subs?.delete(client);
    const late = h.series.late;
    if (this.#book.close(h.exchange, h.symbol, h.interval)) {
      this.#retiredDropped += late;
      this.#subscribers.delete(h.series);
      this.#dirty.delete(h.series);
      this.#retained.delete(h.series);
    }
    if (this.#book.size === 0) this.close();
    const ik = instrumentKey(h.exchange, h.symbol);
    const refs = (this.#refs.get(ik) ?? 1) - 1;
    if (refs > 0) {
      this.#refs.set(ik, refs);
      return;
    }
    this.#refs.delete(ik);
    const r = await this.#registry.release(this.#consumer, h.exchange, h.symbol, CANDLE_MODE);
    if (!r.ok && r.code !== "NOT_SUBSCRIBED") {
      log.warn("releasing candles of {key} failed: {message}", { key: ik, message: r.message });
    }
  }

  #markDirty = (series: CandleSeries): void => {
    this.#dirty.add(series);
  };

  #sink = (candle: Candle, series: CandleSeries): void => {
    if (this.#retainBars > 0) {
      let kept = this.#retained.get(series);
      if (!kept) this.#retained.set(series, kept = []);
      kept.push(candle);
      if (kept.length > this.#retainBars) kept.shift();
    }
    if (this.#onClosed) {
      try {
        this.#onClosed(candle, series);
      } catch (err) {
        log.error("candle listener failed on {key}: {err}", {
          key: instrumentKey(series.exchange, series.symbol),
          err,
        });
      }
    }
    const subs = this.#subscribers.get(series);
    if (!subs || subs.size === 0) return;
    const frame = candleFrame(series, candle);
    for (const c of subs) this.#send(c, frame);
  };

  #tick = (): void => {
    this.#book.advance(this.#clock(), this.#sink);
    for (const series of this.#dirty) {
      const bar = series.forming();
      const subs = this.#subscribers.get(series);
      if (!bar || !subs) continue;
      const frame = candleFrame(series, bar);
      for (const c of subs) this.#send(c, frame);
    }
    this.#dirty.clear();
  };

  #send(client: CandleClient, frame: string): void {
    if (client.closed) return;
    client.sendControl(frame);
    this.framesOut++;
  }

  #success(e: { exchange: string; symbol: string }, interval: CandleInterval): EntryResult {
    return {
      symbol: e.symbol,
      exchange: e.exchange,
      status: "success",
      interval,
      broker: this.#broker,
    };
  }

  #entryError(
    e: { exchange: unknown; symbol: unknown },
    code: ErrorCode,
    message: string,
  ): EntryResult {
    return {
      symbol: e.symbol,
      exchange: e.exchange,
      status: "error",
      code,
      message,
      broker: this.#broker,
    };
  }
}

/**
 * The `candle` frame of a bar of a series.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CandleSeries } from "../candles/mod.ts";
 * import { candleFrame } from "./candles.ts";
 * const s = new CandleSeries("NSE", "TCS", "1m");
 * const bar = { time: 0, open: 1, high: 2, low: 1, close: 2, volume: 5, closed: true };
 * assert.equal(JSON.parse(candleFrame(s, bar)).data.volume, 5);
 * ```
 */
export function candleFrame(series: CandleSeries, bar: Candle): string {
  return JSON.stringify({
    type: "candle",
    symbol: series.symbol,
    exchange: series.exchange,
    interval: series.interval,
    data: bar,
  });
}

function overall(succeeded: number, failed: number): "success" | "partial" | "error" {
  return failed === 0 ? "success" : succeeded === 0 ? "error" : "partial";
}
