// Public surface of lib/market_data: the MarketDataService (live cache, priority subscribers,
// safety gate, ring buffer, health/trade-safe/metrics) and the pieces it is built from.

/**
 * In-process market data for live-algo code in the gateway's main isolate.
 *
 * A stoploss watcher: CRITICAL priority (runs before anything else, synchronously in the tick
 * path), held while the feed is unsafe, and checking the gate before acting.
 *
 * @example
 * ```ts ignore
 * import { MarketDataService } from "./mod.ts";
 *
 * const mds = new MarketDataService({ registry, feed: pool });
 * const stop = 2_450;
 * const watcher = await mds.subscribe({
 *   priority: "CRITICAL",
 *   kind: "ltp",
 *   symbols: [{ exchange: "NSE", symbol: "RELIANCE" }],
 *   name: "reliance-stoploss",
 *   holdWhilePaused: true,
 *   callback: ({ data, flags }) => {
 *     if (flags.jump !== undefined) return; // implausible print: wait for confirmation
 *     const gate = mds.isTradeManagementSafe();
 *     if (!gate.safe) return console.warn(gate.reason);
 *     if (data.ltp <= stop) exitPosition("RELIANCE");
 *   },
 * });
 * mds.onGateChange((e) => console.log(e.safe ? "resumed" : e.reason));
 * // later
 * await watcher.unsubscribe();
 * ```
 *
 * @module
 */

export { MarketDataService } from "./service.ts";
export { MARKET_DATA_DEFAULTS } from "./defaults.ts";
export { MarketDataSubscribeError, type SubscribeFailure } from "./registration.ts";
export {
  type Cached,
  type DepthSnapshot,
  type FeedStatusSource,
  type GateEvent,
  type HealthReport,
  type Instrument,
  type InstrumentSnapshot,
  KIND_MODE,
  type MarketDataCallback,
  type MarketDataRegistry,
  type MarketDataServiceOptions,
  type MarketDataUpdate,
  type PauseCause,
  PRIORITIES,
  type Priority,
  type RecentTick,
  type RingOptions,
  type SubscribeOptions,
  type SubscriberStats,
  type SubscriptionHandle,
  type SubscriptionKind,
  type TickFlags,
  type TradeSafeReport,
  type TradeSafety,
} from "./types.ts";
export {
  assessFeed,
  CONNECTION_LOST_REASON,
  connectionLost,
  type FeedAssessment,
  type GateCounters,
  SafetyGate,
  STALE_REASON,
} from "./gate.ts";
export { TickCache } from "./cache.ts";
export { RecentTicks, RingBuffer } from "./ring.ts";
export {
  NO_FLAGS,
  type PreviousLtp,
  priceProblem,
  REJECT_REASONS,
  type RejectReason,
  type TickVerdict,
  validateTick,
  type ValidationLimits,
} from "./validate.ts";
export { handleMarketDataHttp, MARKET_DATA_PATHS, type MarketDataReports } from "./http.ts";
