// The poller: serves subscriptions routed to `poll` from the broker's REST multi-quote API — the
// polled keys refcounted, batched to the broker's batch size, spread under its rate limit, backed
// off on 429 — and skips any instrument the stream already carries for someone (reuse).

import { getLogger } from "../log.ts";
import type { QuoteResult } from "../adapter/mod.ts";
import {
  type Capabilities,
  type InstrumentKey,
  instrumentKey,
  type Mode,
  type Outcome,
  type QuoteCapability,
  type Tick,
} from "../types.ts";

const log = getLogger(["tickplex", "poll"]);

/** What the poller needs from the pool: its capabilities and a quote call through a worker. */
export interface QuoteFetcher {
  readonly capabilities: Pick<Capabilities, "broker" | "quotes" | "depthLevels">;
  /** `check`: only resolve the symbols (unknown ones in `missing`), no broker call. */
  quote(
    mode: Mode,
    items: { exchange: string; symbol: string }[],
    check?: boolean,
  ): Promise<QuoteResult>;
}

/** Poller tuning. */
export interface PollerOptions {
  /** How often every polled key is fetched (budget.pollIntervalMs); longer when the rate forbids. */
  intervalMs: number;
  /**
   * True when the stream carries (exchange, symbol) at `mode` or higher for some consumer: the
   * poller then leaves the key alone and its poll subscribers get the streamed ticks.
   */
  streamed?: (exchange: string, symbol: string, mode: Mode) => boolean;
  /**
   * A request starts at least `1000 / requestsPerSecond × (1 + safetyMargin)` ms (default margin
   * 0.05) after the previous one was *answered*. The broker received the previous request before
   * it answered, so it never sees two arrivals closer than its limit, whatever the network jitter.
   */
  safetyMargin?: number;
  /** First wait after a 429 without `Retry-After` (doubles per consecutive 429, capped). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

/** Figures for /api/v1/budget and /metrics. */
export interface PollerStats {
  /** Instruments with at least one poll subscriber. */
  keys: number;
  /** Of those, fetched over REST in the last cycle (the rest were served from the stream). */
  polled: number;
  /** Of those, served from the stream because someone streams them (reuse). */
  reused: number;
  /** REST quote requests per second over the last 10 s. */
  requestsPerSecond: number;
  /** The broker's declared limit (0 when it has no quote API). */
  rateLimit: number;
  /** Requests made since start. */
  requests: number;
  /** Failed requests since start (429s included). */
  errors: number;
  /** Of those, HTTP 429 / rate limited. */
  rateLimited: number;
  /** Ticks delivered from REST answers since start. */
  ticks: number;
  /** Instruments the broker left out of its answers since start (unknown, expired). */
  missing: number;
  /** Duration of the last complete cycle (ms): ≥ intervalMs, longer when the rate forbids. */
  lastCycleMs: number;
  /** The last error's message, if any. */
  lastError: string | null;
}

interface PolledInstrument {
  exchange: string;
  symbol: string;
  /** Poll subscribers per mode; the instrument is fetched at the highest mode held. */
  modes: Map<Mode, number>;
}

const RATE_WINDOW_MS = 10_000;
const WARN_EVERY_MS = 10_000;

/**
 * The poller. It is the `Upstream` of a poll registry: `subscribe` / `unsubscribe` add and
 * remove polled keys (refcounted), `onticks` receives every REST answer as normalised ticks. Each
 * cycle fetches every key once, in the broker's batch size, its calls spread evenly over the
 * interval, and each call starts no sooner than the broker's rate (plus a margin) after the
 * previous one was answered.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const calls: number[] = [];
 * const fetcher = {
 *   capabilities: {
 *     broker: "demo", depthLevels: { "*": [5] },
 *     quotes: { maxInstruments: { 1: 2, 2: 2, 3: 2 }, requestsPerSecond: 50 },
 *   },
 *   quote: (mode: 1 | 2 | 3, items: { exchange: string; symbol: string }[], check?: boolean) => {
 *     // `check` resolves symbols only (the poller asks once per new instrument): all known here.
 *     if (check) return Promise.resolve({ ok: true as const, ticks: [], missing: [] });
 *     calls.push(items.length);
 *     const ticks = items.map((i) => ({
 *       ...i, mode, ltp: 1, ltt: null, timestamp: 0, open: null, high: null, low: null,
 *       close: null, volume: null, last_trade_quantity: null, avg_trade_price: null,
 *       total_buy_quantity: null, total_sell_quantity: null, oi: null, change: null,
 *       change_percent: null, depth: null,
 *     }));
 *     return Promise.resolve({ ok: true as const, ticks, missing: [] });
 *   },
 * };
 * const poller = new Poller(fetcher, { intervalMs: 1000 });
 * const got = Promise.withResolvers<number>();
 * poller.onticks = (ticks) => got.resolve(ticks.length);
 * for (const s of ["A", "B", "C"]) await poller.subscribe("NSE", s, 1, 0);
 * poller.start();
 * assert.equal(await got.promise, 2); // batches of 2: A+B first, then C
 * await poller.stop();
 * ```
 */
export class Poller {
  /** Every REST answer's ticks, at the mode each key is polled at. */
  onticks: ((ticks: Tick[]) => void) | null = null;

