// Candles as CSV for charting tools and AmiBroker-style importers: `Date,Time,Open,High,Low,Close,
// Volume`, the bar start in IST (the exchanges' time), closed bars only — an importer stores every
// row as final, so the forming bar (still changing) is left out.

import { stringify } from "csv-stringify/sync";
import { type Candle, IST_OFFSET_MS } from "../candles/mod.ts";

/** The CSV header row's columns. */
export const CSV_COLUMNS = ["Date", "Time", "Open", "High", "Low", "Close", "Volume"] as const;

/**
 * Closed bars as CSV: a header, then one row per bar, `YYYY-MM-DD,HH:MM:SS` of the bar start in IST.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { candlesCsv } from "./csv.ts";
 * const time = Date.parse("2026-11-30T09:15:00+05:30");
 * const bar = { time, open: 1, high: 2.5, low: 1, close: 2, volume: 300, closed: true };
 * assert.equal(
 *   candlesCsv([bar, { ...bar, time: time + 60_000, closed: false }]),
 *   "Date,Time,Open,High,Low,Close,Volume\r\n2026-11-30,09:15:00,1,2.5,1,2,300\r\n",
 * );
 * ```
 */
export function candlesCsv(candles: readonly Candle[]): string {
  const rows: (string | number)[][] = [];
  for (const c of candles) {
    if (!c.closed) continue;
    const ist = new Date(c.time + IST_OFFSET_MS).toISOString();
    rows.push([ist.slice(0, 10), ist.slice(11, 19), c.open, c.high, c.low, c.close, c.volume]);
  }
  return stringify(rows, { header: true, columns: [...CSV_COLUMNS], record_delimiter: "windows" });
}
