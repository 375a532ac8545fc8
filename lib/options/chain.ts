// One live option chain: a window of strikes around the at-the-money strike of one expiry, held on
// a ChainQuotes and moved as the underlying moves, and the `option_chain` frame data built from
// the newest ticks (IV and greeks by Black-76, PCR and max pain over the window).

import type { Outcome, Tick } from "../types.ts";
import {
  black76Greeks,
  forwardFromSpot,
  impliedVol,
  type OptionType,
  yearsToExpiry,
} from "./black76.ts";
import type { ListedExpiry, ListedStrike, OptionListing } from "../adapter/mod.ts";
import type { ChainInstrument, ChainQuotes } from "./quotes.ts";

/** Model settings of the chain. */
export interface ChainModel {
  /** Continuously compounded risk-free rate (0.065 = 6.5 %). */
  rate: number;
  /** Epoch ms now; time to expiry counts from here. */
  clock: () => number;
  /**
   * How long `open()` waits for the underlying's first price before it picks the first window
   * (without one the window starts at the middle of the listing and moves on the next frame);
   * default 0.
   */
  firstPriceWaitMs?: number;
}

/** One side (call or put) of a strike row. Fields the feed has not given are null. */
export interface ChainSide {
  symbol: string;
  ltp: number | null;
  bid: number | null;
  ask: number | null;
  volume: number | null;
  oi: number | null;
  /** Open interest now minus the first open interest the chain saw for the contract today. */
  oi_change: number | null;
  /** Implied volatility, percent. */
  iv: number | null;
  delta: number | null;
  gamma: number | null;
  /** Per calendar day. */
  theta: number | null;
  /** Per volatility point. */
  vega: number | null;
}

/** One strike row of the frame. */
export interface ChainRow {
  strike: number;
  ce: ChainSide | null;
  pe: ChainSide | null;
}

/** The `data` of an `option_chain` frame. */
export interface ChainData {
  /** The underlying's own price (index or stock); the future's when no spot is listed. */
  underlying_price: number | null;
  /** The future of the expiry, when listed and quoted. */
  future_price: number | null;
  /** The forward the options are priced on: the future, else spot·e^{rT}. */
  forward: number | null;
  /** `future` or `spot`: what the forward (and delta, gamma) refer to. */
  priced_on: "future" | "spot" | null;
  /** Years to expiry (ACT/365) at this frame. */
  time_to_expiry: number;
  atm_strike: number | null;
  pcr: number | null;
  max_pain: number | null;
  strikes: ChainRow[];
}

/**
 * The strike nearest `price` (the lower on a tie); null for no strikes or no price.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(atmStrike([24900, 25000, 25100], 25049), 25000);
 * assert.equal(atmStrike([24900, 25000, 25100], 25051), 25100);
 * assert.equal(atmStrike([24900, 25000, 25100], 25050), 25000);
 * ```
 */
export function atmStrike(strikes: readonly number[], price: number | null): number | null {
  const i = atmIndex(strikes, price);
  return i === null ? null : strikes[i];
}

function atmIndex(strikes: readonly number[], price: number | null): number | null {
  if (strikes.length === 0 || price === null || !Number.isFinite(price)) return null;
  let lo = 0, hi = strikes.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (strikes[mid] < price) lo = mid + 1;
    else hi = mid;
  }
  // lo: first strike ≥ price (or the last).
  if (lo > 0 && price - strikes[lo - 1] <= strikes[lo] - price) return lo - 1;
  return lo;
}

/**
 * Put-call ratio of open interest: Σ put OI / Σ call OI over the rows (a missing OI counts 0),
 * rounded to 4 decimals; null when the calls' total is 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const rows = [{ ce: { oi: 100 }, pe: { oi: 150 } }, { ce: { oi: 100 }, pe: null }];
 * assert.equal(putCallRatio(rows), 0.75);
 * assert.equal(putCallRatio([{ ce: null, pe: { oi: 5 } }]), null);
 * ```
 */
