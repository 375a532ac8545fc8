// Who receives a tick: the MarketDataService's active subscribers indexed by instrument, with the
// dispatch order per instrument memoised until the next subscriber change.

import { InstrumentMap } from "../instrument_map.ts";
import type { Subscriber } from "./subscriber.ts";
import { PRIORITIES, type Priority, type SubscriberStats } from "./types.ts";

const EMPTY_ROUTE: readonly Subscriber[] = [];

/** Dispatch order: priority first, then subscription order. */
export function byPriority(a: Subscriber, b: Subscriber): number {
  return a.rank - b.rank || a.seq - b.seq;
}

/**
 * The active subscribers: those filtering on instruments, indexed by instrument, and those
 * receiving every tick ("wildcards").
 *
 * @example
 * ```ts ignore
 * const routes = new SubscriberRoutes();
 * routes.add(sub);
 * routes.route("NSE", "RELIANCE"); // [sub] when it watches RELIANCE or every instrument
 * ```
 */
export class SubscriberRoutes {
  #subs = new Set<Subscriber>();
  #bySymbol = new InstrumentMap<Set<Subscriber>>();
  #wildcards = new Set<Subscriber>();
  /** Memoised dispatch order per instrument; cleared on any subscriber change. */
  #routes = new InstrumentMap<readonly Subscriber[]>();
  #symbolSubscribers = 0;

  /** Active subscribers. */
  get size(): number {
    return this.#subs.size;
  }

  /** Active subscribers with an instrument filter (they hold registry subscriptions). */
  get symbolSubscribers(): number {
    return this.#symbolSubscribers;
  }

  /** Whether a subscriber without an instrument filter exists. */
  get hasWildcards(): boolean {
    return this.#wildcards.size > 0;
  }

  /** Whether any subscriber watches this instrument specifically. */
  watches(exchange: string, symbol: string): boolean {
    return this.#bySymbol.get(exchange, symbol) !== undefined;
  }

  /** Every active subscriber, in no particular order. */
  all(): Subscriber[] {
    return [...this.#subs];
  }

  /** Every active subscriber, highest priority first. */
  sorted(): Subscriber[] {
    return [...this.#subs].sort(byPriority);
  }

  /** Counters of every active subscriber, highest priority first. */
  stats(): SubscriberStats[] {
    return this.sorted().map((s) => s.stats());
  }

  /** Active subscribers per priority. */
  countByPriority(): Record<Priority, number> {
    const out = Object.fromEntries(PRIORITIES.map((p) => [p, 0])) as Record<Priority, number>;
    for (const s of this.#subs) out[s.priority]++;
    return out;
  }

  /** Adds a subscriber to dispatch. */
  add(sub: Subscriber): void {
    this.#subs.add(sub);
    if (sub.symbols) {
      for (const i of sub.symbols) {
        let set = this.#bySymbol.get(i.exchange, i.symbol);
        if (!set) this.#bySymbol.set(i.exchange, i.symbol, set = new Set());
        set.add(sub);
      }
      this.#symbolSubscribers++;
    } else {
      this.#wildcards.add(sub);
    }
    this.#routes.clear();
  }

  /** Removes a subscriber from dispatch; false when it was not active. */
  delete(sub: Subscriber): boolean {
    if (!this.#subs.delete(sub)) return false;
    if (sub.symbols) {
      for (const i of sub.symbols) {
        const set = this.#bySymbol.get(i.exchange, i.symbol);
        set?.delete(sub);
        if (set?.size === 0) this.#bySymbol.delete(i.exchange, i.symbol);
      }
      this.#symbolSubscribers--;
    } else {
      this.#wildcards.delete(sub);
    }
    this.#routes.clear();
    return true;
  }

  /** The subscribers of an instrument's ticks, in dispatch order (memoised). */
  route(exchange: string, symbol: string): readonly Subscriber[] {
    const memo = this.#routes.get(exchange, symbol);
    if (memo) return memo;
    const own = this.#bySymbol.get(exchange, symbol);
    if (!own && this.#wildcards.size === 0) return EMPTY_ROUTE;
    const route = [...(own ?? []), ...this.#wildcards].sort(byPriority);
    this.#routes.set(exchange, symbol, route);
    return route;
  }
}
