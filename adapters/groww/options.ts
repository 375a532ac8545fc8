// Options of the Groww adapter (config → worker) and the capabilities they imply. Shared by the
// main-isolate descriptor (mod.ts) and the worker, so both parse options the same way.

import { z } from "zod";
import {
  httpUrl,
  instrumentsOption,
  liveCapabilities,
  ORDERED_BACKOFF,
  parseOptions,
  sessionTimingShape,
  wsUrl,
} from "../../lib/adapter/options.ts";
import type { Capabilities } from "../../lib/types.ts";

/** Groww's published instrument master. */
export const GROWW_INSTRUMENTS_URL = "https://growwapi-assets.groww.in/instruments/instrument.csv";

/** Depth levels Groww streams (its book has five per side). */
export const DEPTH_LEVELS = 5;

/**
 * Groww's limits: "up to 1000 instruments at a time" (docs). Connections per user are not
 * documented: one by default, a few more when the account is known to allow them.
 */
export const GROWW_LIMITS = {
  maxSymbolsPerConnection: 1000,
  defaultConnections: 1,
  maxConnections: 4,
  /** Instruments per SUB batch (each is one or two NATS subscriptions). */
  maxTokensPerFrame: 100,
} as const;

/** The production NATS-over-WebSocket feed. */
export const GROWW_FEED_URL = "wss://socket-api.groww.in";
/** The production REST API (socket-token mint). */
export const GROWW_API_URL = "https://api.groww.in";
/** Where a socket token is minted, relative to the REST base. */
export const SOCKET_TOKEN_PATH = "/v1/api/apex/v1/socket/token/create/";

const ms = (min: number, max: number, def: number) =>
  z.number().int().min(min).max(max).default(def);

/**
 * Options of the Groww adapter. `accessToken` is the daily Trading API access token, used as-is.
 * `apiUrl` is the REST base for the socket-token mint: by default Groww's API for the production
 * feed, else the feed's own host and port over http(s) (how the simulator serves both).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const o = growwOptionsSchema.parse({ accessToken: "t" });
 * assert.equal(o.feedUrl, "wss://socket-api.groww.in");
 * assert.equal(o.maxConnections, 1);
 * ```
 */
export const growwOptionsSchema = z.object({
  ...sessionTimingShape,
  accessToken: z.string().min(1),
  /** NATS-over-WebSocket URL; override for the simulator. */
  feedUrl: wsUrl.default(GROWW_FEED_URL),
  apiUrl: httpUrl.optional(),
  instruments: instrumentsOption.default(GROWW_INSTRUMENTS_URL),
  maxSymbolsPerConnection: z.number().int().min(1).max(GROWW_LIMITS.maxSymbolsPerConnection)
    .default(GROWW_LIMITS.maxSymbolsPerConnection),
  maxConnections: z.number().int().min(1).max(GROWW_LIMITS.maxConnections)
    .default(GROWW_LIMITS.defaultConnections),
  /**
   * A NATS PING round trip this often. The server's PONG is what keeps the silence watchdog fed
   * when no instrument trades; it must be well under `silenceTimeoutMs`.
   */
  keepAliveMs: ms(50, 120_000, 10_000),
}).refine(...ORDERED_BACKOFF).refine(
  (o) => o.silenceTimeoutMs === 0 || o.keepAliveMs < o.silenceTimeoutMs,
  {
    message: "keepAliveMs must be < silenceTimeoutMs",
    path: ["keepAliveMs"],
  },
);

/** Parsed options. */
export type GrowwOptions = z.output<typeof growwOptionsSchema>;

/**
 * Parses options; throws an Error naming every bad field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.throws(() => parseGrowwOptions({}), /accessToken/);
 * ```
 */
export function parseGrowwOptions(options: unknown): GrowwOptions {
  return parseOptions("groww", growwOptionsSchema, options);
}

/**
 * Where the socket token is minted (§11.9.1: the simulator serves it on the feed's host and port).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(
 *   socketTokenUrl(parseGrowwOptions({ accessToken: "t" })),
 *   "https://api.groww.in/v1/api/apex/v1/socket/token/create/",
 * );
 * assert.equal(
 *   socketTokenUrl(parseGrowwOptions({ accessToken: "t", feedUrl: "ws://127.0.0.1:9105" })),
 *   "http://127.0.0.1:9105/v1/api/apex/v1/socket/token/create/",
 * );
 * ```
 */
export function socketTokenUrl(o: GrowwOptions): string {
  let base = o.apiUrl;
  if (base === undefined) {
    const feed = new URL(o.feedUrl);
    base = o.feedUrl === GROWW_FEED_URL
      ? GROWW_API_URL
      : `${feed.protocol === "wss:" ? "https:" : "http:"}//${feed.host}`;
  }
  return new URL(SOCKET_TOKEN_PATH, base).href;
}

/**
 * Capabilities for parsed options: the feed, REST and instruments hosts, the instruments file,
 * and Groww's limits lowered by the options.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const caps = growwCapabilities(parseGrowwOptions({ accessToken: "t" }));
 * assert.deepEqual(caps.hosts, [
 *   "socket-api.groww.in:443", "api.groww.in:443", "growwapi-assets.groww.in:443",
 * ]);
 * ```
 */
export function growwCapabilities(o: GrowwOptions): Capabilities {
  return liveCapabilities("groww", o, GROWW_LIMITS, { "*": [DEPTH_LEVELS] }, [socketTokenUrl(o)]);
}
