// Helpers of the candle history tests: a synthetic recorded trading day written through the
// recorder's own TickStore (Quote rows with their LTP copies, as the bus carries them), and calls
// to GET /api/v1/candles.

import type { BusEnvelope } from "../../lib/bus/envelope.ts";
import { type PendingTick, TickStore } from "../../lib/recorder/store.ts";
import { prng } from "../../lib/adapter/sim/market.ts";
import type { Gateway } from "../../lib/gateway.ts";
import { TEST_KEY } from "../helpers/gateway.ts";

/** IST wall time of 3 June 2024 (a Monday) as epoch ms, e.g. `ist("09:15:00")`. */
export function ist(time: string): number {
  return Date.parse(`2024-06-03T${time}+05:30`);
}

/** One recorded trade of the synthetic day. */
export interface DayTick {
  /** Exchange time (ltt), epoch ms. */
  at: number;
  ltp: number;
  /** Cumulative day volume. */
  volume: number;
}

/**
 * A seeded trading day of NSE:SBIN from 09:14:58 IST (pre-open, clamped into the first bar) to
 * about 09:45, a trade every 0.5–4 s, with a silence from 09:25:10 to 09:29:30 (flat bars), one
 * trade exactly on the 09:30:00 boundary, and a last trade at a price seen nowhere else.
 */
export function syntheticDay(seed = 11): DayTick[] {
  const rand = prng(seed);
  const out: DayTick[] = [];
  let t = ist("09:14:58");
  let price = 820;
  let volume = 1_250_000;
  const end = ist("09:45:10");
  while (t < end) {
    out.push({ at: t, ltp: Math.round(price * 20) / 20, volume });
    t += 500 + Math.floor(rand() * 3500);
    if (t > ist("09:25:10") && t < ist("09:29:30")) t = ist("09:29:30") + Math.floor(rand() * 200);
    if (out.at(-1)!.at < ist("09:30:00") && t > ist("09:30:00")) t = ist("09:30:00");
    price += (rand() - 0.5) * 0.8;
    volume += Math.floor(rand() * 400);
  }
  out.push({ at: end + 1500, ltp: 999.95, volume: volume + 77 });
  return out;
}

/**
 * Writes ticks as the recorder stores them: each trade once on `NSE_SBIN_QUOTE` and once on
 * `NSE_SBIN_LTP` (no volume there), in arrival order; from `ltpOnlyFrom` (exchange time) on, only
 * the LTP copy, as when the only Quote subscriber left.
 */
export async function recordDay(
  db: string,
  ticks: readonly DayTick[],
  ltpOnlyFrom = Infinity,
): Promise<void> {
  const store = await TickStore.open(db);
  const rows: PendingTick[] = [];
  let ingestSeq = store.nextIngestSeq;
  ticks.forEach((t, i) => {
    const published = t.at + 20;
    const common = { v: 1, seq: i, session: "s1", broker: "zerodha", exchange: "NSE", published };
    const ltp = { symbol: "SBIN", exchange: "NSE", ltp: t.ltp, ltt: t.at, timestamp: t.at + 5 };
    if (t.at < ltpOnlyFrom) {
      rows.push({
        ingestSeq: ingestSeq++,
        received: published + 1,
        topic: "NSE_SBIN_QUOTE",
        envelope: {
          ...common,
          symbol: "SBIN",
          mode: "QUOTE",
          data: {
            ...ltp,
            open: 818,
            high: 830,
            low: 810,
            close: 815,
            volume: t.volume,
            last_trade_quantity: 10,
            avg_trade_price: 820.5,
            total_buy_quantity: 5000,
            total_sell_quantity: 4000,
            oi: null,
            change: 5,
            change_percent: 0.6,
          },
        } as BusEnvelope,
      });
    }
    rows.push({
      ingestSeq: ingestSeq++,
      received: published + 1,
      topic: "NSE_SBIN_LTP",
      envelope: { ...common, symbol: "SBIN", mode: "LTP", data: ltp } as BusEnvelope,
    });
  });
  store.writeTicks(rows);
  store.close();
}

/** GET /api/v1/candles with a query string; the key by default. */
export async function getCandles(
  gw: Gateway,
  query: string,
  headers: Record<string, string> = { authorization: `Bearer ${TEST_KEY}` },
): Promise<Response> {
  return await fetch(`http://127.0.0.1:${gw.proxy.addr.port}/api/v1/candles?${query}`, { headers });
}
