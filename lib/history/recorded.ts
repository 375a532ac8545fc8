// Reads one instrument's recorded ticks for the history endpoint, from the recorder's rolled
// Parquet files and its DuckDB file, in an in-memory DuckDB of the gateway process. The recorder
// module (and with it DuckDB's native addon) is imported on the first request, so a gateway
// nobody asks for history never loads it.
//
// Reading while the recorder runs: the recorder holds its DuckDB file open for writing, and DuckDB
// lets no other process open a file a writer holds (not even read-only). So the DuckDB file is
// attached read-only for one request at a time and detached at once (a recorder starting in that
// instant is refused the file, see the docs), and when it is locked it is skipped and said so; the
// Parquet rolls (finished UTC days) are plain files any number of readers share.

import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { baseTick, type Tick } from "../types.ts";

/** The recorder module, loaded on first use (it loads DuckDB's native addon). */
type RecorderModule = typeof import("../recorder/mod.ts");

/** Where a recording lives. */
export interface RecordingLocation {
  /** The recorder's DuckDB file (recent ticks), or null. */
  db: string | null;
  /** The Parquet root holding `ticks/` (rolled days), or null. */
  parquet: string | null;
}

/**
 * The recording of a `history.recordings` setting: a `.duckdb` (or `.db`) file with `parquet/`
 * beside it, or a folder holding `ticks.duckdb` and `parquet/` (the recorder's layout).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recordingLocation } from "./recorded.ts";
 * assert.deepEqual(recordingLocation("recordings"), {
 *   db: "recordings/ticks.duckdb", parquet: "recordings/parquet",
 * });
 * assert.deepEqual(recordingLocation("/data/day.duckdb", "/rolls"), {
 *   db: "/data/day.duckdb", parquet: "/rolls",
 * });
 * ```
 */
export function recordingLocation(recordings: string, parquet?: string): RecordingLocation {
  const path = recordings.replace(/[/\\]+$/, "");
  if (/\.(duckdb|db)$/i.test(path)) {
    const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
    return {
      db: path,
      parquet: parquet ?? (slash === -1 ? "parquet" : `${path.slice(0, slash)}/parquet`),
    };
  }
  return { db: `${path}/ticks.duckdb`, parquet: parquet ?? `${path}/parquet` };
}

/** What one read went through. */
export interface RecordedScan {
  /** Ticks handed to the callback. */
  ticks: number;
  /** Sources read (`parquet`, `duckdb`). */
  sources: string[];
  /** Sources that exist but could not be read, with why. */
  skipped: string[];
}

const DAY_MS = 86_400_000;

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/**
 * Parquet files of `exchange` in the date partitions from `from` to `to` (UTC days), in the
 * recorder's layout `<ticks>/date=YYYY-MM-DD/exchange=EX/*.parquet`.
 */
