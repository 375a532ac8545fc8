// The body of `GET /api/v1/status`: the dashboard's one status document, shared by the server that
// builds it and the page that renders it (so both sides are type-checked against the same shape).

import type { ConnectionReport, FeedState } from "../feed_state.ts";
import type { BudgetReport } from "../budget/mod.ts";

/** The trade-management safety gate of the MarketDataService. */
export interface GateView {
  safe: boolean;
  /** Empty when safe. */
  reason: string;
  data_fresh: boolean;
  paused_since: number | null;
  /** Safe → paused transitions since start. */
  pauses: number;
}

/** A gate transition or connection state change, newest last. */
export interface StatusEvent {
  at: number;
  kind: "gate" | "connection";
  /** `ok` for recoveries, `warn` for transient states, `error` for losses and pauses. */
  level: "ok" | "warn" | "error";
  text: string;
}

/** One (exchange, symbol, mode) key of the subscription registry. */
export interface SubscriptionView {
  exchange: string;
  symbol: string;
  mode: 1 | 2 | 3;
  depth: number;
  consumers: number;
  /** 1-based connection that streams the instrument, null while it is not streaming. */
  connection: number | null;
  /** The class the instrument's streaming slot is charged to (the highest class holding it). */
  class?: string;
  /** Names of the API keys (and in-process owners) holding the key: which key holds what. */
  holders?: string[];
}

/** Rates over one sampling interval ending at `t`. */
export interface ThroughputSample {
  t: number;
  /** Ticks per second received from the broker adapters. */
  ticks_in: number;
  /** Frames per second written to WebSocket clients (all clients together). */
  frames_out: number;
}

/** The whole status document. */
export interface DashboardStatus {
  broker: string;
  user_id: string;
  server_time: number;
  feed_state: FeedState;
  connections: ConnectionReport[];
  gate: GateView;
  events: StatusEvent[];
  clients: number;
  subscriptions: SubscriptionView[];
  throughput: { interval_ms: number; window_ms: number; samples: ThroughputSample[] };
  totals: { ticks_in: number; frames_out: number; ticks_out: number };
  /** The subscription budget (`GET /api/v1/budget`), when the gateway enforces one. */
  budget?: BudgetReport;
}
