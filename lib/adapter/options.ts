// Option pieces every live broker shares: the feed URL, the instrument master source, session
// timing, and parsing that names every bad field. A broker's options schema extends these.

import { z } from "zod";
import type { Capabilities } from "../types.ts";
import { isUrlSource } from "./instruments.ts";

function urlWith(protocols: string[], label: string) {
  return z.string().refine((s) => {
    try {
      return protocols.includes(new URL(s).protocol);
    } catch {
      return false;
    }
  }, `must be a ${label} URL`);
}

/** A `ws://` or `wss://` URL. */
export const wsUrl = urlWith(["ws:", "wss:"], "ws:// or wss://");
/** An `http://` or `https://` URL. */
export const httpUrl = urlWith(["http:", "https:"], "http:// or https://");

const ms = (min: number, max: number, def: number) =>
  z.number().int().min(min).max(max).default(def);

/**
 * Timing of a reconnecting broker session (see session.ts). Defaults suit a live feed; tests and
 * simulators lower them.
 */
export const sessionTimingShape = {
  /** The handshake (and login, for dialects that await one) must complete within this. */
  connectTimeoutMs: ms(100, 120_000, 10_000),
  /** No message at all (data, heartbeat, pong) for this long → `stalled`, reconnect; 0 = off. */
  silenceTimeoutMs: ms(0, 600_000, 30_000),
  /** Subscribed, messages arriving, but no tick for this long → `stalled`, reconnect; 0 = off. */
  dataStallMs: ms(0, 3_600_000, 90_000),
  /** First reconnect delay; doubles per attempt up to `reconnectMaxMs`, with jitter. */
  reconnectBaseMs: ms(10, 60_000, 1000),
  reconnectMaxMs: ms(10, 600_000, 60_000),
  /** Failed reconnects in a row before the session stops (`failed`; the pool restarts it slowly). */
  maxReconnectAttempts: z.number().int().min(1).max(10_000).default(50),
  /** After rejected credentials, retry with the same token this often (upstream may restore it). */
  authRetryMs: ms(100, 3_600_000, 60_000),
  /** Rejections in a row (per token) before automatic retries stop until a fresh token arrives. */
  maxAuthRetries: z.number().int().min(1).max(100).default(5),
  /** Least time between two connection attempts driven by fresh tokens. */
  authRetryMinMs: ms(0, 600_000, 1_000),
  /** Pause between consecutive subscribe/mode frames (0 = back to back). */
  frameIntervalMs: ms(0, 10_000, 0),
} as const;

/** Parsed session timing. */
export type SessionTiming = z.output<z.ZodObject<typeof sessionTimingShape>>;

/** The instrument master option: a file path or an http(s) URL. */
export const instrumentsOption = z.string().min(1);

/**
 * Parses `raw` with `schema`; throws an Error naming every bad field, prefixed with the broker.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * assert.throws(
 *   () => parseOptions("demo", z.object({ feedUrl: wsUrl }), { feedUrl: "http://x" }),
 *   /invalid demo options: feedUrl: must be a ws:\/\/ or wss:\/\/ URL/,
 * );
 * ```
 */
export function parseOptions<S extends z.ZodType>(
  broker: string,
  schema: S,
  raw: unknown,
): z.output<S> {
  const r = schema.safeParse(raw ?? {});
  if (!r.success) {
    const issues = r.error.issues.map((i) =>
      `${i.path.map(String).join(".") || "options"}: ${i.message}`
    );
    throw new Error(`invalid ${broker} options: ${issues.join("; ")}`);
  }
  return r.data;
}

/**
 * `host:port` of a URL, with the scheme's default port made explicit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(hostPort("wss://ws.kite.trade"), "ws.kite.trade:443");
 * assert.equal(hostPort("ws://127.0.0.1:9101/feed"), "127.0.0.1:9101");
 * ```
 */
export function hostPort(url: string): string {
  const u = new URL(url);
  const port = u.port !== ""
    ? u.port
    : u.protocol === "wss:" || u.protocol === "https:"
    ? "443"
    : "80";
  return `${u.hostname}:${port}`;
}

