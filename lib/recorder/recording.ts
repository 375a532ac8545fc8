// Read access to a whole recording — the DuckDB file (recent ticks), its rolled Parquet datasets,
// or both — as two views, `recording` (ticks) and `recording_events`, in an in-memory DuckDB.
// Used by stats and the replay export; the writer never goes through here.

import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { EVENT_COLUMNS, EVENTS_TABLE, sqlString, TICK_COLUMNS, TICKS_TABLE } from "./schema.ts";
import { parquetLayout } from "./roll.ts";
import { RecordingBusyError } from "./store.ts";

/** Where a recording's rows live. */
export interface RecordingSources {
  /** The DuckDB file. */
  db?: string;
  /** The Parquet root (holding `ticks/` and `bus_events/`) or a `ticks` dataset folder. */
  parquet?: string;
}

/** An open read-only view of a recording. */
export interface RecordingReader extends Disposable {
  connection: DuckDBConnection;
  /** Human-readable list of what is included. */
  describe: string[];
  close(): void;
}

async function exists(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

async function hasParquet(dir: string): Promise<boolean> {
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(d));
    } catch {
      continue;
    }
    for (const e of entries) {
      if (e.isFile && e.name.endsWith(".parquet")) return true;
      if (e.isDirectory && !e.name.startsWith(".")) stack.push(`${d}/${e.name}`);
    }
  }
  return false;
}

/**
 * Resolves the Parquet datasets of a root: `{ticks, events}` folders that hold files (null when
 * they hold none). A folder that is itself a ticks dataset (no `ticks/` inside) is accepted.
 */
export async function parquetDatasets(
  root: string,
): Promise<{ ticks: string | null; events: string | null }> {
  const layout = parquetLayout(root);
  if (await exists(layout.ticks) !== null || await exists(layout.events) !== null) {
    return {
      ticks: await hasParquet(layout.ticks) ? layout.ticks : null,
      events: await hasParquet(layout.events) ? layout.events : null,
    };
  }
  return { ticks: await hasParquet(root) ? root.replace(/[/\\]+$/, "") : null, events: null };
}

function parquetScan(dir: string): string {
  return `read_parquet(${
    sqlString(`${dir}/**/*.parquet`)
  }, hive_partitioning = true, union_by_name = true)`;
}

/**
 * Opens a recording for reading. Throws when none of the sources exists, and a
 * RecordingBusyError when the DuckDB file is held by a running recorder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildEnvelope } from "../bus/envelope.ts";
 * import { baseTick } from "../types.ts";
 * import { TickStore } from "../recorder/store.ts";
 * // A small recording: three LTP ticks of TCS on 3 June 2024.
 * const dir = await Deno.makeTempDir();
 * const db = `${dir}/ticks.duckdb`;
 * const store = await TickStore.open(db);
 * const t0 = Date.UTC(2024, 5, 3, 4, 0);
 * store.writeTicks([0, 1, 2].map((i) => ({
 *   ingestSeq: i,
 *   received: t0 + i,
 *   topic: "NSE_TCS_LTP",
 *   envelope: buildEnvelope(baseTick("NSE", "TCS", 1, 3500 + i, null, t0 + i), 1, {
 *     seq: i, session: "s1", broker: "paper", published: t0 + i,
 *   }),
 * })));
 * store.close();
 * {
 *   // e.g. { db: "recordings/ticks.duckdb", parquet: "recordings/parquet" }
 *   using rec = await openRecording({ db });
 *   const r = await rec.connection.runAndReadAll("SELECT count(*) FROM recording");
 *   assert.equal(r.getRows()[0][0], 3n);
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openRecording(sources: RecordingSources): Promise<RecordingReader> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  const close = (): void => {
    connection.closeSync();
    instance.closeSync();
  };
  try {
    const tickParts: string[] = [];
    const eventParts: string[] = [];
    const describe: string[] = [];
    const tickCols = TICK_COLUMNS.map((c) => `"${c.name}"`).join(", ");
    const eventCols = EVENT_COLUMNS.map((c) => `"${c.name}"`).join(", ");
    if (sources.db !== undefined) {
      if (await exists(sources.db) === null) throw new Error(`${sources.db} does not exist`);
      try {
        await connection.run(`ATTACH ${sqlString(sources.db)} AS rec (READ_ONLY)`);
      } catch (error) {
        const message = (error as Error).message;
        if (/lock/i.test(message)) {
          throw new RecordingBusyError(
            `${sources.db} is in use by a running recorder (DuckDB allows no reader beside a ` +
              `writer in another process); stop it, or read the rolled Parquet files (--parquet)`,
            { cause: error },
          );
        }
        throw error;
      }
      tickParts.push(`SELECT ${tickCols} FROM rec.${TICKS_TABLE}`);
      eventParts.push(`SELECT ${eventCols} FROM rec.${EVENTS_TABLE}`);
      describe.push(`${sources.db} (DuckDB)`);
    }
    if (sources.parquet !== undefined) {
      const { ticks, events } = await parquetDatasets(sources.parquet);
      if (ticks !== null) {
        tickParts.push(`SELECT ${tickCols} FROM ${parquetScan(ticks)}`);
        describe.push(`${ticks} (Parquet)`);
      }
      if (events !== null) eventParts.push(`SELECT ${eventCols} FROM ${parquetScan(events)}`);
      if (ticks === null && sources.db === undefined) {
        throw new Error(`no Parquet files under ${sources.parquet}`);
      }
    }
    if (tickParts.length === 0) {
      throw new Error("no recording given (a DuckDB file or Parquet folder)");
    }
    await connection.run(`CREATE TEMP VIEW recording AS ${tickParts.join(" UNION ALL ")}`);
    await connection.run(
      eventParts.length > 0
        ? `CREATE TEMP VIEW recording_events AS ${eventParts.join(" UNION ALL ")}`
        : `CREATE TEMP VIEW recording_events AS SELECT ${
          EVENT_COLUMNS.map((c) => `NULL::${c.type} AS "${c.name}"`).join(", ")
        } WHERE false`,
    );
    return { connection, describe, close, [Symbol.dispose]: close };
  } catch (error) {
    close();
    throw error;
  }
}
