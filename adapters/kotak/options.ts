// Options of the Kotak Neo adapter (config + credentials → worker) and the capabilities they
// imply. Shared by the descriptor (mod.ts) and the worker, so both parse options the same way.

import { z } from "zod";
import {
  ORDERED_BACKOFF,
  parseOptions,
  sessionTimingShape,
  wsUrl,
} from "../../lib/adapter/options.ts";
import type { Capabilities } from "../../lib/types.ts";
import { instrumentSources, reachAll } from "../hsm/sources.ts";

/** Kotak Neo's HSM market-data socket. */
export const KOTAK_FEED_URL = "wss://mlhsm.kotaksecurities.com";

/** Where Kotak publishes its scrip masters (dated paths; listed by the file-paths API). */
export const KOTAK_MASTER_HOST = "lapi.kotaksecurities.com:443";

/**
 * Kotak's limits, all client-side in Kotak's own libraries (brokers.md §10.6): at most 100 topics
 * per request, 200 topics per channel on channels 2–16 (3000 per connection), 5 depth levels.
 * A Depth instrument takes two topics (`sf` + `dp`), so 1500 instruments fit in any mode.
 */
export const KOTAK_LIMITS = {
  maxSymbolsPerConnection: 1500,
  maxConnections: 1,
  maxTopicsPerRequest: 100,
  channels: { first: 2, last: 16, perChannel: 200 },
  keepAliveEveryMs: 30_000,
  depthLevels: 5,
} as const;

/**
 * Options of the Kotak adapter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const o = kotakOptionsSchema.parse({ accessToken: "jwt", sid: "s", instruments: "a.csv" });
 * assert.equal(o.feedUrl, KOTAK_FEED_URL);
 * ```
 */
export const kotakOptionsSchema = z.object({
  ...sessionTimingShape,
  // The HSM server sends no heartbeat: an idle market is silence, not a dead socket. The data
  // stall watchdog still catches a feed that stops while instruments are subscribed.
  silenceTimeoutMs: z.number().int().min(0).max(600_000).default(0),
  /** The trade token from tradeApiValidate (TICKPLEX_BROKER_ACCESS_TOKEN). */
  accessToken: z.string().min(1),
  /** The trade sid from tradeApiValidate (TICKPLEX_BROKER_SID). */
  sid: z.string().min(1),
  /** HSM socket URL; override for the simulator. */
  feedUrl: wsUrl.default(KOTAK_FEED_URL),
  /** Scrip master CSVs (files or URLs), e.g. nse_cm and nse_fo. */
  instruments: instrumentSources,
  maxSymbolsPerConnection: z.number().int().min(1).max(KOTAK_LIMITS.maxSymbolsPerConnection)
    .default(KOTAK_LIMITS.maxSymbolsPerConnection),
  /** Connections per login: undocumented; one unless the operator knows the account allows more. */
  maxConnections: z.number().int().min(1).max(3).default(KOTAK_LIMITS.maxConnections),
}).refine(...ORDERED_BACKOFF);

/** Parsed options. */
export type KotakOptions = z.output<typeof kotakOptionsSchema>;

/**
 * Parses options; throws an Error naming every bad field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.throws(() => parseKotakOptions({ accessToken: "t" }), /sid/);
 * ```
 */
export function parseKotakOptions(raw: unknown): KotakOptions {
  return parseOptions("kotak", kotakOptionsSchema, raw);
}

/**
 * Capabilities for parsed options.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const caps = kotakCapabilities(parseKotakOptions({ accessToken: "t", sid: "s", instruments: "/m.csv" }));
 * assert.deepEqual(caps.hosts, ["mlhsm.kotaksecurities.com:443"]);
 * assert.deepEqual(caps.readPaths, ["/m.csv"]);
 * ```
 */
export function kotakCapabilities(o: KotakOptions): Capabilities {
  return {
    broker: "kotak",
    ...reachAll([o.feedUrl], o.instruments),
    maxSymbolsPerConnection: o.maxSymbolsPerConnection,
    maxConnections: o.maxConnections,
    // The dialect puts one topic kind per request, so 100 items never exceed 100 topics.
    maxTokensPerFrame: KOTAK_LIMITS.maxTopicsPerRequest,
    depthLevels: { "*": [KOTAK_LIMITS.depthLevels] },
  };
}
