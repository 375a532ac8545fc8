// The streaming-slot ledger: which class each streamed instrument is charged to, the trading
// reserve, least-recently-used display slots for pre-emption and per-holder quotas. Synchronous,
// so concurrent subscribes are admitted (or refused) one at a time without a lock.

import { CONSUMER_CLASSES, type ConsumerClass, reservedSlots } from "./classes.ts";
import { type InstrumentKey, instrumentKey } from "../types.ts";

/**
 * Who a streaming key is held for: a named API key (every client that authenticated with it) or
 * an in-process owner (a MarketDataService subscriber, a capture, the candle feed).
 */
export interface BudgetHolder {
  /** Shown in `/api/v1/budget`, logs and the dashboard; never the key itself. */
  readonly name: string;
  readonly consumerClass: ConsumerClass;
  /** Distinct instruments this holder may hold across all its consumers (none: no quota). */
  readonly quota?: number;
  readonly kind: "api_key" | "in_process";
}

/** The holder of consumers that name none: class trading, as before classes existed. */
export const DEFAULT_HOLDER: BudgetHolder = {
  name: "unnamed",
  consumerClass: "trading",
  kind: "in_process",
};

/** Ledger settings: the pool's capacity and the `budget` config. */
export interface LedgerOptions {
  /** Streaming slots of the broker login: connections × symbols per connection. */
  capacity: number;
  /** `budget.reserveTrading`: slots, or `"NN%"` of capacity. */
  reserveTrading: number | string;
  /** `budget.preemptDisplay`. */
  preemptDisplay: boolean;
  /**
   * How the capacity comes about, for the full-pool message (the pool's own wording, so clients
   * see one message): e.g. `2 connections × 2 symbols = 4 symbols`. Default `<capacity> symbols`.
   */
  capacityText?: string;
}

/** One streamed instrument as the ledger sees it. */
export interface Slot {
  readonly exchange: string;
  readonly symbol: string;
  /** The highest class holding it (the class it was admitted for while nobody holds it yet). */
  charged: ConsumerClass;
  /** (consumer, mode) holdings per class, in {@link CONSUMER_CLASSES} order. */
  readonly holdings: number[];
  /** Ledger sequence of the last subscribe to it (any consumer, any mode): the LRU order. */
  lastUsed: number;
  /** Admitted, upstream subscribe not confirmed yet. */
  pending: boolean;
  /** Chosen as a pre-emption victim; not chosen twice, and not counted as free until freed. */
  evicting: boolean;
}

/** What {@link BudgetLedger.admit} decided about a new slot. */
export type Admission =
  | {
    ok: true; /** A display slot to evict first (pre-emption); the new slot is pending. */
    victim?: Slot;
  }
  | { ok: false; message: string };

/** Slot counts of the ledger (the `/api/v1/budget` figures that come from the registry). */
export interface LedgerReport {
  capacity: number;
  /** Slots only `trading` may take. */
  reserved: number;
  /** Slots in use (streamed or being subscribed). */
  used: number;
  free: number;
  /** Slots charged to each class. */
  classes: Record<ConsumerClass, number>;
  /** Every API key, and every in-process owner holding anything: distinct instruments held. */
  holders: {
    name: string;
    class: ConsumerClass;
    kind: BudgetHolder["kind"];
    held: number;
    quota: number | null;
  }[];
  preemptDisplay: boolean;
  /** Display slots evicted for trading since start. */
  preempted: number;
  /** New slots refused since start, by the class that asked. */
  refused: Record<ConsumerClass, number>;
}

const RANK: Readonly<Record<ConsumerClass, number>> = {
  trading: 0,
  monitoring: 1,
  display: 2,
  capture: 3,
};

function zeroByClass(): Record<ConsumerClass, number> {
  return { trading: 0, monitoring: 0, display: 0, capture: 0 };
}

