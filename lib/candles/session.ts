// Exchange trading sessions and the bar grid: where a bar of each interval starts, in exchange time.
// India has no daylight saving, so IST is a fixed UTC+05:30 offset and the grid is plain arithmetic.

/** A candle interval the gateway builds. */
export type CandleInterval = "1s" | "1m" | "3m" | "5m" | "15m" | "30m" | "1h" | "1d";

/** Every candle interval, shortest first. */
export const CANDLE_INTERVALS: readonly CandleInterval[] = [
  "1s",
  "1m",
  "3m",
  "5m",
  "15m",
  "30m",
  "1h",
  "1d",
];

const DAY_MS = 86_400_000;
/** IST is UTC+05:30 all year. */
export const IST_OFFSET_MS = 19_800_000;

/** Length of an intraday interval, ms; a `1d` bar spans its whole session instead. */
const INTERVAL_MS: Readonly<Record<CandleInterval, number>> = {
  "1s": 1_000,
  "1m": 60_000,
  "3m": 180_000,
  "5m": 300_000,
  "15m": 900_000,
  "30m": 1_800_000,
  "1h": 3_600_000,
  "1d": DAY_MS,
};

/** A trading session: minutes after IST midnight at which it opens and closes. */
export interface Session {
  openMinute: number;
  closeMinute: number;
}

const EQUITY: Session = { openMinute: 9 * 60 + 15, closeMinute: 15 * 60 + 30 };
// MCX closes at 23:30 or 23:55 IST depending on US daylight saving; the later close keeps late
// evening trades in their own bars (a quiet 25 minutes at most yields flat bars, never lost trades).
const COMMODITY: Session = { openMinute: 9 * 60, closeMinute: 23 * 60 + 55 };
const CURRENCY: Session = { openMinute: 9 * 60, closeMinute: 17 * 60 };

/**
 * Sessions by exchange. An exchange not listed (and any `*_INDEX` but MCX's) trades the equity
 * session, 09:15–15:30 IST.
 */
export const SESSIONS: Readonly<Record<string, Session>> = {
  NSE: EQUITY,
  BSE: EQUITY,
  NFO: EQUITY,
  BFO: EQUITY,
  NSE_INDEX: EQUITY,
  BSE_INDEX: EQUITY,
  MCX: COMMODITY,
  MCX_INDEX: COMMODITY,
  CDS: CURRENCY,
  BCD: CURRENCY,
};

/**
 * The session of an exchange.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sessionOf } from "./session.ts";
 * assert.equal(sessionOf("MCX").openMinute, 540);
 * assert.equal(sessionOf("NSE_INDEX").openMinute, 555);
 * ```
 */
export function sessionOf(exchange: string): Session {
  return SESSIONS[exchange] ?? EQUITY;
}

/**
 * The IST calendar day number of `time` (days since 1970-01-01 IST).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { istDay } from "./session.ts";
 * // 23:59 IST and 00:01 IST the next day are different days
 * assert.equal(istDay(Date.parse("2026-11-30T18:31:00Z")) - istDay(Date.parse("2026-11-30T18:29:00Z")), 1);
 * ```
 */
export function istDay(time: number): number {
  return Math.floor((time + IST_OFFSET_MS) / DAY_MS);
}

/** One session day's bounds and bar length for an interval, epoch ms. */
export interface SessionWindow {
  /** IST calendar day number (days since 1970-01-01 IST). */
  day: number;
  open: number;
  close: number;
}

/**
 * The session window of the IST day containing `time`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sessionWindow, sessionOf } from "./session.ts";
 * const w = sessionWindow(sessionOf("NSE"), Date.parse("2026-11-30T05:00:00Z"));
 * assert.equal(w.open, Date.parse("2026-11-30T03:45:00Z")); // 09:15 IST
 * assert.equal(w.close, Date.parse("2026-11-30T10:00:00Z")); // 15:30 IST
 * ```
 */
export function sessionWindow(session: Session, time: number): SessionWindow {
  const day = istDay(time);
  const midnight = day * DAY_MS - IST_OFFSET_MS;
  return {
    day,
    open: midnight + session.openMinute * 60_000,
    close: midnight + session.closeMinute * 60_000,
  };
}

/**
 * Start of the bar of `interval` that holds `time` (epoch ms), on a grid anchored at the session
 * open. Times outside the session are clamped into it first: pre-open trades belong to the first
 * bar, post-close ones to the last (the session's opening and closing prices are set there).
 * A `1d` bar starts at the session open.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { barStart, sessionOf, sessionWindow } from "./session.ts";
 * const w = sessionWindow(sessionOf("NSE"), Date.parse("2026-11-30T04:00:00Z"));
 * // 09:31:10 IST falls in the 09:30 5m bar (grid 09:15, 09:20, ... 09:30)
 * assert.equal(barStart(w, "5m", Date.parse("2026-11-30T04:01:10Z")), Date.parse("2026-11-30T04:00:00Z"));
 * ```
 */
export function barStart(window: SessionWindow, interval: CandleInterval, time: number): number {
  const t = time < window.open ? window.open : time >= window.close ? window.close - 1 : time;
  const len = INTERVAL_MS[interval];
  return window.open + Math.floor((t - window.open) / len) * len;
}

/**
 * End (exclusive) of the bar starting at `start`: the next grid point, or the session close when
 * that comes first (the last 1h bar of NSE is 15:15–15:30).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { barEnd, sessionOf, sessionWindow } from "./session.ts";
 * const w = sessionWindow(sessionOf("NSE"), Date.parse("2026-11-30T04:00:00Z"));
 * const last = Date.parse("2026-11-30T09:45:00Z"); // 15:15 IST
 * assert.equal(barEnd(w, "1h", last), w.close);
 * ```
 */
export function barEnd(window: SessionWindow, interval: CandleInterval, start: number): number {
  const end = start + INTERVAL_MS[interval];
  return end < window.close ? end : window.close;
}

/**
 * Length of a bar of an intraday interval, ms (`1d`: a calendar day; its bar spans the session).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { intervalMs } from "./session.ts";
 * assert.equal(intervalMs("5m"), 300_000);
 * ```
 */
export function intervalMs(interval: CandleInterval): number {
  return INTERVAL_MS[interval];
}

/** True when `value` names a {@link CandleInterval}. */
export function isCandleInterval(value: unknown): value is CandleInterval {
  return typeof value === "string" && Object.hasOwn(INTERVAL_MS, value);
}
