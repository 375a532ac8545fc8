// The chart's backfill: bars from `GET /api/v1/candles`, read at the boundary into typed bars. A
// gateway without the endpoint (404) is an ordinary outcome, not an error: the chart starts live.

import type { Candle, CandleInterval } from "../../candles/mod.ts";
import { type Instrument, parseCandle } from "./protocol.ts";

/** Path of the history endpoint. */
export const CANDLES_PATH = "/api/v1/candles";

/** How far back the chart asks for, per interval: a few hundred bars, across a weekend. */
const LOOKBACK_MS: Readonly<Record<CandleInterval, number>> = {
  "1s": 30 * 60_000,
  "1m": 4 * 86_400_000,
  "3m": 7 * 86_400_000,
  "5m": 10 * 86_400_000,
  "15m": 30 * 86_400_000,
  "30m": 60 * 86_400_000,
  "1h": 90 * 86_400_000,
  "1d": 730 * 86_400_000,
};

/** What a history request gave. */
export type HistoryResult =
  | { kind: "bars"; bars: Candle[]; skipped: number }
  /** 404: no bars for this instrument; `noEndpoint` when the gateway has no such route at all. */
  | { kind: "unavailable"; noEndpoint: boolean }
  | { kind: "failed"; message: string };

/** The request URL for `item`'s bars at `interval` up to `now` (epoch ms). */
export function historyUrl(item: Instrument, interval: CandleInterval, now: number): string {
  const q = new URLSearchParams({
    exchange: item.exchange,
    symbol: item.symbol,
    interval,
    from: String(now - LOOKBACK_MS[interval]),
    to: String(now),
  });
  return `${CANDLES_PATH}?${q}`;
}

/**
 * Reads a history response body: the bars of `data.candles` that parse (the rest counted as
 * skipped), or failed when it is not a success document.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const body = { status: "success", data: { exchange: "NSE", symbol: "TCS", interval: "1m",
 *   candles: [{ time: 0, open: 1, high: 2, low: 1, close: 2, volume: 3, closed: true }, { time: "x" }] } };
 * const r = parseHistory(body);
 * assert.equal(r.kind === "bars" && r.bars.length, 1);
 * assert.equal(r.kind === "bars" && r.skipped, 1);
 * assert.equal(parseHistory({ status: "error", message: "no" }).kind, "failed");
 * ```
 */
export function parseHistory(body: unknown): HistoryResult {
  const doc = body as { status?: unknown; message?: unknown; data?: { candles?: unknown } } | null;
  if (typeof doc !== "object" || doc === null || doc.status !== "success") {
    const m = typeof doc?.message === "string" ? doc.message : "unexpected history document";
    return { kind: "failed", message: m };
  }
  const list = doc.data?.candles;
  if (!Array.isArray(list)) return { kind: "failed", message: "history without candles" };
  const bars: Candle[] = [];
  let skipped = 0;
  for (const c of list) {
    const bar = parseCandle(c);
    if (bar) bars.push(bar);
    else skipped++;
  }
  return { kind: "bars", bars, skipped };
}

/**
 * Fetches `item`'s history at `interval` with the page's API key from the page's own gateway (or
 * `origin`). Never throws.
 */
export async function fetchHistory(
  key: string,
  item: Instrument,
  interval: CandleInterval,
  now: number,
  signal?: AbortSignal,
  origin = "",
): Promise<HistoryResult> {
  try {
    const res = await fetch(origin + historyUrl(item, interval, now), {
      headers: { authorization: `Bearer ${key}`, accept: "application/json" },
      cache: "no-store",
      signal: signal ?? AbortSignal.timeout(10_000),
    });
    const body: unknown = await res.json().catch(() => null);
    // 404: the chart then starts from live bars. The route table's own 404 names the path.
    if (res.status === 404) {
      const m = (body as { message?: unknown } | null)?.message;
      return { kind: "unavailable", noEndpoint: typeof m === "string" && m.startsWith("No route") };
    }
    if (!res.ok) {
      const m = (body as { message?: unknown } | null)?.message;
      return { kind: "failed", message: typeof m === "string" ? m : `HTTP ${res.status}` };
    }
    return parseHistory(body);
  } catch (err) {
    return { kind: "failed", message: err instanceof Error ? err.message : String(err) };
  }
}