export function putCallRatio(
  rows: readonly { ce: { oi: number | null } | null; pe: { oi: number | null } | null }[],
): number | null {
  let ce = 0, pe = 0;
  for (const r of rows) {
    ce += r.ce?.oi ?? 0;
    pe += r.pe?.oi ?? 0;
  }
  return ce > 0 ? round(pe / ce, 4) : null;
}

/**
 * Max pain: of the rows' strikes, the expiry price at which option holders would be paid least —
 * Σ call OI·max(S − K, 0) + Σ put OI·max(K − S, 0) over the rows — the lowest such strike on a tie;
 * null when no row has open interest.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const rows = [
 *   { strike: 100, ce: { oi: 10 }, pe: { oi: 0 } },
 *   { strike: 110, ce: { oi: 5 }, pe: { oi: 5 } },
 *   { strike: 120, ce: { oi: 0 }, pe: { oi: 20 } },
 * ];
 * // Paid at 100: 5·10 + 20·20 = 450; at 110: 10·10 + 20·10 = 300; at 120: 10·20 + 5·10 = 250.
 * assert.equal(maxPain(rows), 120);
 * ```
 */
export function maxPain(
  rows: readonly {
    strike: number;
    ce: { oi: number | null } | null;
    pe: { oi: number | null } | null;
  }[],
): number | null {
  let any = false;
  for (const r of rows) if ((r.ce?.oi ?? 0) > 0 || (r.pe?.oi ?? 0) > 0) any = true;
  if (!any) return null;
  let best: number | null = null;
  let bestPayout = Infinity;
  for (const at of rows) {
    let payout = 0;
    for (const r of rows) {
      if (at.strike > r.strike) payout += (r.ce?.oi ?? 0) * (at.strike - r.strike);
      else if (at.strike < r.strike) payout += (r.pe?.oi ?? 0) * (r.strike - at.strike);
    }
    if (payout < bestPayout) {
      bestPayout = payout;
      best = at.strike;
    }
  }
  return best;
}

function round(x: number, digits: number): number {
  const p = 10 ** digits;
  return Math.round(x * p) / p;
}

/**
 * The price an option's IV is solved from: the mid of the best bid and ask when both are quoted
 * (bid > 0, ask ≥ bid), else the last traded price; null when neither is there.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(optionMark(10, 11, 12), 11.5);
 * assert.equal(optionMark(10, null, 12), 10);
 * assert.equal(optionMark(0, 0, 0), null);
 * ```
 */
export function optionMark(
  ltp: number | null,
  bid: number | null,
  ask: number | null,
): number | null {
  if (bid !== null && ask !== null && bid > 0 && ask >= bid) return (bid + ask) / 2;
  return ltp !== null && ltp > 0 ? ltp : null;
}

/** How often a chain asks again for window instruments the source refused, ms. */
export const RETRY_MS = 30_000;

/**
 * A live chain of one expiry. `open()` holds the spot, the future and the first window; each
 * `recentre()` moves the window to the current ATM (acquiring new strikes before releasing old
 * ones); `data()` builds a frame; `close()` releases everything it holds.
 */
export class OptionChain {
  readonly listing: OptionListing;
  readonly expiry: ListedExpiry;
  readonly strikesEachSide: number;
  readonly #source: ChainQuotes;
  readonly #model: ChainModel;
  readonly #strikeValues: number[];
  /** The window: index range [from, to) into the expiry's strikes. */
  #from = 0;
  #to = 0;
  /** Instruments this chain holds on the source (each once). */
  readonly #held = new Map<string, ChainInstrument>();
  /** First OI seen per contract on its IST day: the base of oi_change. */
  readonly #oiBase = new Map<string, { day: number; oi: number }>();
  #moving: Promise<unknown> = Promise.resolve();
  /** Clock time before which refused window instruments are not asked for again. */
  #retryAt = 0;
  #closed = false;
  /** Window moves so far. */
  recentres = 0;

