// Tick validation for the MarketDataService: pure functions deciding whether a tick may enter the
// cache and reach callbacks, and what to flag about it (price jumps, old exchange timestamps).

import type { Tick } from "../types.ts";
import type { TickFlags } from "./types.ts";

/** Why a tick was rejected; used as the `reason` label of the rejection metric. */
export type RejectReason =
  | "missing_instrument"
  | "invalid_mode"
  | "missing_price"
  | "non_numeric_price"
  | "nan_price"
  | "infinite_price"
  | "non_positive_price";

/** Every reject reason, for metrics that list zeros too. */
export const REJECT_REASONS: readonly RejectReason[] = [
  "missing_instrument",
  "invalid_mode",
  "missing_price",
  "non_numeric_price",
  "nan_price",
  "infinite_price",
  "non_positive_price",
];

/** Bounds for flagging. */
export interface ValidationLimits {
  /** A move larger than this (percent) against the previous LTP is flagged. */
  maxJumpPercent: number;
  /** An exchange timestamp older than this (ms) is flagged. */
  maxExchangeAgeMs: number;
}

/**
 * The verdict on one tick:
 * - `accept`: cache it, buffer it, deliver it (with `flags`);
 * - `depth_only`: a Depth tick whose price is invalid but which carries depth levels — its depth
 *   is cached (with a null LTP), nothing else: it never refreshes the LTP and is never delivered;
 * - `reject`: nothing happens except counting and logging.
 */
export type TickVerdict =
  | { kind: "accept"; tick: Tick; flags: TickFlags; exchangeTime: number }
  | { kind: "depth_only"; tick: Tick; reason: RejectReason; exchangeTime: number }
  | { kind: "reject"; reason: RejectReason; exchange: string | null; symbol: string | null };

/** Shared by every unflagged tick so the hot path allocates nothing for flags. */
export const NO_FLAGS: TickFlags = Object.freeze({});

/**
 * Judges a price: null when it is a finite positive number, else the reason it is not.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { priceProblem } from "./validate.ts";
 * assert.equal(priceProblem(101.5), null);
 * assert.equal(priceProblem(0), "non_positive_price");
 * ```
 */
export function priceProblem(price: unknown): RejectReason | null {
  if (price === undefined || price === null) return "missing_price";
  if (typeof price !== "number") return "non_numeric_price";
  if (Number.isNaN(price)) return "nan_price";
  if (!Number.isFinite(price)) return "infinite_price";
  if (price <= 0) return "non_positive_price";
  return null;
}

/** Looks up the cached LTP of an instrument (null if none), for jump detection. */
export type PreviousLtp = (exchange: string, symbol: string) => number | null;

/**
 * Validates one tick. `input` is typed loosely on purpose: the service is a public API and
 * callers may hand it anything. `previousLtp` returns the cached LTP of the instrument and `now`
 * is the receive time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateTick } from "./validate.ts";
 * const v = validateTick(
 *   { exchange: "NSE", symbol: "TCS", mode: 1, ltp: 130, timestamp: 0 },
 *   () => 100,
 *   60_000,
 *   { maxJumpPercent: 20, maxExchangeAgeMs: 60_000 },
 * );
 * assert.equal(v.kind, "accept");
 * assert.ok(v.kind === "accept" && v.flags.jump === 30, "a 30 % jump is flagged, not refused");
 * ```
 */
export function validateTick(
  input: unknown,
  previousLtp: PreviousLtp,
  now: number,
  limits: ValidationLimits,
): TickVerdict {
  if (typeof input !== "object" || input === null) {
    return { kind: "reject", reason: "missing_instrument", exchange: null, symbol: null };
  }
  const t = input as Partial<Record<keyof Tick, unknown>>;
  const { exchange, symbol } = t;
  if (
    typeof exchange !== "string" || exchange === "" || typeof symbol !== "string" || symbol === ""
  ) {
    return {
      kind: "reject",
      reason: "missing_instrument",
      exchange: typeof exchange === "string" ? exchange : null,
      symbol: typeof symbol === "string" ? symbol : null,
    };
  }
  if (t.mode !== 1 && t.mode !== 2 && t.mode !== 3) {
    return { kind: "reject", reason: "invalid_mode", exchange, symbol };
  }
  const tick = input as Tick;
  // A timestamp that is not a finite number tells nothing: treat the tick as stamped on arrival.
  const exchangeTime = typeof t.timestamp === "number" && Number.isFinite(t.timestamp)
    ? t.timestamp
    : now;
  const problem = priceProblem(t.ltp);
  if (problem !== null) {
    if (t.mode === 3 && hasDepthLevels(t.depth)) {
      return { kind: "depth_only", tick, reason: problem, exchangeTime };
    }
    return { kind: "reject", reason: problem, exchange, symbol };
  }
  const ltp = t.ltp as number;
  let flags = NO_FLAGS;
  const prev = previousLtp(exchange, symbol);
  if (prev !== null && prev > 0) {
    const move = ((ltp - prev) / prev) * 100;
    if (Math.abs(move) > limits.maxJumpPercent) flags = { jump: Math.round(move * 100) / 100 };
  }
  if (now - exchangeTime > limits.maxExchangeAgeMs) {
    flags = flags === NO_FLAGS
      ? { staleExchangeTime: true }
      : { ...flags, staleExchangeTime: true };
  }
  return { kind: "accept", tick, flags, exchangeTime };
}

function hasDepthLevels(depth: unknown): boolean {
  if (typeof depth !== "object" || depth === null) return false;
  const { buy, sell } = depth as { buy?: unknown; sell?: unknown };
  return Array.isArray(buy) && Array.isArray(sell) && buy.length + sell.length > 0;
}
