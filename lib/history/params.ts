// The query of `GET /api/v1/candles`, parsed at the trust boundary: every bad parameter becomes an
// INVALID_PARAMETERS error whose message names it, before any file is read.

import { z } from "zod";
import {
  CANDLE_INTERVALS,
  type CandleInterval,
  intervalMs,
  isCandleInterval,
  IST_OFFSET_MS,
  istDay,
  sessionOf,
} from "../candles/mod.ts";

/** A parsed candles request. */
export interface CandlesQuery {
  exchange: string;
  symbol: string;
  interval: CandleInterval;
  /** Bars whose start is at or after this, epoch ms. */
  from: number;
  /** Bars whose start is before this, epoch ms. */
  to: number;
  format: "json" | "csv";
}

/** A parameter problem: the message names the parameter. */
export interface ParamError {
  code: "INVALID_PARAMETERS";
  message: string;
}

const DAY_MS = 86_400_000;
const ISO =
  /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * A time parameter: epoch milliseconds (digits) or ISO-8601. An ISO time without a zone is IST
 * (the exchanges' time), a bare date is IST midnight of that day. Null when unreadable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTime } from "./params.ts";
 * assert.equal(parseTime("1796010300000"), 1796010300000);
 * assert.equal(parseTime("2026-11-30T09:15"), Date.parse("2026-11-30T03:45:00Z"));
 * assert.equal(parseTime("2026-11-30"), Date.parse("2026-11-29T18:30:00Z"));
 * assert.equal(parseTime("2026-11-30T03:45:00Z"), Date.parse("2026-11-30T03:45:00Z"));
 * assert.equal(parseTime("yesterday"), null);
 * ```
 */
export function parseTime(text: string): number | null {
  if (/^\d{1,15}$/.test(text)) return Number(text);
  const m = ISO.exec(text);
  if (!m) return null;
  const [, date, time, zone] = m;
  const t = Date.parse(`${date}T${time ?? "00:00"}${zone ?? "+05:30"}`);
  return Number.isNaN(t) ? null : t;
}

const timeParam = (name: string) =>
  z.string().transform((text, ctx): number => {
    const t = parseTime(text.trim());
    if (t === null) {
      ctx.addIssue({
        code: "custom",
        message: `${name} must be epoch milliseconds or an ISO-8601 time, got '${text}'`,
      });
      return z.NEVER;
    }
    return t;
  });

const querySchema = z.object({
  exchange: z.string({ error: "exchange is required" }).trim()
    .regex(/^[A-Za-z][A-Za-z0-9_]{0,31}$/, "exchange must be an exchange code such as NSE")
    .transform((s) => s.toUpperCase()),
  symbol: z.string({ error: "symbol is required" }).trim()
    .min(1, "symbol is required")
    .max(64, "symbol must be at most 64 characters")
    // deno-lint-ignore no-control-regex
    .regex(/^[^\u0000-\u001f\u007f]+$/, "symbol must not contain control characters"),
  interval: z.string({ error: `interval is required: one of ${CANDLE_INTERVALS.join(", ")}` })
    .refine(isCandleInterval, {
      error: (i) => `interval must be one of ${CANDLE_INTERVALS.join(", ")}, got '${i.input}'`,
    }),
  from: timeParam("from").optional(),
  to: timeParam("to").optional(),
  format: z.enum(["json", "csv"], { error: "format must be json or csv" }).optional(),
}).strict();

/** How many bars of `interval` at most fall in [from, to) on `exchange`'s sessions. */
export function maxBarsIn(
  exchange: string,
  interval: CandleInterval,
  from: number,
  to: number,
): number {
  const days = istDay(to - 1) - istDay(from) + 1;
  if (interval === "1d") return days;
  const session = sessionOf(exchange);
  const len = intervalMs(interval);
  const perDay = Math.ceil((session.closeMinute - session.openMinute) * 60_000 / len);
  return Math.min(days * perDay, Math.ceil((to - from) / len) + days);
}

/**
 * Parses the query string (and `Accept`) of a candles request. `to` defaults to `now`, `from` to
 * IST midnight of the day of `to`; `format=csv` or `Accept: text/csv` asks for CSV. A range that
 * could hold more than `maxBars` bars is refused, so no request reads days of ticks by mistake.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCandlesQuery } from "./params.ts";
 * const q = parseCandlesQuery(
 *   new URLSearchParams("exchange=nse&symbol=RELIANCE&interval=5m&from=2026-11-30T09:15&to=2026-11-30T15:30"),
 *   null, { now: Date.now(), maxBars: 20_000 },
 * );
 * assert.ok("interval" in q && q.exchange === "NSE" && q.format === "json");
 * const bad = parseCandlesQuery(new URLSearchParams("exchange=NSE&symbol=X&interval=2m"), null,
 *   { now: Date.now(), maxBars: 20_000 });
 * assert.ok("code" in bad && /interval/.test(bad.message));
 * ```
 */
export function parseCandlesQuery(
  params: URLSearchParams,
  accept: string | null,
  options: { now: number; maxBars: number },
): CandlesQuery | ParamError {
  const raw: Record<string, string> = {};
  for (const [k, v] of params) {
    if (k in raw) return invalid(`${k} is given more than once`);
    raw[k] = v;
  }
  const parsed = querySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue.code === "unrecognized_keys") {
      return invalid(
        `unknown parameter ${issue.keys.join(", ")}; expected exchange, symbol, interval, from, ` +
          `to, format`,
      );
    }
    const name = String(issue.path[0] ?? "query");
    return invalid(issue.message.includes(name) ? issue.message : `${name}: ${issue.message}`);
  }
  const q = parsed.data;
  const interval = q.interval as CandleInterval;
  const to = q.to ?? options.now;
  const from = q.from ?? (istDay(to - 1) * DAY_MS - IST_OFFSET_MS);
  if (!(to > from)) return invalid("to must be after from");
  const bars = maxBarsIn(q.exchange, interval, from, to);
  if (bars > options.maxBars) {
    return invalid(
      `from/to span up to ${bars} bars of ${interval}; at most ${options.maxBars} bars per ` +
        `request: narrow from/to or use a longer interval`,
    );
  }
  const wantsCsv = q.format === "csv" ||
    (q.format === undefined && accept !== null && /\btext\/csv\b/i.test(accept));
  return {
    exchange: q.exchange,
    symbol: q.symbol,
    interval,
    from,
    to,
    format: wantsCsv ? "csv" : "json",
  };
}

function invalid(message: string): ParamError {
  return { code: "INVALID_PARAMETERS", message };
}
