// `record --stats`: counts per instrument and mode with their time range, plus the bus events
// (sessions, gaps, drops, recorder restarts) of a recording, as data and as a printable table.

import { openRecording, type RecordingSources } from "./recording.ts";
import { type ProgressFn, silentProgress, withQueryProgress } from "./progress.ts";

/** One instrument and mode of a recording. */
export interface StatsRow {
  exchange: string;
  symbol: string;
  mode: string;
  rows: number;
  /** First and last publish time, epoch ms. */
  first: number;
  last: number;
}

/** What {@link recordingStats} reports. */
export interface RecordingStats {
  sources: string[];
  rows: StatsRow[];
  total: number;
  sessions: number;
  gaps: number;
  missed: number;
  /** Dropped messages by reason. */
  dropped: Record<string, number>;
  /** Recorder starts after a crash or kill (each may have lost one batch interval). */
  crashes: number;
}

/**
 * Computes the stats of a recording (DuckDB file, Parquet datasets, or both).
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
 * const stats = await recordingStats({ db }); // e.g. { db: "recordings/ticks.duckdb" }
 * assert.equal(stats.total, 3);
 * assert.deepEqual(stats.rows.map((r) => r.symbol), ["TCS"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function recordingStats(
  sources: RecordingSources,
  progress: ProgressFn = silentProgress,
): Promise<RecordingStats> {
  using rec = await openRecording(sources);
  const c = rec.connection;
  const reader = await withQueryProgress(
    c,
    "stats",
    () =>
      c.runAndReadAll(`SELECT exchange, symbol, mode, count(*) AS rows,
  epoch_us(min(published)) / 1000.0 AS first, epoch_us(max(published)) / 1000.0 AS last
FROM recording GROUP BY exchange, symbol, mode
ORDER BY exchange, symbol, CASE mode WHEN 'LTP' THEN 1 WHEN 'QUOTE' THEN 2 ELSE 3 END`),
    progress,
  );
  const rows = reader.getRows().map(([exchange, symbol, mode, n, first, last]) => ({
    exchange: String(exchange),
    symbol: String(symbol),
    mode: String(mode),
    rows: Number(n),
    first: Number(first),
    last: Number(last),
  }));
  const events = (await c.runAndReadAll(`SELECT
  count(*) FILTER (WHERE kind = 'session'),
  count(*) FILTER (WHERE kind = 'gap'),
  coalesce(sum(count) FILTER (WHERE kind = 'gap'), 0),
  count(*) FILTER (WHERE kind = 'start' AND reason = 'after_crash')
FROM recording_events`)).getRows()[0];
  const dropped: Record<string, number> = {};
  for (
    const [reason, n] of (await c.runAndReadAll(
      `SELECT reason, sum(count) FROM recording_events WHERE kind = 'drop' GROUP BY reason ORDER BY reason`,
    )).getRows()
  ) dropped[String(reason)] = Number(n);
  return {
    sources: rec.describe,
    rows,
    total: rows.reduce((a, r) => a + r.rows, 0),
    sessions: Number(events[0]),
    gaps: Number(events[1]),
    missed: Number(events[2]),
    crashes: Number(events[3]),
    dropped,
  };
}

function time(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace("Z", "");
}

/**
 * Formats stats as an aligned text table (times in UTC).
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
 * const text = formatStats(await recordingStats({ db })); // what `record --stats` prints
 * assert.match(text, /TCS/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function formatStats(stats: RecordingStats): string {
  const header = ["exchange", "symbol", "mode", "rows", "first (UTC)", "last (UTC)"];
  const body = stats.rows.map((r) => [
    r.exchange,
    r.symbol,
    r.mode,
    String(r.rows),
    time(r.first),
    time(r.last),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => i === 3 ? cell.padStart(widths[i]) : cell.padEnd(widths[i])).join("  ")
      .trimEnd();
  const dropped = Object.entries(stats.dropped).map(([k, v]) => `${k} ${v}`).join(", ") || "none";
  return [
    `recording: ${stats.sources.join(" + ")}`,
    line(header),
    ...body.map(line),
    "",
    `${stats.total} ticks in ${stats.rows.length} streams; ${stats.sessions} bus sessions; ` +
    `${stats.gaps} gaps (${stats.missed} messages missed); dropped: ${dropped}; ` +
    `recorder restarts after a crash: ${stats.crashes}`,
  ].join("\n");
}
