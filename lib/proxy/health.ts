// The feed-wide state the proxy reports (/health, get_broker_info): the worst state of any broker
// connection, and the process memory figures of /health.

import type { ConnectionStatus } from "../pool/pool.ts";
import type { FeedState } from "../types.ts";

/** Worst state first: what a single feed-wide state should report. */
const STATE_RANK: Record<FeedState, number> = {
  failed: -1,
  auth_failed: 0,
  disconnected: 1,
  reconnecting: 2,
  stalled: 3,
  connecting: 4,
  connected: 5,
};

/**
 * The feed-wide state: the worst state of any connection (disconnected when there are none).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(overallState([]), "disconnected");
 * ```
 */
export function overallState(status: ConnectionStatus[]): FeedState {
  let worst: FeedState = status.length === 0 ? "disconnected" : "connected";
  for (const c of status) if (STATE_RANK[c.state] < STATE_RANK[worst]) worst = c.state;
  return worst;
}

/** Process memory in MB, for /health. */
export function memoryMb(): Record<string, number> {
  const m = Deno.memoryUsage();
  const mb = (n: number) => Math.round(n / 1048576);
  return {
    rss: mb(m.rss),
    heap_total: mb(m.heapTotal),
    heap_used: mb(m.heapUsed),
    external: mb(m.external),
  };
}