/**
 * The ledger. Rules: a class other than `trading` may take a new slot only while its slots plus
 * `max(reserved, trading slots)` stay within capacity, so `trading` always finds `reserved` slots
 * for itself; `trading` may take any free slot, and with `preemptDisplay` evicts the least recently
 * subscribed display slot when none is free. A slot held by several classes is charged once, to
 * the highest.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const ledger = new BudgetLedger({ capacity: 4, reserveTrading: "50%", preemptDisplay: false });
 * assert.equal(ledger.admit("NSE", "A", "display").ok, true);
 * assert.equal(ledger.admit("NSE", "B", "display").ok, true);
 * const third = ledger.admit("NSE", "C", "display"); // the other two are reserved
 * assert.ok(!third.ok && third.message.includes("reserved for trading"));
 * assert.equal(ledger.admit("NSE", "C", "trading").ok, true);
 * assert.deepEqual(ledger.report().classes, { trading: 1, monitoring: 0, display: 2, capture: 0 });
 * ```
 */
export class BudgetLedger {
  readonly capacity: number;
  readonly reserved: number;
  readonly preemptDisplay: boolean;
  readonly #reserveSetting: number | string;
  readonly #capacityText: string;
  #slots = new Map<InstrumentKey, Slot>();
  #charged = zeroByClass();
  #refused = zeroByClass();
  #preempted = 0;
  #seq = 0;
  /** holder name → instrument → (consumer, mode) holdings and claims in flight. */
  #held = new Map<string, { holder: BudgetHolder; keys: Map<InstrumentKey, number> }>();

  constructor(opts: LedgerOptions) {
    this.capacity = opts.capacity;
    this.reserved = reservedSlots(opts.reserveTrading, opts.capacity);
    this.preemptDisplay = opts.preemptDisplay;
    this.#reserveSetting = opts.reserveTrading;
    this.#capacityText = opts.capacityText ?? `${opts.capacity} symbols`;
  }

  /** Slots in use, pending ones included. */
  get used(): number {
    return this.#slots.size;
  }

  /** The slot of an instrument, if it is streamed or being subscribed. */
  slot(exchange: string, symbol: string): Slot | undefined {
    return this.#slots.get(instrumentKey(exchange, symbol));
  }

  /**
   * Decides whether `cls` may take a new slot for (exchange, symbol). On success the slot is
   * pending (counted at once, so racing subscribes cannot overfill); confirm with {@link confirm}
   * or give back with {@link free}.
   */
  admit(exchange: string, symbol: string, cls: ConsumerClass): Admission {
    const ik = instrumentKey(exchange, symbol);
    const total = this.#slots.size;
    const trading = this.#charged.trading;
    let victim: Slot | undefined;
    if (cls === "trading") {
      if (total >= this.capacity) {
        victim = this.preemptDisplay ? this.nextVictim() : undefined;
        if (!victim) {
          this.#refused.trading++;
          return { ok: false, message: this.#fullMessage() };
        }
      }
    } else if (total - trading + 1 > this.capacity - Math.max(this.reserved, trading)) {
      this.#refused[cls]++;
      return {
        ok: false,
        message: total >= this.capacity || this.reserved <= trading
          ? this.#fullMessage()
          : `Maximum capacity reached for class ${cls}: ${this.reserved} of ${this.capacity} ` +
            `streaming slots are reserved for trading (budget.reserveTrading = ` +
            `${JSON.stringify(this.#reserveSetting)}) and the other ` +
            `${this.capacity - this.reserved} are in use.`,
      };
    }
    const slot: Slot = {
      exchange,
      symbol,
      charged: cls,
      holdings: [0, 0, 0, 0],
      lastUsed: ++this.#seq,
      pending: true,
      evicting: false,
    };
    this.#slots.set(ik, slot);
    this.#charged[cls]++;
    return victim ? { ok: true, victim } : { ok: true };
  }

  #fullMessage(): string {
    return `Maximum capacity reached: ${this.#capacityText}. ` +
      `Currently subscribed to ${this.#slots.size} symbols.` +
      (this.reserved > 0 ? ` ${this.reserved} of them are reserved for trading.` : "") +
      (this.preemptDisplay ? " No display symbol can be pre-empted." : "");
  }

