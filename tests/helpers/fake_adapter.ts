// An in-process adapter link for pool and registry tests: records what the "broker" streams,
// answers requests, and fails calls on demand — no worker, no timers.

import type { PoolLink } from "../../lib/pool/mod.ts";
import type { ItemResult, ToWorker } from "../../lib/adapter/messages.ts";
import { type Capabilities, instrumentKey, type Mode, type Tick } from "../../lib/types.ts";

/** Capabilities for tests: a small broker so capacity is easy to hit. */
export function testCapabilities(perConnection = 2, connections = 2): Capabilities {
  return {
    broker: "fake",
    hosts: [],
    readPaths: [],
    maxSymbolsPerConnection: perConnection,
    maxConnections: connections,
    maxTokensPerFrame: 100,
    depthLevels: { "*": [5] },
  };
}

/** One fake broker connection. */
export class FakeLink implements PoolLink {
  onmessage: ((data: unknown) => void) | null = null;
  onerror: ((reason: string) => void) | null = null;
  /** What the fake broker streams on this connection: "EX:SYM" → mode. */
  readonly streams = new Map<string, Mode>();
  /** Every request received, in order. */
  readonly calls: { type: string; items: { exchange: string; symbol: string; mode?: Mode }[] }[] =
    [];
  /** Ops that fail on their next call. */
  readonly failNext = new Set<"subscribe" | "unsubscribe" | "set_mode">();
  readonly known: Set<string> | null;
  terminated = false;
  /** When set, `init` fails with this (auth: credentials rejected) instead of becoming ready. */
  initFailure: { auth: boolean; message: string } | null = null;

  constructor(readonly index: number, known: Set<string> | null = null) {
    this.known = known;
  }

  send(m: ToWorker): void {
    if (this.terminated) return;
    queueMicrotask(() => this.#handle(m));
  }

  #reply(data: unknown): void {
    if (!this.terminated) this.onmessage?.(data);
  }

  #handle(m: ToWorker): void {
    switch (m.type) {
      case "init":
        if (this.initFailure !== null) {
          this.#reply({ type: "init_failed", ...this.initFailure });
          return;
        }
        this.#reply({ type: "status", state: "connected" });
        this.#reply({ type: "ready" });
        return;
      case "token":
        this.tokens.push(m.accessToken);
        return;
      case "subscribe":
      case "unsubscribe":
      case "set_mode": {
        this.calls.push({ type: m.type, items: m.items });
        const fail = this.failNext.has(m.type);
        this.failNext.delete(m.type);
        const results: ItemResult[] = m.items.map((i) => {
          const k = instrumentKey(i.exchange, i.symbol);
          if (fail) {
            return { ...base(i), ok: false, code: "BROKER_ERROR", message: "injected failure" };
          }
          if (m.type === "subscribe") {
            if (this.known && !this.known.has(k)) {
              return {
                ...base(i),
                ok: false,
                code: "SYMBOL_NOT_FOUND",
                message: `Symbol not found: ${i.symbol} on ${i.exchange}`,
              };
            }
            this.streams.set(k, (i as { mode: Mode }).mode);
            return { ...base(i), ok: true, depth: 5 };
          }
          if (!this.streams.has(k)) {
            return { ...base(i), ok: false, code: "NOT_SUBSCRIBED", message: "not streaming" };
          }
          if (m.type === "unsubscribe") this.streams.delete(k);
          else this.streams.set(k, (i as { mode: Mode }).mode);
          return { ...base(i), ok: true, depth: 5 };
        });
        this.#reply({ type: "ack", id: m.id, results });
        return;
      }
      default:
        return;
    }
  }

  /** Emits ticks as a worker would. */
  emit(ticks: Tick[]): void {
    this.#reply({ type: "ticks", ticks });
  }

  /** Tokens received. */
  readonly tokens: string[] = [];

  /** Reports a state as the worker's session would. */
  status(state: string, detail?: string): void {
    this.#reply({ type: "status", state, detail });
  }

  /** Simulates a crash. */
  crash(): void {
    this.terminated = true;
    this.onerror?.("injected crash");
  }

  terminate(): void {
    this.terminated = true;
  }
}

function base(i: { exchange: string; symbol: string }) {
  return { exchange: i.exchange, symbol: i.symbol };
}

/** A factory that records every link it creates. */
export function fakeFactory(known: Set<string> | null = null): {
  links: FakeLink[];
  factory: (index: number) => FakeLink;
} {
  const links: FakeLink[] = [];
  return {
    links,
    factory: (index) => {
      const l = new FakeLink(index, known);
      links.push(l);
      return l;
    },
  };
}

/** A minimal valid tick. */
export function makeTick(exchange: string, symbol: string, mode: Mode, ltp = 100): Tick {
  return {
    exchange,
    symbol,
    mode,
    ltp,
    ltt: Date.now(),
    timestamp: Date.now(),
    open: mode >= 2 ? 99 : null,
    high: mode >= 2 ? 101 : null,
    low: mode >= 2 ? 98 : null,
    close: mode >= 2 ? 97 : null,
    volume: mode >= 2 ? 1000 : null,
    last_trade_quantity: mode >= 2 ? 10 : null,
    avg_trade_price: mode >= 2 ? 99.5 : null,
    total_buy_quantity: mode >= 2 ? 500 : null,
    total_sell_quantity: mode >= 2 ? 400 : null,
    oi: null,
    change: mode >= 2 ? ltp - 97 : null,
    change_percent: mode >= 2 ? Math.round(((ltp - 97) / 97) * 10000) / 100 : null,
    depth: mode === 3
      ? {
        buy: [{ price: ltp - 0.05, quantity: 10, orders: 1 }],
        sell: [{ price: ltp + 0.05, quantity: 12, orders: 2 }],
      }
      : null,
  };
}
