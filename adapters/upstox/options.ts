// Options of the Upstox adapter (config + credentials → worker), Upstox's limits per mode, and the
// capabilities they imply. Shared by the descriptor (main isolate) and the worker.

import { z } from "zod";
import {
  hostPort,
  httpUrl,
  instrumentsOption,
  ORDERED_BACKOFF,
  parseOptions,
  reach,
  sessionTimingShape,
} from "../../lib/adapter/options.ts";
import type { Capabilities } from "../../lib/types.ts";
import { UPSTOX_INSTRUMENTS_URL } from "./instruments.ts";

/** Upstox's REST base: the feed is authorised under it on every (re)connect. */
export const UPSTOX_FEED_URL = "https://api.upstox.com";

/** Where production's authorised feed URLs point (the authorise reply names a host here). */
export const UPSTOX_STREAM_HOST = "wsfeeder-api.upstox.com:443";

/**
 * Keys per connection by stream, alone on the connection and beside other streams (brokers.md
 * §5.1: LTPC 5000/2000, Option Greeks 3000/2000, Full 2000/1500; `full_d30` is a Plus-plan mode,
 * 50 keys).
 */
export const UPSTOX_STREAM_LIMITS: Readonly<Record<string, { alone: number; combined: number }>> = {
  ltpc: { alone: 5000, combined: 2000 },
  option_greeks: { alone: 3000, combined: 2000 },
  full: { alone: 2000, combined: 1500 },
  full_d30: { alone: 50, combined: 50 },
};

/** Limits that do not depend on the mode. */
export const UPSTOX_LIMITS = {
  /** The largest per-stream limit; `overLimit` applies the per-stream ones. */
  maxSymbolsPerConnection: 5000,
  /**
   * Market-data connections per user: 2 for standard accounts (Upstox's V3 notes; brokers.md
   * §5.1's snapshot says 1), more on Upstox Plus. Options may lower it to 1 or raise it to 5.
   */
  maxConnections: 2,
  /** Keys per request frame: Upstox states no limit; tickplex keeps requests small. */
  maxTokensPerFrame: 100,
} as const;

/**
 * Options of the Upstox adapter. `feedUrl` is the REST base (the simulator's `http://127.0.0.1:P`);
 * `fullD30` enables 30-level books (Upstox Plus) for Depth requests of 30 levels or more.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const o = upstoxOptionsSchema.parse({ accessToken: "t" });
 * assert.equal(o.feedUrl, "https://api.upstox.com");
 * assert.equal(o.fullD30, false);
 * ```
 */
export const upstoxOptionsSchema = z.object({
  accessToken: z.string().min(1),
  feedUrl: httpUrl.default(UPSTOX_FEED_URL),
  instruments: instrumentsOption.default(UPSTOX_INSTRUMENTS_URL),
  fullD30: z.boolean().default(false),
  maxConnections: z.number().int().min(1).max(5).default(UPSTOX_LIMITS.maxConnections),
  ...sessionTimingShape,
  // Upstox keeps idle connections alive with WebSocket pings, which the platform answers without
  // surfacing them: silence is normal when nothing trades, so only the data-stall watchdog runs.
  silenceTimeoutMs: z.number().int().min(0).max(600_000).default(0),
}).refine(...ORDERED_BACKOFF);

/** Parsed options. */
export type UpstoxOptions = z.output<typeof upstoxOptionsSchema>;

/**
 * Parses options; throws an Error naming every bad field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.throws(() => parseUpstoxOptions({ feedUrl: "ws://x" }), /accessToken/);
 * ```
 */
export function parseUpstoxOptions(raw: unknown): UpstoxOptions {
  return parseOptions("upstox", upstoxOptionsSchema, raw);
}

/**
 * Capabilities for parsed options: the REST host (and production's feed host), the instrument
 * source, one connection of up to 5000 keys, 5 depth levels (and 30 with `fullD30`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const caps = upstoxCapabilities(parseUpstoxOptions({ accessToken: "t" }));
 * assert.deepEqual(caps.hosts, ["api.upstox.com:443", "wsfeeder-api.upstox.com:443", "assets.upstox.com:443"]);
 * ```
 */
export function upstoxCapabilities(o: UpstoxOptions): Capabilities {
  const production = hostPort(o.feedUrl) === hostPort(UPSTOX_FEED_URL);
  const { hosts, readPaths } = reach(
    [o.feedUrl, production ? `wss://${UPSTOX_STREAM_HOST}` : undefined],
    o.instruments,
  );
  return {
    broker: "upstox",
    hosts,
    readPaths,
    maxSymbolsPerConnection: UPSTOX_LIMITS.maxSymbolsPerConnection,
    maxConnections: o.maxConnections,
    maxTokensPerFrame: UPSTOX_LIMITS.maxTokensPerFrame,
    depthLevels: { "*": o.fullD30 ? [5, 30] : [5] },
  };
}

/**
 * The per-stream limit a mix of streams breaks, or null (the dialect's `overLimit`): with one
 * stream in use its `alone` limit applies, with several each stream's `combined` limit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(brokenLimit(new Map([["ltpc", 5000]])), null);
 * assert.equal(brokenLimit(new Map([["ltpc", 2001], ["full", 1]])), 2000);
 * ```
 */
export function brokenLimit(perStream: ReadonlyMap<unknown, number>): number | null {
  const mixed = perStream.size > 1;
  for (const [stream, n] of perStream) {
    const limit = UPSTOX_STREAM_LIMITS[String(stream)];
    if (limit === undefined) continue;
    const max = mixed ? limit.combined : limit.alone;
    if (n > max) return max;
  }
  return null;
}
