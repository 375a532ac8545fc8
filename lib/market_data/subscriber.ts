// One priority subscriber of the MarketDataService. CRITICAL and HIGH callbacks are called inline;
// NORMAL and LOW ones get their own bounded, per-instrument conflating queue drained on later event
// loop turns, so a slow or async callback only ever delays itself.

import { setImmediate } from "node:timers";
import { getLogger } from "../log.ts";
import type { Consumer, Revocation } from "../subscriptions/mod.ts";
import type { ConsumerClass } from "../budget/mod.ts";
import { instrumentKey, type Mode } from "../types.ts";
import type {
  Instrument,
  MarketDataCallback,
  MarketDataUpdate,
  Priority,
  SubscriberStats,
  SubscriptionKind,
} from "./types.ts";

const log = getLogger(["tickplex", "market_data"]);

/** Totals across subscribers, kept by the service so they survive unsubscribes. */
export interface DispatchCounters {
  delivered: number;
  errors: number;
  dropped: number;
  replayed: number;
}

/** Construction parameters of a {@link Subscriber}. */
export interface SubscriberInit {
  id: string;
  seq: number;
  name: string;
  priority: Priority;
  kind: SubscriptionKind;
  symbols: Instrument[] | null;
  callback: MarketDataCallback;
  hold: boolean;
  replay: boolean;
  queueLimit: number;
  replayLimit: number;
  totals: DispatchCounters;
  /** Its class in the subscription budget (default `trading`). */
  consumerClass?: ConsumerClass;
  /** Told when the registry takes an instrument away (pre-emption). */
  onRevoked?: (revocation: Revocation) => void;
}

const RANK: Readonly<Record<Priority, number>> = { CRITICAL: 0, HIGH: 1, NORMAL: 2, LOW: 3 };
const KIND_MIN_MODE: Readonly<Record<SubscriptionKind, Mode>> = {
  ltp: 1,
  quote: 2,
  depth: 3,
  all: 1,
};

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === "object" && v !== null &&
    typeof (v as PromiseLike<unknown>).then === "function";
}

/**
 * A subscriber: its filter, its callback, its queue and its counters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { baseTick } from "../types.ts";
 * import { projectTick } from "../project.ts";
 * const got: number[] = [];
 * const called = Promise.withResolvers<void>();
 * const s = new Subscriber({
 *   id: "s1", seq: 1, name: "dashboard", priority: "LOW", kind: "ltp", symbols: null,
 *   callback: (u) => { got.push(u.data.ltp); called.resolve(); },
 *   hold: false, replay: false, queueLimit: 100, replayLimit: 100,
 *   totals: { delivered: 0, errors: 0, dropped: 0, replayed: 0 },
 * });
 * const update = (ltp: number) => {
 *   const tick = baseTick("NSE", "TCS", 1, ltp, null, 1);
 *   return { exchange: "NSE", symbol: "TCS", mode: 1 as const, tick, data: projectTick(tick, 1), flags: {}, replay: false, snapshot: false };
 * };
 * s.offer(update(1)); // queued; the callback runs on a later turn
 * s.offer(update(2)); // the same instrument: replaces the queued tick
 * assert.deepEqual(got, []);
 * await called.promise;
 * assert.deepEqual(got, [2]);
 * assert.equal(s.stats().dropped, 1);
 * await s.close(1000);
 * ```
 */
export class Subscriber {
  readonly id: string;
  readonly seq: number;
  readonly name: string;
  readonly priority: Priority;
  /** 0 = CRITICAL … 3 = LOW. */
  readonly rank: number;
  readonly kind: SubscriptionKind;
  /** Lowest tick mode this subscriber receives. */
  readonly minMode: Mode;
  readonly symbols: Instrument[] | null;
  readonly hold: boolean;
  readonly replay: boolean;
  /** Called inline (CRITICAL/HIGH) rather than queued. */
  readonly inline: boolean;
  /** The registry identity; it has no `deliver`: the service dispatches from `onTicks`. */
  readonly consumer: Consumer;

  delivered = 0;
  errors = 0;
  dropped = 0;
  replayed = 0;
  /** Set when the subscriber skipped a tick because the gate was paused. */
  heldBack = false;

  #callback: MarketDataCallback;
  #queueLimit: number;
  #replayLimit: number;
  #totals: DispatchCounters;
  /** Latest pending update per instrument (conflation). */
  #live = new Map<string, MarketDataUpdate>();
  #replayQueue: MarketDataUpdate[] = [];
  #draining: Promise<void> | null = null;
  #active = false;
  #closed = false;
  #errorLogged = false;

