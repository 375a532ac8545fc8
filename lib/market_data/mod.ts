// Public surface of lib/market_data: the MarketDataService (live cache, priority subscribers,
// safety gate, ring buffer, health/trade-safe/metrics) and the pieces it is built from.

/**
 * In-process market data for live-algo code in the gateway's main isolate.
 *
 * A stoploss watcher: CRITICAL priority (runs before anything else, synchronously in the tick
 * path), held while the feed is unsafe, and checking the gate before acting.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MarketDataService, STALE_REASON } from "./mod.ts";
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
 * const stop = 2_450;
 * const exits: string[] = [];
 * const exitPosition = (symbol: string) => exits.push(symbol); // your order code
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
 * const gateEvents: string[] = [];
 * mds.onGateChange((e) => gateEvents.push(e.safe ? "resumed" : e.reason));
 * mds.onTicks([tick(2_500)]);
 * now += 31_000; // 31 s of silence: stale
 * assert.equal(mds.isTradeManagementSafe().reason, STALE_REASON);
 * mds.onTicks([tick(2_440)]); // the first fresh tick releases the gate, then the callback runs
 * assert.deepEqual(exits, ["RELIANCE"]);
 * assert.deepEqual(gateEvents, [STALE_REASON, "resumed"]);
 * // later
 * await watcher.unsubscribe();
 * await mds.close();
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
