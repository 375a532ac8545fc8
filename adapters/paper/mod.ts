// The paper adapter's public surface: its descriptor for the pool, its options schema, and the
// simulated market and instrument universe it runs on.

import { z } from "zod";
import type { BrokerDescriptor } from "../../lib/adapter/contract.ts";
import type { Capabilities } from "../../lib/types.ts";
import { PAPER_DEPTH_LEVELS } from "./market.ts";

export {
  buildUniverse,
  type DerivativeSymbol,
  extraSymbolName,
  formatExpiry,
  futureSymbol,
  type InstrumentKind,
  InstrumentUniverse,
  monthlyExpiry,
  NIFTY_LOT_SIZE,
  OPTION_STRIKE_STEP,
  OPTION_STRIKES_EACH_SIDE,
  optionSymbol,
  PAPER_TICK_SIZE,
  type PaperInstrument,
  parseDerivativeSymbol,
  type UniverseOptions,
} from "./instruments.ts";
export {
  hashString,
  mix32,
  PAPER_DEPTH_LEVELS,
  PaperMarket,
  type PaperMarketOptions,
  Prng,
} from "./market.ts";

/** Instruments per subscribe frame the paper broker accepts (it has no real frames). */
export const PAPER_MAX_TOKENS_PER_FRAME = 1000;

/**
 * Options of the paper adapter (the `options` of the worker's `init` message and of config).
 * Unknown keys are rejected so a typo never silently falls back to a default.
 */
export const paperOptionsSchema = z.strictObject({
  /** PRNG seed; equal seeds give equal prices. Default: random per worker. */
  seed: z.number().int().min(0).max(0xffff_ffff).optional(),
  /** Ticks per second per subscribed symbol (ignored when `totalRate` is set). */
  ticksPerSecond: z.number().positive().max(1000).default(2),
  /** Total ticks per second for this connection, spread round-robin over its symbols. */
  totalRate: z.number().positive().max(1_000_000).optional(),
  /** How often a batch of due ticks is emitted (ms). */
  intervalMs: z.number().int().min(1).max(10_000).default(50),
  /** Synthetic NSE equities `PAPER0001`..`PAPERnnnn` to list. */
  extraSymbols: z.number().int().min(0).max(100_000).default(0),
  maxSymbolsPerConnection: z.number().int().min(1).max(100_000).default(1000),
  maxConnections: z.number().int().min(1).max(64).default(3),
  /** How long a `stall` fault lasts before the worker reports `stalled` (ms). */
  stallAfterMs: z.number().int().min(0).max(3_600_000).default(5000),
  /** Fixed epoch ms the derivative expiries are derived from (default: the worker's start). */
  now: z.number().int().min(0).optional(),
  /** Simulated REST quote API: requests per second before it answers "rate limited". */
  quoteRequestsPerSecond: z.number().int().min(1).max(1000).default(2),
  /** Simulated REST quote API: instruments per request (every mode). */
  quoteBatchSize: z.number().int().min(1).max(5000).default(500),
});

/** Paper adapter options after defaults are applied. */
export type PaperOptions = z.output<typeof paperOptionsSchema>;

/** Paper adapter options as written in config (every field optional). */
export type PaperOptionsInput = z.input<typeof paperOptionsSchema>;

/**
 * Parses paper adapter options; `undefined` means all defaults. Throws an Error naming the first
 * bad field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(parsePaperOptions({ seed: 1 }).ticksPerSecond, 2);
 * assert.throws(() => parsePaperOptions({ ticksPerSecond: -1 }), /ticksPerSecond: Too small/);
 * ```
 */
export function parsePaperOptions(options: unknown): PaperOptions {
  const r = paperOptionsSchema.safeParse(options ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ` : "";
  throw new Error(`invalid paper options: ${where}${issue.message}`);
}

/**
 * The capabilities a paper worker runs with for these (parsed) options.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(paperCapabilities(parsePaperOptions({})).maxSymbolsPerConnection, 1000);
 * ```
 */
export function paperCapabilities(options: PaperOptions): Capabilities {
  return {
    broker: "paper",
    hosts: [],
    readPaths: [],
    maxSymbolsPerConnection: options.maxSymbolsPerConnection,
    maxConnections: options.maxConnections,
    maxTokensPerFrame: PAPER_MAX_TOKENS_PER_FRAME,
    depthLevels: { "*": [PAPER_DEPTH_LEVELS] },
    quotes: {
      maxInstruments: {
        1: options.quoteBatchSize,
        2: options.quoteBatchSize,
        3: options.quoteBatchSize,
      },
      requestsPerSecond: options.quoteRequestsPerSecond,
    },
  };
}

/**
 * The paper adapter: a simulated market in a Web Worker that needs no credentials and no network.
 * It accepts every mode on every listed instrument; Depth ticks of indices carry `depth: null`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(paperAdapter.capabilities({ maxConnections: 1 }).maxConnections, 1);
 * ```
 */
export const paperAdapter: BrokerDescriptor = {
  name: "paper",
  title: "Paper market: a seeded simulated NSE/BSE market, no credentials",
  hosts: [],
  credentials: [],
  workerUrl: new URL("./worker.ts", import.meta.url),
  capabilities: (options: unknown): Capabilities => paperCapabilities(parsePaperOptions(options)),
};
