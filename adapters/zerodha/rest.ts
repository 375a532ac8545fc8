// Kite Connect's REST market quotes (`GET /quote`, `/quote/ltp`): the request for a batch of
// instruments, and a decoder of the JSON answer into normalised ticks that counts and skips bad
// entries. Wire facts: `i=EXCHANGE:TRADINGSYMBOL` (repeated), `Authorization: token key:token`,
// `X-Kite-Version: 3`; up to 500 instruments per /quote and 1000 per /quote/ltp; 1 request/s.

import { z } from "zod";
import type { QuoteResult } from "../../lib/adapter/mod.ts";
import {
  baseTick,
  type Depth,
  type Mode,
  type QuoteCapability,
  type Tick,
} from "../../lib/types.ts";

/** Kite's quote API limits (Kite Connect v3 docs: market quotes, rate limits). */
export const KITE_QUOTE_LIMITS: QuoteCapability = {
  maxInstruments: { 1: 1000, 2: 500, 3: 500 },
  requestsPerSecond: 1,
};

/** The real Kite Connect REST root. */
export const KITE_API_URL = "https://api.kite.trade";

/** Kite's REST timestamps (`2021-06-08 15:45:56`) are IST wall-clock times without a zone. */
const KITE_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const IST_OFFSET_MS = 5.5 * 3600_000;

/**
 * Epoch ms of a Kite REST timestamp (IST), or null when absent or not in Kite's format.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(kiteTimeMs("2024-03-28 09:15:00"), Date.UTC(2024, 2, 28, 3, 45, 0));
 * assert.equal(kiteTimeMs(null), null);
 * assert.equal(kiteTimeMs("yesterday"), null);
 * ```
 */
export function kiteTimeMs(s: string | null | undefined): number | null {
  if (typeof s !== "string") return null;
  const m = KITE_TIME.exec(s);
  if (m === null) return null;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) - IST_OFFSET_MS;
  return Number.isFinite(ms) ? ms : null;
}

/**
 * Formats epoch ms as a Kite REST timestamp (IST), for the simulator.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(formatKiteTime(Date.UTC(2024, 2, 28, 3, 45, 0)), "2024-03-28 09:15:00");
 * ```
 */
export function formatKiteTime(ms: number): string {
  return new Date(ms + IST_OFFSET_MS).toISOString().slice(0, 19).replace("T", " ");
}

const num = z.number().finite();
const levelSchema = z.object({ price: num, quantity: num, orders: num.nullable().optional() });

/** One instrument of a `/quote/ltp` answer. */
export const kiteLtpEntrySchema = z.object({
  instrument_token: z.number().int(),
  last_price: num,
});

/** One instrument of a `/quote` answer (the fields tickplex uses; others are ignored). */
export const kiteQuoteEntrySchema = kiteLtpEntrySchema.extend({
  timestamp: z.string().nullable().optional(),
  last_trade_time: z.string().nullable().optional(),
  last_quantity: num.optional(),
  buy_quantity: num.optional(),
  sell_quantity: num.optional(),
  volume: num.optional(),
  average_price: num.optional(),
  oi: num.optional(),
  net_change: num.optional(),
  ohlc: z.object({ open: num, high: num, low: num, close: num }),
  depth: z.object({
    buy: z.array(levelSchema).max(50),
    sell: z.array(levelSchema).max(50),
  }).optional(),
});

/** A Kite quote entry as parsed. */
export type KiteQuoteEntry = z.infer<typeof kiteQuoteEntrySchema>;

/** The envelope of every Kite REST answer. */
const envelopeSchema = z.union([
  z.object({ status: z.literal("success"), data: z.record(z.string(), z.unknown()) }),
  z.object({
    status: z.literal("error"),
    message: z.string().optional(),
    error_type: z.string().optional(),
  }),
]);

/** Where a decoded entry goes: the caller's name for it, and whether it is an index. */
export interface QuoteTarget {
  exchange: string;
  symbol: string;
  /** Indices have no trades and no book: volume, quantities and depth stay null. */
  index: boolean;
}

