// Options of the Fyers adapter (config + credentials → worker) and the capabilities they imply.
// Shared by the descriptor (mod.ts) and the worker, so both parse options the same way.

import { z } from "zod";
import {
  ORDERED_BACKOFF,
  parseOptions,
  sessionTimingShape,
  wsUrl,
} from "../../lib/adapter/options.ts";
import type { Capabilities } from "../../lib/types.ts";
import { instrumentSources, reachAll } from "../hsm/sources.ts";
import { FYERS_MASTER_URLS } from "./instruments.ts";

/** The Fyers data socket (HSM v1-5). */
export const FYERS_FEED_URL = "wss://socket.fyers.in/hsm/v1-5/prod";

/**
 * Fyers' limits: 5000 symbols (the official client's check), up to 1500 topics per request,
 * channels 1–30 (11 is the client's default), a 30 s ping, 5 depth levels on the data socket.
 * One data socket per login: the official client is a singleton.
 */
export const FYERS_LIMITS = {
  maxSymbolsPerConnection: 5000,
  maxConnections: 1,
  maxTopicsPerRequest: 1500,
  pingEveryMs: 30_000,
  depthLevels: 5,
} as const;

/**
 * Options of the Fyers adapter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const o = fyersOptionsSchema.parse({ accessToken: "APP-100:eyJ.x.y" });
 * assert.equal(o.feedUrl, FYERS_FEED_URL);
 * assert.equal(o.instruments.length, 2);
 * ```
 */
export const fyersOptionsSchema = z.object({
  ...sessionTimingShape,
  // No server heartbeat is documented: an idle market is silence, not a dead socket. The data
  // stall watchdog still catches a feed that stops while instruments are subscribed.
  silenceTimeoutMs: z.number().int().min(0).max(600_000).default(0),
  /** `APPID:token` (TICKPLEX_BROKER_ACCESS_TOKEN); the token is a JWT carrying `hsm_key`. */
  accessToken: z.string().regex(/^[^:\s]+:\S+$/, "must be APPID:token"),
  /** Data socket URL; override for the simulator. */
  feedUrl: wsUrl.default(FYERS_FEED_URL),
  /** Symbol master CSVs (files or URLs); default Fyers' public NSE_CM and NSE_FO. */
  instruments: instrumentSources.default([...FYERS_MASTER_URLS]),
  /** The channel topics are streamed on, in full mode (1–30). */
  channel: z.number().int().min(1).max(30).default(11),
  maxSymbolsPerConnection: z.number().int().min(1).max(FYERS_LIMITS.maxSymbolsPerConnection)
    .default(FYERS_LIMITS.maxSymbolsPerConnection),
  /** Connections per login: undocumented; one unless the operator knows the account allows more. */
  maxConnections: z.number().int().min(1).max(3).default(FYERS_LIMITS.maxConnections),
}).refine(...ORDERED_BACKOFF);

/** Parsed options. */
export type FyersOptions = z.output<typeof fyersOptionsSchema>;

/**
 * Parses options; throws an Error naming every bad field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.throws(() => parseFyersOptions({ accessToken: "nocolon" }), /APPID:token/);
 * ```
 */
export function parseFyersOptions(raw: unknown): FyersOptions {
  return parseOptions("fyers", fyersOptionsSchema, raw);
}

/**
 * Capabilities for parsed options.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const caps = fyersCapabilities(parseFyersOptions({ accessToken: "A:t" }));
 * assert.deepEqual(caps.hosts, ["socket.fyers.in:443", "public.fyers.in:443"]);
 * ```
 */
export function fyersCapabilities(o: FyersOptions): Capabilities {
  return {
    broker: "fyers",
    ...reachAll([o.feedUrl], o.instruments),
    maxSymbolsPerConnection: o.maxSymbolsPerConnection,
    maxConnections: o.maxConnections,
    maxTokensPerFrame: FYERS_LIMITS.maxTopicsPerRequest,
    depthLevels: { "*": [FYERS_LIMITS.depthLevels] },
  };
}
