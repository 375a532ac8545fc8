// One instrument's bars at one interval, built from its ticks: a pure state machine with no timers
// (the caller passes the clock to `advance`), so every rule below is tested on hand-built ticks.
//
// Rules, in exchange time (`tick.ltt`, else `tick.timestamp`):
// - Bars sit on a grid anchored at the session open (session.ts); pre-open and post-close trades are
//   clamped into the first and last bar.
// - Volume is the change in the cumulative `volume` across the bar. The first bar of a session
//   counts from the first cumulative volume seen that session, so trades before the gateway's first
//   tick are not in any bar. A cumulative volume lower than one already seen is ignored (the
//   counter never goes back within a session). Ticks without `volume` (indices, LTP mode) add 0.
// - Close is the price of the tick with the latest exchange time in the bar (out-of-order ticks
//   inside the forming bar still move high/low, not the close).
// - A tick whose bar is older than the forming bar, or whose bar has already been closed, is late:
//   dropped and counted in `late`, never rewriting a closed bar. A repeat of the last trade (same
//   ltt, price and volume — a quote refresh) is dropped and counted in `repeats` instead.
// - A tick without a positive, finite price (brokers send 0 before an instrument's first trade) is
//   dropped and counted in `invalid`.
// - A bar closes when a tick for a later bar arrives, or when `advance(now)` passes its end plus
//   `graceMs` (ticks reach the gateway a little after their exchange time). Each closed bar is
//   emitted exactly once.
// - Intervals with no trade between two trades, or between the last trade and `advance(now)`, are
//   emitted as flat closed bars at the last close with volume 0 — only within the session day of the
//   last trade (never across the night, never on a day with no trade).

import {
  barEnd,
  barStart,
  type CandleInterval,
  istDay,
  type Session,
  sessionOf,
  type SessionWindow,
  sessionWindow,
} from "./session.ts";
import type { Tick } from "../types.ts";

/** An OHLCV bar; `time` is the bar start, epoch ms. */
export interface Candle {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  /** True once the bar is final; a forming bar is `false`. */
  closed: boolean;
}

/** Receives each closed bar, with the series it belongs to. */
export type CandleSink = (candle: Candle, series: CandleSeries) => void;

/** Options of a {@link CandleSeries}. */
export interface CandleSeriesOptions {
  /** How long after a bar's end `advance` waits before closing it, ms. Default 2000. */
  graceMs?: number;
  /** Overrides the exchange's session (tests, special sessions such as Muhurat trading). */
  session?: Session;
}

/** The default wait after a bar's end before the clock closes it, ms. */
export const DEFAULT_GRACE_MS = 2_000;

/**
 * Bars of one instrument at one interval.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Candle, CandleSeries } from "./series.ts";
 * const s = new CandleSeries("NSE", "RELIANCE", "1m");
 * const closed: Candle[] = [];
 * const t0 = Date.parse("2026-11-30T03:46:00Z"); // 09:16 IST
 * const tick = (ltt: number, ltp: number, volume: number) => ({
 *   exchange: "NSE", symbol: "RELIANCE", mode: 2 as const, ltp, ltt, timestamp: ltt, volume,
 *   open: null, high: null, low: null, close: null, last_trade_quantity: null,
 *   avg_trade_price: null, total_buy_quantity: null, total_sell_quantity: null, oi: null,
 *   change: null, change_percent: null, depth: null,
 * });
 * s.onTick(tick(t0 + 1_000, 100, 1_000), (c) => closed.push(c));
 * s.onTick(tick(t0 + 30_000, 101, 1_500), (c) => closed.push(c));
 * s.onTick(tick(t0 + 60_000, 99, 1_700), (c) => closed.push(c));
 * assert.deepEqual(closed, [
 *   { time: t0, open: 100, high: 101, low: 100, close: 101, volume: 500, closed: true },
 * ]);
 * ```
 */
export class CandleSeries {
  readonly exchange: string;
  readonly symbol: string;
  readonly interval: CandleInterval;
  /** Ticks dropped because their bar was older than the forming bar or already closed. */
  late = 0;
  /** Ticks dropped as repeats of the last trade. */
  repeats = 0;
  /** Ticks dropped for a price that is not positive and finite. */
  invalid = 0;

  readonly #session: Session;
  readonly #graceMs: number;
  #window: SessionWindow | null = null;
  // The forming bar, kept in fields rather than an object so a tick allocates nothing.
  #forming = false;
  #time = 0;
  #end = 0;
  #open = 0;
  #high = 0;
  #low = 0;
  #close = 0;
  #closeTime = 0;
  /** Cumulative volume at the start of the forming bar (end of the previous one); null: none seen. */
  #baseCum: number | null = null;
  /** Highest cumulative volume seen this session. */
  #lastCum: number | null = null;
  /** Start of the next bar not yet emitted, this session; null before the first bar closes. */
  #nextStart: number | null = null;
  #lastClose = 0;
  #lastLtt: number | null = null;
  #lastLtp = 0;
  #lastVolume: number | null = null;

