// The client protocol's parser: a raw WebSocket text frame becomes a typed request or a protocol
// error with its catalogue code. Pure functions, no sockets — fuzzed directly by the tests.

import { NonIntegerNumber, parseMode } from "../mode.ts";
import type { ErrorCode, Mode } from "../types.ts";
import { CANDLE_INTERVALS, type CandleInterval, isCandleInterval } from "../candles/mod.ts";
import { z } from "zod";
import { expiryCode, parseExpiry } from "../adapter/mod.ts";

/** A protocol error: the code, the message, and the reply `type` the error frame carries. */
export interface ProtocolError {
  code: ErrorCode;
  message: string;
  replyType: string;
  requestId?: unknown;
}

/** One instrument entry of a subscribe / unsubscribe request, or its per-entry error. */
export type EntryParse =
  | { ok: true; exchange: string; symbol: string; mode: Mode | null }
  | { ok: false; exchange: unknown; symbol: unknown; code: ErrorCode; message: string };

/** A parsed client request. */
export type Request =
  | {
    action: "authenticate";
    apiKey: string | null;
    batch: boolean;
    conflate: boolean;
    requestId?: unknown;
  }
  | { action: "ping"; timestamp?: unknown; pingId?: unknown; requestId?: unknown }
  | { action: "get_supported_brokers"; requestId?: unknown }
  | { action: "get_broker_info"; requestId?: unknown }
  | { action: "get_subscriptions"; requestId?: unknown }
  | { action: "unsubscribe_all"; requestId?: unknown }
  | {
    action: "subscribe";
    entries: EntryParse[];
    mode: Mode;
    depth: number;
    requestId?: unknown;
  }
  | { action: "unsubscribe"; entries: EntryParse[]; mode: Mode | null; requestId?: unknown }
  | {
    action: "subscribe_candles";
    entries: EntryParse[];
    interval: CandleInterval;
    requestId?: unknown;
  }
  | {
    action: "unsubscribe_candles";
    entries: EntryParse[];
    /** null: every interval the client holds for each entry. */
    interval: CandleInterval | null;
    requestId?: unknown;
  }
  | {
    action: "subscribe_option_chain";
    underlying: string;
    exchange: string;
    /** `DDMMMYY`; null: the nearest expiry. */
    expiry: string | null;
    /** Strikes on each side of the ATM strike. */
    strikes: number;
    requestId?: unknown;
  }
  | {
    action: "unsubscribe_option_chain";
    underlying: string;
    exchange: string;
    /** null: every chain of the underlying the client holds. */
    expiry: string | null;
    requestId?: unknown;
  };

/** Reply `type` per action. */
export const REPLY_TYPE: Readonly<Record<string, string>> = {
  authenticate: "auth",
  auth: "auth",
  ping: "pong",
  get_supported_brokers: "supported_brokers",
  get_broker_info: "broker_info",
  get_subscriptions: "subscriptions",
  subscribe: "subscribe",
  unsubscribe: "unsubscribe",
  unsubscribe_all: "unsubscribe",
  subscribe_candles: "subscribe_candles",
  unsubscribe_candles: "unsubscribe_candles",
  subscribe_option_chain: "subscribe_option_chain",
  unsubscribe_option_chain: "unsubscribe_option_chain",
};

const MAX_SYMBOL_LENGTH = 64;
const MAX_EXCHANGE_LENGTH = 32;
/** Largest depth anyone may ask for; brokers fall back to what they support. */
export const MAX_DEPTH = 50;

const WS = new Set([" ", "\t", "\n", "\r"]);

/**
 * The source text of the numbers a request reads as modes — the top-level `mode` and
 * `symbols[i].mode` / `instruments[i].mode` — keyed `mode` / `symbols.3.mode`, for `text` that
 * JSON.parse already accepted. Iterative with an explicit stack, so any nesting depth is fine
 * (a JSON.parse reviver recurses per level and overflows the stack on deeply nested input).
 */