  /**
   * The least recently subscribed display slot that is streaming and not already being evicted,
   * marked as evicting; undefined when there is none.
   */
  nextVictim(): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.#slots.values()) {
      if (s.charged !== "display" || s.pending || s.evicting) continue;
      if (!best || s.lastUsed < best.lastUsed) best = s;
    }
    if (best) best.evicting = true;
    return best;
  }

  /** A pre-emption did not happen (a higher class took the victim meanwhile): unmark it. */
  spare(slot: Slot): void {
    slot.evicting = false;
  }

  /** Counts one completed pre-emption. */
  countPreempted(): void {
    this.#preempted++;
  }

  /** The upstream subscribe of a pending slot succeeded. */
  confirm(exchange: string, symbol: string): void {
    const s = this.#slots.get(instrumentKey(exchange, symbol));
    if (s) s.pending = false;
  }

  /** The instrument is no longer streamed (released upstream, or its subscribe failed). */
  free(exchange: string, symbol: string): void {
    const ik = instrumentKey(exchange, symbol);
    const s = this.#slots.get(ik);
    if (!s) return;
    this.#slots.delete(ik);
    this.#charged[s.charged]--;
  }

  /** A subscribe touched the instrument: it becomes the most recently used. */
  touch(exchange: string, symbol: string): void {
    const s = this.#slots.get(instrumentKey(exchange, symbol));
    if (s) s.lastUsed = ++this.#seq;
  }

  /**
   * A consumer of class `cls` started (`+1`) or stopped (`-1`) holding a mode of the instrument;
   * the slot is re-charged to the highest class still holding it.
   */
  hold(exchange: string, symbol: string, cls: ConsumerClass, delta: 1 | -1): void {
    const s = this.#slots.get(instrumentKey(exchange, symbol));
    if (!s) return;
    s.holdings[RANK[cls]] = Math.max(0, s.holdings[RANK[cls]] + delta);
    const top = s.holdings.findIndex((n) => n > 0);
    // Nobody holds it (being released, or an orphan the broker still streams): keep the charge.
    if (top < 0) return;
    const charged = CONSUMER_CLASSES[top];
    if (charged === s.charged) return;
    this.#charged[s.charged]--;
    this.#charged[charged]++;
    s.charged = charged;
  }

  /**
   * Claims one (consumer, mode) holding of the instrument for `holder`, refusing with a message
   * when the instrument is new to the holder and its quota is used up. Undo with {@link unclaim}.
   */
  claim(holder: BudgetHolder, exchange: string, symbol: string): string | null {
    const ik = instrumentKey(exchange, symbol);
    let h = this.#held.get(holder.name);
    if (!h) this.#held.set(holder.name, h = { holder, keys: new Map() });
    const n = h.keys.get(ik) ?? 0;
    if (n === 0 && holder.quota !== undefined && h.keys.size >= holder.quota) {
      return `Quota reached for API key '${holder.name}' (${holder.consumerClass}): it may hold ` +
        `${holder.quota} streaming symbols across its clients and holds ${h.keys.size}; ` +
        `unsubscribe one first.`;
    }
    h.keys.set(ik, n + 1);
    return null;
  }

  /** Gives back a holding taken by {@link claim}. */
  unclaim(holder: BudgetHolder, exchange: string, symbol: string): void {
    const h = this.#held.get(holder.name);
    if (!h) return;
    const ik = instrumentKey(exchange, symbol);
    const n = (h.keys.get(ik) ?? 0) - 1;
    if (n > 0) h.keys.set(ik, n);
    else h.keys.delete(ik);
  }

  /** Distinct instruments a holder holds. */
  heldBy(name: string): number {
    return this.#held.get(name)?.keys.size ?? 0;
  }

  /** The figures, consistent with each other at one instant. */
  report(): LedgerReport {
    const holders: LedgerReport["holders"] = [];
    for (const { holder, keys } of this.#held.values()) {
      // Configured API keys are always listed; in-process owners while they hold something.
      if (keys.size === 0 && holder.kind !== "api_key") continue;
      holders.push({
        name: holder.name,
        class: holder.consumerClass,
        kind: holder.kind,
        held: keys.size,
        quota: holder.quota ?? null,
      });
    }
    holders.sort((a, b) => RANK[a.class] - RANK[b.class] || a.name.localeCompare(b.name));
    return {
      capacity: this.capacity,
      reserved: this.reserved,
      used: this.#slots.size,
      free: Math.max(0, this.capacity - this.#slots.size),
      classes: { ...this.#charged },
      holders,
      preemptDisplay: this.preemptDisplay,
      preempted: this.#preempted,
      refused: { ...this.#refused },
    };
  }

  /** Registers a holder so it is listed (with its quota) before it holds anything. */
  register(holder: BudgetHolder): void {
    if (!this.#held.has(holder.name)) this.#held.set(holder.name, { holder, keys: new Map() });
  }
}
