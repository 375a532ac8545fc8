// One read of the MarketDataService's state and counters, taken by the service and turned into the
// health report and the metrics text by pure functions (so both always show the same figures).

import type { ConnectionStatus } from "../feed_state.ts";
import type { GateCounters } from "./gate.ts";
import type { DispatchCounters } from "./subscriber.ts";
import type { SubscriberStats, TradeSafety } from "./types.ts";
import type { RejectReason } from "./validate.ts";

/** Counters of tick validation and ingest. */
export interface IngestCounters {
  /** Ticks accepted. */
  ticks: number;
  /** Ticks rejected, per reason. */
  rejected: Record<RejectReason, number>;
  /** Depth ticks without a valid price (depth cached, not delivered). */
  depthOnly: number;
  /** Accepted ticks flagged for a price jump. */
  jumps: number;
  /** Accepted ticks flagged for an old exchange timestamp. */
  staleExchangeTime: number;
}

/** Everything the health report and the metrics show, read at one instant. */
export interface ServiceSnapshot {
  /** When it was taken (service clock, epoch ms). */
  now: number;
  /** When the service was created. */
  startedAt: number;
  /** The pool's connections, as assessed. */
  connections: readonly ConnectionStatus[];
  /** The gate's answer. */
  safety: TradeSafety;
  /** When the current pause began, or null. */
  pausedSince: number | null;
  /** Gate transition counters. */
  gate: GateCounters;
  /** Connections observed leaving the connected state. */
  connectionLosses: number;
  /** Connections observed returning to the connected state. */
  reconnects: number;
  /** Whether valid data arrived within `staleAfterMs`. */
  dataFresh: boolean;
  /** Receive time of the latest valid data, or null. */
  lastDataAt: number | null;
  /** Cache size and counters. */
  cache: { size: number; hits: number; misses: number; expired: number };
  /** Ticks held in the ring buffers. */
  ringEntries: number;
  /** Active subscribers, highest priority first. */
  subscribers: readonly SubscriberStats[];
  /** Validation counters. */
  ingest: IngestCounters;
  /** Delivery totals across all subscribers ever. */
  dispatch: DispatchCounters;
}