function modeNumberSources(text: string): Map<string, string> {
  const out = new Map<string, string>();
  // One frame per open container: its kind, the current key (objects) or index (arrays).
  const stack: { obj: boolean; key: string | null; index: number }[] = [];
  let expectKey = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (WS.has(ch) || ch === ":") {
      i++;
    } else if (ch === "{" || ch === "[") {
      stack.push({ obj: ch === "{", key: null, index: 0 });
      expectKey = ch === "{";
      i++;
    } else if (ch === "}" || ch === "]") {
      stack.pop();
      expectKey = false;
      i++;
    } else if (ch === ",") {
      const top = stack[stack.length - 1];
      if (top.obj) expectKey = true;
      else top.index++;
      i++;
    } else if (ch === '"') {
      let j = i + 1;
      let escaped = false;
      while (text[j] !== '"') {
        if (text[j] === "\\") {
          escaped = true;
          j++;
        }
        j++;
      }
      if (expectKey) {
        const raw = text.slice(i + 1, j);
        stack[stack.length - 1].key = escaped ? JSON.parse(text.slice(i, j + 1)) : raw;
        expectKey = false;
      }
      i = j + 1;
    } else {
      // A number or a literal (true/false/null): up to the next delimiter.
      let j = i;
      while (j < text.length && !WS.has(text[j]) && !",]}".includes(text[j])) j++;
      const depth = stack.length;
      const top = stack[depth - 1];
      if (top?.obj && top.key === "mode" && ch !== "t" && ch !== "f" && ch !== "n") {
        if (depth === 1) out.set("mode", text.slice(i, j));
        else if (
          depth === 3 && !stack[1].obj && stack[0].obj &&
          (stack[0].key === "symbols" || stack[0].key === "instruments")
        ) out.set(`${stack[0].key}.${stack[1].index}.mode`, text.slice(i, j));
      }
      i = j;
    }
  }
  return out;
}

/**
 * Parses JSON and marks the mode values written with a fraction or exponent (`2.0`) so they can
 * be rejected although JSON.parse turns them into integers.
 */
function parseJson(text: string): unknown {
  const raw: unknown = JSON.parse(text);
  if (typeof raw !== "object" || raw === null || Array.isArray(raw) || !text.includes("mode")) {
    return raw;
  }
  for (const [path, source] of modeNumberSources(text)) {
    if (!/[.eE]/.test(source)) continue;
    // With duplicate keys JSON.parse keeps the last; only mark a value that is still a number.
    let holder: unknown = raw;
    for (const p of path.split(".").slice(0, -1)) {
      holder = typeof holder === "object" && holder !== null
        ? (holder as Record<string, unknown>)[p]
        : undefined;
    }
    if (typeof holder !== "object" || holder === null) continue;
    const h = holder as Record<string, unknown>;
    if (typeof h.mode === "number") h.mode = new NonIntegerNumber(source);
  }
  return raw;
}

function err(
  code: ErrorCode,
  message: string,
  replyType: string,
  requestId?: unknown,
): ProtocolError {
  return requestId === undefined
    ? { code, message, replyType }
    : { code, message, replyType, requestId };
}

function parseDepth(v: unknown): number | null {
  if (v === undefined || v === null) return 5;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > MAX_DEPTH) return null;
  return v;
}

function parseEntry(raw: unknown, defaultMode: Mode | null, withMode = true): EntryParse {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return {
      ok: false,
      exchange: null,
      symbol: null,
      code: "INVALID_PARAMETERS",
      message: "Each entry must be an object with symbol and exchange",
    };
  }
  const r = raw as Record<string, unknown>;
  const { symbol, exchange } = r;
  const sym = typeof symbol === "string" ? symbol.trim() : "";
  const exch = typeof exchange === "string" ? exchange.trim().toUpperCase() : "";
  if (!sym || !exch) {
    return {
      ok: false,
      exchange: exchange ?? null,
      symbol: symbol ?? null,
      code: "INVALID_PARAMETERS",
      message: "Each entry needs a non-empty symbol and exchange",
    };
  }
  if (sym.length > MAX_SYMBOL_LENGTH || exch.length > MAX_EXCHANGE_LENGTH) {
    return {
      ok: false,
      exchange: exch.slice(0, MAX_EXCHANGE_LENGTH),
      symbol: sym.slice(0, MAX_SYMBOL_LENGTH),
      code: "INVALID_PARAMETERS",
      message:
        `Symbol longer than ${MAX_SYMBOL_LENGTH} or exchange longer than ${MAX_EXCHANGE_LENGTH} characters`,
    };
  }
  let mode = defaultMode;
  if (withMode && r.mode !== undefined) {
    const m = parseMode(r.mode);
    if (typeof m === "string") {
      return { ok: false, exchange: exch, symbol: sym, code: "INVALID_MODE", message: m };
    }
    mode = m;
  }
  return { ok: true, exchange: exch, symbol: sym, mode };
}

