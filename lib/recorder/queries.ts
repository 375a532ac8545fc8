// Ready-made SQL over a recording (the DuckDB `ticks` table or the Parquet `ticks` dataset);
// the README shows the same queries.

import { MODE_NAMES } from "./schema.ts";
import type { Mode } from "../types.ts";

/**
 * 1-minute OHLCV candles per instrument. `from` is a table or table function holding tick rows:
 * `ticks` in the DuckDB file, or `read_parquet('…/ticks/**\/*.parquet', hive_partitioning = true)`.
 *
 * Each tick is on the bus once per mode topic, so one mode is chosen (`mode`, default Quote — LTP
 * rows carry no volume). Open and close are the first and last trade by exchange time, then by
 * arrival. `volume` is the instrument's cumulative day volume at the end of the minute minus that
 * of the previous candle of the same UTC day (the first candle of a day gets all the volume
 * traded before it, from the session open). Minutes are UTC; IST minutes are the same buckets.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // Run it with any DuckDB connection: `await connection.runAndReadAll(ohlcvSql("ticks"))`.
 * const sql = ohlcvSql("ticks");
 * assert.match(sql, /time_bucket\(INTERVAL 1 minute/);
 * assert.match(sql, /mode = 'QUOTE'/);
 * ```
 */
export function ohlcvSql(from: string, mode: Mode = 2): string {
  return `WITH t AS (
  SELECT exchange, symbol, ltp, volume, ingest_seq, "timestamp",
         time_bucket(INTERVAL 1 minute, "timestamp") AS minute
  FROM ${from}
  WHERE mode = '${MODE_NAMES[mode]}'
), c AS (
  SELECT exchange, symbol, minute,
         arg_min(ltp, ("timestamp", ingest_seq)) AS open,
         max(ltp) AS high,
         min(ltp) AS low,
         arg_max(ltp, ("timestamp", ingest_seq)) AS close,
         max(volume) AS day_volume,
         count(*) AS ticks
  FROM t GROUP BY exchange, symbol, minute
)
SELECT exchange, symbol, minute, open, high, low, close,
       day_volume - lag(day_volume, 1, 0) OVER (
         PARTITION BY exchange, symbol, CAST(minute AS DATE) ORDER BY minute) AS volume,
       ticks
FROM c
ORDER BY exchange, symbol, minute`;
}
