// Options of a Noren broker's adapter (config → worker) and the capabilities they imply. The
// schema is built from the broker's row in NOREN_BROKERS: its endpoints, login and limits.

import { z } from "zod";
import {
  instrumentsOption,
  ORDERED_BACKOFF,
  parseOptions,
  reach,
  sessionTimingShape,
  wsUrl,
} from "../../lib/adapter/options.ts";
import type { Capabilities } from "../../lib/types.ts";
import type { NorenBrokerConfig, NorenLogin } from "./brokers.ts";
import { masterSources } from "./instruments.ts";

/** Options of a Noren adapter, parsed. */
export interface NorenOptions extends z.output<z.ZodObject<typeof sessionTimingShape>> {
  /** Session token (`susertoken`) for `t:c`, access token for `t:a`. */
  accessToken: string;
  userId: string;
  /** Account id; the user id when absent. */
  accountId?: string;
  login: NorenLogin;
  /** `source` of the login message. */
  source: string;
  /** The feed URL: the broker's for the chosen login unless overridden (simulator). */
  feedUrl: string;
  /** Master files or URLs (one string may list several, comma-separated). */
  instruments: string | string[];
  /** Client heartbeat `{"t":"h"}` period. */
  heartbeatMs: number;
  maxSymbolsPerConnection: number;
  maxConnections: number;
}

const ms = (min: number, max: number, def: number) =>
  z.number().int().min(min).max(max).default(def);

/**
 * The options schema of one Noren broker.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NOREN_BROKERS } from "./brokers.ts";
 * const o = norenOptionsSchema(NOREN_BROKERS.shoonya).parse({
 *   accessToken: "t", userId: "FA1", instruments: "NSE_symbols.txt", login: "c",
 * });
 * assert.equal(o.feedUrl, "wss://api.shoonya.com/NorenWSTP/");
 * assert.equal(o.silenceTimeoutMs, 0);
 * ```
 */
export function norenOptionsSchema(config: NorenBrokerConfig): z.ZodType<NorenOptions> {
  return z.object({
    ...sessionTimingShape,
    // Noren sends nothing on an idle connection (no server heartbeat, no reply to ours), so
    // silence alone says nothing; the data-stall watchdog covers subscribed connections.
    silenceTimeoutMs: ms(0, 600_000, 0),
    accessToken: z.string().min(1),
    userId: z.string().min(1),
    accountId: z.string().min(1).optional(),
    login: z.enum(["a", "c"]).default(config.defaultLogin),
    source: z.string().min(1).default(config.source),
    feedUrl: wsUrl.optional(),
    instruments: z.union([instrumentsOption, z.array(instrumentsOption).min(1)]).refine(
      (v) => masterSources(v).length > 0,
      "must name at least one file or URL",
    ),
    heartbeatMs: ms(1000, 300_000, 30_000),
    maxSymbolsPerConnection: z.number().int().min(1).max(config.maxSymbolsPerConnection)
      .default(config.maxSymbolsPerConnection),
    maxConnections: z.number().int().min(1).max(config.maxConnections)
      .default(config.maxConnections),
  }).refine(...ORDERED_BACKOFF).refine(
    (o) => o.feedUrl !== undefined || config.feedUrls[o.login] !== undefined,
    {
      message: `${config.name} has no t:c login endpoint; give feedUrl or use login "a"`,
      path: ["login"],
    },
  ).transform((o) => ({ ...o, feedUrl: o.feedUrl ?? config.feedUrls[o.login]! }));
}

/**
 * Parses a Noren broker's options; throws an Error naming every bad field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NOREN_BROKERS } from "./brokers.ts";
 * assert.throws(() => parseNorenOptions(NOREN_BROKERS.flattrade, { accessToken: "t" }), /userId/);
 * ```
 */
export function parseNorenOptions(config: NorenBrokerConfig, raw: unknown): NorenOptions {
  return parseOptions(config.name, norenOptionsSchema(config), raw);
}

/**
 * Capabilities for parsed options: the feed host and the masters' hosts or files, the broker's
 * limits as lowered by the options, five depth levels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NOREN_BROKERS } from "./brokers.ts";
 * const c = NOREN_BROKERS.flattrade;
 * const caps = norenCapabilities(c, parseNorenOptions(c, {
 *   accessToken: "t", userId: "U", instruments: "/data/NSE.csv,/data/NFO.csv",
 * }));
 * assert.deepEqual(caps.hosts, ["piconnect.flattrade.in:443"]);
 * assert.deepEqual(caps.readPaths, ["/data/NSE.csv", "/data/NFO.csv"]);
 * assert.equal(caps.maxConnections, 2);
 * ```
 */
export function norenCapabilities(config: NorenBrokerConfig, o: NorenOptions): Capabilities {
  const hosts: string[] = [];
  const readPaths: string[] = [];
  const sources = masterSources(o.instruments);
  for (const [i, source] of sources.entries()) {
    const r = reach(i === 0 ? [o.feedUrl] : [], source);
    for (const h of r.hosts) if (!hosts.includes(h)) hosts.push(h);
    for (const p of r.readPaths) if (!readPaths.includes(p)) readPaths.push(p);
  }
  return {
    broker: config.name,
    hosts,
    readPaths,
    maxSymbolsPerConnection: o.maxSymbolsPerConnection,
    maxConnections: o.maxConnections,
    maxTokensPerFrame: config.maxTokensPerFrame,
    depthLevels: { "*": [5] },
  };
}
