// Options of the Zerodha adapter (config → worker) and the capabilities they imply. Shared by the
// main-isolate descriptor (mod.ts) and the worker, so both parse options the same way.

import { z } from "zod";
import type { Capabilities } from "../../lib/types.ts";
import { KITE_INSTRUMENTS_URL } from "./instruments.ts";

/** Kite's documented limits. */
export const KITE_LIMITS = {
  maxSymbolsPerConnection: 3000,
  maxConnections: 3,
  maxTokensPerFrame: 200,
} as const;

/** The real Kite Ticker endpoint. */
export const KITE_FEED_URL = "wss://ws.kite.trade";

const wsUrl = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return u.protocol === "ws:" || u.protocol === "wss:";
  } catch {
    return false;
  }
}, "must be a ws:// or wss:// URL");

const httpUrl = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}, "must be an http:// or https:// URL");

const ms = (min: number, max: number, def: number) =>
  z.number().int().min(min).max(max).default(def);

/**
 * Options of the Zerodha adapter. Without `instrumentsPath` the master is downloaded from
 * `instrumentsUrl` (default Kite's) with the credentials.
 *
 * @example
 * ```ts ignore
 * zerodhaOptionsSchema.parse({ apiKey: "k", accessToken: "t", feedUrl: "ws://127.0.0.1:9101" });
 * ```
 */
export const zerodhaOptionsSchema = z.object({
  apiKey: z.string().min(1),
  accessToken: z.string().min(1),
  /** Kite Ticker URL; override for the simulator. */
  feedUrl: wsUrl.default(KITE_FEED_URL),
  /** Kite instruments CSV on disk; preferred over the URL when given. */
  instrumentsPath: z.string().min(1).optional(),
  /** Where to download the instruments CSV when no path is given. */
  instrumentsUrl: httpUrl.optional(),
  maxSymbolsPerConnection: z.number().int().min(1).max(KITE_LIMITS.maxSymbolsPerConnection)
    .default(KITE_LIMITS.maxSymbolsPerConnection),
  maxConnections: z.number().int().min(1).max(KITE_LIMITS.maxConnections)
    .default(KITE_LIMITS.maxConnections),
  /** First reconnect delay; doubles per attempt up to `reconnectMaxMs`, with jitter. */
  reconnectBaseMs: ms(10, 60_000, 1000),
  reconnectMaxMs: ms(10, 600_000, 60_000),
  /** Consecutive failed reconnects before giving up (status `disconnected`). */
  maxReconnectAttempts: z.number().int().min(1).max(10_000).default(50),
  /** Handshake must complete within this. */
  connectTimeoutMs: ms(100, 120_000, 10_000),
  /** No frame at all (not even a heartbeat) for this long → `stalled`, then reconnect. */
  heartbeatTimeoutMs: ms(100, 120_000, 5_000),
  /** Subscribed but no tick for this long (heartbeats arriving) → `stalled`, reconnect; 0 = off. */
  dataStallMs: ms(0, 3_600_000, 90_000),
  /** After a 403, retry with the same token this often (tokens may be restored upstream). */
  authRetryMs: ms(100, 3_600_000, 60_000),
  /** 403s in a row (per token) before automatic retries stop until a new `token` arrives. */
  maxAuthRetries: z.number().int().min(1).max(100).default(5),
  /** Least time between two connection attempts driven by `token` messages. */
  authRetryMinMs: ms(0, 600_000, 1_000),
  /** Pause between consecutive subscribe/mode frames (0 = back to back). */
  frameIntervalMs: ms(0, 10_000, 0),
}).refine((o) => o.reconnectMaxMs >= o.reconnectBaseMs, {
  message: "reconnectMaxMs must be ≥ reconnectBaseMs",
  path: ["reconnectMaxMs"],
});

/** Parsed options. */
export type ZerodhaOptions = z.infer<typeof zerodhaOptionsSchema>;

/**
 * Parses options; throws an Error naming every bad field.
 *
 * @example
 * ```ts ignore
 * const o = parseZerodhaOptions({ apiKey: "k", accessToken: "t" });
 * ```
 */
export function parseZerodhaOptions(options: unknown): ZerodhaOptions {
  const r = zerodhaOptionsSchema.safeParse(options);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join(".") || "options"}: ${i.message}`);
    throw new Error(`invalid zerodha options: ${issues.join("; ")}`);
  }
  return r.data;
}

/** `host:port` of a URL, with the scheme's default port made explicit. */
export function hostPort(url: string): string {
  const u = new URL(url);
  const port = u.port !== ""
    ? u.port
    : u.protocol === "wss:" || u.protocol === "https:"
    ? "443"
    : "80";
  return `${u.hostname}:${port}`;
}

/** The instruments URL the options select, or null when a file is used. */
export function instrumentsUrlOf(o: ZerodhaOptions): string | null {
  return o.instrumentsPath !== undefined ? null : o.instrumentsUrl ?? KITE_INSTRUMENTS_URL;
}

/**
 * Capabilities for parsed options: the feed host (and instruments host when downloading), the
 * instruments file, and Kite's limits lowered by the options.
 *
 * @example
 * ```ts ignore
 * zerodhaCapabilities(parseZerodhaOptions({ apiKey: "k", accessToken: "t" })).hosts;
 * // ["ws.kite.trade:443", "api.kite.trade:443"]
 * ```
 */
export function zerodhaCapabilities(o: ZerodhaOptions): Capabilities {
  const hosts = [hostPort(o.feedUrl)];
  const instrumentsUrl = instrumentsUrlOf(o);
  if (instrumentsUrl !== null) {
    const h = hostPort(instrumentsUrl);
    if (!hosts.includes(h)) hosts.push(h);
  }
  return {
    broker: "zerodha",
    hosts,
    readPaths: o.instrumentsPath !== undefined ? [o.instrumentsPath] : [],
    maxSymbolsPerConnection: o.maxSymbolsPerConnection,
    maxConnections: o.maxConnections,
    maxTokensPerFrame: KITE_LIMITS.maxTokensPerFrame,
    depthLevels: { "*": [5] },
  };
}
