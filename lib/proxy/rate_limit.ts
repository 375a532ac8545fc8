// The per-client message rate limit: a token bucket, and a flood verdict for a client that keeps
// sending far past it. Pure: the caller passes the time and acts on the verdict.

/** Rate-limit settings, from config limits. */
export interface RateLimits {
  messagesPerSecond: number;
  messageBurst: number;
  /** Messages refused in a row after which the client is closed for flooding. */
  floodCloseAfter: number;
}

/** The bucket state kept per client. */
export interface TokenBucket {
  tokens: number;
  lastRefill: number;
  /** Messages refused since the last admitted one. */
  flooded: number;
  /** Requests received but not answered yet. */
  pendingRequests: number;
}

/** `ok`: handle it; `limited`: drop it (answer RATE_LIMITED now and then); `flood`: close. */
export type Admission = "ok" | "limited" | "flood";

/**
 * Admits one message at `now`, refilling the bucket first. A client with as many requests in
 * flight as its burst is refused too, so slow requests cannot pile up.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const limits = { messagesPerSecond: 1, messageBurst: 1, floodCloseAfter: 2 };
 * const b = { tokens: 1, lastRefill: 0, flooded: 0, pendingRequests: 0 };
 * assert.deepEqual([admit(b, limits, 0), admit(b, limits, 0), admit(b, limits, 0)], ["ok", "limited", "flood"]);
 * ```
 */
export function admit(bucket: TokenBucket, limits: RateLimits, now: number): Admission {
  bucket.tokens = Math.min(
    limits.messageBurst,
    bucket.tokens + ((now - bucket.lastRefill) / 1000) * limits.messagesPerSecond,
  );
  bucket.lastRefill = now;
  if (bucket.tokens >= 1 && bucket.pendingRequests < limits.messageBurst) {
    bucket.tokens--;
    bucket.flooded = 0;
    return "ok";
  }
  bucket.flooded++;
  return bucket.flooded >= limits.floodCloseAfter ? "flood" : "limited";
}
