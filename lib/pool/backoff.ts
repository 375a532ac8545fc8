// The pool's restart schedule: exponential backoff per connection, forgotten after a healthy
// period. Pure functions, tested without timers.

/**
 * The restart backoff exponent after a connection leaves `connected`: a healthy period of at
 * least `healthyMs` forgets earlier crashes, so a rare crash after days waits the base delay.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(decayedBackoff(6, 0, 60_000, 60_000), 0);
 * assert.equal(decayedBackoff(6, 0, 59_999, 60_000), 6);
 * assert.equal(decayedBackoff(6, null, 1e12, 60_000), 6);
 * ```
 */
export function decayedBackoff(
  backoff: number,
  connectedAt: number | null,
  now: number,
  healthyMs: number,
): number {
  return connectedAt !== null && now - connectedAt >= healthyMs ? 0 : backoff;
}

/**
 * The delay before restart number `backoff + 1`: base × 2^backoff, capped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual([0, 1, 2, 10].map((b) => restartDelayMs(b, 500, 30_000)), [500, 1000, 2000, 30_000]);
 * ```
 */
export function restartDelayMs(backoff: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(backoff, 16));
}
