// Options of the Angel One adapter (config → worker) and the capabilities they imply; shared by the
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
import { ANGEL_INSTRUMENTS_URL } from "./instruments.ts";

/** The SmartAPI WebSocket 2.0 endpoint. */
export const ANGEL_FEED_URL = "wss://smartapisocket.angelone.in/smart-stream";

/** Angel's documented limits (brokers.md §2.1–2.2). */
export const ANGEL_LIMITS = {
  /** Token quota of one session. */
  maxSymbolsPerConnection: 1000,
  /** Concurrent WebSocket connections per client code. */
  maxConnections: 3,
  /** Angel names no per-request cap; requests stay small so one bad request costs little. */
  maxTokensPerFrame: 100,
  /** Depth-20 (mode 4): NSE cash only, at most 50 tokens. */
  maxDepth20Tokens: 50,
} as const;

/**
 * Options of the Angel adapter: the four SmartAPI credentials (the JWT is the access token that
 * fresh-token messages replace), the feed URL, the instrument master (file or URL, default
 * Angel's public scrip master) and the kit's session timing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const o = angelOptionsSchema.parse({ apiKey: "k", accessToken: "jwt", clientCode: "C1", feedToken: "f" });
 * assert.equal(o.feedUrl, "wss://smartapisocket.angelone.in/smart-stream");
 * assert.equal(o.pingIntervalMs, 10_000);
 * ```
 */
export const angelOptionsSchema = z.object({
  ...sessionTimingShape,
  /** SmartAPI key (`x-api-key`). */
  apiKey: z.string().min(1),
  /** The login JWT (`Authorization: Bearer …`). */
  accessToken: z.string().min(1),
  /** Angel client code (`x-client-code`). */
  clientCode: z.string().min(1),
  /** The session's feed token (`x-feed-token`). */
  feedToken: z.string().min(1),
  feedUrl: wsUrl.default(ANGEL_FEED_URL),
  instruments: instrumentsOption.default(ANGEL_INSTRUMENTS_URL),
  ...limitsShape(ANGEL_LIMITS),
  /** NSE cash tokens per connection that get 20-level depth; 0 = always 5 levels. */
  maxDepth20Tokens: z.number().int().min(0).max(ANGEL_LIMITS.maxDepth20Tokens)
    .default(ANGEL_LIMITS.maxDepth20Tokens),
  /** The text `ping` Angel expects (its clients send one every 10 s; the answer is `pong`). */
  pingIntervalMs: z.number().int().min(50).max(60_000).default(10_000),
}).refine(...ORDERED_BACKOFF).refine(
  (o) => o.silenceTimeoutMs === 0 || o.silenceTimeoutMs > o.pingIntervalMs,
  {
    message:
      "silenceTimeoutMs must exceed pingIntervalMs (the pong is what keeps an idle feed alive)",
    path: ["silenceTimeoutMs"],
  },
);

/** Parsed options. */
export type AngelOptions = z.output<typeof angelOptionsSchema>;

/**
 * Parses options; throws an Error naming every bad field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.throws(() => parseAngelOptions({ apiKey: "k" }), /accessToken.*clientCode.*feedToken/);
 * ```
 */
export function parseAngelOptions(raw: unknown): AngelOptions {
  return parseOptions("angel", angelOptionsSchema, raw);
}

/**
 * Capabilities: the feed host (and the master's host when downloading), 1000 tokens × 3
 * connections, 5 levels of depth (20 for NSE cash where the dialect grants it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const caps = angelCapabilities(parseAngelOptions({ apiKey: "k", accessToken: "j", clientCode: "c", feedToken: "f" }));
 * assert.deepEqual(caps.hosts, ["smartapisocket.angelone.in:443", "margincalculator.angelbroking.com:443"]);
 * ```
 */
export function angelCapabilities(o: AngelOptions): Capabilities {
  return liveCapabilities(
    "angel",
    o,
    ANGEL_LIMITS,
    o.maxDepth20Tokens > 0 ? { NSE: [5, 20], "*": [5] } : { "*": [5] },
  );
}
