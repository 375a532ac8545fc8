// From HSM topic state to normalised ticks: one instrument's scrip (or index) topic merged with its
// depth topic, prices scaled by the topic's own 10^precision × multiplier, times in epoch ms, and
// null for every field the broker has not sent (or never sends for this instrument).

import type { BrokerInstrument } from "../../lib/adapter/mod.ts";
import { baseTick, type DepthLevel, type Mode, type Tick } from "../../lib/types.ts";
import { countAt, priceAt, SENTINEL, type TopicKind, type TopicState } from "./codec.ts";

/** An instrument streamed over HSM. Its token is the topic name without the kind prefix. */
export interface HsmInstrument extends BrokerInstrument {
  /** `nse_cm|11536`, or an index by name: `nse_cm|Nifty 50`. */
  readonly token: string;
  /** Indices stream `if` topics and have no book; scrips stream `sf` (+ `dp` for depth). */
  readonly index: boolean;
  /** Derivatives carry open interest; for anything else `oi` stays null. */
  readonly hasOi: boolean;
}

/**
 * The topic an instrument streams for a kind (`sf|nse_cm|11536`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(topicName("if", "nse_cm|Nifty 50"), "if|nse_cm|Nifty 50");
 * ```
 */
export function topicName(kind: TopicKind, token: string): string {
  return `${kind}|${token}`;
}

/** The latest topic state of one instrument. */
export interface InstrumentState {
  /** The `sf` (scrip) or `if` (index) topic. */
  main?: TopicState;
  /** The `dp` topic. */
  depth?: TopicState;
}

function levels(
  t: TopicState,
  price: readonly number[],
  qty: readonly number[],
  orders: readonly number[],
): DepthLevel[] {
  const out: DepthLevel[] = [];
  for (let i = 0; i < price.length; i++) {
    const p = priceAt(t, price[i]);
    const q = countAt(t, qty[i]);
    if (p === null || q === null) continue;
    out.push({ price: p, quantity: q, orders: countAt(t, orders[i]) });
  }
  return out;
}

function epochMs(seconds: number | null): number | null {
  return seconds === null || seconds === 0 ? null : seconds * 1000;
}

/**
 * The tick of `instrument` at `mode` from its state, or null while its LTP is unknown (no
 * snapshot yet, or a sentinel LTP). A scrip at Depth is a Depth tick only once its depth topic
 * has arrived (a Quote tick until then); an index at Depth is a Depth tick with no book.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileLayout, FYERS_LAYOUT } from "./codec.ts";
 * const main = {
 *   id: 1, kind: "sf", key: "nse_cm|3045", layout: compileLayout(FYERS_LAYOUT.sf),
 *   values: Int32Array.from({ length: 21 }, (_, i) => (i === 0 ? 59500 : -2147483648)),
 *   divisor: 100, precision: 2, exchange: "nse_cm", token: "3045", tradingSymbol: "SBIN-EQ",
 * } as const;
 * const t = hsmTick(
 *   { token: "nse_cm|3045", exchange: "NSE", symbol: "SBIN", index: false, hasOi: false },
 *   2, { main: { ...main, values: main.values } }, 1000,
 * );
 * assert.equal(t?.ltp, 595);
 * assert.equal(t?.volume, null);
 * ```
 */
export function hsmTick(
  instrument: HsmInstrument,
  mode: Mode,
  state: InstrumentState,
  now: number,
): Tick | null {
  const main = state.main;
  if (main === undefined) return null;
  const L = main.layout;
  const rawLtp = L.ltp >= 0 && L.ltp < main.values.length ? main.values[L.ltp] : SENTINEL;
  if (rawLtp === SENTINEL) return null;
  const feed = epochMs(countAt(main, L.feedTime));
  const tick = baseTick(
    instrument.exchange,
    instrument.symbol,
    mode,
    rawLtp / main.divisor,
    epochMs(countAt(main, L.ltt)),
    feed ?? now,
  );
  if (mode === 1) return tick;
  tick.open = priceAt(main, L.open);
  tick.high = priceAt(main, L.high);
  tick.low = priceAt(main, L.low);
  tick.close = priceAt(main, L.close);
  tick.volume = countAt(main, L.volume);
  tick.last_trade_quantity = countAt(main, L.ltq);
  tick.avg_trade_price = priceAt(main, L.avg);
  tick.total_buy_quantity = countAt(main, L.tbq);
  tick.total_sell_quantity = countAt(main, L.tsq);
  tick.oi = instrument.hasOi ? countAt(main, L.oi) : null;
  const rawClose = L.close >= 0 && L.close < main.values.length ? main.values[L.close] : SENTINEL;
  if (rawClose !== SENTINEL) {
    // Integer difference first, so 294070 − 289050 gives 50.2, not 50.19999.
    tick.change = (rawLtp - rawClose) / main.divisor;
    tick.change_percent = rawClose === 0 ? null : ((rawLtp - rawClose) * 100) / rawClose;
  }
  if (mode === 3 && !instrument.index) {
    const d = state.depth;
    if (d === undefined) {
      tick.mode = 2;
    } else {
      const D = d.layout;
      tick.depth = {
        buy: levels(d, D.bidPrice, D.bidQty, D.bidOrders),
        sell: levels(d, D.askPrice, D.askQty, D.askOrders),
      };
    }
  }
  return tick;
}
