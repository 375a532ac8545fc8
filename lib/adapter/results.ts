// Per-item results every adapter answers requests with, built one way.

import type { ItemResult } from "./messages.ts";

/** The codes a per-item failure may carry. */
export type ItemErrorCode = Extract<ItemResult, { ok: false }>["code"];

/** An instrument as requests name it. */
export interface ItemRef {
  exchange: string;
  symbol: string;
}

/**
 * Success; `depth` is the depth delivered (Depth mode), 0 when the instrument has no book.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(accepted({ exchange: "NSE", symbol: "SBIN" }, 5), {
 *   exchange: "NSE", symbol: "SBIN", ok: true, depth: 5,
 * });
 * ```
 */
export function accepted(item: ItemRef, depth?: number): ItemResult {
  return depth === undefined
    ? { exchange: item.exchange, symbol: item.symbol, ok: true }
    : { exchange: item.exchange, symbol: item.symbol, ok: true, depth };
}

/**
 * Failure with a catalogue code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(rejected({ exchange: "NSE", symbol: "X" }, "BROKER_ERROR", "down").ok, false);
 * ```
 */
export function rejected(
  item: ItemRef,
  code: ItemErrorCode,
  message: string,
): ItemResult {
  return { exchange: item.exchange, symbol: item.symbol, ok: false, code, message };
}

/**
 * `NOT_SUBSCRIBED` for an instrument this connection does not stream.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const r = notSubscribed({ exchange: "NSE", symbol: "SBIN" });
 * assert.equal(r.ok === false && r.message, "Not subscribed: SBIN on NSE");
 * ```
 */
export function notSubscribed(item: ItemRef): ItemResult {
  return rejected(item, "NOT_SUBSCRIBED", `Not subscribed: ${item.symbol} on ${item.exchange}`);
}

/**
 * `MAX_CAPACITY_REACHED` naming the connection's limit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const r = capacityReached({ exchange: "NSE", symbol: "SBIN" }, 3000, "Kite");
 * assert.equal(r.ok === false && r.code, "MAX_CAPACITY_REACHED");
 * ```
 */
export function capacityReached(item: ItemRef, limit: number, broker: string): ItemResult {
  return rejected(
    item,
    "MAX_CAPACITY_REACHED",
    `Maximum capacity reached: ${limit} instruments on this ${broker} connection`,
  );
}
