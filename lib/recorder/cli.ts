// `tickplex record`: records the bus into DuckDB, or (with --stats, --roll, --prepare-replay)
// inspects and converts a recording. Parses arguments and wires the recorder modules.

import { parseArgs } from "node:util";
import { getLogger, setupLogging } from "../log.ts";
import { type Mode, MODE_LABEL } from "../types.ts";
import { parseMode } from "../mode.ts";
import { defaultParquetRoot, type FlushReport, Recorder } from "./recorder.ts";
import { parseSymbolSet, type SymbolSet } from "./symbols.ts";
import { formatStats, recordingStats } from "./stats.ts";
import { prepareReplay } from "./replay_export.ts";
import { recoverRolls, rollToParquet, utcDayStart } from "./roll.ts";
import { RecordingBusyError, TickStore } from "./store.ts";
import { stderrProgress } from "./progress.ts";
import { CaptureClient } from "./capture_client.ts";

/** Usage of `tickplex record`. */
export const RECORD_HELP =
  `tickplex record — record the bus into DuckDB (rolled to Parquet), inspect, prepare replays

Usage:
  tickplex record [options]                     record until SIGINT/SIGTERM
  tickplex record --stats [--db F] [--parquet D]
  tickplex record --roll [--all] [--db F] [--parquet D]
  tickplex record --prepare-replay <recording> [--out F] [--from T] [--to T] [--symbols S]

Recording:
  --bus <endpoint>        bus to read (default $TICKPLEX_BUS or tcp://127.0.0.1:5555)
  --db <file>             DuckDB file (default recordings/ticks.duckdb)
  --parquet <dir>         Parquet root for rolled days (default: parquet/ beside the DuckDB file)
  --symbols <list>        EXCHANGE:SYMBOL[:MODE] or topic prefixes, comma-separated
                          (default: everything on the bus)
  --batch-size <n>        commit after this many ticks (default 10000)
  --flush-ms <ms>         commit at least this often (default 1000); a crash loses at most
                          the ticks of the last interval
  --no-roll               do not roll finished UTC days to Parquet
  --progress <how>        auto (a line every 10 s on stderr), json (a JSON line per commit on
                          stdout), none (default auto)
  --capture               make the gateway hold subscriptions for --symbols (API key from
                          $TICKPLEX_API_KEY), so they stream even when no client watches them
  --gateway <url>         gateway for --capture (default http://127.0.0.1:$TICKPLEX_PORT or 8765)
  --capture-mode <mode>   mode for symbols given without one: LTP, Quote, Depth (default Quote)
  --capture-owner <name>  capture owner name (default recorder)
  --keep-capture          leave the captures held when the recorder exits

Other commands:
  --stats                 counts per symbol and mode with their time range (UTC)
  --roll [--all]          move finished UTC days (--all: everything) to Parquet, then exit;
                          the recorder must not be running
  --prepare-replay <rec>  write <rec>.tpr for the replay adapter (rec: DuckDB file or Parquet
                          folder); --out, --from/--to (ISO time), --symbols narrow it
  -h, --help              this help
`;

