// A seeded random-walk market for broker simulators: one quote per instrument in rupees (price,
// day OHLC, previous close, volume, OI, best-five and deeper books), stepped on demand. Each
// simulator encodes these values into its broker's wire units.

/** One level of a simulated book. */
export interface SimLevel {
  price: number;
  quantity: number;
  orders: number;
}

/** The simulated state of one instrument, in rupees and epoch ms. */
export interface SimQuote {
  ltp: number;
  open: number;
  high: number;
  low: number;
  /** Previous session close. */
  close: number;
  volume: number;
  lastQuantity: number;
  averagePrice: number;
  totalBuyQuantity: number;
  totalSellQuantity: number;
  /** Open interest; 0 for instruments without it (the simulators send what the broker sends). */
  oi: number;
  /** Last trade time, epoch ms (whole seconds, as exchanges stamp). */
  ltt: number;
  bids: SimLevel[];
  asks: SimLevel[];
}

/** How an instrument is seeded the first time it is quoted. */
export interface SimInstrumentSpec {
  /** Starting price (default: derived from the key, 100–3000). */
  price?: number;
  tickSize?: number;
  /** Derivatives carry OI. */
  hasOi?: boolean;
  /** Levels per side (default 5; 20 for Depth-20 brokers). */
  levels?: number;
}

/**
 * A small seeded PRNG (mulberry32) for simulators and fuzz tests, so runs reproduce.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(prng(7)(), prng(7)());
 * ```
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

function round(price: number, tick: number): number {
  return Math.round(Math.round(price / tick) * tick * 100) / 100;
}

/**
 * Seeded quotes keyed by any string the simulator chooses (usually the broker token).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const m = new SimMarket(1);
 * const q = m.quote("2885", { price: 2940 });
 * assert.equal(q.ltp, 2940);
 * m.step("2885");
 * assert.ok(m.quote("2885").high >= m.quote("2885").ltp);
 * ```
 */
export class SimMarket {
  readonly #rand: () => number;
  readonly #quotes = new Map<string, SimQuote & { tick: number; levels: number }>();
  readonly #now: () => number;

  constructor(seed = 1, now: () => number = Date.now) {
    this.#rand = prng(seed);
    this.#now = now;
  }

  /** The quote of `key`, created from `spec` on first use. */
  quote(key: string, spec: SimInstrumentSpec = {}): SimQuote {
    let q = this.#quotes.get(key);
    if (q === undefined) {
      const tick = spec.tickSize ?? 0.05;
      const base = spec.price ?? 100 + (hash(key) % 2900);
      const close = round(base * (1 - 0.005 + (hash(key + "c") % 100) / 10_000), tick);
      const ltp = round(base, tick);
      q = {
        ltp,
        open: close,
        high: Math.max(ltp, close),
        low: Math.min(ltp, close),
        close,
        volume: 1000 + (hash(key + "v") % 100_000),
        lastQuantity: 1,
        averagePrice: ltp,
        totalBuyQuantity: 0,
        totalSellQuantity: 0,
        oi: spec.hasOi ? 10_000 + (hash(key + "o") % 1_000_000) : 0,
        ltt: Math.floor(this.#now() / 1000) * 1000,
        bids: [],
        asks: [],
        tick,
        levels: spec.levels ?? 5,
      };
      this.#book(q);
      this.#quotes.set(key, q);
    }
    return q;
  }

  /** Overrides fields of a quote (the book is rebuilt unless given). */
  set(key: string, fields: Partial<SimQuote>): SimQuote {
    const q = this.quote(key) as SimQuote & { tick: number; levels: number };
    Object.assign(q, fields);
    if (fields.bids === undefined && fields.asks === undefined) this.#book(q);
    return q;
  }

  /** One random-walk step: a trade at a new price, volume and book updated. */
  step(key: string): SimQuote {
    const q = this.quote(key) as SimQuote & { tick: number; levels: number };
    const move = Math.round((this.#rand() - 0.5) * 6) * q.tick;
    const ltp = Math.max(q.tick, round(q.ltp + move, q.tick));
    const qty = 1 + Math.floor(this.#rand() * 50);
    q.averagePrice =
      Math.round(((q.averagePrice * q.volume + ltp * qty) / (q.volume + qty)) * 100) /
      100;
    q.ltp = ltp;
    q.high = Math.max(q.high, ltp);
    q.low = Math.min(q.low, ltp);
    q.volume += qty;
    q.lastQuantity = qty;
    if (q.oi > 0) q.oi = Math.max(0, q.oi + Math.round((this.#rand() - 0.5) * 100));
    q.ltt = Math.floor(this.#now() / 1000) * 1000;
    this.#book(q);
    return q;
  }

  #book(q: SimQuote & { tick: number; levels: number }): void {
    q.bids = [];
    q.asks = [];
    let buy = 0;
    let sell = 0;
    for (let i = 0; i < q.levels; i++) {
      const bq = 10 + Math.floor(this.#rand() * 500);
      const sq = 10 + Math.floor(this.#rand() * 500);
      q.bids.push({
        price: round(q.ltp - (i + 1) * q.tick, q.tick),
        quantity: bq,
        orders: 1 + (bq % 9),
      });
      q.asks.push({
        price: round(q.ltp + (i + 1) * q.tick, q.tick),
        quantity: sq,
        orders: 1 + (sq % 9),
      });
      buy += bq;
      sell += sq;
    }
    q.totalBuyQuantity = buy * 7;
    q.totalSellQuantity = sell * 7;
  }
}
