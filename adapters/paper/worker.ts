// The paper adapter's Web Worker: streams simulated ticks for this connection's subscriptions at
// the configured rate and plays scripted faults (failed requests, stalls, crashes) for tests.

import {
  accepted,
  type AdapterHandlers,
  type AdapterOutput,
  capacityReached,
  type FaultKind,
  isIndexExchange,
  type ItemResult,
  notSubscribed,
  type QuoteResult,
  rejected,
  runAdapter,
  type StreamItem,
} from "../../lib/adapter/mod.ts";
import { type InstrumentKey, instrumentKey, type Mode, type Tick } from "../../lib/types.ts";
import {
  buildUniverse,
  mix32,
  PAPER_DEPTH_LEVELS,
  PaperMarket,
  type PaperOptions,
  parsePaperOptions,
  Prng,
} from "./mod.ts";
import { TickPacer } from "./pacer.ts";

type RequestKind = "subscribe" | "unsubscribe" | "set_mode";

interface Stream {
  readonly key: InstrumentKey;
  readonly exchange: string;
  readonly symbol: string;
  mode: Mode;
}

interface Instrument {
  exchange: string;
  symbol: string;
}

/** The simulated broker connection. */
class PaperConnection implements AdapterHandlers {
  #out: AdapterOutput | null = null;
  #options: PaperOptions | null = null;
  #market: PaperMarket | null = null;
  readonly #streams = new Map<InstrumentKey, Stream>();
  /** Which streams tick when; times are performance.now() ms. */
  #pacer = new TickPacer<InstrumentKey>({ ticksPerSecond: 1, random: Math.random });
  readonly #failNext: Record<RequestKind, boolean> = {
    subscribe: false,
    unsubscribe: false,
    set_mode: false,
  };
  #timer: ReturnType<typeof setTimeout> | undefined;
  #nextAt = 0;
  #stalled = false;
  #stallTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /** When the last quote calls were taken (performance.now), for the simulated rate limit. */
  #quoteTimes: number[] = [];
  /** Quote calls answered with data. */
  quoteRequests = 0;

  init(connection: number, options: unknown, out: AdapterOutput): void {
    const opts = parsePaperOptions(options);
    this.#out = out;
    this.#options = opts;
    out.status("connecting");
    const seed = opts.seed ?? crypto.getRandomValues(new Uint32Array(1))[0];
    const universe = buildUniverse({
      now: opts.now ?? Date.now(),
      extraSymbols: opts.extraSymbols,
    });
    this.#market = new PaperMarket({ seed, universe });
    const phase = new Prng(mix32(seed ^ mix32(connection + 1)));
    this.#pacer = new TickPacer({
      ticksPerSecond: opts.ticksPerSecond,
      totalRate: opts.totalRate,
      random: () => phase.next(),
    });
    out.log(
      "info",
      `paper connection ${connection}: ${universe.size} instruments, seed ${seed}, ` +
        (opts.totalRate !== undefined
          ? `${opts.totalRate} ticks/s in total`
          : `${opts.ticksPerSecond} ticks/s per symbol`),
    );
    out.status("connected");
  }

  subscribe(items: StreamItem[]): Promise<ItemResult[]> {
    const market = this.#market!;
    if (this.#takeFailure("subscribe")) return Promise.resolve(items.map(simulatedFailure));
    const max = this.#options!.maxSymbolsPerConnection;
    const results = items.map((item): ItemResult => {
      const inst = market.universe.get(item.exchange, item.symbol);
      if (inst === undefined) {
        return rejected(
          item,
          "SYMBOL_NOT_FOUND",
          `Symbol not found: ${item.symbol} on ${item.exchange}`,
        );
      }
      let s = this.#streams.get(inst.key);
      if (s !== undefined) {
        s.mode = item.mode;
      } else if (this.#streams.size >= max) {
        return capacityReached(item, max, "paper");
      } else {
        s = { key: inst.key, exchange: inst.exchange, symbol: inst.symbol, mode: item.mode };
        this.#streams.set(s.key, s);
      }
      this.#pacer.add(s.key);
      return acceptedItem(item);
    });
    this.#startTimer();
    return Promise.resolve(results);
  }

  unsubscribe(items: Instrument[]): Promise<ItemResult[]> {
    if (this.#takeFailure("unsubscribe")) return Promise.resolve(items.map(simulatedFailure));
    const results = items.map((item): ItemResult => {
      const s = this.#streams.get(instrumentKey(item.exchange, item.symbol));
      if (s === undefined) return notSubscribed(item);
      this.#streams.delete(s.key);
      this.#pacer.remove(s.key);
      return { exchange: item.exchange, symbol: item.symbol, ok: true };
    });
    if (this.#streams.size === 0) this.#stopTimer();
    return Promise.resolve(results);
  }

  setMode(items: StreamItem[]): Promise<ItemResult[]> {
    if (this.#takeFailure("set_mode")) return Promise.resolve(items.map(simulatedFailure));
    const results = items.map((item): ItemResult => {
      const s = this.#streams.get(instrumentKey(item.exchange, item.symbol));
      if (s === undefined) return notSubscribed(item);
      s.mode = item.mode;
      // Like a broker's snapshot after a mode change: the richer fields show up at once.
      this.#pacer.touch(s.key);
      return acceptedItem(item);
    });
    this.#startTimer();
    return Promise.resolve(results);
  }

  /**
   * The simulated REST quote API: a tick per listed instrument from the market state now, at most
   * `quoteBatchSize` per call and `quoteRequestsPerSecond` calls in any second (then "rate
   * limited", as a broker's HTTP 429). Streams are untouched: quoting takes no slot.
   */
  quote(mode: Mode, items: Instrument[], check = false): Promise<QuoteResult> {
    const market = this.#market!;
    const o = this.#options!;
    if (check) {
      const missing = items.filter((i) => market.universe.get(i.exchange, i.symbol) === undefined)
        .map((i) => ({ exchange: i.exchange, symbol: i.symbol }));
      return Promise.resolve({ ok: true, ticks: [], missing });
    }
    const t = performance.now();
    this.#quoteTimes = this.#quoteTimes.filter((q) => t - q < 1000);
    if (this.#quoteTimes.length >= o.quoteRequestsPerSecond) {
      const retryAfterMs = Math.ceil(1000 - (t - this.#quoteTimes[0]));
      return Promise.resolve({
        ok: false,
        code: "RATE_LIMITED",
        message: `paper quote API: more than ${o.quoteRequestsPerSecond} requests per second`,
        retryAfterMs,
      });
    }
    this.#quoteTimes.push(t);
    this.quoteRequests++;
    if (items.length > o.quoteBatchSize) {
      return Promise.resolve({
        ok: false,
        code: "INVALID_PARAMETERS",
        message: `paper quote API: at most ${o.quoteBatchSize} instruments per request`,
      });
    }
    const now = Date.now();
    const ticks: Tick[] = [];
    const missing: Instrument[] = [];
    for (const item of items) {
      const inst = market.universe.get(item.exchange, item.symbol);
      if (inst === undefined) missing.push({ exchange: item.exchange, symbol: item.symbol });
      else ticks.push(market.nextTick(inst.exchange, inst.symbol, mode, now));
    }
    return Promise.resolve({ ok: true, ticks, missing });
  }

  token(_accessToken: string): void {
    // The paper market needs no credentials.
  }

  fault(kind: FaultKind): void {
    switch (kind) {
      case "fail_next_subscribe":
        this.#failNext.subscribe = true;
        return;
      case "fail_next_unsubscribe":
        this.#failNext.unsubscribe = true;
        return;
      case "fail_next_set_mode":
        this.#failNext.set_mode = true;
        return;
      case "stall": {
        if (this.#stalled) return;
        this.#stalled = true;
        this.#stopTimer();
        const after = this.#options?.stallAfterMs ?? 0;
        this.#stallTimer = setTimeout(() => {
          this.#stallTimer = undefined;
          this.#out?.status("stalled", `no ticks for ${after} ms (simulated stall)`);
        }, after);
        return;
      }
      case "resume":
        clearTimeout(this.#stallTimer);
        this.#stallTimer = undefined;
        if (this.#stalled) {
          this.#stalled = false;
          this.#pacer.touchAll();
        }
        this.#out?.status("connected");
        this.#startTimer();
        return;
      case "crash":
        // An uncaught error outside the message handler kills the worker, as a real bug would.
        setTimeout(() => {
          throw new Error("paper: simulated crash");
        }, 0);
        return;
    }
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#stopTimer();
    clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
    return Promise.resolve();
  }

  #takeFailure(kind: RequestKind): boolean {
    const fail = this.#failNext[kind];
    this.#failNext[kind] = false;
    return fail;
  }

  #startTimer(): void {
    if (this.#timer !== undefined || this.#stalled || this.#closed || this.#streams.size === 0) {
      return;
    }
    const t = performance.now();
    // Rates restart from now: nothing is owed for the time the timer was off.
    this.#nextAt = t;
    this.#pacer.restart(t);
    this.#timer = setTimeout(this.#onTimer, 0);
  }

  #stopTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    if (this.#closed || this.#stalled || this.#streams.size === 0) return;
    const t = performance.now();
    this.#emit(t);
    const interval = this.#options!.intervalMs;
    this.#nextAt += interval;
    // Overran a whole interval: skip ahead. How many ticks are due comes from elapsed time, so
    // skipped wake-ups cost no ticks.
    if (this.#nextAt <= t) this.#nextAt = t + interval;
    this.#timer = setTimeout(this.#onTimer, Math.max(0, this.#nextAt - performance.now()));
  };

  /** Emits, as one batch, every tick due at monotonic time `t`. */
  #emit(t: number): void {
    const market = this.#market!;
    const now = Date.now();
    const batch: Tick[] = [];
    for (const key of this.#pacer.due(t)) {
      const s = this.#streams.get(key)!;
      batch.push(market.nextTick(s.exchange, s.symbol, s.mode, now));
    }
    this.#out!.ticks(batch);
  }
}

function simulatedFailure(item: Instrument): ItemResult {
  return rejected(item, "BROKER_ERROR", "simulated broker failure");
}

runAdapter(new PaperConnection());

/** A successful result: depth falls back to what the paper market has (5 levels), 0 for indices. */
function acceptedItem(item: StreamItem): ItemResult {
  return accepted(
    item,
    isIndexExchange(item.exchange) ? 0 : Math.min(item.depth, PAPER_DEPTH_LEVELS),
  );
}
