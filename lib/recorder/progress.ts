// Progress output for long recorder operations (rolls to Parquet, stats over big files, replay
// exports): a throttled line on stderr, rewritten in place on a terminal.

import type { DuckDBConnection } from "@duckdb/node-api";

/** Receives progress: a label, the fraction done (0–1, or null when unknown) and a detail. */
export type ProgressFn = (label: string, fraction: number | null, detail?: string) => void;

/** Reports nothing. */
export const silentProgress: ProgressFn = () => {};

const encoder = new TextEncoder();

/**
 * A {@link ProgressFn} writing to stderr at most every `intervalMs` (and always at 100 %). On a
 * terminal the line is rewritten in place; elsewhere each report is its own line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const progress = stderrProgress(0);
 * progress("export", 0.5, "1000/2000 rows"); // "export: 50% 1000/2000 rows" on stderr
 * progress("export", 1, "2000/2000 rows");
 * assert.equal(silentProgress("export", 1), undefined, "or silentProgress: reports nothing");
 * ```
 */
export function stderrProgress(intervalMs = 1000): ProgressFn {
  let tty = false;
  try {
    tty = Deno.stderr.isTerminal();
  } catch {
    // no stderr
  }
  let last = 0;
  let open = false;
  return (label, fraction, detail) => {
    const now = performance.now();
    const finished = fraction !== null && fraction >= 1;
    if (!finished && now - last < (tty ? 100 : intervalMs)) return;
    last = now;
    const pct = fraction === null ? "" : ` ${(Math.min(1, fraction) * 100).toFixed(0)}%`;
    const text = `${label}:${pct}${detail ? ` ${detail}` : ""}`;
    try {
      if (tty) {
        Deno.stderr.writeSync(encoder.encode(`\r\x1b[2K${text}${finished ? "\n" : ""}`));
        open = !finished;
      } else Deno.stderr.writeSync(encoder.encode(`${text}\n`));
    } catch {
      // stderr closed: progress is best effort
    }
    if (finished && open) open = false;
  };
}

/**
 * Runs a DuckDB statement while reporting its progress (DuckDB's own estimate, polled every
 * `pollMs`). Progress tracking is switched on for the connection.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DuckDBInstance } from "@duckdb/node-api";
 * const instance = await DuckDBInstance.create(":memory:");
 * const connection = await instance.connect();
 * const reports: (number | null)[] = [];
 * const sql = "SELECT count(*) FROM range(1000000)"; // e.g. the COPY of a roll
 * const result = await withQueryProgress(connection, "count", () => connection.runAndReadAll(sql),
 *   (_label, fraction) => reports.push(fraction), 10);
 * assert.equal(result.getRows()[0][0], 1000000n);
 * assert.equal(reports.at(-1), 1, "the last report is 100 %");
 * connection.closeSync();
 * instance.closeSync();
 * ```
 */
export async function withQueryProgress<T>(
  connection: DuckDBConnection,
  label: string,
  work: () => Promise<T>,
  progress: ProgressFn,
  pollMs = 200,
): Promise<T> {
  if (progress === silentProgress) return await work();
  await connection.run("SET enable_progress_bar = true");
  await connection.run("SET enable_progress_bar_print = false");
  const started = performance.now();
  const timer = setInterval(() => {
    const p = connection.progress;
    const elapsed = `${((performance.now() - started) / 1000).toFixed(1)} s`;
    if (p.percentage >= 0) progress(label, Math.min(0.99, p.percentage / 100), elapsed);
    else progress(label, null, elapsed);
  }, pollMs);
  try {
    const result = await work();
    progress(label, 1, `done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return result;
  } finally {
    clearInterval(timer);
  }
}
