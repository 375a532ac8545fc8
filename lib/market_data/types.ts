// Public types of the MarketDataService: subscriber options and payloads, cache entries, the safety
// gate's answers and the narrow interfaces the service needs from the registry and the pool.

import type { ConnectionReport, ConnectionStatus } from "../feed_state.ts";
import type { DepthData, LtpData, QuoteData, TickData } from "../project.ts";
import type { Consumer, Revocation } from "../subscriptions/mod.ts";
import type { ConsumerClass } from "../budget/mod.ts";
import type { Clock, FeedState, Mode, Outcome, Tick } from "../types.ts";

/** Callback priority: CRITICAL (stoploss/target) > HIGH (alerts) > NORMAL (watchlists) > LOW. */
export type Priority = "CRITICAL" | "HIGH" | "NORMAL" | "LOW";

/** All priorities, highest first (dispatch order). */
export const PRIORITIES: readonly Priority[] = ["CRITICAL", "HIGH", "NORMAL", "LOW"];

/**
 * What a subscriber receives: `ltp` gets every tick (projected to LTP fields), `quote` ticks of
 * mode ≥ 2, `depth` ticks of mode 3, `all` every tick with all the fields it carries.
 */
export type SubscriptionKind = "ltp" | "quote" | "depth" | "all";

/** The registry mode each kind subscribes at (`all` takes Depth so every field is streamed). */
export const KIND_MODE: Readonly<Record<SubscriptionKind, Mode>> = {
  ltp: 1,
  quote: 2,
  depth: 3,
  all: 3,
};

/** An (exchange, symbol) pair. */
export interface Instrument {
  /** Exchange code, e.g. `NSE`, `NSE_INDEX`. */
  exchange: string;
  /** Trading symbol, e.g. `RELIANCE`. */
  symbol: string;
}

/**
 * What validation noticed about an accepted tick. `jump` is the signed move in percent against
 * the previous cached LTP when it exceeds `maxJumpPercent`; `staleExchangeTime` is set when the
 * tick's exchange timestamp is older than `maxExchangeAgeMs`.
 */
export interface TickFlags {
  /** Signed move in percent against the previous LTP, set only beyond `maxJumpPercent`. */
  jump?: number;
  /** Set when the exchange timestamp is older than `maxExchangeAgeMs`. */
  staleExchangeTime?: boolean;
}

/** The argument of every subscriber callback. Treat it as read-only: it is shared. */
export interface MarketDataUpdate {
  /** Exchange of the tick. */
  exchange: string;
  /** Symbol of the tick. */
  symbol: string;
  /** The mode of `data`: the kind's mode, or the tick's own mode for kind `all`. */
  mode: Mode;
  /** The full normalised tick as the adapter sent it. */
  tick: Tick;
  /** The tick projected onto `mode`'s fields (the client protocol's `data`). */
  data: TickData;
  /** What validation flagged (an empty object when nothing). */
  flags: TickFlags;
  /** True for ticks delivered after a pause that this subscriber was held through. */
  replay: boolean;
  /**
   * True for the cached latest tick delivered once per instrument right after `subscribe()` (when
   * the service's `snapshotOnSubscribe` is on); false for every tick the feed produces afterwards.
   * A snapshot is not new market activity: act on it only after checking its timestamp.
   */
  snapshot: boolean;
}

/** A subscriber callback. A returned promise is awaited for NORMAL/LOW, never for CRITICAL/HIGH. */
export type MarketDataCallback = (update: MarketDataUpdate) => void | Promise<void>;

/** Options of {@link MarketDataService.subscribe}. */
export interface SubscribeOptions {
  /** CRITICAL/HIGH run inline in the tick path; NORMAL/LOW from their own queue. */
  priority: Priority;
  /** Which ticks, projected how. */
  kind: SubscriptionKind;
  /** Instruments to receive; omitted = every tick of the kind (takes no registry subscription). */
  symbols?: Instrument[];
  /** Called with every update; errors are caught and counted. */
  callback: MarketDataCallback;
  /** Shown in logs, metrics and health. */
  name: string;
  /** Depth levels asked for when the kind streams Depth (default 5). */
  depth?: number;
  /** Not called while trade management is paused. */
  holdWhilePaused?: boolean;
  /**
   * With `holdWhilePaused`: when the pause is released, first receive the ticks held back during
   * it (at most `replayLimit`, oldest first, `replay: true`), then live ones.
   */
  replayOnResume?: boolean;
  /**
   * Its consumer class (default `trading`): decides whether its instruments may use the trading
   * reserve, and whether they may be pre-empted (`display`).
   */
  consumerClass?: ConsumerClass;
  /**
   * Called when an instrument was taken away from it (a `display` subscriber pre-empted for a
   * trading one): no more ticks of it arrive unless another consumer streams it again.
   */
  onRevoked?: (revocation: Revocation) => void;
}