/** What decoding one answer found. */
export interface DecodedQuotes {
  ticks: Tick[];
  /** Requested keys the answer did not carry (Kite omits unknown instruments). */
  missing: string[];
  /** Entries that failed the schema, and keys nobody asked for: counted and skipped. */
  bad: number;
  /** The envelope was not a success answer (its message when it had one). */
  error: string | null;
}

/**
 * Decodes a Kite `/quote` or `/quote/ltp` answer (already JSON-parsed) into ticks at `mode`.
 * `targets` maps each requested `EXCHANGE:TRADINGSYMBOL` to its tick name. Never throws: a bad
 * entry is counted in `bad` and skipped, a bad envelope is reported in `error`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const targets = new Map([["NSE:INFY", { exchange: "NSE", symbol: "INFY", index: false }]]);
 * const body = { status: "success", data: { "NSE:INFY": { instrument_token: 408065, last_price: 1412.95 } } };
 * const d = decodeKiteQuotes(body, 1, targets, 1_700_000_000_000);
 * assert.equal(d.ticks[0].ltp, 1412.95);
 * assert.equal(decodeKiteQuotes("garbage", 1, targets, 0).error, "not a Kite answer");
 * ```
 */
export function decodeKiteQuotes(
  body: unknown,
  mode: Mode,
  targets: ReadonlyMap<string, QuoteTarget>,
  now: number,
): DecodedQuotes {
  const env = envelopeSchema.safeParse(body);
  if (!env.success) {
    return { ticks: [], missing: [...targets.keys()], bad: 0, error: "not a Kite answer" };
  }
  if (env.data.status === "error") {
    return {
      ticks: [],
      missing: [...targets.keys()],
      bad: 0,
      error: `${env.data.error_type ?? "error"}: ${env.data.message ?? ""}`,
    };
  }
  const data = env.data.data;
  const ticks: Tick[] = [];
  let bad = 0;
  const seen = new Set<string>();
  for (const key of Object.keys(data)) {
    const target = targets.get(key);
    if (target === undefined) {
      bad++;
      continue;
    }
    const tick = mode === 1
      ? ltpTick(data[key], target, now)
      : quoteTick(data[key], target, mode, now);
    if (tick === null) {
      bad++;
      continue;
    }
    seen.add(key);
    ticks.push(tick);
  }
  const missing = [...targets.keys()].filter((k) => !seen.has(k));
  return { ticks, missing, bad, error: null };
}

function ltpTick(raw: unknown, t: QuoteTarget, now: number): Tick | null {
  const e = kiteLtpEntrySchema.safeParse(raw);
  if (!e.success) return null;
  return baseTick(t.exchange, t.symbol, 1, e.data.last_price, null, now);
}

function quoteTick(raw: unknown, t: QuoteTarget, mode: Mode, now: number): Tick | null {
  const r = kiteQuoteEntrySchema.safeParse(raw);
  if (!r.success) return null;
  const e = r.data;
  const ts = kiteTimeMs(e.timestamp);
  const tick = baseTick(t.exchange, t.symbol, mode, e.last_price, null, ts ?? now);
  const close = e.ohlc.close;
  tick.open = e.ohlc.open;
  tick.high = e.ohlc.high;
  tick.low = e.ohlc.low;
  tick.close = close;
  // As the streaming codec does (and Kite's clients): change from close, not `net_change`.
  tick.change = round(e.last_price - close);
  tick.change_percent = close === 0 ? null : ((e.last_price - close) * 100) / close;
  if (t.index) return tick;
  tick.ltt = kiteTimeMs(e.last_trade_time);
  tick.last_trade_quantity = e.last_quantity ?? null;
  tick.avg_trade_price = e.average_price ?? null;
  tick.volume = e.volume ?? null;
  tick.total_buy_quantity = e.buy_quantity ?? null;
  tick.total_sell_quantity = e.sell_quantity ?? null;
  tick.oi = e.oi ?? null;
  if (mode === 3 && e.depth !== undefined) {
    const side = (levels: typeof e.depth.buy): Depth["buy"] =>
      levels.map((l) => ({ price: l.price, quantity: l.quantity, orders: l.orders ?? null }));
    tick.depth = { buy: side(e.depth.buy), sell: side(e.depth.sell) };
  }
  return tick;
}