/**
 * The hosts and files an adapter needs for its URLs and instrument source: every URL's
 * `host:port` (deduplicated) and the instrument file when it is a file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(reach(["ws://127.0.0.1:9/x", "http://127.0.0.1:9/y"], "/tmp/i.csv"), {
 *   hosts: ["127.0.0.1:9"], readPaths: ["/tmp/i.csv"],
 * });
 * ```
 */
export function reach(
  urls: readonly (string | undefined)[],
  instruments: string | undefined,
): { hosts: string[]; readPaths: string[] } {
  const hosts: string[] = [];
  for (
    const u of [
      ...urls,
      instruments !== undefined && isUrlSource(instruments) ? instruments : undefined,
    ]
  ) {
    if (u === undefined) continue;
    const h = hostPort(u);
    if (!hosts.includes(h)) hosts.push(h);
  }
  const readPaths = instruments !== undefined && !isUrlSource(instruments)
    ? [instruments.startsWith("file:") ? new URL(instruments).pathname : instruments]
    : [];
  return { hosts, readPaths };
}

/** A broker's documented limits; config may lower them, never raise them. */
export interface BrokerLimits {
  maxSymbolsPerConnection: number;
  maxConnections: number;
  maxTokensPerFrame: number;
}

/**
 * The option fields that lower a broker's limits: each defaults to the limit and may not exceed it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * const s = z.object(limitsShape({ maxSymbolsPerConnection: 3000, maxConnections: 3, maxTokensPerFrame: 200 }));
 * assert.deepEqual(s.parse({ maxConnections: 1 }), { maxSymbolsPerConnection: 3000, maxConnections: 1 });
 * assert.equal(s.safeParse({ maxConnections: 4 }).success, false);
 * ```
 */
export function limitsShape(limits: BrokerLimits): {
  maxSymbolsPerConnection: z.ZodDefault<z.ZodNumber>;
  maxConnections: z.ZodDefault<z.ZodNumber>;
} {
  return {
    maxSymbolsPerConnection: z.number().int().min(1).max(limits.maxSymbolsPerConnection)
      .default(limits.maxSymbolsPerConnection),
    maxConnections: z.number().int().min(1).max(limits.maxConnections)
      .default(limits.maxConnections),
  };
}

/**
 * The refinement every session timing needs: the backoff cap is not below its base. Use as
 * `schema.refine(...ORDERED_BACKOFF)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * const s = z.object(sessionTimingShape).refine(...ORDERED_BACKOFF);
 * assert.equal(s.safeParse({ reconnectBaseMs: 500, reconnectMaxMs: 100 }).success, false);
 * ```
 */
export const ORDERED_BACKOFF: [
  (o: { reconnectBaseMs: number; reconnectMaxMs: number }) => boolean,
  { message: string; path: string[] },
] = [
  (o) => o.reconnectMaxMs >= o.reconnectBaseMs,
  { message: "reconnectMaxMs must be ≥ reconnectBaseMs", path: ["reconnectMaxMs"] },
];

/**
 * Capabilities of a live broker from its parsed options: the hosts of its feed URL, instrument
 * source and any REST URLs, its instrument file, its limits as lowered by the options.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const caps = liveCapabilities("demo", {
 *   feedUrl: "wss://feed.example:443/ws", instruments: "/tmp/i.csv",
 *   maxSymbolsPerConnection: 10, maxConnections: 1,
 * }, { maxSymbolsPerConnection: 100, maxConnections: 2, maxTokensPerFrame: 50 });
 * assert.deepEqual(caps.hosts, ["feed.example:443"]);
 * assert.equal(caps.maxTokensPerFrame, 50);
 * ```
 */
export function liveCapabilities(
  broker: string,
  o: {
    feedUrl: string;
    instruments: string;
    maxSymbolsPerConnection: number;
    maxConnections: number;
  },
  limits: BrokerLimits,
  depthLevels: Record<string, number[]> = { "*": [5] },
  extraUrls: readonly string[] = [],
): Capabilities {
  return {
    broker,
    ...reach([o.feedUrl, ...extraUrls], o.instruments),
    maxSymbolsPerConnection: o.maxSymbolsPerConnection,
    maxConnections: o.maxConnections,
    maxTokensPerFrame: limits.maxTokensPerFrame,
    depthLevels,
  };
}