/** Delivery counters of one subscriber. */
export interface SubscriberStats {
  /** Unique id (`mds-<n>-<name>`), also its registry consumer id. */
  id: string;
  /** The name given at subscribe. */
  name: string;
  /** Its priority. */
  priority: Priority;
  /** Its kind. */
  kind: SubscriptionKind;
  /** Instruments it filters on; 0 = every instrument. */
  symbols: number;
  /** Callback calls made (a call that threw or rejected also counts in `errors`). */
  delivered: number;
  /** Callbacks that threw or rejected. */
  errors: number;
  /** Updates replaced by a newer one for the same instrument, or evicted by the queue bound. */
  dropped: number;
  /** Updates replayed after pauses. */
  replayed: number;
  /** Updates waiting in its queue (NORMAL/LOW only). */
  queued: number;
}

/** Returned by {@link MarketDataService.subscribe}. */
export interface SubscriptionHandle {
  /** Same as {@link SubscriberStats.id}. */
  readonly id: string;
  /** The name given at subscribe. */
  readonly name: string;
  /** Stops delivery at once, then releases the registry subscriptions. Idempotent. */
  unsubscribe(): Promise<void>;
  /** This subscriber's counters. */
  stats(): SubscriberStats;
  /** `unsubscribe()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** A cached value with its exchange time and receive time (epoch ms). */
export interface Cached<T> {
  /** The value, projected like a subscriber payload. */
  data: T;
  /** The tick's timestamp (exchange time when the broker sends it). */
  exchangeTime: number;
  /** When the service received it. */
  receivedAt: number;
  /** What validation flagged on that tick. */
  flags: TickFlags;
}

/** Depth as cached: `ltp` is null when the depth tick carried no valid price. */
export type DepthSnapshot = Omit<DepthData, "ltp"> & { ltp: number | null };

/** Everything cached for one instrument. */
export interface InstrumentSnapshot {
  /** Exchange of the instrument. */
  exchange: string;
  /** Symbol of the instrument. */
  symbol: string;
  /** Latest LTP (any tick mode). */
  ltp: Cached<LtpData> | null;
  /** Latest quote (Quote or Depth ticks). */
  quote: Cached<QuoteData> | null;
  /** Latest depth (Depth ticks). */
  depth: Cached<DepthSnapshot> | null;
  /** Receive time of the latest accepted update of any kind. */
  updatedAt: number;
}

/** One entry of the per-instrument ring buffer. `seq` increases by one per accepted tick. */
export interface RecentTick {
  /** Service-wide sequence number of the tick. */
  seq: number;
  /** The tick. */
  tick: Tick;
  /** What validation flagged. */
  flags: TickFlags;
  /** When the service received it. */
  receivedAt: number;
}

/** The answer of {@link MarketDataService.isTradeManagementSafe}; `reason` is "" when safe. */
export interface TradeSafety {
  /** Whether live trade management may act on the data. */
  safe: boolean;
  /** Why not; "" when safe. */
  reason: string;
}

/** Why trade management is paused. */
export type PauseCause = "stale" | "connection_lost";

/**
 * A safety-gate transition. `cause` says why: a pause (`stale`, `connection_lost`, also emitted
 * when the reason of an ongoing pause changes), or a release (`recovered` on the first fresh tick,
 * `no_subscriptions` when nothing is subscribed any more).
 */
export interface GateEvent {
  /** The state after the transition. */
  safe: boolean;
  /** The pause reason after the transition; "" on release. */
  reason: string;
  /** What caused it. */
  cause: PauseCause | "recovered" | "no_subscriptions";
  /** When (service clock, epoch ms). */
  at: number;
  /** On release: how long the pause lasted. */
  pausedForMs?: number;
}

/** The part of `SubscriptionRegistry` the service uses. */
export interface MarketDataRegistry {
  /** Adds `consumer` to (exchange, symbol, mode), subscribing at the broker if it is the first. */
  acquire(
    consumer: Consumer,
    exchange: string,
    symbol: string,
    mode: Mode,
    depth: number,
  ): Promise<Outcome>;
  /** Removes `consumer` from the key, releasing at the broker if it was the last. */
  release(consumer: Consumer, exchange: string, symbol: string, mode: Mode): Promise<Outcome>;
}

/** The part of `ConnectionPool` the service uses: the real per-connection worker status. */
export interface FeedStatusSource {
  /** One entry per broker connection, with the state its adapter worker reported. */
  status(): ConnectionStatus[];
}

/** Ring-buffer bounds. */
export interface RingOptions {
  /** Ticks kept per instrument (default `MARKET_DATA_DEFAULTS.ring.size`). */
  size?: number;
  /** Ticks older than this are dropped (default `MARKET_DATA_DEFAULTS.ring.maxAgeMs`). */
  maxAgeMs?: number;
}

/**
 * Options of {@link MarketDataService}. Durations in milliseconds. An omitted option takes its
 * value from `MARKET_DATA_DEFAULTS` (lib/market_data/defaults.ts).
 */
export interface MarketDataServiceOptions {
  /** Where subscribers take their subscriptions (the gateway's `SubscriptionRegistry`). */
  registry: MarketDataRegistry;
  /** The real connection status (the gateway's `ConnectionPool`). */
  feed: FeedStatusSource;
  /** Default `Date.now`. */
  clock?: Clock;
  /** Monitor period of `start()`. */
  checkIntervalMs?: number;
  /** Silence after which the gate pauses while subscriptions exist. */
  staleAfterMs?: number;
  /** A move larger than this (percent) against the previous LTP is flagged. */
  maxJumpPercent?: number;
  /** An exchange timestamp older than this is flagged. */
  maxExchangeAgeMs?: number;
  /** Cache entries without updates for this long are removed by `check()`. */
  entryIdleMs?: number;
  /** Ring-buffer bounds. */
  ring?: RingOptions;
  /**
   * Keep recent ticks for every streamed instrument (default false: only instruments a service
   * subscriber watches, or all while a subscriber without a symbol filter exists).
   */
  ringAllSymbols?: boolean;
  /** Most ticks replayed to one subscriber on release. */
  replayLimit?: number;
  /** Most instruments waiting in one NORMAL/LOW subscriber's queue. */
  queueLimit?: number;
  /**
   * A subscriber with `symbols` receives, right after `subscribe()` registers it, the cached latest
   * tick of each instrument that has one, as an update with `snapshot: true` (default true; the
   * gateway passes its `snapshotOnSubscribe` config).
   */
  snapshotOnSubscribe?: boolean;
}

/** Body of `GET /api/v1/trade-safe`. `data_fresh`: data arrived within `staleAfterMs`. */
export interface TradeSafeReport {
  /** As {@link TradeSafety.safe}. */
  safe: boolean;
  /** As {@link TradeSafety.reason}. */
  reason: string;
  /** Whether valid data arrived within `staleAfterMs`. */
  data_fresh: boolean;
}

/** Body of `GET /api/v1/health`. Times are epoch ms, ages and durations ms. */
export interface HealthReport {
  /** `ok` when trade management is safe, `paused` when it is not. */
  status: "ok" | "paused";
  /** As {@link TradeSafety.safe}. */
  safe: boolean;
  /** As {@link TradeSafety.reason}. */
  reason: string;
  /** `connected` when every connection is, else the worst connection state. */
  feed_state: FeedState;
  /** Every broker connection. */
  connections: ConnectionReport[];
  /** Whether valid data arrived within `staleAfterMs`. */
  data_fresh: boolean;
  /** Receive time of the last valid data, or null. */
  last_tick_at: number | null;
  /** Its age, or null. */
  last_tick_age_ms: number | null;
  /** When the current pause began, or null. */
  paused_since: number | null;
  /** Instruments in the cache. */
  cache_entries: number;
  /** Ticks in the ring buffers. */
  ring_entries: number;
  /** Active subscribers per priority and in total. */
  subscribers: Record<Priority, number> & { total: number };
  /** Monotonic counters since start (the same values as the metrics). */
  counters: {
    ticks: number;
    ticks_rejected: number;
    depth_without_ltp: number;
    price_jumps: number;
    stale_exchange_time: number;
    cache_hits: number;
    cache_misses: number;
    cache_expired: number;
    deliveries: number;
    callback_errors: number;
    dropped: number;
    replayed: number;
    pauses: number;
    stale_events: number;
    connection_losses: number;
    reconnects: number;
  };
  /** Time since the service was created. */
  uptime_ms: number;
}