/** Rounds away binary noise of a price difference (1412.95 - 1389.65). */
function round(x: number): number {
  return Math.round(x * 1e7) / 1e7;
}

/** The endpoint path for a mode: LTP-only calls take twice the instruments. */
export function quotePath(mode: Mode): "/quote/ltp" | "/quote" {
  return mode === 1 ? "/quote/ltp" : "/quote";
}

/** An instrument to quote, named the Kite way and the caller's way. */
export interface KiteQuoteItem {
  /** `EXCHANGE:TRADINGSYMBOL` as Kite names it. */
  kiteKey: string;
  target: QuoteTarget;
}

/** Seconds of a `Retry-After` header as ms, when it is a plain number. */
function retryAfterMs(h: string | null): number | undefined {
  if (h === null) return undefined;
  const s = Number(h);
  return Number.isFinite(s) && s >= 0 ? Math.round(s * 1000) : undefined;
}

/**
 * One Kite quote call: GETs `apiUrl + quotePath(mode)` with every `i` and decodes the answer.
 * 429 → `RATE_LIMITED`, 403 → `AUTHENTICATION_ERROR`, other failures → `BROKER_ERROR`.
 */
export async function fetchKiteQuotes(
  apiUrl: string,
  credentials: { apiKey: string; accessToken: string },
  mode: Mode,
  items: readonly KiteQuoteItem[],
  signal: AbortSignal,
  now: () => number = Date.now,
): Promise<QuoteResult> {
  const url = new URL(quotePath(mode), apiUrl);
  const targets = new Map<string, QuoteTarget>();
  for (const it of items) {
    url.searchParams.append("i", it.kiteKey);
    targets.set(it.kiteKey, it.target);
  }
  let res: Response;
  try {
    res = await fetch(url, {
      headers: {
        "X-Kite-Version": "3",
        Authorization: `token ${credentials.apiKey}:${credentials.accessToken}`,
      },
      signal,
    });
  } catch (err) {
    return { ok: false, code: "BROKER_ERROR", message: `Kite quote call failed: ${errText(err)}` };
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (res.status === 429) {
    const wait = retryAfterMs(res.headers.get("retry-after"));
    return {
      ok: false,
      code: "RATE_LIMITED",
      message: `Kite quote API: HTTP 429 ${messageOf(body) ?? "Too many requests"}`,
      ...(wait !== undefined ? { retryAfterMs: wait } : {}),
    };
  }
  if (res.status === 403) {
    return {
      ok: false,
      code: "AUTHENTICATION_ERROR",
      message: `Kite quote API: HTTP 403 ${messageOf(body) ?? ""}`.trim(),
    };
  }
  if (!res.ok) {
    return {
      ok: false,
      code: "BROKER_ERROR",
      message: `Kite quote API: HTTP ${res.status} ${messageOf(body) ?? ""}`.trim(),
    };
  }
  const d = decodeKiteQuotes(body, mode, targets, now());
  if (d.error !== null) {
    return { ok: false, code: "BROKER_ERROR", message: `Kite quote API: ${d.error}` };
  }
  return {
    ok: true,
    ticks: d.ticks,
    missing: d.missing.map((k) => {
      const t = targets.get(k)!;
      return { exchange: t.exchange, symbol: t.symbol };
    }),
  };
}

function messageOf(body: unknown): string | null {
  if (typeof body !== "object" || body === null) return null;
  const m = (body as { message?: unknown }).message;
  return typeof m === "string" ? m.slice(0, 300) : null;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
