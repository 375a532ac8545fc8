// MarketDataService: the in-process consumer API of the gateway. It is fed every tick batch and
// every connection state change by the gateway, keeps the live cache and ring buffer, dispatches to
// priority subscribers, and runs the trade-management safety gate from the pool's real status.

import { z } from "zod";
import { getLogger } from "../log.ts";
import type { ConnectionStatus } from "../pool/pool.ts";
import { type DepthData, type LtpData, projectTick, type QuoteData } from "../project.ts";
import {
  type Clock,
  type ErrorCode,
  FEED_STATES,
  type FeedState,
  type Mode,
  type Outcome,
  type Tick,
} from "../types.ts";
import { TickCache } from "./cache.ts";
import { aggregateFeedState, assessFeed, connectionLost, SafetyGate } from "./gate.ts";
import { handleMarketDataHttp } from "./http.ts";
import { InstrumentMap } from "./instrument_map.ts";
import { PrometheusText, type Sample } from "./prometheus.ts";
import { RecentTicks } from "./ring.ts";
import { type DispatchCounters, queueKey, Subscriber } from "./subscriber.ts";
import {
  type Cached,
  type DepthSnapshot,
  type GateEvent,
  type HealthReport,
  type Instrument,
  type InstrumentSnapshot,
  KIND_MODE,
  type MarketDataRegistry,
  type MarketDataServiceOptions,
  type MarketDataUpdate,
  PRIORITIES,
  type Priority,
  type RecentTick,
  type SubscribeOptions,
  type SubscriberStats,
  type SubscriptionHandle,
  type TickFlags,
  type TradeSafeReport,
  type TradeSafety,
} from "./types.ts";
import { NO_FLAGS, REJECT_REASONS, type RejectReason, validateTick } from "./validate.ts";

const log = getLogger(["tickplex", "market_data"]);

/** How long unsubscribe/close wait for a callback that is still running. */
const CLOSE_WAIT_MS = 2_000;
/** Distinct warnings logged per monitor interval before the rest are muted. */
const MAX_WARNINGS_PER_INTERVAL = 200;

const optionsSchema = z.object({
  checkIntervalMs: z.number().int().positive().default(5_000),
  staleAfterMs: z.number().positive().default(30_000),
  maxJumpPercent: z.number().positive().default(20),
  maxExchangeAgeMs: z.number().positive().default(60_000),
  entryIdleMs: z.number().positive().default(3_600_000),
  ring: z.object({
    size: z.number().int().positive().default(1_000),
    maxAgeMs: z.number().positive().default(600_000),
  }).default({ size: 1_000, maxAgeMs: 600_000 }),
  replayLimit: z.number().int().positive().default(1_000),
  /** Keep recent ticks for every streamed instrument, not only those service subscribers watch. */
  ringAllSymbols: z.boolean().default(false),
  queueLimit: z.number().int().positive().default(1_000),
});

type ParsedOptions = z.infer<typeof optionsSchema>;

const subscribeSchema = z.object({
  priority: z.enum(["CRITICAL", "HIGH", "NORMAL", "LOW"]),
  kind: z.enum(["ltp", "quote", "depth", "all"]),
  name: z.string().min(1).max(100),
  symbols: z.array(z.object({ exchange: z.string().min(1), symbol: z.string().min(1) }))
    .min(1, "symbols must not be empty; omit it to receive every tick")
    .optional(),
  depth: z.number().int().min(1).max(50).default(5),
  holdWhilePaused: z.boolean().default(false),
  replayOnResume: z.boolean().default(false),
}).refine((o) => !o.replayOnResume || o.holdWhilePaused, {
  message: "replayOnResume needs holdWhilePaused: a subscriber that is not held misses nothing",
});

const EMPTY_ROUTE: readonly Subscriber[] = [];

/** One instrument a subscribe could not take, with the registry's answer. */
export interface SubscribeFailure {
  /** Exchange of the refused instrument. */
  exchange: string;
  /** Symbol of the refused instrument. */
  symbol: string;
  /** The registry's error code. */
  code: ErrorCode;
  /** The registry's message. */
  message: string;
}