async function parquetFiles(
  ticks: string,
  exchange: string,
  from: number,
  to: number,
): Promise<string[]> {
  const files: string[] = [];
  for (let day = Math.floor(from / DAY_MS); day <= Math.floor(to / DAY_MS); day++) {
    const date = new Date(day * DAY_MS).toISOString().slice(0, 10);
    const dir = `${ticks}/date=${date}/exchange=${exchange}`;
    try {
      for await (const e of Deno.readDir(dir)) {
        if (e.isFile && e.name.endsWith(".parquet")) files.push(`${dir}/${e.name}`);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return files.sort();
}

function micros(ms: number): string {
  return `make_timestamp(${BigInt(Math.round(ms * 1000))})`;
}

/**
 * Reads recorded ticks of one instrument. Requests run one at a time on one connection.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RecordedTickReader } from "./recorded.ts";
 * // Nothing recorded there: no ticks, no error.
 * const reader = new RecordedTickReader({ db: "no/such/ticks.duckdb", parquet: "no/such/parquet" });
 * const r = await reader.read("NSE", "TCS", 0, 1, (tick) => console.log(tick.ltp));
 * assert.deepEqual(r, { ticks: 0, sources: [], skipped: [] });
 * await reader.close();
 * ```
 */
export class RecordedTickReader {
  readonly location: RecordingLocation;
  #db:
    | Promise<{ rec: RecorderModule; instance: DuckDBInstance; connection: DuckDBConnection }>
    | null = null;
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(location: RecordingLocation) {
    this.location = location;
  }

  /**
   * Hands `onTick` each tick of (exchange, symbol) whose exchange time (`ltt`, else `timestamp`)
   * is in [from, to), in the order the recorder stored them, streamed a DuckDB chunk (2048 rows)
   * at a time so a long range never sits in memory. The tick object is reused: it is valid only
   * during the call. Every mode's rows are read: a tick is recorded once per mode topic, and its
   * copies fold into the same bar (same price and time; only Quote and Depth rows carry the
   * cumulative volume), so a day recorded partly at LTP keeps its prices.
   */
  read(
    exchange: string,
    symbol: string,
    from: number,
    to: number,
    onTick: (tick: Tick) => void,
  ): Promise<RecordedScan> {
    const run = this.#tail.then(() => this.#read(exchange, symbol, from, to, onTick));
    this.#tail = run.catch(() => {});
    return run;
  }

  async #read(
    exchange: string,
    symbol: string,
    from: number,
    to: number,
    onTick: (tick: Tick) => void,
  ): Promise<RecordedScan> {
    const sources: string[] = [];
    const skipped: string[] = [];
    const { rec, connection } = await this.#open();
    const { sqlString } = rec;
    const files = this.location.parquet === null ? [] : await parquetFiles(
      rec.parquetLayout(this.location.parquet).ticks,
      exchange,
      from - DAY_MS,
      to + DAY_MS,
    );
    const hasDb = this.location.db !== null && await isFile(this.location.db);
    if (files.length === 0 && !hasDb) return { ticks: 0, sources, skipped };
    const cols = `ingest_seq, ltt, "timestamp", ltp, volume`;
    const parts: string[] = [];
    if (files.length > 0) {
      parts.push(
        `SELECT ${cols} FROM read_parquet([${
          files.map(sqlString).join(", ")
        }], hive_partitioning = true, union_by_name = true) WHERE symbol = ${sqlString(symbol)}`,
      );
      sources.push("parquet");
    }
    let attached = false;
    if (hasDb) {
      try {
        await connection.run("DETACH DATABASE IF EXISTS rec");
        await connection.run(`ATTACH ${sqlString(this.location.db!)} AS rec (READ_ONLY)`);
        attached = true;
        parts.push(
          `SELECT ${cols} FROM rec.${rec.TICKS_TABLE} WHERE exchange = ${
            sqlString(exchange)
          } AND ` +
            `symbol = ${sqlString(symbol)}`,
        );
        sources.push("duckdb");
      } catch (error) {
        const message = (error as Error).message;
        skipped.push(
          /lock/i.test(message)
            ? `${this.location.db}: held by a running recorder (its rolled Parquet days are read)`
            : `${this.location.db}: ${message}`,
        );
      }
    }
    try {
      if (parts.length === 0) return { ticks: 0, sources, skipped };
      const t = `coalesce(ltt, "timestamp")`;
      const rows = `FROM (${parts.join(" UNION ALL ")})
         WHERE ${t} >= ${micros(from)} AND ${t} < ${micros(to)}`;
      const result = await connection.stream(
        `SELECT epoch_us(ltt)::DOUBLE / 1000, epoch_us("timestamp")::DOUBLE / 1000, ltp, volume
         ${rows} ORDER BY ingest_seq`,
      );
      const tick = baseTick(exchange, symbol, 2, 0, null, 0);
      let count = 0;
      for (let chunk = await result.fetchChunk(); chunk; chunk = await result.fetchChunk()) {
        if (chunk.rowCount === 0) break;
        const [ltts, stamps, ltps, volumes] = chunk.getColumns() as [
          (number | null)[],
          number[],
          number[],
          (number | null)[],
        ];
        for (let i = 0; i < ltps.length; i++) {
          tick.ltp = ltps[i];
          tick.ltt = ltts[i];
          tick.timestamp = stamps[i];
          tick.volume = volumes[i];
          onTick(tick);
        }
        count += ltps.length;
      }
      return { ticks: count, sources, skipped };
    } finally {
      if (attached) await connection.run("DETACH DATABASE IF EXISTS rec").catch(() => {});
    }
  }

  #open(): Promise<
    { rec: RecorderModule; instance: DuckDBInstance; connection: DuckDBConnection }
  > {
    if (this.#closed) return Promise.reject(new Error("history reader is closed"));
    this.#db ??= (async () => {
      const rec = await import("../recorder/mod.ts");
      const instance = await rec.openDatabase(":memory:");
      return { rec, instance, connection: await instance.connect() };
    })();
    return this.#db;
  }

  /** Closes the in-memory DuckDB once pending reads are done. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#tail;
    const db = this.#db;
    this.#db = null;
    if (db) {
      const { instance, connection } = await db;
      connection.closeSync();
      instance.closeSync();
    }
  }
}
