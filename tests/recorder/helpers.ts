// Helpers of the recorder tests: temp dirs, DuckDB queries, capture calls, bounded waits.

import { DuckDBInstance } from "@duckdb/node-api";
import type { Gateway } from "../../lib/gateway.ts";
import { TEST_KEY } from "../helpers/gateway.ts";
import { QUOTE_FIELDS, sqlString } from "../../lib/recorder/schema.ts";

/** A temp dir removed on dispose. */
export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "tickplex-rec-" });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }).catch(() => {}),
  };
}

/**
 * Runs a query in a fresh in-memory DuckDB (attach files or read Parquet inside the SQL) and
 * returns JSON-friendly rows (BIGINT as string, lists of structs as plain objects).
 */
export async function query(sql: string, attach?: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const c = await instance.connect();
  try {
    if (attach !== undefined) await c.run(`ATTACH ${sqlString(attach)} AS rec (READ_ONLY)`);
    const reader = await c.runAndReadAll(sql);
    return reader.getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

/**
 * SQL selecting tick rows in the bus envelope's shape (times back as epoch-ms numbers) from
 * `table`, in arrival order.
 */
export function envelopeSql(table: string, where = "true"): string {
  const quote = QUOTE_FIELDS.map((f) => `"${f}"`).join(", ");
  return `SELECT topic, session, seq::DOUBLE AS seq, broker, exchange, symbol, mode,
  epoch_us(published) / 1000.0 AS published, ltp, epoch_us(ltt) / 1000.0 AS ltt,
  epoch_us("timestamp") / 1000.0 AS "timestamp", ${quote}, depth_buy, depth_sell
FROM ${table} WHERE ${where} ORDER BY ingest_seq`;
}

/** Turns a row of {@link envelopeSql} into the envelope the bus carried. */
export function rowToEnvelope(r: Record<string, unknown>): Record<string, unknown> {
  const data: Record<string, unknown> = {
    symbol: r.symbol,
    exchange: r.exchange,
    ltp: r.ltp,
    ltt: r.ltt,
    timestamp: r.timestamp,
  };
  if (r.mode !== "LTP") { for (const f of QUOTE_FIELDS) data[f] = r[f]; }
  if (r.mode === "DEPTH") data.depth = { buy: r.depth_buy, sell: r.depth_sell };
  return {
    v: 1,
    seq: r.seq,
    session: r.session,
    broker: r.broker,
    exchange: r.exchange,
    symbol: r.symbol,
    mode: r.mode,
    published: r.published,
    data,
  };
}

/** Calls the gateway's capture API. */
export async function captureApi(
  gw: Gateway,
  method: string,
  body?: unknown,
  headers: Record<string, string> = { authorization: `Bearer ${TEST_KEY}` },
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${gw.proxy.addr.port}/api/v1/capture`, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

/** Waits (bounded) until `value()` stops changing for `quietMs`; returns the last value. */
export async function settle(
  value: () => number,
  quietMs = 300,
  timeoutMs = 10_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = value();
  let since = Date.now();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    const v = value();
    if (v !== last) {
      last = v;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return v;
  }
  throw new Error(`value did not settle within ${timeoutMs} ms (last ${last})`);
}