/**
 * Thrown (as a rejection) by {@link MarketDataService.subscribe} when the registry refused any of
 * the instruments. Subscribing is all-or-nothing: what was taken has been released again.
 */
export class MarketDataSubscribeError extends Error {
  /** The code of the first failure. */
  readonly code: ErrorCode;
  /** Every refused instrument. */
  readonly failures: SubscribeFailure[];

  /** `name` is the subscriber's; `failures` must not be empty. */
  constructor(name: string, failures: SubscribeFailure[]) {
    const first = failures[0];
    super(
      `subscriber ${name}: ${failures.length} instrument(s) could not be subscribed; first: ` +
        `${first.exchange}:${first.symbol} ${first.code} ${first.message}`,
    );
    this.name = "MarketDataSubscribeError";
    this.code = first.code;
    this.failures = failures;
  }
}

/**
 * The MarketDataService.
 *
 * Wiring (the gateway does this): `pool.onticks` → {@link onTicks}, `pool.onstatus` →
 * {@link onFeedStatus}, {@link start} once, {@link handleHttp} first in the HTTP handler,
 * {@link metricsText} appended to `/metrics`, {@link close} on shutdown before the pool closes.
 *
 * @example
 * ```ts ignore
 * const mds = new MarketDataService({ registry, feed: pool });
 * pool.onticks = (ticks) => mds.onTicks(ticks);
 * pool.onstatus = (index, state) => mds.onFeedStatus(index, state);
 * mds.start();
 *
 * const watcher = await mds.subscribe({
 *   priority: "CRITICAL",
 *   kind: "ltp",
 *   symbols: [{ exchange: "NSE", symbol: "RELIANCE" }],
 *   name: "stoploss",
 *   holdWhilePaused: true,
 *   callback: ({ data }) => {
 *     if (data.ltp <= stop && mds.isTradeManagementSafe().safe) exit();
 *   },
 * });
 * ```
 */
export class MarketDataService {
  readonly #registry: MarketDataRegistry;
  readonly #feed: { status(): ConnectionStatus[] };
  readonly #clock: Clock;
  readonly #opts: ParsedOptions;
  readonly #cache = new TickCache();
  readonly #recent: RecentTicks;
  readonly #gate = new SafetyGate();
  readonly #startedAt: number;

  /** Active subscribers. */
  #subs = new Set<Subscriber>();
  #bySymbol = new InstrumentMap<Set<Subscriber>>();
  #wildcards = new Set<Subscriber>();
  /** Memoised dispatch order per instrument; rebuilt after any subscriber change. */
  #routes = new InstrumentMap<readonly Subscriber[]>();
  #symbolSubscribers = 0;
  #nextSubscriber = 1;

  /** Sequence number of the latest accepted tick. */
  #seq = 0;
  /** `#seq` when the current pause began: ticks after it were withheld from held subscribers. */
  #pauseSeq = 0;
  #lastDataAt: number | null = null;
  /** The last time nothing was subscribed (see `FeedAssessment.lastIdleAt`). */
  #lastIdleAt: number;
  /** Whether the latest assessment found subscriptions. */
  #sawSubscriptions = false;
  #connStates = new Map<number, FeedState>();
  #everConnected = new Set<number>();