function parseEntries(
  r: Record<string, unknown>,
  defaultMode: Mode | null,
  replyType: string,
  maxEntries: number,
  withMode = true,
): EntryParse[] | ProtocolError {
  const list = r.symbols ?? r.instruments;
  if (list !== undefined && list !== null) {
    if (!Array.isArray(list)) {
      return err("INVALID_PARAMETERS", "symbols must be an array", replyType, r.request_id);
    }
    if (list.length > maxEntries) {
      return err(
        "INVALID_PARAMETERS",
        `Too many symbols in one request: ${list.length} (limit ${maxEntries})`,
        replyType,
        r.request_id,
      );
    }
    return list.map((e) => parseEntry(e, defaultMode, withMode));
  }
  if (r.symbol !== undefined || r.exchange !== undefined) {
    return [parseEntry({ symbol: r.symbol, exchange: r.exchange }, defaultMode, withMode)];
  }
  return [];
}

/** Limits the parser enforces. */
export interface ParseLimits {
  maxFrameBytes: number;
  maxEntriesPerRequest: number;
  /** Largest `strikes` (each side) an option chain may ask for; default {@link MAX_CHAIN_STRIKES}. */
  maxChainStrikes?: number;
}

/** Default cap on an option chain's strikes on each side of ATM. */
export const MAX_CHAIN_STRIKES = 50;
/** Strikes each side when a chain request names none. */
export const DEFAULT_CHAIN_STRIKES = 10;

const chainName = (what: string, max: number) =>
  z.string({ error: `${what} must be a string` }).trim().toUpperCase().pipe(
    z.string().regex(
      new RegExp(`^[A-Z0-9&_-]{1,${max}}$`),
      `${what} must be 1–${max} letters, digits, & _ -`,
    ),
  );

/** An expiry in any spelling `parseExpiry` reads, normalised to `DDMMMYY`. */
const chainExpiry = z.string({ error: "expiry must be a string like 30DEC25 or 2025-12-30" })
  .nullable().optional().transform((v, ctx) => {
    if (v === null || v === undefined || v.trim() === "") return null;
    const d = parseExpiry(v);
    if (d === null) {
      ctx.addIssue({ code: "custom", message: `Invalid expiry ${JSON.stringify(v.slice(0, 20))}` });
      return z.NEVER;
    }
    return expiryCode(d);
  });

const strikesMessage = (max: number) => `strikes must be an integer from 1 to ${max}`;

function chainSchema(maxStrikes: number) {
  return z.object({
    underlying: chainName("underlying", 32),
    exchange: chainName("exchange", 16),
    expiry: chainExpiry,
    strikes: z.number({ error: strikesMessage(maxStrikes) }).int(strikesMessage(maxStrikes))
      .min(1, strikesMessage(maxStrikes)).max(maxStrikes, strikesMessage(maxStrikes)).nullable()
      .optional().transform((v) => v ?? DEFAULT_CHAIN_STRIKES),
  });
}

const chainSchemas = new Map<number, ReturnType<typeof chainSchema>>();

/**
 * Parses one text frame.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const limits = { maxFrameBytes: 1 << 20, maxEntriesPerRequest: 5000 };
 * assert.deepEqual(parseRequest('{"action":"ping","request_id":7}', limits), {
 *   action: "ping",
 *   requestId: 7,
 * });
 * const bad = parseRequest('{"action":"subscribe","symbols":[],"mode":4}', limits);
 * assert.ok(isProtocolError(bad) && bad.code === "INVALID_MODE");
 * ```
 */
