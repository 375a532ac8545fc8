// The one table of MarketDataService defaults: the service's own option schema and the gateway
// configuration (`marketData` in lib/config) both take their defaults from here.

/**
 * Defaults of {@link MarketDataServiceOptions}. Durations in milliseconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MARKET_DATA_DEFAULTS } from "./defaults.ts";
 * assert.equal(MARKET_DATA_DEFAULTS.ring.size, 64);
 * ```
 */
export const MARKET_DATA_DEFAULTS = {
  /** Monitor period of `start()`. */
  checkIntervalMs: 5_000,
  /** Silence after which the gate pauses while subscriptions exist. */
  staleAfterMs: 30_000,
  /** A move larger than this (percent) against the previous LTP is flagged. */
  maxJumpPercent: 20,
  /** An exchange timestamp older than this is flagged. */
  maxExchangeAgeMs: 60_000,
  /** Cache entries without updates for this long are removed by `check()`. */
  entryIdleMs: 3_600_000,
  /** Ring buffer of recent ticks: ticks kept per instrument, and the oldest age kept. */
  ring: { size: 64, maxAgeMs: 300_000 },
  /** Keep recent ticks for every streamed instrument, not only watched ones. */
  ringAllSymbols: false,
  /** Most ticks replayed to one subscriber on release. */
  replayLimit: 1_000,
  /** Most instruments waiting in one NORMAL/LOW subscriber's queue. */
  queueLimit: 1_000,
  /** Subscribers with symbols get each instrument's cached latest tick at once (`snapshot: true`). */
  snapshotOnSubscribe: true,
} as const;
