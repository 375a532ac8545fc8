// Test fixtures for lib/market_data: tick builders, a recording fake registry, a scriptable fake
// feed (pool status) and a manual clock. Not part of the public API.

import type { ConnectionStatus } from "../feed_state.ts";
import type { Consumer } from "../subscriptions/mod.ts";
import {
  baseTick,
  type FeedState,
  type Mode,
  type Outcome,
  subscriptionKey,
  type Tick,
} from "../types.ts";
import { MarketDataService } from "./service.ts";
import type { MarketDataRegistry, MarketDataServiceOptions } from "./types.ts";

/** A tick with every optional field null; override what the test cares about. */
export function tick(over: Partial<Tick> & { symbol?: string } = {}): Tick {
  return { ...baseTick("NSE", "RELIANCE", 1, 100, null, 0), ...over };
}

/** A manually advanced clock. */
export class ManualClock {
  now: number;
  constructor(start = 1_700_000_000_000) {
    this.now = start;
  }
  readonly read = (): number => this.now;
  advance(ms: number): number {
    return this.now += ms;
  }
}

/** One recorded registry call. */
export interface RegistryCall {
  op: "acquire" | "release";
  consumer: Consumer;
  exchange: string;
  symbol: string;
  mode: Mode;
  depth?: number;
}

/** A registry that records calls and answers ok unless told to refuse a symbol. */
export class FakeRegistry implements MarketDataRegistry {
  calls: RegistryCall[] = [];
  refuse = new Set<string>();
  held = new Map<string, number>();

  acquire(
    consumer: Consumer,
    exchange: string,
    symbol: string,
    mode: Mode,
    depth: number,
  ): Promise<Outcome> {
    this.calls.push({ op: "acquire", consumer, exchange, symbol, mode, depth });
    if (this.refuse.has(symbol)) {
      return Promise.resolve({
        ok: false,
        code: "SYMBOL_NOT_FOUND",
        message: `${symbol} not found`,
      });
    }
    const k = subscriptionKey(exchange, symbol, mode);
    this.held.set(k, (this.held.get(k) ?? 0) + 1);
    return Promise.resolve({ ok: true });
  }

  release(consumer: Consumer, exchange: string, symbol: string, mode: Mode): Promise<Outcome> {
    this.calls.push({ op: "release", consumer, exchange, symbol, mode });
    const k = subscriptionKey(exchange, symbol, mode);
    const n = this.held.get(k) ?? 0;
    if (n <= 1) this.held.delete(k);
    else this.held.set(k, n - 1);
    return Promise.resolve({ ok: true });
  }

  count(op: "acquire" | "release"): number {
    return this.calls.filter((c) => c.op === op).length;
  }
}

/** A pool status source the test scripts. */
export class FakeFeed {
  connections: ConnectionStatus[];
  constructor(states: FeedState[] = ["connected"], symbols = 0) {
    this.connections = states.map((state, index) => ({
      index,
      state,
      symbols,
      capacity: 1000,
      restarts: 0,
      reconnects: 0,
      lastTickAt: null,
      ticks: 0,
    }));
  }
  status(): ConnectionStatus[] {
    return this.connections.map((c) => ({ ...c }));
  }
  set(index: number, state: FeedState): void {
    this.connections[index].state = state;
  }
}

/** A service over fakes, with a manual clock. */
export function makeService(
  over: Partial<MarketDataServiceOptions> = {},
  feed: FakeFeed = new FakeFeed(),
): {
  service: MarketDataService;
  registry: FakeRegistry;
  feed: FakeFeed;
  clock: ManualClock;
  /** A tick stamped with the clock's current time. */
  fresh: (over?: Partial<Tick>) => Tick;
} {
  const registry = new FakeRegistry();
  const clock = new ManualClock();
  const service = new MarketDataService({ registry, feed, clock: clock.read, ...over });
  const fresh = (o: Partial<Tick> = {}) => tick({ timestamp: clock.now, ...o });
  return { service, registry, feed, clock, fresh };
}

/** Resolves after `ms` of real time. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