export function parseRequest(text: string, limits: ParseLimits): Request | ProtocolError {
  // Byte length ≥ UTF-16 length, so this check never lets an oversized frame through.
  if (text.length > limits.maxFrameBytes) {
    return err("INVALID_MESSAGE", `Message larger than ${limits.maxFrameBytes} bytes`, "error");
  }
  let raw: unknown;
  try {
    raw = parseJson(text);
  } catch {
    return err("INVALID_JSON", "Invalid JSON message", "error");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return err("INVALID_MESSAGE", "Message must be a JSON object", "error");
  }
  const r = raw as Record<string, unknown>;
  const requestId = r.request_id;
  const action = r.action ?? r.type;
  const replyType = typeof action === "string" ? REPLY_TYPE[action] : undefined;
  if (typeof action !== "string" || replyType === undefined) {
    const shown = typeof action === "string" ? action.slice(0, 64) : JSON.stringify(action ?? null);
    return err("INVALID_ACTION", `Invalid action: ${shown}`, "error", requestId);
  }
  const withId = <T extends object>(x: T): T => requestId === undefined ? x : { ...x, requestId };
  switch (action) {
    case "authenticate":
    case "auth": {
      const key = r.api_key ?? r.apikey;
      return withId({
        action: "authenticate" as const,
        apiKey: typeof key === "string" && key.length > 0 ? key : null,
        batch: r.batch === true,
        conflate: r.conflate !== false,
      });
    }
    case "ping": {
      const out: Request = { action: "ping" };
      if (r.timestamp !== undefined) out.timestamp = r.timestamp;
      if (r._pingId !== undefined) out.pingId = r._pingId;
      return withId(out);
    }
    case "get_supported_brokers":
    case "get_broker_info":
    case "get_subscriptions":
    case "unsubscribe_all":
      return withId({ action });
    case "subscribe": {
      let mode: Mode = 2;
      if (r.mode !== undefined) {
        const m = parseMode(r.mode);
        if (typeof m === "string") return err("INVALID_MODE", m, replyType, requestId);
        mode = m;
      }
      const depth = parseDepth(r.depth ?? r.depth_level);
      if (depth === null) {
        return err(
          "INVALID_DEPTH",
          `Invalid depth ${
            JSON.stringify(r.depth ?? r.depth_level)?.slice(0, 40)
          }; expected an integer from 1 to ${MAX_DEPTH}`,
          replyType,
          requestId,
        );
      }
      const entries = parseEntries(r, mode, replyType, limits.maxEntriesPerRequest);
      if (!Array.isArray(entries)) return entries;
      if (entries.length === 0) {
        return err(
          "INVALID_PARAMETERS",
          "At least one symbol must be specified",
          replyType,
          requestId,
        );
      }
      return withId({ action: "subscribe" as const, entries, mode, depth });
    }
    case "unsubscribe": {
      if (r.unsubscribe_all === true) return withId({ action: "unsubscribe_all" as const });
      let mode: Mode | null = null;
      if (r.mode !== undefined && r.mode !== null) {
        const m = parseMode(r.mode);
        if (typeof m === "string") return err("INVALID_MODE", m, replyType, requestId);
        mode = m;
      }
      const entries = parseEntries(r, mode, replyType, limits.maxEntriesPerRequest);
      if (!Array.isArray(entries)) return entries;
      if (entries.length === 0) {
        return err(
          "INVALID_PARAMETERS",
          "Either symbols or unsubscribe_all is required",
          replyType,
          requestId,
        );
      }
      return withId({ action: "unsubscribe" as const, entries, mode });
    }
    case "subscribe_candles":
    case "unsubscribe_candles": {
      // Candles take no mode: an entry's `mode` is ignored rather than rejected.
      const optional = action === "unsubscribe_candles";
      let interval: CandleInterval | null = null;
      if (isCandleInterval(r.interval)) interval = r.interval;
      else if (!(optional && (r.interval === undefined || r.interval === null))) {
        return err(
          "INVALID_PARAMETERS",
          `Invalid interval ${JSON.stringify(r.interval ?? null)?.slice(0, 40)}; expected one of ${
            CANDLE_INTERVALS.join(", ")
          }`,
          replyType,
          requestId,
        );
      }
      const entries = parseEntries(r, null, replyType, limits.maxEntriesPerRequest, false);
      if (!Array.isArray(entries)) return entries;
      if (entries.length === 0) {
        return err(
          "INVALID_PARAMETERS",
          "At least one symbol must be specified",
          replyType,
          requestId,
        );
      }
      return optional
        ? withId({ action: "unsubscribe_candles" as const, entries, interval })
        : withId({ action: "subscribe_candles" as const, entries, interval: interval! });
    }
    case "subscribe_option_chain":
    case "unsubscribe_option_chain": {
      const max = limits.maxChainStrikes ?? MAX_CHAIN_STRIKES;
      let schema = chainSchemas.get(max);
      if (!schema) chainSchemas.set(max, schema = chainSchema(max));
      // Only a subscribe reads `strikes`.
      const parsed = schema.safeParse(
        action === "subscribe_option_chain" ? r : { ...r, strikes: undefined },
      );
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const field = String(issue.path[0] ?? "");
        const message = field !== "" && r[field] === undefined
          ? `${field} is required`
          : issue.message;
        return err("INVALID_PARAMETERS", message, replyType, requestId);
      }
      const { underlying, exchange, expiry, strikes } = parsed.data;
      return action === "subscribe_option_chain"
        ? withId({ action, underlying, exchange, expiry, strikes })
        : withId({ action, underlying, exchange, expiry });
    }
  }
  return err("INVALID_ACTION", `Invalid action: ${action}`, "error", requestId);
}

/** True when `x` is a protocol error rather than a request. */
export function isProtocolError(x: Request | ProtocolError): x is ProtocolError {
  return "code" in x;
}