  readonly #fetcher: QuoteFetcher;
  readonly #quotes: QuoteCapability | undefined;
  readonly #intervalMs: number;
  readonly #streamed: (exchange: string, symbol: string, mode: Mode) => boolean;
  readonly #spacingMs: number;
  readonly #backoffBaseMs: number;
  readonly #backoffMaxMs: number;
  readonly #keys = new Map<InstrumentKey, PolledInstrument>();
  #running = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #sleepTimer: ReturnType<typeof setTimeout> | undefined;
  /** Earliest time (performance.now) the next request may start. */
  #nextAllowed = 0;
  #backoff = 0;
  #requestTimes: number[] = [];
  #lastWarning = 0;
  readonly #missingSeen = new Set<InstrumentKey>();
  readonly #stats = {
    polled: 0,
    reused: 0,
    requests: 0,
    errors: 0,
    rateLimited: 0,
    ticks: 0,
    missing: 0,
    lastCycleMs: 0,
    lastError: null as string | null,
  };

  constructor(fetcher: QuoteFetcher, options: PollerOptions) {
    this.#fetcher = fetcher;
    this.#quotes = fetcher.capabilities.quotes;
    this.#intervalMs = options.intervalMs;
    this.#streamed = options.streamed ?? (() => false);
    const rps = this.#quotes?.requestsPerSecond ?? 1;
    this.#spacingMs = (1000 / rps) * (1 + (options.safetyMargin ?? 0.05));
    this.#backoffBaseMs = options.backoffBaseMs ?? 1000;
    this.#backoffMaxMs = options.backoffMaxMs ?? 30_000;
  }

  /** True when the broker has a REST quote API (else every poll subscribe fails). */
  get available(): boolean {
    return this.#quotes !== undefined;
  }

