// Options of the Zerodha adapter (config → worker) and the capabilities they imply. Shared by the
// main-isolate descriptor (mod.ts) and the worker, so both parse options the same way.

import { z } from "zod";
import {
  httpUrl,
  instrumentsOption,
  limitsShape,
  liveCapabilities,
  ORDERED_BACKOFF,
  parseOptions,
  sessionTimingShape,
  wsUrl,
} from "../../lib/adapter/options.ts";
import type { Capabilities } from "../../lib/types.ts";
import { KITE_INSTRUMENTS_URL } from "./instruments.ts";
import { KITE_API_URL, KITE_QUOTE_LIMITS } from "./rest.ts";

/** Kite's documented limits. */
export const KITE_LIMITS = {
  maxSymbolsPerConnection: 3000,
  maxConnections: 3,
  maxTokensPerFrame: 200,
} as const;

/** The real Kite Ticker endpoint. */
export const KITE_FEED_URL = "wss://ws.kite.trade";

/**
 * Options of the Zerodha adapter. `instruments` is a file or an http(s) URL (default Kite's
 * instruments dump, downloaded with the credentials). `instrumentsPath` / `instrumentsUrl` are
 * accepted as older spellings of it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const o = zerodhaOptionsSchema.parse({ apiKey: "k", accessToken: "t" });
 * assert.equal(o.instruments, "https://api.kite.trade/instruments");
 * assert.equal(o.silenceTimeoutMs, 5000);
 * ```
 */
export const zerodhaOptionsSchema = z.preprocess(
  (raw) => {
    if (typeof raw !== "object" || raw === null) return raw;
    const { instrumentsPath, instrumentsUrl, ...rest } = raw as Record<string, unknown>;
    // A feed elsewhere than Kite's (the simulator) serves the REST quotes on the same host.
    if (rest.apiUrl === undefined && typeof rest.feedUrl === "string") {
      const api = restRootOf(rest.feedUrl);
      if (api !== null) rest.apiUrl = api;
    }
    return { instruments: instrumentsPath ?? instrumentsUrl, ...rest };
  },
  z.object({
    ...sessionTimingShape,
    apiKey: z.string().min(1),
    accessToken: z.string().min(1),
    /** Kite Ticker URL; override for the simulator. */
    feedUrl: wsUrl.default(KITE_FEED_URL),
    /**
     * Kite Connect REST root for market quotes (the poller's path). Default Kite's, or the feed's
     * host over http(s) when `feedUrl` points elsewhere (the simulator serves both).
     */
    apiUrl: httpUrl.default(KITE_API_URL),
    instruments: instrumentsOption.default(KITE_INSTRUMENTS_URL),
    ...limitsShape(KITE_LIMITS),
    /** Kite sends a heartbeat every second; five silent seconds mean the socket is dead. */
    silenceTimeoutMs: sessionTimingShape.silenceTimeoutMs.default(5_000),
  }).refine(...ORDERED_BACKOFF),
);

/**
 * The REST root that goes with a feed URL: Kite's for Kite's ticker, else the same host over
 * http(s) (the simulator serves both). Null when the URL does not parse.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(restRootOf("wss://ws.kite.trade"), "https://api.kite.trade");
 * assert.equal(restRootOf("ws://127.0.0.1:9101/"), "http://127.0.0.1:9101");
 * ```
 */
export function restRootOf(feedUrl: string): string | null {
  let u: URL;
  try {
    u = new URL(feedUrl);
  } catch {
    return null;
  }
  if (u.origin === new URL(KITE_FEED_URL).origin) return KITE_API_URL;
  if (u.protocol !== "ws:" && u.protocol !== "wss:") return null;
  return `${u.protocol === "wss:" ? "https:" : "http:"}//${u.host}`;
}

/** Parsed options. */
export type ZerodhaOptions = z.output<typeof zerodhaOptionsSchema>;

/**
 * Parses options; throws an Error naming every bad field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.throws(() => parseZerodhaOptions({ apiKey: "k" }), /accessToken/);
 * ```
 */
export function parseZerodhaOptions(options: unknown): ZerodhaOptions {
  return parseOptions("zerodha", zerodhaOptionsSchema, options);
}

/**
 * Capabilities for parsed options: the feed host (and instruments host when downloading), the
 * instruments file, and Kite's limits lowered by the options.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const caps = zerodhaCapabilities(parseZerodhaOptions({ apiKey: "k", accessToken: "t" }));
 * assert.deepEqual(caps.hosts, ["ws.kite.trade:443", "api.kite.trade:443"]);
 * ```
 */
export function zerodhaCapabilities(o: ZerodhaOptions): Capabilities {
  return {
    ...liveCapabilities("zerodha", o, KITE_LIMITS, { "*": [5] }, [o.apiUrl]),
    quotes: KITE_QUOTE_LIMITS,
  };
}
