// The recording's tables: one row per bus message (every normalised field plus bus metadata) and one
// row per bus event (sessions, gaps, drops, recorder starts and stops). DDL only, no I/O.

import { QUOTE_FIELDS } from "../types.ts";

/** Name of the tick table in the DuckDB file (and of the Parquet dataset folder). */
export const TICKS_TABLE = "ticks";
/** Name of the bus-event table (and of its Parquet dataset folder). */
export const EVENTS_TABLE = "bus_events";
/** Name of the table that tracks rolls to Parquet (two-phase commit, see roll.ts). */
export const SEGMENTS_TABLE = "segments";

/** The STRUCT of one depth level. `orders` is NULL when the broker does not send it. */
export const DEPTH_LEVEL_TYPE = "STRUCT(price DOUBLE, quantity DOUBLE, orders INTEGER)";

/** Quote fields of a tick, in column order; NULL in LTP rows (one list for the whole codebase). */
export { QUOTE_FIELDS };

/** One quote field name. */
export type QuoteField = typeof QUOTE_FIELDS[number];

/**
 * Columns of the tick table, in appender order. Times are UTC `TIMESTAMP`s with microsecond
 * precision (epoch-ms values from the bus keep their fractional part). Numeric tick fields are
 * DOUBLE because the normalised tick carries plain numbers (fractional quantities exist, e.g.
 * crypto); `orders` is INTEGER.
 */
export const TICK_COLUMNS: readonly { name: string; type: string; notNull: boolean }[] = [
  { name: "ingest_seq", type: "BIGINT", notNull: true },
  { name: "received", type: "TIMESTAMP", notNull: true },
  { name: "session", type: "VARCHAR", notNull: true },
  { name: "seq", type: "BIGINT", notNull: true },
  { name: "topic", type: "VARCHAR", notNull: true },
  { name: "broker", type: "VARCHAR", notNull: true },
  { name: "exchange", type: "VARCHAR", notNull: true },
  { name: "symbol", type: "VARCHAR", notNull: true },
  { name: "mode", type: "VARCHAR", notNull: true },
  { name: "published", type: "TIMESTAMP", notNull: true },
  { name: "ltp", type: "DOUBLE", notNull: true },
  { name: "ltt", type: "TIMESTAMP", notNull: false },
  { name: "timestamp", type: "TIMESTAMP", notNull: true },
  ...QUOTE_FIELDS.map((name) => ({ name, type: "DOUBLE", notNull: false })),
  { name: "depth_buy", type: `${DEPTH_LEVEL_TYPE}[]`, notNull: false },
  { name: "depth_sell", type: `${DEPTH_LEVEL_TYPE}[]`, notNull: false },
];

/** Columns of the bus-event table, in appender order. */
export const EVENT_COLUMNS: readonly { name: string; type: string; notNull: boolean }[] = [
  { name: "ingest_seq", type: "BIGINT", notNull: true },
  { name: "received", type: "TIMESTAMP", notNull: true },
  { name: "kind", type: "VARCHAR", notNull: true },
  { name: "session", type: "VARCHAR", notNull: false },
  { name: "previous_session", type: "VARCHAR", notNull: false },
  { name: "broker", type: "VARCHAR", notNull: false },
  { name: "topic", type: "VARCHAR", notNull: false },
  { name: "seq_from", type: "BIGINT", notNull: false },
  { name: "seq_to", type: "BIGINT", notNull: false },
  { name: "count", type: "BIGINT", notNull: false },
  { name: "reason", type: "VARCHAR", notNull: false },
  { name: "detail", type: "VARCHAR", notNull: false },
];

/**
 * What a bus-event row records:
 * - `start` / `stop`: the recorder started (reason `first`, `after_stop` or `after_crash`) or
 *   stopped (reason `signal`, `abort`, `error`).
 * - `session`: a new publisher session (gateway start); `previous_session` is non-null when the
 *   gateway restarted while the recorder was connected.
 * - `gap`: bus messages `seq_from..seq_to` of `topic` in `session` never arrived (`count` of them).
 * - `drop`: `count` messages the bus delivered but the recorder did not store, with a `reason`.
 */
export type EventKind = "start" | "stop" | "session" | "gap" | "drop";

/** Why a delivered message is not in the tick table. */
export type DropReason =
  /** The frame was not a valid v1 bus message (the reader skipped it). */
  | "invalid_frame"
  /** A topic the prefix filter let through but the symbol set does not select. */
  | "not_selected"
  /** The in-memory batch hit its bound while the database was failing. */
  | "backlog_full"
  /** The database refused the batch and the recorder gave up (at shutdown). */
  | "write_failed";

/** A bus-event row before it is written. */
export interface EventRow {
  /** When the recorder saw it, epoch ms. */
  received: number;
  kind: EventKind;
  session?: string | null;
  previousSession?: string | null;
  broker?: string | null;
  topic?: string | null;
  seqFrom?: number | null;
  seqTo?: number | null;
  count?: number | null;
  reason?: string | null;
  detail?: string | null;
}

function columnsDdl(columns: readonly { name: string; type: string; notNull: boolean }[]): string {
  return columns.map((c) => `"${c.name}" ${c.type}${c.notNull ? " NOT NULL" : ""}`).join(",\n  ");
}

/**
 * The DDL that creates the recording's tables when they do not exist yet.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // `for (const sql of recordingDdl()) await connection.run(sql);` on a DuckDB connection.
 * const ddl = recordingDdl();
 * assert.ok(ddl.some((sql) => /CREATE TABLE IF NOT EXISTS ticks/.test(sql)));
 * ```
 */
export function recordingDdl(): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${TICKS_TABLE} (\n  ${columnsDdl(TICK_COLUMNS)}\n)`,
    `CREATE TABLE IF NOT EXISTS ${EVENTS_TABLE} (\n  ${columnsDdl(EVENT_COLUMNS)}\n)`,
    `CREATE TABLE IF NOT EXISTS ${SEGMENTS_TABLE} (
  roll_id VARCHAR PRIMARY KEY,
  created TIMESTAMP NOT NULL,
  cutoff TIMESTAMP NOT NULL,
  max_ingest_seq BIGINT NOT NULL,
  tick_rows BIGINT NOT NULL,
  event_rows BIGINT NOT NULL,
  state VARCHAR NOT NULL
)`,
  ];
}

/** Mode names as they appear in the `mode` column, by mode number. */
export const MODE_NAMES = ["", "LTP", "QUOTE", "DEPTH"] as const;

/** SQL expression turning the `mode` column into 1/2/3. */
export const MODE_NUMBER_SQL =
  "CASE mode WHEN 'LTP' THEN 1 WHEN 'QUOTE' THEN 2 WHEN 'DEPTH' THEN 3 END";

/** Quotes a string as a SQL literal. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
