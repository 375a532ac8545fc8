// The typed message protocol between the main isolate and adapter workers. Control messages are
// zod schemas; tick batches (the hot path) go through a hand-written codec that checks every field.

import { z } from "zod";
import {
  type DepthLevel,
  ERROR_CODES,
  FEED_STATES,
  type Mode,
  QUOTE_FIELDS,
  type Tick,
} from "../types.ts";

const modeSchema = z.union([z.literal(1), z.literal(2), z.literal(3)]);
const errorCodeSchema = z.enum(ERROR_CODES);

const instrumentSchema = z.object({
  exchange: z.string().min(1).max(32),
  symbol: z.string().min(1).max(64),
});

/** One instrument in a subscribe / set_mode request. */
export const streamItemSchema = instrumentSchema.extend({
  mode: modeSchema,
  /** Requested depth; 0 once the broker said it has no book for the instrument (indices). */
  depth: z.number().int().min(0).max(50),
});
export type StreamItem = z.infer<typeof streamItemSchema>;

/** Messages the main isolate sends to an adapter worker. */
export const toWorkerSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("init"),
    connection: z.number().int().min(0),
    /** Adapter-specific options; the adapter parses them with its own schema. */
    options: z.unknown(),
  }),
  z.object({
    type: z.literal("subscribe"),
    id: z.number().int(),
    items: z.array(streamItemSchema),
  }),
  z.object({
    type: z.literal("unsubscribe"),
    id: z.number().int(),
    items: z.array(instrumentSchema),
  }),
  z.object({ type: z.literal("set_mode"), id: z.number().int(), items: z.array(streamItemSchema) }),
  /** One REST multi-quote call for `items` at `mode` (the poller's path; no streaming slot). */
  z.object({
    type: z.literal("quote"),
    id: z.number().int(),
    mode: modeSchema,
    items: z.array(instrumentSchema).max(5000),
    /** Only resolve the symbols (answer `missing`, no ticks, no broker call). */
    check: z.boolean().optional(),
  }),
  z.object({ type: z.literal("token"), accessToken: z.string().min(1) }),
  /** The main isolate consumed `n` tick batches (flow control, see tick_flow.ts). */
  z.object({ type: z.literal("credit"), n: z.number().int().min(1).max(1_000_000) }),
  z.object({ type: z.literal("close") }),
  /** Scripted faults for simulated adapters (paper); real adapters ignore it. */
  z.object({
    type: z.literal("fault"),
    kind: z.enum([
      "fail_next_subscribe",
      "fail_next_set_mode",
      "fail_next_unsubscribe",
      "stall",
      "resume",
      "crash",
    ]),
  }),
]);
export type ToWorker = z.infer<typeof toWorkerSchema>;
export type FaultKind = Extract<ToWorker, { type: "fault" }>["kind"];

/** Per-item result of a subscribe / unsubscribe / set_mode request. */
export const itemResultSchema = z.discriminatedUnion("ok", [
  instrumentSchema.extend({
    ok: z.literal(true),
    /** Depth levels delivered (Depth mode); 0 when the instrument has no book (indices). */
    depth: z.number().int().min(0).max(50).optional(),
  }),
  instrumentSchema.extend({
    ok: z.literal(false),
    code: errorCodeSchema,
    message: z.string().max(500),
  }),
]);
export type ItemResult = z.infer<typeof itemResultSchema>;

/** Control messages an adapter worker sends to the main isolate (ticks are parsed separately). */
export const fromWorkerControlSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("ready") }),
  /** `init` failed; `auth` when the broker rejected the credentials (no retry until a token). */
  z.object({ type: z.literal("init_failed"), auth: z.boolean(), message: z.string().max(2000) }),
  z.object({ type: z.literal("ack"), id: z.number().int(), results: z.array(itemResultSchema) }),
  z.object({
    type: z.literal("error"),
    id: z.number().int().optional(),
    code: errorCodeSchema,
    message: z.string().max(2000),
  }),
  z.object({
    type: z.literal("status"),
    state: z.enum(FEED_STATES),
    detail: z.string().max(2000).optional(),
  }),
  z.object({
    type: z.literal("log"),
    level: z.enum(["debug", "info", "warning", "error"]),
    message: z.string().max(4000),
  }),
  /** A quote call failed as a whole; `RATE_LIMITED` carries how long to wait when known. */
  z.object({
    type: z.literal("quote_failed"),
    id: z.number().int(),
    code: errorCodeSchema,
    message: z.string().max(2000),
    retryAfterMs: z.number().int().min(0).max(3_600_000).optional(),
  }),
]);

/** The answer to a `quote` request: its ticks, and the instruments the broker did not quote. */
export interface QuotesMessage {
  type: "quotes";
  id: number;
  ticks: Tick[];
  missing: { exchange: string; symbol: string }[];
}