  #counters = {
    ticks: 0,
    rejected: Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>,
    depthOnly: 0,
    jumps: 0,
    staleExchangeTime: 0,
    connectionLosses: 0,
    reconnects: 0,
  };
  #totals: DispatchCounters = { delivered: 0, errors: 0, dropped: 0, replayed: 0 };
  #warned = new Set<string>();
  #timer: ReturnType<typeof setInterval> | null = null;
  #closed = false;

  /** Validates the options (RangeError/TypeError when invalid); starts nothing. */
  constructor(options: MarketDataServiceOptions) {
    const parsed = optionsSchema.safeParse(options);
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
    this.#feed = options.feed;
    this.#clock = options.clock ?? Date.now;
    this.#opts = parsed.data;
    this.#recent = new RecentTicks(this.#opts.ring);
    this.#startedAt = this.#clock();
    this.#lastIdleAt = this.#startedAt;
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
      this.#warnOnce("batch", "", "", "onTicks expects an array of ticks; ignored", {});
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
    this.#warned.clear();
    for (const s of this.#subs) s.resetLogWindow();
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
    await Promise.all([...this.#subs].map((s) => this.#unsubscribe(s)));
  }

  /** Same as {@link close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Resolves once every NORMAL/LOW queue is empty and no queued callback is running. */
  async idle(): Promise<void> {
    for (;;) {
      const busy = [...this.#subs].map((s) => s.idle());
      await Promise.all(busy);
      if (![...this.#subs].some((s) => s.stats().queued > 0)) return;
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
   */
  async subscribe(options: SubscribeOptions): Promise<SubscriptionHandle> {
    if (this.#closed) throw new Error("MarketDataService is closed");
    const parsed = subscribeSchema.safeParse(options);
    if (!parsed.success) {
      throw new TypeError(`invalid subscribe options: ${z.prettifyError(parsed.error)}`);
    }
    if (typeof options.callback !== "function") {
      throw new TypeError("invalid subscribe options: callback must be a function");
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
    });
    if (sub.symbols) await this.#acquireAll(sub, o.depth);
    if (this.#closed) {
      await this.#releaseAll(sub);
      throw new Error("MarketDataService is closed");
    }
    this.#add(sub);
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
    return [...this.#subs].sort(byPriority).map((s) => s.stats());
  }

  // ---- reports ----------------------------------------------------------------------------------

  /** The body of `GET /api/v1/health`. Re-assesses the feed first, like {@link isTradeManagementSafe}. */
  health(): HealthReport {
    const now = this.#clock();
    const conns = this.#evaluate(now);
    const safety = this.#gate.safety();
    const byPriority = Object.fromEntries(PRIORITIES.map((p) => [p, 0])) as Record<
      Priority,
      number
    >;
    for (const s of this.#subs) byPriority[s.priority]++;
    const g = this.#gate.counters;
    return {
      status: safety.safe ? "ok" : "paused",
      safe: safety.safe,
      reason: safety.reason,
      feed_state: aggregateFeedState(conns),
      connections: conns.map((c) => ({
        index: c.index,
        state: c.state,
        symbols: c.symbols,
        capacity: c.capacity,
        restarts: c.restarts,
        reconnects: c.reconnects,
        last_tick_at: c.lastTickAt,
        last_tick_age_ms: c.lastTickAt === null ? null : Math.max(0, now - c.lastTickAt),
        ticks: c.ticks,
        detail: c.detail ?? null,
      })),
      data_fresh: this.isFeedFresh(),
      last_tick_at: this.#lastDataAt,
      last_tick_age_ms: this.#lastDataAt === null ? null : Math.max(0, now - this.#lastDataAt),
      paused_since: this.#gate.pausedSince,
      cache_entries: this.#cache.size,
      ring_entries: this.#recent.entries,
      subscribers: { ...byPriority, total: this.#subs.size },
      counters: {
        ticks: this.#counters.ticks,
        ticks_rejected: sum(Object.values(this.#counters.rejected)),
        depth_without_ltp: this.#counters.depthOnly,
        price_jumps: this.#counters.jumps,
        stale_exchange_time: this.#counters.staleExchangeTime,
        cache_hits: this.#cache.hits,
        cache_misses: this.#cache.misses,
        cache_expired: this.#cache.expired,
        deliveries: this.#totals.delivered,
        callback_errors: this.#totals.errors,
        dropped: this.#totals.dropped,
        replayed: this.#totals.replayed,
        pauses: g.pauses,
        stale_events: g.staleEvents,
        connection_losses: this.#counters.connectionLosses,
        reconnects: this.#counters.reconnects,
      },
      uptime_ms: now - this.#startedAt,
    };
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
    const now = this.#clock();
    const conns = this.#evaluate(now);
    const c = this.#counters;
    const g = this.#gate.counters;
    const one = (v: number): Sample[] => [[undefined, v]];
    const subs = [...this.#subs].sort(byPriority);
    const perSub = (f: (s: SubscriberStats) => number): Sample[] =>
      subs.map((s) => {
        const st = s.stats();
        return [{ subscriber: st.id, priority: st.priority }, f(st)];
      });
    const p = new PrometheusText()
      .family("tickplex_mds_ticks_total", "counter", "Ticks accepted.", one(c.ticks))
      .family(
        "tickplex_mds_ticks_rejected_total",
        "counter",
        "Ticks rejected by validation (never cached or delivered).",
        REJECT_REASONS.map((r) => [{ reason: r }, c.rejected[r]]),
      )
      .family(
        "tickplex_mds_depth_without_ltp_total",
        "counter",
        "Depth ticks without a valid price: depth cached, not delivered.",
        one(c.depthOnly),
      )
      .family(
        "tickplex_mds_price_jumps_total",
        "counter",
        "Accepted ticks flagged for a price jump beyond maxJumpPercent.",
        one(c.jumps),
      )
      .family(
        "tickplex_mds_stale_exchange_time_total",
        "counter",
        "Accepted ticks flagged for an exchange timestamp older than maxExchangeAgeMs.",
        one(c.staleExchangeTime),
      )
      .family(
        "tickplex_mds_cache_entries",
        "gauge",
        "Instruments in the cache.",
        one(this.#cache.size),
      )
      .family(
        "tickplex_mds_cache_hits_total",
        "counter",
        "Cache reads that found a value.",
        one(this.#cache.hits),
      )
      .family(
        "tickplex_mds_cache_misses_total",
        "counter",
        "Cache reads that found nothing.",
        one(this.#cache.misses),
      )
      .family(
        "tickplex_mds_cache_expired_total",
        "counter",
        "Idle cache entries removed.",
        one(this.#cache.expired),
      )
      .family(
        "tickplex_mds_ring_entries",
        "gauge",
        "Ticks held in the ring buffers.",
        one(this.#recent.entries),
      )
      .family(
        "tickplex_mds_subscribers",
        "gauge",
        "Active subscribers by priority.",
        PRIORITIES.map((pr) => [{ priority: pr }, subs.filter((s) => s.priority === pr).length]),
      )
      .family(
        "tickplex_mds_deliveries_total",
        "counter",
        "Subscriber callback calls.",
        one(this.#totals.delivered),
      )
      .family(
        "tickplex_mds_callback_errors_total",
        "counter",
        "Subscriber callbacks that threw or rejected.",
        one(this.#totals.errors),
      )
      .family(
        "tickplex_mds_dropped_total",
        "counter",
        "Updates conflated or evicted from NORMAL/LOW subscriber queues.",
        one(this.#totals.dropped),
      )
      .family(
        "tickplex_mds_replayed_total",
        "counter",
        "Ticks replayed after a pause.",
        one(this.#totals.replayed),
      )
      .family(
        "tickplex_mds_subscriber_callback_errors_total",
        "counter",
        "Callback errors per active subscriber.",
        perSub((s) => s.errors),
      )
      .family(
        "tickplex_mds_subscriber_dropped_total",
        "counter",
        "Dropped updates per active subscriber.",
        perSub((s) => s.dropped),
      )
      .family(
        "tickplex_mds_subscriber_queued",
        "gauge",
        "Queued updates per active subscriber.",
        perSub((s) => s.queued),
      )
      .family(
        "tickplex_mds_trade_safe",
        "gauge",
        "1 when trade management is safe, 0 when paused.",
        one(this.#gate.cause === null ? 1 : 0),
      )
      .family(
        "tickplex_mds_pauses_total",
        "counter",
        "Times trade management was paused.",
        one(g.pauses),
      )
      .family(
        "tickplex_mds_stale_events_total",
        "counter",
        "Times the feed was found stale.",
        one(g.staleEvents),
      )
      .family(
        "tickplex_mds_connection_losses_total",
        "counter",
        "Broker connections observed leaving the connected state.",
        one(c.connectionLosses),
      )
      .family(
        "tickplex_mds_reconnects_total",
        "counter",
        "Broker connections observed returning to the connected state.",
        one(c.reconnects),
      )
      .family(
        "tickplex_mds_connections",
        "gauge",
        "Broker connections by state.",
        FEED_STATES.map((st) => [{ state: st }, conns.filter((x) => x.state === st).length]),
      )
      .family(
        "tickplex_mds_last_tick_age_seconds",
        "gauge",
        "Seconds since the last valid tick (absent before the first one).",
        this.#lastDataAt === null ? [] : one(Math.max(0, now - this.#lastDataAt) / 1000),
      );
    return p.toString();
  }

  // ---- internals --------------------------------------------------------------------------------

  #previousLtp = (exchange: string, symbol: string): number | null =>
    this.#cache.lastLtp(exchange, symbol);

  #ingest(raw: Tick, now: number): void {
    const v = validateTick(raw, this.#previousLtp, now, this.#opts);
    if (v.kind === "reject") {
      this.#counters.rejected[v.reason]++;
      this.#warnOnce(
        "reject",
        v.exchange ?? "?",
        v.symbol ?? "?",
        "rejected tick for {key}: {reason}",
        {
          reason: v.reason,
        },
      );
      return;
    }
    if (v.kind === "depth_only") {
      this.#counters.depthOnly++;
      this.#cache.updateDepthOnly(v.tick, v.exchangeTime, now);
      this.#lastDataAt = now;
      this.#warnOnce(
        "depth",
        v.tick.exchange,
        v.tick.symbol,
        "depth update without valid LTP for {key}",
        {
          reason: v.reason,
        },
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
      this.#opts.ringAllSymbols || this.#wildcards.size > 0 ||
      this.#bySymbol.get(tick.exchange, tick.symbol) !== undefined
    ) this.#recent.push({ seq, tick, flags, receivedAt: now }, now);
    this.#lastDataAt = now;
    if (this.#gate.cause !== null && !flags.staleExchangeTime) this.#tryRelease(now, seq);
    this.#dispatch(tick, flags);
  }

  #noteFlags(tick: Tick, flags: TickFlags, ageMs: number): void {
    if (flags.jump !== undefined) {
      this.#counters.jumps++;
      this.#warnOnce("jump", tick.exchange, tick.symbol, "large price change on {key}: {pct}%", {
        pct: flags.jump,
      });
    }
    if (flags.staleExchangeTime) {
      this.#counters.staleExchangeTime++;
      this.#warnOnce("old", tick.exchange, tick.symbol, "tick for {key} is {s} s old", {
        s: Math.round(ageMs / 1000),
      });
    }
  }

  /** A fresh tick while paused: release if every connection is up, then replay held subscribers. */
  #tryRelease(now: number, seq: number): void {
    if (connectionLost(this.#feed.status())) {
      this.#gate.pause("connection_lost", now);
      return;
    }
    const after = this.#pauseSeq;
    this.#gate.release("recovered", now);
    this.#replayHeld(after, seq);
  }

  #replayHeld(after: number, before: number): void {
    for (const s of [...this.#subs].sort(byPriority)) {
      if (!s.heldBack) continue;
      s.heldBack = false;
      if (!s.replay) continue;
      let entries: RecentTick[];
      if (s.symbols) {
        entries = s.symbols.flatMap((i) =>
          this.#recent.between(i.exchange, i.symbol, after, before)
        );
        if (s.symbols.length > 1) entries.sort((a, b) => a.seq - b.seq);
      } else {
        entries = this.#recent.allBetween(after, before).sort((a, b) => a.seq - b.seq);
      }
      const updates: MarketDataUpdate[] = [];
      for (const e of entries) {
        if (e.tick.mode < s.minMode) continue;
        updates.push(makeUpdate(e.tick, dataMode(s.kind, e.tick.mode), e.flags, true));
      }
      s.offerReplay(updates);
    }
  }

  #dispatch(tick: Tick, flags: TickFlags): void {
    const route = this.#route(tick.exchange, tick.symbol);
    if (route.length === 0) return;
    const paused = this.#gate.cause !== null;
    // One update per mode per tick, shared by every subscriber that wants that mode.
    let u1: MarketDataUpdate | undefined;
    let u2: MarketDataUpdate | undefined;
    let u3: MarketDataUpdate | undefined;
    let key: string | undefined;
    for (let i = 0; i < route.length; i++) {
      const s = route[i];
      if (tick.mode < s.minMode) continue;
      if (paused && s.hold) {
        s.heldBack = true;
        continue;
      }
      const mode = dataMode(s.kind, tick.mode);
      let u: MarketDataUpdate;
      if (mode === 1) u = u1 ??= makeUpdate(tick, 1, flags, false);
      else if (mode === 2) u = u2 ??= makeUpdate(tick, 2, flags, false);
      else u = u3 ??= makeUpdate(tick, 3, flags, false);
      if (s.inline) s.offer(u);
      else s.offer(u, key ??= queueKey(tick.exchange, tick.symbol));
    }
  }

  #route(exchange: string, symbol: string): readonly Subscriber[] {
    const memo = this.#routes.get(exchange, symbol);
    if (memo) return memo;
    const own = this.#bySymbol.get(exchange, symbol);
    if (!own && this.#wildcards.size === 0) return EMPTY_ROUTE;
    const route = [...(own ?? []), ...this.#wildcards].sort(byPriority);
    this.#routes.set(exchange, symbol, route);
    return route;
  }

  async #acquireAll(sub: Subscriber, depth: number): Promise<void> {
    const mode = KIND_MODE[sub.kind];
    const results = await Promise.all(sub.symbols!.map(async (i) => {
      let r: Outcome;
      try {
        r = await this.#registry.acquire(sub.consumer, i.exchange, i.symbol, mode, depth);
      } catch (err) {
        r = {
          ok: false,
          code: "SERVER_ERROR",
          message: err instanceof Error ? err.message : String(err),
        };
      }
      return { i, r };
    }));
    const failures: SubscribeFailure[] = [];
    for (const { i, r } of results) {
      if (!r.ok) {
        failures.push({ exchange: i.exchange, symbol: i.symbol, code: r.code, message: r.message });
      }
    }
    if (failures.length === 0) return;
    await Promise.all(
      results.filter((x) => x.r.ok).map((x) => this.#release(sub, x.i.exchange, x.i.symbol, mode)),
    );
    log.warn("subscriber {name} refused: {n} instrument(s) failed, first {code}", {
      name: sub.name,
      n: failures.length,
      code: failures[0].code,
    });
    throw new MarketDataSubscribeError(sub.name, failures);
  }

  async #releaseAll(sub: Subscriber): Promise<void> {
    if (!sub.symbols) return;
    const mode = KIND_MODE[sub.kind];
    await Promise.all(sub.symbols.map((i) => this.#release(sub, i.exchange, i.symbol, mode)));
  }

  async #release(sub: Subscriber, exchange: string, symbol: string, mode: Mode): Promise<void> {
    try {
      const r = await this.#registry.release(sub.consumer, exchange, symbol, mode);
      if (!r.ok && r.code !== "NOT_SUBSCRIBED") {
        log.warn("subscriber {name}: release of {key} failed: {message}", {
          name: sub.name,
          key: `${exchange}:${symbol}`,
          message: r.message,
        });
      }
    } catch (err) {
      log.error("subscriber {name}: release of {key} threw: {err}", {
        name: sub.name,
        key: `${exchange}:${symbol}`,
        err,
      });
    }
  }

  #add(sub: Subscriber): void {
    this.#subs.add(sub);
    if (sub.symbols) {
      for (const i of sub.symbols) {
        let set = this.#bySymbol.get(i.exchange, i.symbol);
        if (!set) this.#bySymbol.set(i.exchange, i.symbol, set = new Set());
        set.add(sub);
      }
      // The first subscription since the feed was idle starts the silence clock now.
      if (this.#symbolSubscribers === 0 && !this.#sawSubscriptions) {
        this.#lastIdleAt = this.#clock();
      }
      this.#symbolSubscribers++;
    } else {
      this.#wildcards.add(sub);
    }
    this.#routes.clear();
  }

  async #unsubscribe(sub: Subscriber): Promise<void> {
    if (!this.#subs.delete(sub)) return;
    // Removed from dispatch synchronously: no callback starts after unsubscribe() is called.
    if (sub.symbols) {
      for (const i of sub.symbols) {
        const set = this.#bySymbol.get(i.exchange, i.symbol);
        set?.delete(sub);
        if (set?.size === 0) this.#bySymbol.delete(i.exchange, i.symbol);
      }
      this.#symbolSubscribers--;
    } else {
      this.#wildcards.delete(sub);
    }
    this.#routes.clear();
    await sub.close(CLOSE_WAIT_MS);
    await this.#releaseAll(sub);
    log.info("subscriber {name} removed", { name: sub.name });
  }

  /**
   * Re-assesses the feed from the pool's status (with `override`, the state just reported, applied
   * on top) and pauses if needed. Returns the connection list it used.
   */
  #evaluate(now: number, override?: { index: number; state: FeedState }): ConnectionStatus[] {
    let conns = this.#feed.status();
    if (override) {
      conns = conns.map((c) => c.index === override.index ? { ...c, state: override.state } : c);
      this.#noteState(override.index, override.state);
    }
    for (const c of conns) this.#noteState(c.index, c.state);
    const hasSubscriptions = this.#symbolSubscribers > 0 || conns.some((c) => c.symbols > 0);
    this.#sawSubscriptions = hasSubscriptions;
    if (!hasSubscriptions) {
      this.#lastIdleAt = now;
      if (this.#gate.release("no_subscriptions", now)) {
        this.#replayHeld(this.#pauseSeq, this.#seq + 1);
      }
      return conns;
    }
    const verdict = assessFeed({
      connections: conns,
      hasSubscriptions,
      now,
      lastDataAt: this.#lastDataAt,
      lastIdleAt: this.#lastIdleAt,
      staleAfterMs: this.#opts.staleAfterMs,
    });
    if (verdict !== "ok") {
      const wasSafe = this.#gate.cause === null;
      if (this.#gate.pause(verdict, now) && wasSafe) this.#pauseSeq = this.#seq;
    }
    return conns;
  }

  /** Counts connection transitions: connected → anything else is a loss, back is a reconnect. */
  #noteState(index: number, state: FeedState): void {
    const prev = this.#connStates.get(index);
    if (prev === state) return;
    this.#connStates.set(index, state);
    if (prev === "connected") this.#counters.connectionLosses++;
    if (state === "connected") {
      if (this.#everConnected.has(index)) this.#counters.reconnects++;
      this.#everConnected.add(index);
    }
  }

  #warnOnce(
    what: string,
    exchange: string,
    symbol: string,
    message: string,
    props: Record<string, unknown>,
  ): void {
    const key = `${exchange}:${symbol}`;
    const id = `${what}|${key}`;
    if (this.#warned.has(id)) return;
    if (this.#warned.size >= MAX_WARNINGS_PER_INTERVAL) {
      if (!this.#warned.has("*")) {
        this.#warned.add("*");
        log.warn("too many market-data warnings; muted until the next monitor check");
      }
      return;
    }
    this.#warned.add(id);
    log.warn(message, { key, ...props });
  }
}

function byPriority(a: Subscriber, b: Subscriber): number {
  return a.rank - b.rank || a.seq - b.seq;
}

/** The mode of the payload a subscriber of `kind` gets for a tick of `tickMode`. */
function dataMode(kind: Subscriber["kind"], tickMode: Mode): Mode {
  return kind === "all" ? tickMode : KIND_MODE[kind];
}

function makeUpdate(tick: Tick, mode: Mode, flags: TickFlags, replay: boolean): MarketDataUpdate {
  return {
    exchange: tick.exchange,
    symbol: tick.symbol,
    mode,
    tick,
    data: projectTick(tick, mode) as LtpData | QuoteData | DepthData,
    flags,
    replay,
  };
}

function dedupe(list: Instrument[]): Instrument[] {
  const seen = new Set<string>();
  const out: Instrument[] = [];
  for (const i of list) {
    const k = `${i.exchange}\u0000${i.symbol}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ exchange: i.exchange, symbol: i.symbol });
  }
  return out;
}

function sum(xs: number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