class UsageError extends Error {}

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer`);
  return n;
}

function isoTime(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new UsageError(`--${name}: cannot parse time "${value}"`);
  return t;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

const encoder = new TextEncoder();
function out(line: string): void {
  Deno.stdout.writeSync(encoder.encode(line + "\n"));
}

/**
 * Runs `tickplex record` with its arguments; resolves with the exit code.
 *
 * @example
 * ```ts ignore
 * Deno.exit(await recordMain(["--symbols", "NSE:RELIANCE", "--flush-ms", "500"]));
 * ```
 */
export async function recordMain(args: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args,
      options: {
        bus: { type: "string" },
        db: { type: "string" },
        parquet: { type: "string" },
        symbols: { type: "string" },
        "batch-size": { type: "string" },
        "flush-ms": { type: "string" },
        "no-roll": { type: "boolean" },
        progress: { type: "string" },
        capture: { type: "boolean" },
        gateway: { type: "string" },
        "capture-mode": { type: "string" },
        "capture-owner": { type: "string" },
        "keep-capture": { type: "boolean" },
        stats: { type: "boolean" },
        roll: { type: "boolean" },
        all: { type: "boolean" },
        "prepare-replay": { type: "string" },
        out: { type: "string" },
        from: { type: "string" },
        to: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    console.error(`tickplex record: ${(error as Error).message}\n\n${RECORD_HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(RECORD_HELP);
    return 0;
  }
  const env = (name: string): string | undefined => {
    try {
      return Deno.env.get(name) || undefined;
    } catch {
      return undefined;
    }
  };
  const level = env("TICKPLEX_LOG_LEVEL");
  await setupLogging(
    level === "debug" || level === "warning" || level === "error" ? level : "info",
  );
  try {
    const db = values.db ?? "recordings/ticks.duckdb";
    const parquet = values.parquet ?? defaultParquetRoot(db);
    const symbols = parseSymbolSet(values.symbols ?? "");
    if (values.stats) return await stats(db, values.db !== undefined, parquet);
    if (values.roll) return await roll(db, parquet, values.all ?? false);
    if (values["prepare-replay"] !== undefined) {
      const rec = values["prepare-replay"];
      const dir = await isDirectory(rec);
      const result = await prepareReplay({
        ...(dir ? { parquet: rec } : { db: rec }),
        out: values.out,
        from: isoTime("from", values.from),
        to: isoTime("to", values.to),
        symbols: symbols.selectors,
        progress: stderrProgress(),
      });
      out(
        `wrote ${result.out}: ${result.header.rows} ticks of ${result.header.instruments.length} ` +
          `instruments, ${result.bytes} bytes`,
      );
      return 0;
    }
    return await record({
      bus: values.bus ?? env("TICKPLEX_BUS") ?? "tcp://127.0.0.1:5555",
      db,
      parquet,
      symbols,
      batchSize: positiveInt("batch-size", values["batch-size"]),
      flushMs: positiveInt("flush-ms", values["flush-ms"]),
      roll: !values["no-roll"],
      progress: values.progress ?? "auto",
      capture: values.capture
        ? {
          gateway: values.gateway ?? `http://127.0.0.1:${env("TICKPLEX_PORT") ?? "8765"}`,
          mode: values["capture-mode"],
          owner: values["capture-owner"] ?? "recorder",
          keep: values["keep-capture"] ?? false,
          apiKey: env("TICKPLEX_API_KEY"),
        }
        : null,
    });
  } catch (error) {
    if (error instanceof UsageError || error instanceof RangeError) {
      console.error(`tickplex record: ${error.message}`);
      return 2;
    }
    console.error(`tickplex record: ${(error as Error).message}`);
    return 1;
  }
}

async function stats(db: string, dbGiven: boolean, parquet: string): Promise<number> {
  const hasDb = await Deno.stat(db).then(() => true, () => false);
  const hasParquet = await isDirectory(parquet);
  if (!hasDb && !hasParquet) {
    console.error(`tickplex record: no recording at ${db} or ${parquet}`);
    return 1;
  }
  const progress = stderrProgress();
  try {
    const s = await recordingStats(
      { db: hasDb ? db : undefined, parquet: hasParquet ? parquet : undefined },
      progress,
    );
    out(formatStats(s));
    return 0;
  } catch (error) {
    if (!(error instanceof RecordingBusyError) || !hasParquet || dbGiven) throw error;
    console.error(
      `note: ${db} is in use by a running recorder; showing the rolled Parquet data only`,
    );
    out(formatStats(await recordingStats({ parquet }, progress)));
    return 0;
  }
}

async function roll(db: string, parquet: string, all: boolean): Promise<number> {
  const store = await TickStore.open(db);
  try {
    await recoverRolls(store.background, parquet);
    const now = Date.now();
    const result = await rollToParquet(store.background, parquet, {
      cutoff: all ? now + 1 : utcDayStart(now),
      maxIngestSeq: store.nextIngestSeq - 1,
      progress: stderrProgress(),
    });
    out(
      result === null
        ? "nothing to roll"
        : `rolled ${result.tickRows} ticks and ${result.eventRows} events to ${parquet} ` +
          `(${result.files} files)`,
    );
    return 0;
  } finally {
    store.close();
  }
}

interface RecordArgs {
  bus: string;
  db: string;
  parquet: string;
  symbols: SymbolSet;
  batchSize?: number;
  flushMs?: number;
  roll: boolean;
  progress: string;
  capture: {
    gateway: string;
    mode?: string;
    owner: string;
    keep: boolean;
    apiKey?: string;
  } | null;
}

