// Rolls finished rows from the DuckDB file to Parquet datasets any engine can read:
//   <parquet>/ticks/date=YYYY-MM-DD/exchange=NSE/part-<roll>-<n>.parquet
//   <parquet>/bus_events/date=YYYY-MM-DD/part-<roll>-<n>.parquet
// as a two-phase commit, so a crash at any point neither loses nor duplicates a row:
// (1) COPY to a staging folder, (2) one transaction records the roll and deletes the rows,
// (3) files move into place. On open, a staged roll with a record is finished, one without is
// discarded (its rows are still in the database).

import type { DuckDBConnection } from "@duckdb/node-api";
import { EVENTS_TABLE, SEGMENTS_TABLE, sqlString, TICKS_TABLE } from "./schema.ts";
import { type ProgressFn, silentProgress, withQueryProgress } from "./progress.ts";

/** Where the rolled datasets live under a Parquet root. */
export function parquetLayout(root: string): { ticks: string; events: string; staging: string } {
  const r = root.replace(/[/\\]+$/, "");
  return { ticks: `${r}/${TICKS_TABLE}`, events: `${r}/${EVENTS_TABLE}`, staging: `${r}/.staging` };
}

/** What a roll moved. */
export interface RollResult {
  rollId: string;
  tickRows: number;
  eventRows: number;
  files: number;
}

/** Options of {@link rollToParquet}. */
export interface RollOptions {
  /** Rows published (ticks) / seen (events) before this epoch-ms instant are rolled. */
  cutoff: number;
  /** Only ticks with `ingest_seq` ≤ this are rolled (rows written later stay, even if older). */
  maxIngestSeq: number;
  progress?: ProgressFn;
}

/** Start of the UTC day containing `ms`, epoch ms. */
export function utcDayStart(ms: number): number {
  return Math.floor(ms / 86_400_000) * 86_400_000;
}

function micros(ms: number): string {
  return `make_timestamp(${BigInt(Math.round(ms * 1000))})`;
}

function newRollId(now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const rand = Array.from(
    crypto.getRandomValues(new Uint8Array(4)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  return `${stamp}-${rand}`;
}

async function count(connection: DuckDBConnection, sql: string): Promise<number> {
  const reader = await connection.runAndReadAll(sql);
  return Number(reader.getRows()[0][0] ?? 0);
}

async function* walk(dir: string): AsyncGenerator<string> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  for (const e of entries) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) yield* walk(path);
    else if (e.isFile) yield path;
  }
}

/** Moves every file of a staged roll into the datasets, then removes the staging folder. */
async function publish(root: string, rollId: string): Promise<number> {
  const { staging } = parquetLayout(root);
  const from = `${staging}/${rollId}`;
  let files = 0;
  for await (const file of walk(from)) {
    const relative = file.slice(from.length + 1);
    const target = `${root.replace(/[/\\]+$/, "")}/${relative}`;
    await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
    await Deno.rename(file, target);
    files++;
  }
  await Deno.remove(from, { recursive: true }).catch(() => {});
  await Deno.remove(staging).catch(() => {}); // only when empty: another roll may be staging
  return files;
}

