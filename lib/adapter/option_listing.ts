// The option listing of an underlying — its expiries, each with its future (if listed) and strikes —
// found in any instrument master by OpenAlgo symbology, so every broker answers the same way.
// Built in the adapter worker (which holds the master) and parsed with zod on the main side; the
// option chain (lib/options) reads it.

import { z } from "zod";
import { type ExpiryDate, parseExpiry } from "./symbology.ts";

/** One strike of an expiry: the call and put symbols (null when the master lists only one). */
export interface ListedStrike {
  strike: number;
  ce: string | null;
  pe: string | null;
}

/** One expiry of an underlying. */
export interface ListedExpiry {
  /** `DDMMMYY`, as in the option symbols (`30DEC25`). */
  expiry: string;
  /** Expiry instant: 15:30 IST of the expiry day, epoch ms. */
  expiresAt: number;
  /** The future of this expiry, if the master lists one. */
  future: string | null;
  /** Ascending by strike. */
  strikes: ListedStrike[];
}

/** The options of one underlying on one derivatives exchange. */
export interface OptionListing {
  exchange: string;
  underlying: string;
  /** The underlying's own instrument (index or stock), if the master lists it. */
  spot: { exchange: string; symbol: string } | null;
  /** Ascending by expiry. */
  expiries: ListedExpiry[];
}

const MAX_EXPIRIES = 64;
const MAX_STRIKES = 2000;

/** zod schema of an {@link OptionListing} (the worker's answer is a trust boundary). */
export const optionListingSchema: z.ZodType<OptionListing> = z.object({
  exchange: z.string().min(1).max(32),
  underlying: z.string().min(1).max(64),
  spot: z.object({ exchange: z.string().min(1).max(32), symbol: z.string().min(1).max(64) })
    .nullable(),
  expiries: z.array(z.object({
    expiry: z.string().regex(/^\d{2}[A-Z]{3}\d{2}$/),
    expiresAt: z.number().int(),
    future: z.string().min(1).max(64).nullable(),
    strikes: z.array(z.object({
      strike: z.number().positive().finite(),
      ce: z.string().min(1).max(64).nullable(),
      pe: z.string().min(1).max(64).nullable(),
    })).max(MAX_STRIKES),
  })).max(MAX_EXPIRIES),
});

/** India Standard Time is UTC+05:30; NSE/BSE derivatives expire at 15:30 IST, i.e. 10:00 UTC. */
const EXPIRY_UTC_HOUR = 10;

/**
 * The expiry instant of an expiry date: 15:30 IST that day, epoch ms.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(new Date(expiryInstant({ year: 2025, month: 12, day: 30 })).toISOString(),
 *   "2025-12-30T10:00:00.000Z");
 * ```
 */
export function expiryInstant(d: ExpiryDate): number {
  return Date.UTC(d.year, d.month - 1, d.day, EXPIRY_UTC_HOUR);
}

const REST_RE = /^(\d{2}[A-Z]{3}\d{2})(?:(FUT)|(\d+(?:\.\d+)?)(CE|PE))$/;

/**
 * Finds the listing of `underlying` on `exchange` among `instruments` (OpenAlgo symbols): every
 * `UNDERLYING<DDMMMYY><strike>CE|PE` and `UNDERLYING<DDMMMYY>FUT`; expiries before `now` are left
 * out. The spot is the first of `NSE_INDEX:`/`BSE_INDEX:` and `NSE:`/`BSE:` (by the derivatives
 * exchange) the master lists. Null when no option of the underlying is listed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const rows = [
 *   { exchange: "NSE_INDEX", symbol: "NIFTY" },
 *   { exchange: "NFO", symbol: "NIFTY30DEC25FUT" },
 *   { exchange: "NFO", symbol: "NIFTY30DEC2525000CE" },
 *   { exchange: "NFO", symbol: "NIFTY30DEC2525000PE" },
 *   { exchange: "NFO", symbol: "NIFTYNXT5030DEC2570000CE" },
 * ];
 * const l = findOptionListing(rows, "NFO", "NIFTY", Date.UTC(2025, 11, 1))!;
 * assert.deepEqual(l.spot, { exchange: "NSE_INDEX", symbol: "NIFTY" });
 * assert.equal(l.expiries[0].future, "NIFTY30DEC25FUT");
 * assert.deepEqual(l.expiries[0].strikes, [
 *   { strike: 25000, ce: "NIFTY30DEC2525000CE", pe: "NIFTY30DEC2525000PE" },
 * ]);
 * ```
 */
export function findOptionListing(
  instruments: Iterable<{ exchange: string; symbol: string }>,
  exchange: string,
  underlying: string,
  now: number,
): OptionListing | null {
  const cash = exchange === "BFO" ? "BSE" : exchange === "NFO" ? "NSE" : exchange;
  const spotCandidates = [`${cash}_INDEX`, cash];
  let spot: { exchange: string; symbol: string } | null = null;
  let spotRank = Infinity;
  const byExpiry = new Map<string, { future: string | null; strikes: Map<number, ListedStrike> }>();
  for (const ins of instruments) {
    if (ins.symbol === underlying) {
      const rank = spotCandidates.indexOf(ins.exchange);
      if (rank >= 0 && rank < spotRank) {
        spot = { exchange: ins.exchange, symbol: ins.symbol };
        spotRank = rank;
      }
      continue;
    }
    if (ins.exchange !== exchange || !ins.symbol.startsWith(underlying)) continue;
    const m = REST_RE.exec(ins.symbol.slice(underlying.length));
    if (m === null) continue;
    const [, code, fut, strikeText, type] = m;
    let e = byExpiry.get(code);
    if (!e) byExpiry.set(code, e = { future: null, strikes: new Map() });
    if (fut !== undefined) {
      e.future ??= ins.symbol;
      continue;
    }
    const strike = Number(strikeText);
    if (!(strike > 0)) continue;
    let s = e.strikes.get(strike);
    if (!s) e.strikes.set(strike, s = { strike, ce: null, pe: null });
    if (type === "CE") s.ce ??= ins.symbol;
    else s.pe ??= ins.symbol;
  }
  const expiries: ListedExpiry[] = [];
  for (const [code, e] of byExpiry) {
    const date = parseExpiry(code);
    if (date === null || e.strikes.size === 0) continue;
    const expiresAt = expiryInstant(date);
    if (expiresAt < now) continue;
    const strikes = [...e.strikes.values()].sort((a, b) => a.strike - b.strike);
    expiries.push({
      expiry: code,
      expiresAt,
      future: e.future,
      strikes: strikes.slice(0, MAX_STRIKES),
    });
  }
  if (expiries.length === 0) return null;
  expiries.sort((a, b) => a.expiresAt - b.expiresAt);
  return { exchange, underlying, spot, expiries: expiries.slice(0, MAX_EXPIRIES) };
}
