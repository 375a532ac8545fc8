// Options of the Dhan adapter (config → worker) and the capabilities they imply; shared by the
// descriptor (mod.ts) and the worker so both parse options the same way.

import { z } from "zod";
import {
  instrumentsOption,
  limitsShape,
  liveCapabilities,
  ORDERED_BACKOFF,
  parseOptions,
  sessionTimingShape,
  wsUrl,
} from "../../lib/adapter/options.ts";
import type { Capabilities } from "../../lib/types.ts";
import { DHAN_INSTRUMENTS_URL } from "./instruments.ts";

/** The live market feed v2 endpoint (credentials go in its query). */
export const DHAN_FEED_URL = "wss://api-feed.dhan.co";

/** Dhan's documented limits (brokers.md §3.1). */
export const DHAN_LIMITS = {
  maxSymbolsPerConnection: 5000,
  maxConnections: 5,
  /** Instruments per subscribe/unsubscribe message. */
  maxTokensPerFrame: 100,
} as const;

/**
 * Options of the Dhan adapter: access token and client id, the feed URL, the scrip master (file
 * or URL, default Dhan's public compact master) and the kit's session timing. The silence
 * watchdog is off by default: Dhan keeps the socket alive with WebSocket pings, which the client
 * answers without seeing them, so a quiet market and a dead socket look alike; the data-stall
 * watchdog (subscribed, no ticks) still applies.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const o = dhanOptionsSchema.parse({ accessToken: "t", clientId: "1000000001" });
 * assert.equal(o.feedUrl, "wss://api-feed.dhan.co");
 * assert.equal(o.silenceTimeoutMs, 0);
 * ```
 */
export const dhanOptionsSchema = z.object({
  ...sessionTimingShape,
  accessToken: z.string().min(1),
  clientId: z.string().min(1),
  feedUrl: wsUrl.default(DHAN_FEED_URL),
  instruments: instrumentsOption.default(DHAN_INSTRUMENTS_URL),
  ...limitsShape(DHAN_LIMITS),
  silenceTimeoutMs: sessionTimingShape.silenceTimeoutMs.default(0),
}).refine(...ORDERED_BACKOFF);

/** Parsed options. */
export type DhanOptions = z.output<typeof dhanOptionsSchema>;

/**
 * Parses options; throws an Error naming every bad field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.throws(() => parseDhanOptions({ accessToken: "t" }), /clientId/);
 * ```
 */
export function parseDhanOptions(raw: unknown): DhanOptions {
  return parseOptions("dhan", dhanOptionsSchema, raw);
}

/**
 * Capabilities: the feed host (and the master's host when downloading), 5000 instruments × 5
 * connections, 100 per request, 5 levels of depth (the separate 20-level socket is not opened).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const caps = dhanCapabilities(parseDhanOptions({ accessToken: "t", clientId: "c" }));
 * assert.deepEqual(caps.hosts, ["api-feed.dhan.co:443", "images.dhan.co:443"]);
 * ```
 */
export function dhanCapabilities(o: DhanOptions): Capabilities {
  return liveCapabilities("dhan", o, DHAN_LIMITS, { "*": [5] });
}