/**
 * Finishes or discards rolls a crash interrupted (see the file comment). Returns the roll ids it
 * finished.
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
 * // At start: finishes or undoes rolls a crash interrupted (none here).
 * assert.deepEqual(await recoverRolls(store.background, `${dir}/parquet`), []);
 * store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function recoverRolls(connection: DuckDBConnection, root: string): Promise<string[]> {
  const { staging } = parquetLayout(root);
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(staging));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  const finished: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory) continue;
    const known = await count(
      connection,
      `SELECT count(*) FROM ${SEGMENTS_TABLE} WHERE roll_id = ${sqlString(e.name)}`,
    );
    if (known > 0) {
      await publish(root, e.name);
      await connection.run(
        `UPDATE ${SEGMENTS_TABLE} SET state = 'published' WHERE roll_id = ${sqlString(e.name)}`,
      );
      finished.push(e.name);
    } else {
      await Deno.remove(`${staging}/${e.name}`, { recursive: true });
    }
  }
  return finished;
}

/**
 * Moves ticks published before `cutoff` (and events seen before it) from the database to the
 * Parquet datasets under `root`. Safe to run while the appenders of another connection write
 * newer rows. Returns null when there was nothing to roll.
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
 * // Everything published before 4 June moves to Parquet (e.g. "recordings/parquet").
 * const rolled = await rollToParquet(store.background, `${dir}/parquet`, {
 *   cutoff: Date.UTC(2024, 5, 4),
 *   maxIngestSeq: store.nextIngestSeq - 1,
 * });
 * assert.equal(rolled?.tickRows, 3);
 * assert.ok((await Deno.stat(`${dir}/parquet/ticks/date=2024-06-03`)).isDirectory);
 * store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function rollToParquet(
  connection: DuckDBConnection,
  root: string,
  options: RollOptions,
): Promise<RollResult | null> {
  const progress = options.progress ?? silentProgress;
  const tickWhere = `published < ${micros(options.cutoff)} AND ingest_seq <= ${
    Math.floor(options.maxIngestSeq)
  }`;
  const eventWhere = `received < ${micros(options.cutoff)}`;
  const tickRows = await count(
    connection,
    `SELECT count(*) FROM ${TICKS_TABLE} WHERE ${tickWhere}`,
  );
  const eventRows = await count(
    connection,
    `SELECT count(*) FROM ${EVENTS_TABLE} WHERE ${eventWhere}`,
  );
  if (tickRows === 0 && eventRows === 0) return null;

  const now = Date.now();
  const rollId = newRollId(now);
  const { staging } = parquetLayout(root);
  const stage = `${staging}/${rollId}`;
  await Deno.mkdir(stage, { recursive: true });
  const pattern = `part-${rollId}-{i}`;
  try {
    if (tickRows > 0) {
      await withQueryProgress(
        connection,
        `roll ${tickRows} ticks to Parquet`,
        () =>
          connection.run(
            `COPY (SELECT *, CAST(published AS DATE) AS date FROM ${TICKS_TABLE}
                   WHERE ${tickWhere} ORDER BY ingest_seq)
             TO ${sqlString(`${stage}/${TICKS_TABLE}`)}
             (FORMAT parquet, PARTITION_BY (date, exchange), FILENAME_PATTERN ${
              sqlString(pattern)
            }, COMPRESSION zstd)`,
          ),
        progress,
      );
    }
    if (eventRows > 0) {
      await connection.run(
        `COPY (SELECT *, CAST(received AS DATE) AS date FROM ${EVENTS_TABLE}
               WHERE ${eventWhere} ORDER BY ingest_seq, received)
         TO ${sqlString(`${stage}/${EVENTS_TABLE}`)}
         (FORMAT parquet, PARTITION_BY (date), FILENAME_PATTERN ${sqlString(pattern)},
          COMPRESSION zstd)`,
      );
    }
  } catch (error) {
    await Deno.remove(stage, { recursive: true }).catch(() => {});
    throw error;
  }

  // Phase 2: the roll is decided once this transaction commits.
  await connection.run("BEGIN TRANSACTION");
  try {
    await connection.run(
      `INSERT INTO ${SEGMENTS_TABLE} VALUES (${sqlString(rollId)}, ${micros(now)}, ${
        micros(options.cutoff)
      }, ${Math.floor(options.maxIngestSeq)}, ${tickRows}, ${eventRows}, 'committed')`,
    );
    await connection.run(`DELETE FROM ${TICKS_TABLE} WHERE ${tickWhere}`);
    await connection.run(`DELETE FROM ${EVENTS_TABLE} WHERE ${eventWhere}`);
    await connection.run("COMMIT");
  } catch (error) {
    await connection.run("ROLLBACK").catch(() => {});
    await Deno.remove(stage, { recursive: true }).catch(() => {});
    throw error;
  }

  // Phase 3: publish the files.
  const files = await publish(root, rollId);
  await connection.run(
    `UPDATE ${SEGMENTS_TABLE} SET state = 'published' WHERE roll_id = ${sqlString(rollId)}`,
  );
  return { rollId, tickRows, eventRows, files };
}