  constructor(init: SubscriberInit) {
    this.id = init.id;
    this.seq = init.seq;
    this.name = init.name;
    this.priority = init.priority;
    this.rank = RANK[init.priority];
    this.kind = init.kind;
    this.minMode = KIND_MIN_MODE[init.kind];
    this.symbols = init.symbols;
    this.hold = init.hold;
    this.replay = init.replay;
    this.inline = this.rank <= 1;
    const onRevoked = init.onRevoked;
    this.consumer = {
      id: init.id,
      holder: {
        name: `service:${init.name}`,
        consumerClass: init.consumerClass ?? "trading",
        kind: "in_process",
      },
      revoke: (r) => {
        log.warn("subscriber {name}: {message}", { name: init.name, message: r.message });
        onRevoked?.(r);
      },
    };
    this.#callback = init.callback;
    this.#queueLimit = init.queueLimit;
    this.#replayLimit = init.replayLimit;
    this.#totals = init.totals;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Delivers a live update: inline for CRITICAL/HIGH, queued for NORMAL/LOW. `key` is the
   * instrument key, for conflation; the dispatcher builds it once per tick.
   */
  offer(
    update: MarketDataUpdate,
    key: string = instrumentKey(update.exchange, update.symbol),
  ): void {
    if (this.#closed) return;
    if (this.inline) {
      this.#call(update);
      return;
    }
    if (this.#live.has(key)) {
      // Conflate: the newer tick replaces the pending one, keeping its place in the queue.
      this.#drop();
    } else if (this.#live.size >= this.#queueLimit) {
      const oldest = this.#live.keys().next().value as string;
      this.#live.delete(oldest);
      this.#drop();
    }
    this.#live.set(key, update);
    this.#kick();
  }

  /** Delivers missed updates (oldest first, at most `replayLimit`) before any live one. */
  offerReplay(updates: MarketDataUpdate[]): void {
    if (this.#closed || updates.length === 0) return;
    const batch = updates.length > this.#replayLimit
      ? updates.slice(updates.length - this.#replayLimit)
      : updates;
    this.replayed += batch.length;
    this.#totals.replayed += batch.length;
    if (this.inline) {
      for (const u of batch) this.#call(u);
      return;
    }
    this.#replayQueue.push(...batch);
    const excess = this.#replayQueue.length - this.#replayLimit;
    if (excess > 0) {
      this.#replayQueue.splice(0, excess);
      this.dropped += excess;
      this.#totals.dropped += excess;
    }
    this.#kick();
  }

  /** Resolves when the queue is empty and no callback is running. */
  async idle(): Promise<void> {
    while (this.#active && this.#draining) await this.#draining;
  }

  /**
   * Stops delivery: nothing new is called after this. Waits up to `waitMs` for a callback that is
   * already running (an async callback cannot be interrupted).
   */
  async close(waitMs: number): Promise<void> {
    this.#closed = true;
    this.#live.clear();
    this.#replayQueue = [];
    const running = this.#draining;
    if (!this.#active || !running) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        log.warn("subscriber {name}: callback still running after {ms} ms at close", {
          name: this.name,
          ms: waitMs,
        });
        resolve();
      }, waitMs);
    });
    try {
      await Promise.race([running, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Allows the next callback error to be logged (called once per monitor interval). */
  resetLogWindow(): void {
    this.#errorLogged = false;
  }

  /** This subscriber's counters. */
  stats(): SubscriberStats {
    return {
      id: this.id,
      name: this.name,
      priority: this.priority,
      kind: this.kind,
      symbols: this.symbols?.length ?? 0,
      delivered: this.delivered,
      errors: this.errors,
      dropped: this.dropped,
      replayed: this.replayed,
      queued: this.#live.size + this.#replayQueue.length,
    };
  }

  #call(update: MarketDataUpdate): void {
    this.delivered++;
    this.#totals.delivered++;
    try {
      const r = this.#callback(update);
      // Never awaited inline: a CRITICAL callback's promise must not hold anyone up.
      if (isThenable(r)) r.then(undefined, (err) => this.#fail(err));
    } catch (err) {
      this.#fail(err);
    }
  }

  #drop(): void {
    this.dropped++;
    this.#totals.dropped++;
  }

  #fail(err: unknown): void {
    this.errors++;
    this.#totals.errors++;
    if (this.#errorLogged) return;
    this.#errorLogged = true;
    log.error("subscriber {name} ({priority}) callback failed: {err}", {
      name: this.name,
      priority: this.priority,
      err,
    });
  }

  #take(): MarketDataUpdate | undefined {
    if (this.#replayQueue.length > 0) return this.#replayQueue.shift();
    const first = this.#live.entries().next();
    if (first.done) return undefined;
    this.#live.delete(first.value[0]);
    return first.value[1];
  }

  #kick(): void {
    if (this.#active) return;
    this.#active = true;
    this.#draining = this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      // Start on a later turn so the tick batch that queued this finishes first.
      await nextTurn();
      while (!this.#closed) {
        const u = this.#take();
        // `#active` drops in the same synchronous step that saw the queue empty, so an offer can
        // never land in a queue nobody drains.
        if (!u) return;
        this.delivered++;
        this.#totals.delivered++;
        try {
          const r = this.#callback(u);
          if (isThenable(r)) await r;
        } catch (err) {
          this.#fail(err);
        }
        // Yield between callbacks so a long queue of synchronous callbacks cannot hog the loop.
        await nextTurn();
      }
    } finally {
      this.#active = false;
    }
  }
}
