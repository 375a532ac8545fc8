// `GET /api/v1/candles` on :8765: API key as every /api/v1 route, the query parsed (params.ts),
// bars from the recording and the live candle feed (service.ts), answered as JSON or CSV.

import { getLogger } from "../log.ts";
import type { CandleInterval } from "../candles/mod.ts";
import type { ErrorCode } from "../types.ts";
import type { HttpRoutes, RequestInfo } from "../proxy/mod.ts";
import { parseCandlesQuery } from "./params.ts";
import { RecordedTickReader, recordingLocation } from "./recorded.ts";
import { historyCandles, type MemoryBars } from "./service.ts";
import { candlesCsv } from "./csv.ts";

const log = getLogger(["tickplex", "history"]);

/** The path of the candles endpoint. */
export const CANDLES_PATH = "/api/v1/candles";

/** Settings of the endpoint (the config's `history` section). */
export interface HistorySettings {
  /** The recording: a folder with `ticks.duckdb` and `parquet/`, or a DuckDB file. */
  recordings: string;
  /** Parquet root, when not `parquet/` beside the DuckDB file. */
  parquet?: string;
  /** Most bars one request may span. */
  maxBars: number;
}

/** What the endpoint needs from the gateway. */
export interface HistoryHost {
  routes: HttpRoutes;
  /** Null when the request carries a valid API key, else the 401/429 response. */
  authorize(req: Request, info: RequestInfo): Promise<Response | null>;
  /** The live candle series' bars (the proxy's candle feed). */
  memory(exchange: string, symbol: string, interval: CandleInterval): MemoryBars | null;
  /** Epoch ms now (default `Date.now`). */
  clock?: () => number;
}

function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}

function errorResponse(status: number, code: ErrorCode, message: string): Response {
  return jsonResponse({ status: "error", code, message }, status);
}

/**
 * Registers `GET /api/v1/candles`; returns the function that closes its DuckDB reader.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HttpRoutes } from "../proxy/mod.ts";
 * import { CANDLES_PATH, installHistory } from "./http.ts";
 * const routes = new HttpRoutes();
 * const close = installHistory({
 *   routes,
 *   authorize: () => Promise.resolve(null),
 *   memory: () => null,
 * }, { recordings: "no/such/recordings", maxBars: 20_000 });
 * const res = await routes.handle(
 *   new Request(`http://x${CANDLES_PATH}?exchange=NSE&symbol=TCS&interval=7m`),
 *   { address: "127.0.0.1" },
 * );
 * assert.equal(res.status, 400);
 * assert.equal((await res.json()).code, "INVALID_PARAMETERS");
 * await close();
 * ```
 */
export function installHistory(host: HistoryHost, settings: HistorySettings): () => Promise<void> {
  const reader = new RecordedTickReader(recordingLocation(settings.recordings, settings.parquet));
  const clock = host.clock ?? Date.now;
  host.routes.add({
    path: CANDLES_PATH,
    methods: ["GET"],
    handler: async (req, info) => {
      const denied = await host.authorize(req, info);
      if (denied) return denied;
      const q = parseCandlesQuery(new URL(req.url).searchParams, req.headers.get("accept"), {
        now: clock(),
        maxBars: settings.maxBars,
      });
      if ("code" in q) return errorResponse(400, q.code, q.message);
      let result;
      try {
        result = await historyCandles(q, {
          recorded: (e, s, from, to, onTick) => reader.read(e, s, from, to, onTick),
          memory: host.memory,
          clock,
        });
      } catch (err) {
        log.error("candles of {symbol} failed: {err}", {
          symbol: `${q.exchange}:${q.symbol}`,
          err,
        });
        return errorResponse(500, "SERVER_ERROR", "Reading the recording failed; see the log");
      }
      const headers: Record<string, string> = {
        "x-tickplex-sources": result.sources.join(",") || "none",
      };
      if (result.skipped.length > 0) {
        headers["x-tickplex-skipped"] = result.skipped.join("; ").replace(/[\r\n]+/g, " ");
      }
      if (q.format === "csv") {
        return new Response(candlesCsv(result.candles), {
          headers: {
            "content-type": "text/csv; charset=utf-8",
            "content-disposition": `inline; filename="${q.exchange}_${
              q.symbol.replace(/[^A-Za-z0-9_.-]/g, "_")
            }_${q.interval}.csv"`,
            "cache-control": "no-store",
            ...headers,
          },
        });
      }
      return jsonResponse(
        {
          status: "success",
          data: {
            exchange: q.exchange,
            symbol: q.symbol,
            interval: q.interval,
            candles: result.candles,
          },
        },
        200,
        headers,
      );
    },
  });
  return () => reader.close();
}
