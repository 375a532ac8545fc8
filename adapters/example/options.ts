// Options and capabilities of the example broker: a feed URL, an instrument master, a token and
// the kit's session timing.

import { z } from "zod";
import {
  type BrokerLimits,
  instrumentsOption,
  limitsShape,
  liveCapabilities,
  ORDERED_BACKOFF,
  parseOptions,
  sessionTimingShape,
  wsUrl,
} from "../../lib/adapter/options.ts";
import type { Capabilities } from "../../lib/types.ts";

/** The example broker's limits. */
export const EXAMPLE_LIMITS: BrokerLimits = {
  maxSymbolsPerConnection: 100,
  maxConnections: 2,
  maxTokensPerFrame: 50,
};

/** The example broker's options. */
export const exampleOptionsSchema = z.object({
  ...sessionTimingShape,
  accessToken: z.string().min(1),
  feedUrl: wsUrl,
  instruments: instrumentsOption,
  ...limitsShape(EXAMPLE_LIMITS),
}).refine(...ORDERED_BACKOFF);

/** Parsed options. */
export type ExampleOptions = z.output<typeof exampleOptionsSchema>;

/**
 * Parses options, naming every bad field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.throws(() => parseExampleOptions({}), /invalid example options: accessToken/);
 * ```
 */
export function parseExampleOptions(raw: unknown): ExampleOptions {
  return parseOptions("example", exampleOptionsSchema, raw);
}

/**
 * Capabilities: the feed host and instrument file, 100 instruments × 2 connections, 5 levels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const caps = exampleCapabilities(parseExampleOptions({
 *   accessToken: "t", feedUrl: "ws://127.0.0.1:9/", instruments: "/tmp/i.csv",
 * }));
 * assert.deepEqual(caps.hosts, ["127.0.0.1:9"]);
 * ```
 */
export function exampleCapabilities(o: ExampleOptions): Capabilities {
  return liveCapabilities("example", o, EXAMPLE_LIMITS);
}
