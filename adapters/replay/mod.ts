// The replay adapter's public surface: its options, capabilities and descriptor. It plays a
// recording back as a live feed through the same pool, bus and :8765 as a real broker.
//
// Design: DuckDB's native addon needs FFI, and adapter workers run with no FFI (and read access to
// declared paths only), so the worker never opens DuckDB. `tickplex record --prepare-replay`
// (in the recorder's own process) turns a recording — DuckDB file or Parquet folder — into a
// compact `.tpr` file beside it; the worker streams that file (gzip NDJSON, flat memory) and is
// granted read access to it alone.

import { resolve } from "node:path";
import { z } from "zod";
import type { BrokerDescriptor } from "../../lib/adapter/contract.ts";
import type { Capabilities } from "../../lib/types.ts";
import {
  readReplayHeaderSync,
  REPLAY_EXTENSION,
  type ReplayHeader,
  replayPathFor,
} from "../../lib/replay/mod.ts";

/** Instruments per subscribe frame the replay "broker" accepts. */
export const REPLAY_MAX_TOKENS_PER_FRAME = 1000;
/** Symbols one replay connection takes; unknown ones get SYMBOL_NOT_FOUND, never a full pool. */
export const REPLAY_MAX_SYMBOLS = 100_000;

/**
 * Options of the replay adapter (the broker `options` in config). Unknown keys are rejected.
 */
export const replayOptionsSchema = z.strictObject({
  /** A DuckDB recording, a Parquet folder (each with its prepared `.tpr`), or a `.tpr` file. */
  recording: z.string().min(1),
  /** 1 = real time, 10 = ten times faster, "max" = as fast as `maxRate` allows. */
  speed: z.union([z.number().positive().max(100_000), z.literal("max")]).default(1),
  /** Playback starts this long after the first subscription, so a client subscribing to several
   * symbols gets all of them from the first tick. */
  startDelayMs: z.number().int().min(0).max(600_000).default(1000),
  /** Silences longer than this in the recording (nights, gateway restarts) are cut to it. */
  maxGapMs: z.number().int().min(0).max(86_400_000).default(5000),
  /**
   * Ceiling on ticks emitted per second at any speed. The worker cannot see the gateway's bus
   * queue, so "max" is paced: on 2 cores the gateway publishes ~50k Quote but only ~35k Depth
   * ticks/s before its bus queue drops (counted, seen by readers as gaps). Real feeds peak
   * around 9–18k ticks/s.
   */
  maxRate: z.number().positive().max(10_000_000).default(20_000),
  /** Start again from the beginning at the end of the recording. */
  loop: z.boolean().default(false),
  /** Shift `timestamp`/`ltt` so ticks look current (offset = now − recorded publish time). */
  rebaseTime: z.boolean().default(false),
});

/** Replay options after defaults. */
export type ReplayOptions = z.output<typeof replayOptionsSchema>;
/** Replay options as written in config. */
export type ReplayOptionsInput = z.input<typeof replayOptionsSchema>;

/**
 * Parses replay options; throws an Error naming the bad field.
 *
 * @example
 * ```ts
 * parseReplayOptions({ recording: "recordings/ticks.duckdb" }).speed; // 1
 * ```
 */
export function parseReplayOptions(options: unknown): ReplayOptions {
  const r = replayOptionsSchema.safeParse(options ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ` : "";
  throw new Error(`invalid replay options: ${where}${issue.message}`);
}

function mtime(path: string): number {
  const info = Deno.statSync(path);
  if (!info.isDirectory) return info.mtime?.getTime() ?? 0;
  let newest = info.mtime?.getTime() ?? 0;
  for (const e of Deno.readDirSync(path)) {
    if (e.name.startsWith(".")) continue;
    if (e.isDirectory || e.name.endsWith(".parquet")) {
      newest = Math.max(newest, mtime(`${path}/${e.name}`));
    }
  }
  return newest;
}

/**
 * Finds and checks the prepared replay file of `recording`: it must exist and be newer than the
 * recording. Throws an Error saying which command prepares it.
 *
 * @example
 * ```ts ignore
 * const { path, header } = locateReplay("recordings/ticks.duckdb");
 * ```
 */
export function locateReplay(recording: string): { path: string; header: ReplayHeader } {
  const path = replayPathFor(recording);
  const prepare = `deno task record --prepare-replay ${recording}`;
  let tpr: Deno.FileInfo;
  try {
    tpr = Deno.statSync(path);
  } catch {
    throw new Error(
      `replay: ${path} not found. The adapter worker cannot open DuckDB or Parquet (no FFI in ` +
        `adapter workers); prepare the recording once with: ${prepare}`,
    );
  }
  if (!recording.replace(/[/\\]+$/, "").endsWith(REPLAY_EXTENSION)) {
    let source: number;
    try {
      source = mtime(recording);
    } catch {
      source = 0; // the recording may have been moved away; the prepared file stands alone
    }
    if (source > (tpr.mtime?.getTime() ?? 0)) {
      throw new Error(`replay: ${path} is older than ${recording}; re-run: ${prepare}`);
    }
  }
  return { path, header: readReplayHeaderSync(path).header };
}

/**
 * The capabilities of a replay worker: one connection (one timeline), no network, read access to
 * the prepared file only, the depth levels the recording holds.
 */
export function replayCapabilities(options: ReplayOptions): Capabilities {
  const { path, header } = locateReplay(options.recording);
  const depth = Math.max(0, ...header.instruments.map((i) => i.depth));
  return {
    broker: "replay",
    hosts: [],
    readPaths: [resolve(path)],
    maxSymbolsPerConnection: REPLAY_MAX_SYMBOLS,
    maxConnections: 1,
    maxTokensPerFrame: REPLAY_MAX_TOKENS_PER_FRAME,
    depthLevels: { "*": [depth > 0 ? depth : 5] },
  };
}

/**
 * The replay adapter: plays a recording as a live feed at 1×, N× or max speed, honouring
 * subscriptions and modes (SYMBOL_NOT_FOUND for instruments not in the recording, INVALID_MODE
 * for a mode richer than was recorded).
 *
 * @example
 * ```ts ignore
 * // config.json: {"broker": {"name": "replay", "options": {"recording": "recordings/ticks.duckdb", "speed": 10}}}
 * ```
 */
export const replayAdapter: BrokerDescriptor = {
  name: "replay",
  title: "Replay of a recorded session (record --prepare-replay)",
  hosts: [],
  credentials: [],
  workerUrl: new URL("./worker.ts", import.meta.url),
  capabilities: (options: unknown): Capabilities => replayCapabilities(parseReplayOptions(options)),
};
