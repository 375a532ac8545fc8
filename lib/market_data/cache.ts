// The live cache of the MarketDataService: latest LTP, quote and depth per (exchange, symbol), each
// with exchange and receive time. Writes store the tick by reference; reads project it, because
// ticks arrive far more often than anyone reads them.

import { type DepthData, type LtpData, projectTick, type QuoteData } from "../project.ts";
import type { Mode, Tick } from "../types.ts";
import { InstrumentMap } from "../instrument_map.ts";
import type { Cached, DepthSnapshot, Instrument, InstrumentSnapshot, TickFlags } from "./types.ts";

interface Slot {
  tick: Tick;
  flags: TickFlags;
  exchangeTime: number;
  receivedAt: number;
}

interface Entry {
  exchange: string;
  symbol: string;
  ltp: Slot | null;
  quote: Slot | null;
  depth: Slot | null;
  /** False when the depth slot came from a depth tick without a valid price. */
  depthHasLtp: boolean;
  updatedAt: number;
}

/**
 * Latest-value cache. Every accepted tick refreshes the LTP; Quote and Depth ticks (which carry
 * every quote field) refresh the quote; Depth ticks refresh the depth.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { baseTick } from "../types.ts";
 * const cache = new TickCache();
 * const tick = baseTick("NSE", "RELIANCE", 1, 2940.7, null, 1000);
 * cache.update(tick, {}, tick.timestamp, 1005);
 * assert.equal(cache.getLtp("NSE", "RELIANCE")?.data.ltp, 2940.7);
 * assert.equal(cache.isFresh("NSE", "RELIANCE", 30_000, 2000), true);
 * assert.equal(cache.getQuote("NSE", "RELIANCE"), null, "an LTP tick has no quote");
 * ```
 */
export class TickCache {
  #entries = new InstrumentMap<Entry>();
  /** Reads that found a value. */
  hits = 0;
  /** Reads that found nothing. */
  misses = 0;
  /** Entries removed by `sweep`. */
  expired = 0;

  /** Number of cached instruments. */
  get size(): number {
    return this.#entries.size;
  }

  /** The cached LTP value of an instrument, for jump detection (not counted as a read). */
  lastLtp(exchange: string, symbol: string): number | null {
    return this.#entries.get(exchange, symbol)?.ltp?.tick.ltp ?? null;
  }

  /**
   * The latest tick that carries every field of `mode` (LTP: any tick; Quote: Quote or Depth
   * ticks; Depth: Depth ticks with a valid price), by reference; not counted as a read. The
   * proxy sends it to a client subscribing to a key already streaming.
   */
  latestTick(exchange: string, symbol: string, mode: Mode): Tick | null {
    return this.latest(exchange, symbol, mode)?.tick ?? null;
  }

  /** As {@link latestTick}, with what validation flagged on that tick. */
  latest(exchange: string, symbol: string, mode: Mode): { tick: Tick; flags: TickFlags } | null {
    const e = this.#entries.get(exchange, symbol);
    if (!e) return null;
    if (mode === 1) return e.ltp;
    if (mode === 2) return e.quote;
    return e.depthHasLtp ? e.depth : null;
  }

  /** Stores an accepted tick. */
  update(tick: Tick, flags: TickFlags, exchangeTime: number, receivedAt: number): void {
    const e = this.#entry(tick.exchange, tick.symbol);
    const slot: Slot = { tick, flags, exchangeTime, receivedAt };
    e.ltp = slot;
    if (tick.mode >= 2) e.quote = slot;
    if (tick.mode === 3) {
      e.depth = slot;
      e.depthHasLtp = true;
    }
    e.updatedAt = receivedAt;
  }

  /** Stores the depth of a Depth tick that carried no valid price; LTP and quote are untouched. */
  updateDepthOnly(tick: Tick, exchangeTime: number, receivedAt: number): void {
    const e = this.#entry(tick.exchange, tick.symbol);
    e.depth = { tick, flags: {}, exchangeTime, receivedAt };
    e.depthHasLtp = false;
    e.updatedAt = receivedAt;
  }

  /** Latest LTP of an instrument, or null. */
  getLtp(exchange: string, symbol: string): Cached<LtpData> | null {
    const s = this.#entries.get(exchange, symbol)?.ltp;
    if (!s) return this.#miss();
    this.hits++;
    return cached(s, projectTick(s.tick, 1) as LtpData);
  }

  /** Latest quote of an instrument, or null. */
  getQuote(exchange: string, symbol: string): Cached<QuoteData> | null {
    const s = this.#entries.get(exchange, symbol)?.quote;
    if (!s) return this.#miss();
    this.hits++;
    return cached(s, projectTick(s.tick, 2) as QuoteData);
  }

  /** Latest depth of an instrument, or null. */
  getDepth(exchange: string, symbol: string): Cached<DepthSnapshot> | null {
    const e = this.#entries.get(exchange, symbol);
    if (!e?.depth) return this.#miss();
    this.hits++;
    return cached(e.depth, depthSnapshot(e.depth.tick, e.depthHasLtp));
  }

  /** Everything cached for an instrument, or null. */
  get(exchange: string, symbol: string): InstrumentSnapshot | null {
    const e = this.#entries.get(exchange, symbol);
    if (!e) return this.#miss();
    this.hits++;
    return {
      exchange: e.exchange,
      symbol: e.symbol,
      ltp: e.ltp && cached(e.ltp, projectTick(e.ltp.tick, 1) as LtpData),
      quote: e.quote && cached(e.quote, projectTick(e.quote.tick, 2) as QuoteData),
      depth: e.depth && cached(e.depth, depthSnapshot(e.depth.tick, e.depthHasLtp)),
      updatedAt: e.updatedAt,
    };
  }

  /** Snapshots of several instruments, in the order asked (null where nothing is cached). */
  getMany(instruments: readonly Instrument[]): (InstrumentSnapshot | null)[] {
    return instruments.map((i) => this.get(i.exchange, i.symbol));
  }

  /** True when the instrument's LTP was received at most `maxAgeMs` before `now`. */
  isFresh(exchange: string, symbol: string, maxAgeMs: number, now: number): boolean {
    const s = this.#entries.get(exchange, symbol)?.ltp;
    return s !== null && s !== undefined && now - s.receivedAt <= maxAgeMs;
  }

  /** Removes entries not updated for more than `idleMs`; returns how many. */
  sweep(now: number, idleMs: number): number {
    let n = 0;
    for (const [exchange, symbol, e] of this.#entries.entries()) {
      if (now - e.updatedAt > idleMs) {
        this.#entries.delete(exchange, symbol);
        n++;
      }
    }
    this.expired += n;
    return n;
  }

  /** Empties the cache. */
  clear(): void {
    this.#entries.clear();
  }

  #entry(exchange: string, symbol: string): Entry {
    let e = this.#entries.get(exchange, symbol);
    if (!e) {
      e = {
        exchange,
        symbol,
        ltp: null,
        quote: null,
        depth: null,
        depthHasLtp: false,
        updatedAt: 0,
      };
      this.#entries.set(exchange, symbol, e);
    }
    return e;
  }

  #miss(): null {
    this.misses++;
    return null;
  }
}

function cached<T>(s: Slot, data: T): Cached<T> {
  return { data, exchangeTime: s.exchangeTime, receivedAt: s.receivedAt, flags: s.flags };
}

function depthSnapshot(tick: Tick, hasLtp: boolean): DepthSnapshot {
  const d = projectTick(tick, 3) as DepthData;
  return hasLtp ? d : { ...d, ltp: null };
}
