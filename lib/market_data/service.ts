// MarketDataService: the in-process consumer API of the gateway. It is fed every tick batch and
// every connection state change by the gateway, keeps the live cache and ring buffer, dispatches to
// priority subscribers, and runs the trade-management safety gate from the pool's real status.

import { z } from "zod";
import { getLogger } from "../log.ts";
import type { ConnectionStatus } from "../feed_state.ts";
import type { LtpData, QuoteData } from "../project.ts";
import type { Clock, FeedState, Mode, Tick } from "../types.ts";
import { TickCache } from "./cache.ts";
import { dispatchTick, offerSnapshots, replayHeld } from "./dispatch.ts";
import { FeedWatch, type ReplayRange } from "./feed_watch.ts";
import type { SafetyGate } from "./gate.ts";
import { healthReport } from "./health.ts";
import { handleMarketDataHttp } from "./http.ts";
import { metricsText, writeMetrics } from "./metrics.ts";
import type { PrometheusText } from "../metrics/mod.ts";
import { type ServiceOptions, serviceOptionsSchema, subscribeOptionsSchema } from "./options.ts";
import { acquireAll, dedupe, releaseAll } from "./registration.ts";
import { RecentTicks } from "./ring.ts";
import { SubscriberRoutes } from "./routes.ts";
import type { IngestCounters, ServiceSnapshot } from "./snapshot.ts";
import { type DispatchCounters, Subscriber } from "./subscriber.ts";
import type {
  Cached,
  DepthSnapshot,
  GateEvent,
  HealthReport,
  Instrument,
  InstrumentSnapshot,
  MarketDataRegistry,
  MarketDataServiceOptions,
  RecentTick,
  SubscribeOptions,
  SubscriberStats,
  SubscriptionHandle,
  TickFlags,
  TradeSafeReport,
  TradeSafety,
} from "./types.ts";
import { NO_FLAGS, REJECT_REASONS, type RejectReason, validateTick } from "./validate.ts";
import { WarningLimiter } from "./warnings.ts";

export { MarketDataSubscribeError, type SubscribeFailure } from "./registration.ts";

const log = getLogger(["tickplex", "market_data"]);

/** How long unsubscribe/close wait for a callback that is still running. */
const CLOSE_WAIT_MS = 2_000;

/**
 * The MarketDataService.
 *
 * Wiring (the gateway does this): `pool.onticks` → {@link onTicks}, `pool.onstatus` →
 * {@link onFeedStatus}, {@link start} once, {@link handleHttp} first in the HTTP handler,
 * {@link metricsText} appended to `/metrics`, {@link close} on shutdown before the pool closes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { baseTick } from "../types.ts";
 * import type { ConnectionStatus } from "../feed_state.ts";
 * // In the gateway: `{ registry, feed: pool }`. Here an in-memory broker and a clock we move.
 * let now = 1_700_000_000_000;
 * const held: string[] = [];
 * const registry = {
 *   acquire: (_c: unknown, exchange: string, symbol: string) => {
 *     held.push(`${exchange}:${symbol}`);
 *     return Promise.resolve({ ok: true as const });
 *   },
 *   release: () => Promise.resolve({ ok: true as const }),
 * };
 * const conn: ConnectionStatus = {
 *   index: 0, state: "connected", symbols: 1, capacity: 1000, restarts: 0, reconnects: 0,
 *   lastTickAt: null, ticks: 0,
 * };
 * const feed = { status: () => [conn] };
 * const mds = new MarketDataService({ registry, feed, clock: () => now });
 * const tick = (ltp: number) => ({ ...baseTick("NSE", "RELIANCE", 1, ltp, now, now) });
 * // The gateway wires: pool.onticks → mds.onTicks, pool.onstatus → mds.onFeedStatus; mds.start().
 * const stop = 2_450;
 * const exits: number[] = [];
 * const watcher = await mds.subscribe({
 *   priority: "CRITICAL",
 *   kind: "ltp",
 *   symbols: [{ exchange: "NSE", symbol: "RELIANCE" }],
 *   name: "stoploss",
 *   holdWhilePaused: true,
 *   callback: ({ data }) => {
 *     if (data.ltp <= stop && mds.isTradeManagementSafe().safe) exits.push(data.ltp);
 *   },
 * });
 * assert.deepEqual(held, ["NSE:RELIANCE"], "a real broker subscription");
 * mds.onTicks([tick(2_460), tick(2_449)]); // CRITICAL runs inside onTicks
 * assert.deepEqual(exits, [2_449]);
 * conn.state = "reconnecting";
 * mds.onFeedStatus(0, "reconnecting");
 * assert.equal(mds.isTradeManagementSafe().safe, false); // connection lost: paused
 * await watcher.unsubscribe();
 * await mds.close();
 * ```
 */
