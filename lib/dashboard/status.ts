// Builds the dashboard's status document from the gateway's parts: pool connections, the safety
// gate, the registry, client count and throughput, plus a short log of gate and connection events.

import type { ConnectionStatus } from "../feed_state.ts";
import type { GateEvent, HealthReport } from "../market_data/mod.ts";
import type { HoldingRow, SubscriptionRow } from "../subscriptions/mod.ts";
import type { BudgetReport } from "../budget/mod.ts";
import { type FeedState, instrumentKey } from "../types.ts";
import type { DashboardStatus, StatusEvent, SubscriptionView } from "./status_types.ts";
import { ThroughputHistory } from "./throughput.ts";

/** What the status needs from the gateway (the `Gateway` satisfies it; tests can fake it). */
export interface StatusSources {
  broker: string;
  userId: string;
  pool: {
    status(): ConnectionStatus[];
    streams(): { exchange: string; symbol: string; connection: number }[];
    readonly counters: { readonly ticksIn: number };
  };
  /** The registry; with `holdings`, rows also say which class and which keys hold them. */
  registry: { list(): SubscriptionRow[]; holdings?(): HoldingRow[] };
  /** The subscription budget, shown as the budget bar. */
  budget?: { report(): BudgetReport };
  proxy: {
    readonly clientCount: number;
    readonly totals: { readonly framesOut: number; readonly ticksOut: number };
  };
  /** The MarketDataService: its health report carries the gate and per-connection ages. */
  marketData: { health(): HealthReport };
}

/** How many events the log keeps. */
export const MAX_EVENTS = 50;

const STATE_LEVEL: Record<FeedState, StatusEvent["level"]> = {
  connected: "ok",
  connecting: "warn",
  reconnecting: "warn",
  stalled: "warn",
  disconnected: "error",
  auth_failed: "error",
  failed: "error",
};

/**
 * Collects the status document and remembers what a one-second poll would miss: throughput
 * history and the recent gate / connection transitions (a worker restart can pause and release
 * the gate within a few hundred milliseconds).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Gateway } from "../gateway.ts";
 * import { ADAPTERS, adapterOptionsFor } from "../../adapters/mod.ts";
 * import { configSchema } from "../config/mod.ts";
 * const gw = await Gateway.start({
 *   config: configSchema.parse({
 *     port: 0, bus: "tcp://127.0.0.1:*", apiKeys: ["a-long-random-client-key"], logLevel: "error",
 *   }),
 *   adapters: ADAPTERS,
 *   adapterOptions: adapterOptionsFor,
 * });
 * const collector = new StatusCollector({ ...gw, broker: "paper", userId: "local" });
 * gw.tickListeners.push(() => collector.sample());
 * gw.statusListeners.push((i, state) => collector.connectionChanged(i, state));
 * gw.marketData.onGateChange((e) => collector.gateChanged(e));
 * const body = collector.snapshot(); // the body of GET /api/v1/status
 * assert.equal(body.broker, "paper");
 * assert.equal(body.connections.length, 1);
 * assert.equal(body.gate.safe, true);
 * await gw.stop();
 * ```
 */
export class StatusCollector {
  readonly throughput: ThroughputHistory;
  #sources: StatusSources;
  #clock: () => number;
  #events: StatusEvent[] = [];

  constructor(
    sources: StatusSources,
    options: { clock?: () => number; throughput?: ThroughputHistory } = {},
  ) {
    this.#sources = sources;
    this.#clock = options.clock ?? Date.now;
    this.throughput = options.throughput ?? new ThroughputHistory();
  }

  /** Offers the counters to the throughput history (cheap; call it on every tick batch). */
  sample(now: number = this.#clock()): void {
    this.throughput.observe(now, {
      ticksIn: this.#sources.pool.counters.ticksIn,
      framesOut: this.#sources.proxy.totals.framesOut,
    });
  }

  /** Records a connection state change (from the gateway's status listeners). */
  connectionChanged(index: number, state: FeedState): void {
    // The pool keeps the last problem as `detail`; it explains only the states that are not up.
    const detail = state === "connected" ? undefined : this.#sources.pool.status()[index]?.detail;
    this.#push({
      at: this.#clock(),
      kind: "connection",
      level: STATE_LEVEL[state] ?? "warn",
      text: `Connection ${index + 1}: ${state.replace("_", " ")}${detail ? ` (${detail})` : ""}`,
    });
  }

  /** Records a safety-gate transition (from `marketData.onGateChange`). */
  gateChanged(e: GateEvent): void {
    let text: string;
    if (!e.safe) text = `Paused: ${e.reason}`;
    else if (e.cause === "no_subscriptions") text = "Safe: nothing subscribed";
    else {
      text = e.pausedForMs === undefined
        ? "Safe again"
        : `Safe again after ${(e.pausedForMs / 1000).toFixed(1)} s`;
    }
    this.#push({ at: e.at, kind: "gate", level: e.safe ? "ok" : "error", text });
  }

  /** Recent events, oldest first (a copy). */
  events(): StatusEvent[] {
    return this.#events.slice();
  }

  /** The `GET /api/v1/status` body. */
  snapshot(): DashboardStatus {
    const now = this.#clock();
    this.sample(now);
    const s = this.#sources;
    const health = s.marketData.health();
    const streaming = new Map<string, number>();
    for (const st of s.pool.streams()) {
      streaming.set(instrumentKey(st.exchange, st.symbol), st.connection);
    }
    const rows: (SubscriptionRow & Partial<HoldingRow>)[] = s.registry.holdings?.() ??
      s.registry.list();
    const subscriptions: SubscriptionView[] = rows.map((r) => ({
      exchange: r.exchange,
      symbol: r.symbol,
      mode: r.mode,
      depth: r.depth,
      consumers: r.consumers,
      connection: streaming.get(instrumentKey(r.exchange, r.symbol)) ?? null,
      ...(r.class !== undefined ? { class: r.class, holders: r.holders } : {}),
    }));
    subscriptions.sort(compareSubscriptions);
    return {
      broker: s.broker,
      user_id: s.userId,
      server_time: now,
      feed_state: health.feed_state,
      connections: health.connections,
      gate: {
        safe: health.safe,
        reason: health.reason,
        data_fresh: health.data_fresh,
        paused_since: health.paused_since,
        pauses: health.counters.pauses,
      },
      events: this.events(),
      clients: s.proxy.clientCount,
      subscriptions,
      throughput: {
        interval_ms: this.throughput.intervalMs,
        window_ms: this.throughput.windowMs,
        samples: this.throughput.samples(),
      },
      totals: {
        ticks_in: s.pool.counters.ticksIn,
        frames_out: s.proxy.totals.framesOut,
        ticks_out: s.proxy.totals.ticksOut,
      },
      ...(s.budget ? { budget: s.budget.report() } : {}),
    };
  }

  #push(e: StatusEvent): void {
    this.#events.push(e);
    if (this.#events.length > MAX_EVENTS) this.#events.splice(0, this.#events.length - MAX_EVENTS);
  }
}

function compareSubscriptions(a: SubscriptionView, b: SubscriptionView): number {
  if (a.exchange !== b.exchange) return a.exchange < b.exchange ? -1 : 1;
  if (a.symbol !== b.symbol) return a.symbol < b.symbol ? -1 : 1;
  return a.mode - b.mode;
}