  constructor(
    exchange: string,
    symbol: string,
    interval: CandleInterval,
    options: CandleSeriesOptions = {},
  ) {
    this.exchange = exchange;
    this.symbol = symbol;
    this.interval = interval;
    this.#session = options.session ?? sessionOf(exchange);
    this.#graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  }

  /**
   * Folds a tick in; closed bars (including flat ones it skips over) go to `sink`.
   * Returns true when the forming bar changed.
   */
  onTick(tick: Tick, sink: CandleSink): boolean {
    if (!(tick.ltp > 0 && tick.ltp < Infinity)) {
      this.invalid++;
      return false;
    }
    const t = tick.ltt ?? tick.timestamp;
    let window = this.#window;
    if (window === null || istDay(t) !== window.day) {
      const next = sessionWindow(this.#session, t);
      if (window !== null) {
        if (next.day < window.day) return this.#drop(tick);
        this.#closeForming(sink);
        this.#baseCum = null;
        this.#lastCum = null;
        this.#nextStart = null;
      }
      this.#window = window = next;
    }
    const start = barStart(window, this.interval, t);
    if (this.#forming) {
      if (start < this.#time) return this.#drop(tick);
      if (start > this.#time) {
        this.#closeForming(sink);
        this.#fill(start, sink);
        this.#begin(window, start, t, tick);
        return true;
      }
      this.#fold(t, tick);
      return true;
    }
    if (this.#nextStart !== null && start < this.#nextStart) return this.#drop(tick);
    this.#fill(start, sink);
    this.#begin(window, start, t, tick);
    return true;
  }

  /**
   * Moves the clock to `now` (epoch ms): closes the forming bar once `now` passes its end plus the
   * grace, then emits flat bars for the session's intervals that have ended since without a trade.
   */
  advance(now: number, sink: CandleSink): void {
    const window = this.#window;
    if (window === null) return;
    if (this.#forming) {
      if (now < this.#end + this.#graceMs) return;
      this.#closeForming(sink);
    }
    let next = this.#nextStart;
    if (next === null) return;
    while (next < window.close) {
      const end = barEnd(window, this.interval, next);
      if (now < end + this.#graceMs) break;
      sink(this.#flat(next), this);
      next = end;
    }
    this.#nextStart = next;
  }

  /** The forming bar (`closed: false`), or null when none is forming. */
  forming(): Candle | null {
    if (!this.#forming) return null;
    return {
      time: this.#time,
      open: this.#open,
      high: this.#high,
      low: this.#low,
      close: this.#close,
      volume: this.#volume(),
      closed: false,
    };
  }

  #drop(tick: Tick): false {
    if (
      tick.ltt !== null && tick.ltt === this.#lastLtt && tick.ltp === this.#lastLtp &&
      tick.volume === this.#lastVolume
    ) {
      this.repeats++;
    } else {
      this.late++;
    }
    return false;
  }

  #begin(window: SessionWindow, start: number, t: number, tick: Tick): void {
    this.#forming = true;
    this.#time = start;
    this.#end = barEnd(window, this.interval, start);
    this.#open =
      this.#high =
      this.#low =
      this.#close =
        tick.ltp;
    this.#closeTime = t;
    this.#trade(tick);
  }

  #fold(t: number, tick: Tick): void {
    const p = tick.ltp;
    if (p > this.#high) this.#high = p;
    if (p < this.#low) this.#low = p;
    if (t >= this.#closeTime) {
      this.#close = p;
      this.#closeTime = t;
    }
    this.#trade(tick);
  }

  #trade(tick: Tick): void {
    const v = tick.volume;
    if (v !== null) {
      if (this.#baseCum === null) this.#baseCum = v;
      if (this.#lastCum === null || v > this.#lastCum) this.#lastCum = v;
    }
    this.#lastLtt = tick.ltt;
    this.#lastLtp = tick.ltp;
    this.#lastVolume = v;
  }

  #volume(): number {
    return this.#lastCum === null || this.#baseCum === null ? 0 : this.#lastCum - this.#baseCum;
  }

  #closeForming(sink: CandleSink): void {
    if (!this.#forming) return;
    this.#forming = false;
    const candle: Candle = {
      time: this.#time,
      open: this.#open,
      high: this.#high,
      low: this.#low,
      close: this.#close,
      volume: this.#volume(),
      closed: true,
    };
    this.#baseCum = this.#lastCum;
    this.#lastClose = this.#close;
    this.#nextStart = this.#end;
    sink(candle, this);
  }

  /** Emits flat bars from the next unemitted bar up to (not including) `start`. */
  #fill(start: number, sink: CandleSink): void {
    const window = this.#window;
    let next = this.#nextStart;
    if (next === null || window === null) return;
    while (next < start) {
      sink(this.#flat(next), this);
      next = barEnd(window, this.interval, next);
    }
    this.#nextStart = next;
  }

  #flat(time: number): Candle {
    const p = this.#lastClose;
    return { time, open: p, high: p, low: p, close: p, volume: 0, closed: true };
  }
}
