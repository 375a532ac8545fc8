// HTTP endpoints of the MarketDataService — `GET /api/v1/health` and `GET /api/v1/trade-safe` —
// as a plain Request → Response function the gateway's route table calls.

import type { HealthReport, TradeSafeReport } from "./types.ts";

/** The paths answered by {@link handleMarketDataHttp}. */
export const MARKET_DATA_PATHS: readonly string[] = ["/api/v1/health", "/api/v1/trade-safe"];

/** What the handler needs: the two report builders. */
export interface MarketDataReports {
  /** Body of `GET /api/v1/health`. */
  health(): HealthReport;
  /** Body of `GET /api/v1/trade-safe`. */
  tradeSafe(): TradeSafeReport;
}

/**
 * Answers the market-data endpoints; returns null for any other path so the caller can route it.
 * Only GET is allowed (405 with `Allow: GET` otherwise). Bodies are JSON and never cached.
 * Both endpoints answer 200 whatever the state: the state is in the body (`safe`, `status`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const reports = {
 *   health: () => { throw new Error("not asked"); },
 *   tradeSafe: () => ({ safe: true, reason: "", data_fresh: true }),
 * };
 * const res = handleMarketDataHttp(reports, new Request("http://127.0.0.1/api/v1/trade-safe"));
 * assert.deepEqual(await res?.json(), { safe: true, reason: "", data_fresh: true });
 * assert.equal(handleMarketDataHttp(reports, new Request("http://127.0.0.1/other")), null);
 * const post = new Request("http://127.0.0.1/api/v1/health", { method: "POST" });
 * assert.equal(handleMarketDataHttp(reports, post)?.status, 405);
 * ```
 */
export function handleMarketDataHttp(reports: MarketDataReports, req: Request): Response | null {
  const path = new URL(req.url).pathname;
  if (!MARKET_DATA_PATHS.includes(path)) return null;
  if (req.method !== "GET") {
    return new Response(JSON.stringify({ status: "error", message: "Method not allowed" }), {
      status: 405,
      headers: { "content-type": "application/json", allow: "GET" },
    });
  }
  const body = path === "/api/v1/health" ? reports.health() : reports.tradeSafe();
  return new Response(JSON.stringify(body), {
    status: 200,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}