/** Everything a worker may send. */
export type FromWorker =
  | z.infer<typeof fromWorkerControlSchema>
  | { type: "ticks"; ticks: Tick[] }
  | QuotesMessage;

// ---- tick codec -------------------------------------------------------------------------------

const NULLABLE_NUMBER_FIELDS = ["ltt", ...QUOTE_FIELDS] as const;

const MAX_DEPTH_LEVELS = 50;

function isFiniteNumber(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

function parseLevels(v: unknown): DepthLevelResult {
  if (!Array.isArray(v) || v.length > MAX_DEPTH_LEVELS) return null;
  const out = new Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const l = v[i] as Record<string, unknown> | null;
    if (typeof l !== "object" || l === null) return null;
    const { price, quantity, orders } = l;
    if (!isFiniteNumber(price) || !isFiniteNumber(quantity)) return null;
    if (orders !== null && !isFiniteNumber(orders)) return null;
    out[i] = { price, quantity, orders };
  }
  return out;
}
type DepthLevelResult = DepthLevel[] | null;

/**
 * Parses one tick from an untrusted value. Returns the tick (a fresh object holding only known
 * fields) or a string naming the first bad field.
 */
export function parseTick(v: unknown): Tick | string {
  if (typeof v !== "object" || v === null) return "tick is not an object";
  const r = v as Record<string, unknown>;
  const { exchange, symbol, mode, ltp, timestamp } = r;
  if (typeof exchange !== "string" || exchange.length === 0 || exchange.length > 32) {
    return "exchange";
  }
  if (typeof symbol !== "string" || symbol.length === 0 || symbol.length > 64) return "symbol";
  if (mode !== 1 && mode !== 2 && mode !== 3) return "mode";
  if (!isFiniteNumber(ltp)) return "ltp";
  if (!isFiniteNumber(timestamp)) return "timestamp";
  const tick = {
    exchange,
    symbol,
    mode: mode as Mode,
    ltp,
    timestamp,
    depth: null,
  } as Record<string, unknown>;
  for (const f of NULLABLE_NUMBER_FIELDS) {
    const x = r[f];
    if (x === null || x === undefined) tick[f] = null;
    else if (isFiniteNumber(x)) tick[f] = x;
    else return f;
  }
  const depth = r.depth;
  if (depth !== null && depth !== undefined) {
    if (typeof depth !== "object") return "depth";
    const d = depth as Record<string, unknown>;
    const buy = parseLevels(d.buy);
    const sell = parseLevels(d.sell);
    if (buy === null || sell === null) return "depth";
    tick.depth = { buy, sell };
  }
  return tick as unknown as Tick;
}

/** The non-tick fields of a `quotes` message (its ticks go through {@link parseTick}). */
const quotesEnvelopeSchema = z.object({
  id: z.number().int(),
  missing: z.array(instrumentSchema).max(5000),
});

/** Result of parsing a worker message: the message, or an error naming what was wrong. */
export type ParsedFromWorker =
  | { ok: true; message: FromWorker; rejectedTicks: number; firstTickError?: string }
  | { ok: false; error: string };

/**
 * Parses a message from a worker. A tick batch keeps its valid ticks and counts the invalid ones,
 * so one bad tick never drops its neighbours.
 */
export function parseFromWorker(v: unknown): ParsedFromWorker {
  const type = typeof v === "object" && v !== null ? (v as { type?: unknown }).type : undefined;
  if (type === "ticks" || type === "quotes") {
    const raw = (v as { ticks?: unknown }).ticks;
    if (!Array.isArray(raw)) return { ok: false, error: "ticks: not an array" };
    const ticks: Tick[] = [];
    let rejected = 0;
    let firstTickError: string | undefined;
    for (const t of raw) {
      const p = parseTick(t);
      if (typeof p === "string") {
        rejected++;
        firstTickError ??= p;
      } else ticks.push(p);
    }
    if (type === "ticks") {
      return {
        ok: true,
        message: { type: "ticks", ticks },
        rejectedTicks: rejected,
        firstTickError,
      };
    }
    const rest = quotesEnvelopeSchema.safeParse(v);
    if (!rest.success) {
      return { ok: false, error: rest.error.issues.map((i) => i.message).join("; ") };
    }
    return {
      ok: true,
      message: { type: "quotes", id: rest.data.id, ticks, missing: rest.data.missing },
      rejectedTicks: rejected,
      firstTickError,
    };
  }
  const r = fromWorkerControlSchema.safeParse(v);
  if (!r.success) return { ok: false, error: r.error.issues.map((i) => i.message).join("; ") };
  return { ok: true, message: r.data as FromWorker, rejectedTicks: 0 };
}

/** Parses a message arriving in a worker from the main isolate. */
export function parseToWorker(v: unknown): ToWorker | string {
  const r = toWorkerSchema.safeParse(v);
  return r.success
    ? r.data
    : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
}