async function record(a: RecordArgs): Promise<number> {
  const log = getLogger(["tickplex", "recorder"]);
  if (!["auto", "json", "none"].includes(a.progress)) {
    throw new UsageError(`--progress must be auto, json or none`);
  }
  let captureMode: Mode = 2;
  let captureClient: CaptureClient | null = null;
  if (a.capture !== null) {
    if (a.capture.mode !== undefined) {
      const m = parseMode(a.capture.mode);
      if (typeof m === "string") throw new UsageError(`--capture-mode: ${m}`);
      captureMode = m;
    }
    if (a.capture.apiKey === undefined) {
      throw new UsageError("--capture needs the gateway's API key in TICKPLEX_API_KEY");
    }
    if (!a.symbols.selectors.some((s) => s.kind === "instrument")) {
      throw new UsageError("--capture needs --symbols with EXCHANGE:SYMBOL entries");
    }
    captureClient = new CaptureClient({
      gateway: a.capture.gateway,
      apiKey: a.capture.apiKey,
      owner: a.capture.owner,
    });
  }
  const json = a.progress === "json";
  let lastReport = Date.now();
  let lastWritten = 0;
  const onFlush = (r: FlushReport): void => {
    if (json) {
      out(JSON.stringify({
        event: "flush",
        rows: r.rows,
        written: r.written,
        pending: r.pending,
        dropped: r.dropped,
        at: r.at,
        ms: Math.round(r.durationMs * 10) / 10,
      }));
    } else if (a.progress === "auto" && r.at - lastReport >= 10_000) {
      const rate = (r.written - lastWritten) / ((r.at - lastReport) / 1000);
      const dropped = Object.values(r.dropped).reduce((x, y) => x + y, 0);
      console.error(
        `recorded ${r.written} ticks (${rate.toFixed(0)}/s), ${r.pending} pending, ` +
          `${dropped} dropped`,
      );
      lastReport = r.at;
      lastWritten = r.written;
    }
  };
  const recorder = await Recorder.open({
    bus: a.bus,
    db: a.db,
    parquet: a.parquet,
    symbols: a.symbols,
    batchSize: a.batchSize,
    flushMs: a.flushMs,
    roll: a.roll,
    onFlush,
    progress: stderrProgress(),
  });
  const onSignal = (name: Deno.Signal) => () => {
    log.info("{sig}: flushing and stopping", { sig: name });
    recorder.stop(name);
  };
  const handlers = (["SIGINT", "SIGTERM"] as const).map((sig) => {
    const h = onSignal(sig);
    Deno.addSignalListener(sig, h);
    return [sig, h] as const;
  });
  const running = recorder.run();
  const selected = a.symbols.prefixes.length === 0 ? "all topics" : a.symbols.prefixes.join(", ");
  if (json) out(JSON.stringify({ event: "started", bus: a.bus, db: a.db, topics: selected }));
  else {
    log.info("recording {bus} ({topics}) into {db}", { bus: a.bus, topics: selected, db: a.db });
  }
  let code = 0;
  if (captureClient !== null) {
    // zeromq's slow joiner: give the subscription a moment to reach the publisher first.
    await new Promise((r) => setTimeout(r, 200));
    try {
      const items = a.symbols.selectors.flatMap((s) =>
        s.kind === "instrument"
          ? [{ exchange: s.exchange, symbol: s.symbol, mode: s.mode ?? captureMode }]
          : []
      );
      const results = await captureClient.capture(items);
      for (const r of results) {
        if (r.status === "error") {
          log.warn("capture of {ex}:{sym} failed: {code} {message}", {
            ex: r.exchange,
            sym: r.symbol,
            code: r.code,
            message: r.message,
          });
        }
      }
      const ok = results.filter((r) => r.status === "success").length;
      log.info("capture: the gateway holds {ok}/{n} subscriptions for {owner} ({mode} default)", {
        ok,
        n: results.length,
        owner: captureClient.owner,
        mode: MODE_LABEL[captureMode],
      });
      if (json) out(JSON.stringify({ event: "captured", ok, results }));
    } catch (error) {
      log.error("{error}", { error });
      recorder.stop("error");
      code = 1;
    }
  }
  let summary;
  try {
    summary = await running;
  } finally {
    for (const [sig, h] of handlers) Deno.removeSignalListener(sig, h);
  }
  if (captureClient !== null && code === 0 && !a.capture!.keep) {
    try {
      await captureClient.release();
    } catch (error) {
      log.warn("releasing captures failed: {error}", { error });
    }
  }
  const dropped =
    Object.entries(summary.dropped).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(
      ", ",
    ) || "none";
  if (json) out(JSON.stringify({ event: "stopped", ...summary }));
  else {
    console.error(
      `recorded ${summary.written} of ${summary.received} ticks received; dropped: ${dropped}; ` +
        `${summary.gaps} bus gaps (${summary.missed} missed); ${summary.sessions} sessions`,
    );
  }
  return code;
}