export class MarketDataService {
  readonly #registry: MarketDataRegistry;
  readonly #clock: Clock;
  readonly #opts: ServiceOptions;
  readonly #cache = new TickCache();
  readonly #recent: RecentTicks;
  readonly #watch: FeedWatch;
  readonly #gate: SafetyGate;
  readonly #startedAt: number;
  readonly #subs = new SubscriberRoutes();
  #nextSubscriber = 1;

  /** Sequence number of the latest accepted tick. */
  #seq = 0;
  #lastDataAt: number | null = null;
  #counters: IngestCounters = {
    ticks: 0,
    rejected: Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>,
    depthOnly: 0,
    jumps: 0,
    staleExchangeTime: 0,
  };
  #totals: DispatchCounters = { delivered: 0, errors: 0, dropped: 0, replayed: 0 };
  #warnings = new WarningLimiter();
  #timer: ReturnType<typeof setInterval> | null = null;
  #closed = false;

  /** Validates the options (RangeError/TypeError when invalid); starts nothing. */
  constructor(options: MarketDataServiceOptions) {
    const parsed = serviceOptionsSchema.safeParse(options);
    if (!parsed.success) {
      throw new RangeError(`invalid MarketDataService options: ${z.prettifyError(parsed.error)}`);
    }
    if (typeof options.registry?.acquire !== "function") {
      throw new TypeError("MarketDataService needs a registry with acquire/release");
    }
    if (typeof options.feed?.status !== "function") {
      throw new TypeError("MarketDataService needs a feed with status()");
    }
    this.#registry = options.registry;
    this.#clock = options.clock ?? Date.now;
    this.#opts = parsed.data;
    this.#recent = new RecentTicks(this.#opts.ring);
    this.#startedAt = this.#clock();
    this.#watch = new FeedWatch(options.feed, this.#opts.staleAfterMs, this.#startedAt);
    this.#gate = this.#watch.gate;
  }

  // ---- feed input -------------------------------------------------------------------------------

  /**
   * Takes one tick batch from the pool (call it for every batch). Valid ticks update the cache and
   * the ring buffer and are dispatched: CRITICAL then HIGH callbacks run before this returns,
   * NORMAL and LOW ones are queued. Invalid ticks are counted and dropped.
   */
  onTicks(ticks: readonly Tick[]): void {
    if (this.#closed) return;
    if (!Array.isArray(ticks)) {
      this.#warnings.warn("batch", "", "", "onTicks expects an array of ticks; ignored", {});
      return;
    }
    const now = this.#clock();
    for (let i = 0; i < ticks.length; i++) this.#ingest(ticks[i], now);
  }

  /**
   * Takes a connection state change from the pool (call it from `pool.onstatus`). A lost
   * connection pauses trade management at once, without waiting for the monitor.
   */
  onFeedStatus(index: number, state: FeedState): void {
    if (this.#closed) return;
    this.#evaluate(this.#clock(), { index, state });
  }

  // ---- monitor ----------------------------------------------------------------------------------

  /** Starts the monitor: {@link check} every `checkIntervalMs`. The timer never keeps the process alive. */
  start(): void {
    if (this.#timer !== null || this.#closed) return;
    const timer = setInterval(() => {
      try {
        this.check();
      } catch (err) {
        log.error("market-data monitor check failed: {err}", { err });
      }
    }, this.#opts.checkIntervalMs);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  /**
   * One monitor pass, synchronously: re-reads the pool status, pauses on silence or a lost
   * connection, expires idle cache entries and old ring-buffer ticks, opens a new log window.
   */
  check(): TradeSafety {
    const now = this.#clock();
    this.#evaluate(now);
    this.#cache.sweep(now, this.#opts.entryIdleMs);
    this.#recent.sweep(now);
    this.#warnings.reset();
    for (const s of this.#subs.all()) s.resetLogWindow();
    return this.#gate.safety();
  }

  /**
   * Stops the monitor, stops every subscriber (waiting briefly for running callbacks) and releases
   * their registry subscriptions. Call before the pool closes.
   */
  async close(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#closed = true;
    await Promise.all(this.#subs.all().map((s) => this.#unsubscribe(s)));
  }

  /** Same as {@link close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Resolves once every NORMAL/LOW queue is empty and no queued callback is running. */
  async idle(): Promise<void> {
    for (;;) {
      await Promise.all(this.#subs.all().map((s) => s.idle()));
      if (!this.#subs.all().some((s) => s.stats().queued > 0)) return;
    }
  }

  // ---- safety gate ------------------------------------------------------------------------------

  /**
   * Whether live trade management may act: `{ safe: true, reason: "" }`, or `safe: false` with
   * `Data is stale - trade management paused for safety` or
   * `Connection lost - trade management paused for safety`. Re-assesses the feed on every call.
   */
  isTradeManagementSafe(): TradeSafety {
    this.#evaluate(this.#clock());
    return this.#gate.safety();
  }

  /**
   * Calls `listener` on every gate transition (pause, change of pause reason, release). Returns a
   * function that removes it. Listeners run synchronously; their errors are logged and ignored.
   */
  onGateChange(listener: (event: GateEvent) => void): () => void {
    return this.#gate.onChange(listener);
  }

  // ---- cache ------------------------------------------------------------------------------------

  /** Latest LTP of an instrument (refreshed by ticks of every mode), or null. */
  getLtp(exchange: string, symbol: string): Cached<LtpData> | null {
    return this.#cache.getLtp(exchange, symbol);
  }

  /**
   * The latest accepted tick carrying every field of `mode`, as the feed sent it, or null (see
   * {@link TickCache.latestTick}). Not counted as a cache read.
   */
  latestTick(exchange: string, symbol: string, mode: Mode): Tick | null {
    return this.#cache.latestTick(exchange, symbol, mode);
  }

  /** Latest quote of an instrument (refreshed by Quote and Depth ticks), or null. */
  getQuote(exchange: string, symbol: string): Cached<QuoteData> | null {
    return this.#cache.getQuote(exchange, symbol);
  }

  /** Latest depth of an instrument, or null. */
  getDepth(exchange: string, symbol: string): Cached<DepthSnapshot> | null {
    return this.#cache.getDepth(exchange, symbol);
  }

  /** Everything cached for each instrument, in the order asked (null where nothing is cached). */
  getMany(instruments: readonly Instrument[]): (InstrumentSnapshot | null)[] {
    return this.#cache.getMany(instruments);
  }

  /**
   * True when the instrument's latest tick was received within `maxAgeMs` (default
   * `staleAfterMs`). See {@link isFeedFresh} for the whole feed.
   */
  isFresh(exchange: string, symbol: string, maxAgeMs: number = this.#opts.staleAfterMs): boolean {
    return this.#cache.isFresh(exchange, symbol, maxAgeMs, this.#clock());
  }

  /** True when any valid data was received within `maxAgeMs` (default `staleAfterMs`). */
  isFeedFresh(maxAgeMs: number = this.#opts.staleAfterMs): boolean {
    return this.#lastDataAt !== null && this.#clock() - this.#lastDataAt <= maxAgeMs;
  }

  /**
   * Recent accepted ticks of an instrument, oldest first, received at or after `since` (epoch ms);
   * bounded by the ring's size and age.
   */
  recent(exchange: string, symbol: string, options: { since?: number } = {}): RecentTick[] {
    return this.#recent.recent(exchange, symbol, options.since, this.#clock());
  }

  // ---- subscribers ------------------------------------------------------------------------------

  /**
   * Adds a priority subscriber. With `symbols`, it takes a registry subscription per instrument
   * at the kind's mode (ltp 1, quote 2, depth/all 3) so the broker streams them; all-or-nothing:
   * if any is refused, the rest are released and the promise rejects with
   * {@link MarketDataSubscribeError}. Without `symbols` it receives every tick of its kind and
   * subscribes nothing. Invalid options reject with a TypeError.
   *
   * Last value on subscribe (option `snapshotOnSubscribe`, default on): a subscriber with
   * `symbols` first receives, per instrument already cached, its latest tick with
   * `snapshot: true`; then live ticks (`snapshot: false`). CRITICAL/HIGH callbacks get it inline,
   * before this promise resolves; NORMAL/LOW through their queue, where a newer live tick replaces
   * it. Not sent while the gate pauses a `holdWhilePaused` subscriber.
   */
  async subscribe(options: SubscribeOptions): Promise<SubscriptionHandle> {
    if (this.#closed) throw new Error("MarketDataService is closed");
    const parsed = subscribeOptionsSchema.safeParse(options);
    if (!parsed.success) {
      throw new TypeError(`invalid subscribe options: ${z.prettifyError(parsed.error)}`);
    }
    if (typeof options.callback !== "function") {
      throw new TypeError("invalid subscribe options: callback must be a function");
    }
    if (options.onRevoked !== undefined && typeof options.onRevoked !== "function") {
      throw new TypeError("invalid subscribe options: onRevoked must be a function");
    }
    const o = parsed.data;
    const seq = this.#nextSubscriber++;
    const sub = new Subscriber({
      id: `mds-${seq}-${o.name}`,
      seq,
      name: o.name,
      priority: o.priority,
      kind: o.kind,
      symbols: o.symbols ? dedupe(o.symbols) : null,
      callback: options.callback,
      hold: o.holdWhilePaused,
      replay: o.replayOnResume,
      queueLimit: this.#opts.queueLimit,
      replayLimit: this.#opts.replayLimit,
      totals: this.#totals,
      consumerClass: o.consumerClass,
      onRevoked: options.onRevoked,
    });
    await acquireAll(this.#registry, sub, o.depth);
    if (this.#closed) {
      await releaseAll(this.#registry, sub);
      throw new Error("MarketDataService is closed");
    }
    if (sub.symbols && this.#subs.symbolSubscribers === 0) {
      this.#watch.firstSubscriber(this.#clock());
    }
    this.#subs.add(sub);
    // After add: a tick dispatched from here on reaches the subscriber after its snapshot.
    if (this.#opts.snapshotOnSubscribe) {
      offerSnapshots(
        sub,
        (e, s, m) => this.#cache.latest(e, s, m),
        this.#gate.cause !== null,
      );
    }
    log.info("subscriber {name} added ({priority}, {kind}, {n} instruments)", {
      name: sub.name,
      priority: sub.priority,
      kind: sub.kind,
      n: sub.symbols?.length ?? "all",
    });
    let done: Promise<void> | null = null;
    const handle: SubscriptionHandle = {
      id: sub.id,
      name: sub.name,
      unsubscribe: () => done ??= this.#unsubscribe(sub),
      stats: () => sub.stats(),
      [Symbol.asyncDispose]: () => handle.unsubscribe(),
    };
    return handle;
  }

  /** Counters of every active subscriber, highest priority first. */
  subscribers(): SubscriberStats[] {
    return this.#subs.stats();
  }

  // ---- reports ----------------------------------------------------------------------------------

  /** The body of `GET /api/v1/health`. Re-assesses the feed first, like {@link isTradeManagementSafe}. */
  health(): HealthReport {
    return healthReport(this.#snapshot());
  }

  /** The body of `GET /api/v1/trade-safe`. Re-assesses the feed first. */
  tradeSafe(): TradeSafeReport {
    const { safe, reason } = this.isTradeManagementSafe();
    return { safe, reason, data_fresh: this.isFeedFresh() };
  }

  /**
   * Answers `GET /api/v1/health` and `GET /api/v1/trade-safe` (405 for other methods); null for
   * any other path.
   */
  handleHttp(req: Request): Response | null {
    return handleMarketDataHttp(this, req);
  }

  /** The service's metrics in Prometheus text format, every name prefixed `tickplex_mds_`. */
  metricsText(): string {
    return metricsText(this.#snapshot());
  }

  /** Writes the service's metric families into the gateway's /metrics document. */
  writeMetrics(out: PrometheusText): void {
    writeMetrics(this.#snapshot(), out);
  }

  // ---- internals --------------------------------------------------------------------------------

  /** Re-assesses the feed, then reads every figure the reports show. */
  #snapshot(): ServiceSnapshot {
    const now = this.#clock();
    const connections = this.#evaluate(now);
    return {
      now,
      startedAt: this.#startedAt,
      connections,
      safety: this.#gate.safety(),
      pausedSince: this.#gate.pausedSince,
      gate: { ...this.#gate.counters },
      connectionLosses: this.#watch.connectionLosses,
      reconnects: this.#watch.reconnects,
      dataFresh: this.isFeedFresh(),
      lastDataAt: this.#lastDataAt,
      cache: {
        size: this.#cache.size,
        hits: this.#cache.hits,
        misses: this.#cache.misses,
        expired: this.#cache.expired,
      },
      ringEntries: this.#recent.entries,
      subscribers: this.#subs.stats(),
      ingest: this.#counters,
      dispatch: this.#totals,
    };
  }

  #previousLtp = (exchange: string, symbol: string): number | null =>
    this.#cache.lastLtp(exchange, symbol);

  #ingest(raw: Tick, now: number): void {
    const v = validateTick(raw, this.#previousLtp, now, this.#opts);
    if (v.kind === "reject") {
      this.#counters.rejected[v.reason]++;
      this.#warnings.warn(
        "reject",
        v.exchange ?? "?",
        v.symbol ?? "?",
        "rejected tick for {key}: {reason}",
        { reason: v.reason },
      );
      return;
    }
    if (v.kind === "depth_only") {
      this.#counters.depthOnly++;
      this.#cache.updateDepthOnly(v.tick, v.exchangeTime, now);
      this.#lastDataAt = now;
      this.#warnings.warn(
        "depth",
        v.tick.exchange,
        v.tick.symbol,
        "depth update without valid LTP for {key}",
        { reason: v.reason },
      );
      return;
    }
    const { tick, flags } = v;
    this.#cache.update(tick, flags, v.exchangeTime, now);
    if (flags !== NO_FLAGS) this.#noteFlags(tick, flags, now - v.exchangeTime);
    this.#counters.ticks++;
    const seq = ++this.#seq;
    // Recent ticks are kept for instruments the service's subscribers watch (or for all, when
    // configured): buffering every streamed symbol would cost ringSize ticks × thousands of symbols.
    if (
      this.#opts.ringAllSymbols || this.#subs.hasWildcards ||
      this.#subs.watches(tick.exchange, tick.symbol)
    ) this.#recent.push({ seq, tick, flags, receivedAt: now }, now);
    this.#lastDataAt = now;
    if (this.#gate.cause !== null && !flags.staleExchangeTime) {
      this.#replay(this.#watch.freshTick(now, seq));
    }
    dispatchTick(
      this.#subs.route(tick.exchange, tick.symbol),
      tick,
      flags,
      this.#gate.cause !== null,
    );
  }

  #noteFlags(tick: Tick, flags: TickFlags, ageMs: number): void {
    if (flags.jump !== undefined) {
      this.#counters.jumps++;
      this.#warnings.warn(
        "jump",
        tick.exchange,
        tick.symbol,
        "large price change on {key}: {pct}%",
        { pct: flags.jump },
      );
    }
    if (flags.staleExchangeTime) {
      this.#counters.staleExchangeTime++;
      this.#warnings.warn("old", tick.exchange, tick.symbol, "tick for {key} is {s} s old", {
        s: Math.round(ageMs / 1000),
      });
    }
  }

  #replay(range: ReplayRange | null): void {
    if (range) replayHeld(this.#subs.sorted(), this.#recent, range.after, range.before);
  }

  async #unsubscribe(sub: Subscriber): Promise<void> {
    // Removed from dispatch synchronously: no callback starts after unsubscribe() is called.
    if (!this.#subs.delete(sub)) return;
    await sub.close(CLOSE_WAIT_MS);
    await releaseAll(this.#registry, sub);
    log.info("subscriber {name} removed", { name: sub.name });
  }

  /**
   * Re-assesses the feed (see {@link FeedWatch.evaluate}), replays held subscribers if that
   * released the gate, and returns the connection list it used.
   */
  #evaluate(now: number, override?: { index: number; state: FeedState }): ConnectionStatus[] {
    const { connections, replay } = this.#watch.evaluate(now, {
      symbolSubscribers: this.#subs.symbolSubscribers,
      lastDataAt: this.#lastDataAt,
      seq: this.#seq,
    }, override);
    this.#replay(replay);
    return connections;
  }
}