  constructor(
    listing: OptionListing,
    expiry: ListedExpiry,
    strikesEachSide: number,
    source: ChainQuotes,
    model: ChainModel,
  ) {
    this.listing = listing;
    this.expiry = expiry;
    this.strikesEachSide = strikesEachSide;
    this.#source = source;
    this.#model = model;
    this.#strikeValues = expiry.strikes.map((s) => s.strike);
  }

  /** The strikes of the window now, ascending. */
  get window(): readonly ListedStrike[] {
    return this.expiry.strikes.slice(this.#from, this.#to);
  }

  /** Instruments held on the source. */
  get held(): ChainInstrument[] {
    return [...this.#held.values()];
  }

  /**
   * Holds the spot and the future, waits (bounded) for the underlying's first price, then holds the
   * window around the ATM strike (the middle of the listed strikes when no price came). Fails only
   * when the underlying itself cannot be served.
   */
  async open(): Promise<Outcome> {
    const base: ChainInstrument[] = [];
    if (this.listing.spot) base.push(this.listing.spot);
    if (this.expiry.future) {
      base.push({ exchange: this.listing.exchange, symbol: this.expiry.future });
    }
    const results = await this.#hold(base);
    if (base.length > 0 && results.every((r) => !r.ok)) {
      const first = results.find((r) => !r.ok) as Extract<Outcome, { ok: false }>;
      await this.close();
      return first;
    }
    // A window around a guessed centre would be subscribed only to be swapped a second later.
    const deadline = performance.now() + (this.#model.firstPriceWaitMs ?? 0);
    while (this.#underlyingPrice() === null && !this.#closed && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
    }
    await this.recentre();
    return { ok: true };
  }

  /** Moves the window if the ATM strike changed; true when it moved. Serialised. */
  recentre(): Promise<boolean> {
    const run = this.#moving.then(() => this.#recentre());
    this.#moving = run.catch(() => {});
    return run;
  }

  async #recentre(): Promise<boolean> {
    if (this.#closed) return false;
    const n = this.#strikeValues.length;
    const i = atmIndex(this.#strikeValues, this.#underlyingPrice()) ?? (n >> 1);
    const from = Math.max(0, i - this.strikesEachSide);
    const to = Math.min(n, i + this.strikesEachSide + 1);
    if (from === this.#from && to === this.#to && this.#to > 0) {
      await this.#retryMissing();
      return false;
    }
    const wanted = new Map<string, ChainInstrument>();
    for (const s of this.expiry.strikes.slice(from, to)) {
      for (const symbol of [s.ce, s.pe]) {
        if (symbol !== null) wanted.set(symbol, { exchange: this.listing.exchange, symbol });
      }
    }
    const old = this.expiry.strikes.slice(this.#from, this.#to);
    this.#from = from;
    this.#to = to;
    this.recentres++;
    this.#retryAt = this.#model.clock() + RETRY_MS;
    await this.#hold([...wanted.values()].filter((i) => !this.#held.has(i.symbol)));
    const gone: ChainInstrument[] = [];
    for (const s of old) {
      for (const symbol of [s.ce, s.pe]) {
        const held = symbol === null ? undefined : this.#held.get(symbol);
        if (held && !wanted.has(symbol!)) {
          this.#held.delete(symbol!);
          gone.push(held);
        }
      }
    }
    if (gone.length > 0) await this.#source.release(gone);
    return true;
  }

  /**
   * Asks again, at most every {@link RETRY_MS}, for window instruments the source refused (a full
   * stream, a broker error), so a chain heals without waiting for the window to move.
   */
  async #retryMissing(): Promise<void> {
    const now = this.#model.clock();
    if (now < this.#retryAt) return;
    const missing: ChainInstrument[] = [];
    for (const s of this.window) {
      for (const symbol of [s.ce, s.pe]) {
        if (symbol !== null && !this.#held.has(symbol)) {
          missing.push({ exchange: this.listing.exchange, symbol });
        }
      }
    }
    if (missing.length === 0) return;
    this.#retryAt = now + RETRY_MS;
    await this.#hold(missing);
  }

  async #hold(items: ChainInstrument[]): Promise<Outcome[]> {
    if (items.length === 0) return [];
    const results = await this.#source.acquire(items);
    const late: ChainInstrument[] = [];
    results.forEach((r, k) => {
      if (!r.ok) return;
      // Closed while we waited: give it straight back.
      if (this.#closed) late.push(items[k]);
      else this.#held.set(items[k].symbol, items[k]);
    });
    if (late.length > 0) await this.#source.release(late);
    return results;
  }

  /** Releases everything the chain holds. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#moving;
    const all = [...this.#held.values()];
    this.#held.clear();
    if (all.length > 0) await this.#source.release(all);
  }

  #tick(symbol: string | null | undefined, exchange = this.listing.exchange): Tick | undefined {
    return symbol ? this.#source.latest(exchange, symbol) : undefined;
  }

  #spotPrice(): number | null {
    const s = this.listing.spot;
    const t = s ? this.#source.latest(s.exchange, s.symbol) : undefined;
    return t && t.ltp > 0 ? t.ltp : null;
  }

  #futurePrice(): number | null {
    const t = this.#tick(this.expiry.future);
    return t && t.ltp > 0 ? t.ltp : null;
  }

  #underlyingPrice(): number | null {
    return this.#spotPrice() ?? this.#futurePrice();
  }

  /** The `data` of the chain's frame now. */
  data(): ChainData {
    const now = this.#model.clock();
    const rate = this.#model.rate;
    const t = yearsToExpiry(now, this.expiry.expiresAt);
    const spot = this.#spotPrice();
    const future = this.#futurePrice();
    const underlying = spot ?? future;
    const forward = future ?? (spot === null ? null : forwardFromSpot(spot, rate, 0, t));
    const pricedOn = future !== null ? "future" : spot !== null ? "spot" : null;
    const carry = future !== null ? 0 : rate;
    const day = Math.floor((now + 19_800_000) / 86_400_000);
    const side = (symbol: string | null, strike: number, type: OptionType): ChainSide | null => {
      if (symbol === null) return null;
      const tick = this.#tick(symbol);
      const bid = tick?.depth?.buy[0]?.price ?? null;
      const ask = tick?.depth?.sell[0]?.price ?? null;
      const oi = tick?.oi ?? null;
      let oiChange: number | null = null;
      if (oi !== null) {
        let base = this.#oiBase.get(symbol);
        if (!base || base.day !== day) this.#oiBase.set(symbol, base = { day, oi });
        oiChange = oi - base.oi;
      }
      const mark = optionMark(tick?.ltp ?? null, bid, ask);
      const vol = mark === null || forward === null
        ? null
        : impliedVol(mark, forward, strike, t, rate, type);
      const g = vol === null ? null : black76Greeks(forward!, strike, t, vol, rate, type, carry);
      return {
        symbol,
        ltp: tick?.ltp ?? null,
        bid,
        ask,
        volume: tick?.volume ?? null,
        oi,
        oi_change: oiChange,
        iv: vol === null ? null : round(vol * 100, 2),
        delta: g === null ? null : round(g.delta, 4),
        gamma: g === null ? null : round(g.gamma, 6),
        theta: g === null ? null : round(g.theta, 4),
        vega: g === null ? null : round(g.vega, 4),
      };
    };
    const rows: ChainRow[] = this.window.map((s) => ({
      strike: s.strike,
      ce: side(s.ce, s.strike, "CE"),
      pe: side(s.pe, s.strike, "PE"),
    }));
    return {
      underlying_price: underlying,
      future_price: future,
      forward: forward === null ? null : round(forward, 2),
      priced_on: pricedOn,
      time_to_expiry: round(t, 8),
      atm_strike: atmStrike(this.#strikeValues, underlying),
      pcr: putCallRatio(rows),
      max_pain: maxPain(rows),
      strikes: rows,
    };
  }
}