  /**
   * Adds a poll subscriber of (exchange, symbol) at `mode`; no streaming slot is used. A new
   * instrument is first resolved by the adapter (no broker call), so an unknown symbol fails with
   * `SYMBOL_NOT_FOUND` as it would on the stream.
   */
  async subscribe(
    exchange: string,
    symbol: string,
    mode: Mode,
    depth: number,
  ): Promise<Outcome<{ depth: number }>> {
    if (this.#quotes === undefined) {
      return {
        ok: false,
        code: "INVALID_ACTION",
        message: `${this.#fetcher.capabilities.broker} has no REST quote API to poll ` +
          `${symbol} on ${exchange}; route this consumer class to "stream"`,
      };
    }
    const key = instrumentKey(exchange, symbol);
    if (!this.#keys.has(key)) {
      const r = await this.#fetcher.quote(mode, [{ exchange, symbol }], true);
      if (!r.ok) return { ok: false, code: r.code, message: r.message };
      if (r.missing.length > 0) {
        return {
          ok: false,
          code: "SYMBOL_NOT_FOUND",
          message: `Symbol not found: ${symbol} on ${exchange}`,
        };
      }
    }
    let p = this.#keys.get(key);
    if (p === undefined) this.#keys.set(key, p = { exchange, symbol, modes: new Map() });
    p.modes.set(mode, (p.modes.get(mode) ?? 0) + 1);
    this.#wake?.();
    return { ok: true, depth: mode === 3 ? this.#depthFor(exchange, depth) : depth };
  }

  /** Removes a poll subscriber; the key stops being polled when its last one leaves. */
  unsubscribe(exchange: string, symbol: string, mode: Mode): Promise<Outcome> {
    const key = instrumentKey(exchange, symbol);
    const p = this.#keys.get(key);
    const n = p?.modes.get(mode);
    if (p === undefined || n === undefined) {
      return Promise.resolve({
        ok: false,
        code: "NOT_SUBSCRIBED",
        message: `Not polling ${symbol} on ${exchange} in mode ${mode}`,
      });
    }
    if (n > 1) p.modes.set(mode, n - 1);
    else p.modes.delete(mode);
    if (p.modes.size === 0) this.#keys.delete(key);
    return Promise.resolve({ ok: true });
  }

  /** Polled instruments with the mode each is fetched at. */
  keys(): { exchange: string; symbol: string; mode: Mode }[] {
    return [...this.#keys.values()].map((p) => ({
      exchange: p.exchange,
      symbol: p.symbol,
      mode: topMode(p),
    }));
  }

  /** Current figures. */
  stats(): PollerStats {
    const now = performance.now();
    this.#requestTimes = this.#requestTimes.filter((t) => now - t < RATE_WINDOW_MS);
    return {
      keys: this.#keys.size,
      ...this.#stats,
      requestsPerSecond: this.#requestTimes.length / (RATE_WINDOW_MS / 1000),
      rateLimit: this.#quotes?.requestsPerSecond ?? 0,
    };
  }

  /** Starts the polling loop (idempotent). */
  start(): void {
    if (this.#running || this.#quotes === undefined) return;
    this.#running = true;
    this.#loop = this.#run().catch((err) => log.error("poll loop failed: {err}", { err }));
  }

  /** Stops the loop; a request in flight is let finish, its answer dropped. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#sleepTimer);
    this.#wake?.();
    await this.#loop;
    this.#loop = null;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      if (this.#keys.size === 0) {
        await this.#sleep(Infinity);
        continue;
      }
      const started = performance.now();
      await this.#cycle();
      if (!this.#running) return;
      // The next cycle starts an interval after this one started (later if the rate forbade).
      const wait = started + this.#intervalMs - performance.now();
      if (wait > 0) await this.#sleep(wait, false);
      this.#stats.lastCycleMs = Math.round(performance.now() - started);
    }
  }

  /** One pass over every polled key not carried by the stream, in broker-sized batches. */
  async #cycle(): Promise<void> {
    const quotes = this.#quotes!;
    const byMode = new Map<Mode, { exchange: string; symbol: string }[]>();
    let reused = 0;
    for (const p of this.#keys.values()) {
      const mode = topMode(p);
      if (this.#streamed(p.exchange, p.symbol, mode)) {
        reused++;
        continue;
      }
      let list = byMode.get(mode);
      if (list === undefined) byMode.set(mode, list = []);
      list.push({ exchange: p.exchange, symbol: p.symbol });
    }
    this.#stats.reused = reused;
    this.#stats.polled = this.#keys.size - reused;
    // Spread the cycle's calls over the interval (never closer than the rate allows), so the
    // broker sees an even pace rather than a burst at the start of every interval.
    let calls = 0;
    for (const [mode, list] of byMode) {
      calls += Math.ceil(list.length / Math.max(1, quotes.maxInstruments[mode]));
    }
    const spread = calls > 0 ? this.#intervalMs / calls : 0;
    for (const [mode, list] of byMode) {
      const size = Math.max(1, quotes.maxInstruments[mode]);
      for (let i = 0; i < list.length; i += size) {
        // Timers may fire a fraction of a millisecond early: re-check until the gate is open.
        for (
          let wait = this.#nextAllowed - performance.now();
          wait > 0 && this.#running;
          wait = this.#nextAllowed - performance.now()
        ) await this.#sleep(Math.ceil(wait), false);
        if (!this.#running) return;
        const batch = list.slice(i, i + size);
        const sent = performance.now();
        this.#nextAllowed = sent + spread;
        this.#requestTimes.push(sent);
        while (sent - this.#requestTimes[0] >= RATE_WINDOW_MS) this.#requestTimes.shift();
        this.#stats.requests++;
        const r = await this.#fetcher.quote(mode, batch);
        // The rate gate counts from the answer (see `safetyMargin`).
        this.#nextAllowed = Math.max(this.#nextAllowed, performance.now() + this.#spacingMs);
        if (!this.#running) return;
        if (!this.#answer(r, mode)) return; // backing off: the rest waits for the next cycle
      }
    }
  }

  /** Handles one answer; false when the poller must back off before the next request. */
  #answer(r: QuoteResult, mode: Mode): boolean {
    if (r.ok) {
      this.#backoff = 0;
      this.#stats.missing += r.missing.length;
      for (const m of r.missing) this.#reportMissing(m.exchange, m.symbol);
      // Keys released while the call was out are not delivered.
      const ticks = r.ticks.filter((t) => {
        const p = this.#keys.get(instrumentKey(t.exchange, t.symbol));
        return p !== undefined && topMode(p) === mode;
      });
      this.#stats.ticks += ticks.length;
      if (ticks.length > 0) {
        try {
          this.onticks?.(ticks);
        } catch (err) {
          log.error("poll tick listener failed: {err}", { err });
        }
      }
      return true;
    }
    this.#stats.errors++;
    this.#stats.lastError = `${r.code}: ${r.message}`;
    if (r.code === "RATE_LIMITED") {
      this.#stats.rateLimited++;
      const wait = r.retryAfterMs ??
        Math.min(this.#backoffMaxMs, this.#backoffBaseMs * 2 ** this.#backoff);
      this.#backoff++;
      this.#nextAllowed = Math.max(this.#nextAllowed, performance.now() + wait);
      this.#warn(`broker rate-limited the quote API (HTTP 429); backing off ${wait} ms`);
      return false;
    }
    this.#warn(`quote call failed: ${r.code} ${r.message}`);
    return true;
  }

  /** An instrument the broker stopped quoting (expired, delisted): said once per instrument. */
  #reportMissing(exchange: string, symbol: string): void {
    const key = instrumentKey(exchange, symbol);
    if (this.#missingSeen.has(key)) return;
    if (this.#missingSeen.size >= 10_000) this.#missingSeen.clear();
    this.#missingSeen.add(key);
    log.warn("poller: the broker's quote API left out {symbol} on {exchange}", {
      symbol,
      exchange,
    });
  }

  #warn(message: string): void {
    const now = Date.now();
    if (now - this.#lastWarning < WARN_EVERY_MS) return;
    this.#lastWarning = now;
    log.warn("poller: {message} ({errors} errors, {limited} rate-limited so far)", {
      message,
      errors: this.#stats.errors,
      limited: this.#stats.rateLimited,
    });
  }

  /** Sleeps `ms` (Infinity: until woken); a new key wakes a sleep that allows it. */
  #sleep(ms: number, wakeable = true): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(this.#sleepTimer);
        this.#sleepTimer = undefined;
        if (this.#wake === done) this.#wake = null;
        resolve();
      };
      // A stop always wakes; a new key only wakes the idle wait (never the rate-limit wait).
      this.#wake = wakeable ? done : () => {
        if (!this.#running) done();
      };
      if (Number.isFinite(ms)) this.#sleepTimer = setTimeout(done, ms);
    });
  }

  #depthFor(exchange: string, depth: number): number {
    const levels = this.#fetcher.capabilities.depthLevels[exchange] ??
      this.#fetcher.capabilities.depthLevels["*"] ?? [5];
    return Math.min(depth, Math.max(...levels));
  }
}

function topMode(p: PolledInstrument): Mode {
  let m: Mode = 1;
  for (const k of p.modes.keys()) if (k > m) m = k;
  return m;
}
