// Prepares a recording for the replay adapter: DuckDB collapses the per-mode copies of each tick
// into its richest one, orders everything as it arrived, and writes the compact `.tpr` file the
// adapter's sandboxed worker streams (see lib/replay for why DuckDB stays out of the worker).

import { openRecording, type RecordingSources } from "./recording.ts";
import { MODE_NUMBER_SQL, QUOTE_FIELDS, sqlString } from "./schema.ts";
import { encodePreamble, type ReplayHeader, replayPathFor } from "../replay/mod.ts";
import { type ProgressFn, silentProgress, withQueryProgress } from "./progress.ts";
import type { SymbolSelector } from "./symbols.ts";

/** Options of {@link prepareReplay}. */
export interface PrepareReplayOptions extends RecordingSources {
  /** Output file; default `<db or parquet>.tpr`. */
  out?: string;
  /** Only ticks published at or after / before these epoch-ms instants. */
  from?: number;
  to?: number;
  /** Only these instruments / prefixes. */
  symbols?: SymbolSelector[];
  progress?: ProgressFn;
}

/** What {@link prepareReplay} wrote. */
export interface PrepareReplayResult {
  out: string;
  header: ReplayHeader;
  bytes: number;
}

function micros(ms: number): string {
  return `make_timestamp(${BigInt(Math.round(ms * 1000))})`;
}

function selectorSql(s: SymbolSelector): string {
  if (s.kind === "prefix") return `starts_with(topic, ${sqlString(s.prefix)})`;
  const parts = [`exchange = ${sqlString(s.exchange)}`, `symbol = ${sqlString(s.symbol)}`];
  if (s.mode !== null) parts.push(`${MODE_NUMBER_SQL} = ${s.mode}`);
  return `(${parts.join(" AND ")})`;
}

/**
 * Writes the replay file of a recording.
 *
 * Each tick reaches the bus once per mode topic with consumers, so the recording may hold the
 * same tick as LTP, QUOTE and DEPTH rows. Within a publisher session and instrument, the k-th
 * row of each mode published in the same millisecond are copies of one tick: the richest is kept
 * (a replay subscriber at a lower mode gets it projected down). Exact duplicates (same session,
 * topic, seq and publish time, e.g. from overlapping sources; seq alone repeats when a topic
 * restarts at 0 after being idle) are dropped first. Records are ordered by the arrival order of
 * the first copy (`ingest_seq`).
 *
 * @example
 * ```ts ignore
 * const { out, header } = await prepareReplay({ db: "recordings/ticks.duckdb" });
 * console.log(`${header.rows} ticks → ${out}`);
 * ```
 */
export async function prepareReplay(options: PrepareReplayOptions): Promise<PrepareReplayResult> {
  const progress = options.progress ?? silentProgress;
  const source = options.db ?? options.parquet;
  if (source === undefined) throw new Error("prepare-replay: give a DuckDB file or Parquet folder");
  const out = options.out ?? replayPathFor(source);
  using rec = await openRecording(options);
  const c = rec.connection;
  const filters: string[] = [];
  if (options.from !== undefined) filters.push(`published >= ${micros(options.from)}`);
  if (options.to !== undefined) filters.push(`published < ${micros(options.to)}`);
  if (options.symbols !== undefined && options.symbols.length > 0) {
    filters.push(`(${options.symbols.map(selectorSql).join(" OR ")})`);
  }
  const where = filters.length > 0 ? `WHERE ${filters.join(" AND ")}` : "";
  await withQueryProgress(
    c,
    "prepare replay: collapse mode copies",
    () =>
      c.run(`CREATE TEMP TABLE replay_rows AS
WITH src AS (
  SELECT * FROM recording ${where}
  QUALIFY row_number() OVER (PARTITION BY session, topic, seq, published ORDER BY ingest_seq) = 1
), numbered AS (
  SELECT *, ${MODE_NUMBER_SQL} AS m,
    row_number() OVER (PARTITION BY session, exchange, symbol, published, mode ORDER BY seq) AS k
  FROM src
)
SELECT *, min(ingest_seq) OVER (PARTITION BY session, exchange, symbol, published, k) AS ord
FROM numbered
QUALIFY row_number() OVER (PARTITION BY session, exchange, symbol, published, k ORDER BY m DESC) = 1`),
    progress,
  );
  await c.run(`CREATE TEMP TABLE replay_instruments AS
SELECT exchange, symbol, (row_number() OVER (ORDER BY exchange, symbol) - 1)::INTEGER AS i,
  max(m)::INTEGER AS mode,
  coalesce(max(greatest(len(depth_buy), len(depth_sell))), 0)::INTEGER AS depth,
  count(*) AS rows
FROM replay_rows GROUP BY exchange, symbol`);
  const instruments = (await c.runAndReadAll(
    "SELECT exchange, symbol, mode, depth, rows FROM replay_instruments ORDER BY i",
  )).getRows().map(([exchange, symbol, mode, depth, rows]) => ({
    exchange: String(exchange),
    symbol: String(symbol),
    mode: Number(mode) as 1 | 2 | 3,
    depth: Number(depth),
    rows: Number(rows),
  }));
  const [[rows, first, last]] = (await c.runAndReadAll(
    "SELECT count(*), epoch_us(min(published)) / 1000.0, epoch_us(max(published)) / 1000.0 FROM replay_rows",
  )).getRows();
  const header: ReplayHeader = {
    format: "tickplex-replay",
    version: 1,
    created: new Date().toISOString(),
    source: rec.describe.join(" + "),
    rows: Number(rows),
    first: first === null ? null : Number(first),
    last: last === null ? null : Number(last),
    instruments,
  };

  const body = `${out}.body.tmp.gz`;
  const tmp = `${out}.tmp`;
  const dir = out.replace(/[/\\][^/\\]*$/, "");
  if (dir !== out && dir !== "") await Deno.mkdir(dir, { recursive: true });
  try {
    const quote = QUOTE_FIELDS.map((f) => `r."${f}"`).join(", ");
    await withQueryProgress(
      c,
      `prepare replay: write ${header.rows} ticks`,
      () =>
        c.run(`COPY (
  SELECT epoch_us(r.published) / 1000.0 AS p, n.i AS i, r.m AS m, r.ltp AS ltp,
    epoch_us(r.ltt) / 1000.0 AS ltt, epoch_us(r."timestamp") / 1000.0 AS "timestamp", ${quote},
    r.depth_buy AS buy, r.depth_sell AS sell
  FROM replay_rows r JOIN replay_instruments n USING (exchange, symbol)
  ORDER BY r.ord, r.published, r.m
) TO ${sqlString(body)} (FORMAT json, COMPRESSION gzip)`),
      progress,
    );
    {
      using target = await Deno.open(tmp, { write: true, create: true, truncate: true });
      const preamble = encodePreamble(header);
      for (let done = 0; done < preamble.length;) {
        done += await target.write(preamble.subarray(done));
      }
      await target.seek(0, Deno.SeekMode.End);
      const src = await Deno.open(body, { read: true });
      await src.readable.pipeTo(target.writable, { preventClose: true });
    }
    await Deno.rename(tmp, out);
  } finally {
    await Deno.remove(body).catch(() => {});
    await Deno.remove(tmp).catch(() => {});
  }
  const bytes = (await Deno.stat(out)).size;
  progress(`prepare replay: ${out}`, 1, `${header.rows} ticks, ${bytes} bytes`);
  return { out, header, bytes };
}
