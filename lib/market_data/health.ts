// The body of `GET /api/v1/health`, built from one ServiceSnapshot.

import { connectionReport, overallState } from "../feed_state.ts";
import type { ServiceSnapshot } from "./snapshot.ts";
import { type HealthReport, PRIORITIES, type Priority } from "./types.ts";

/**
 * The health report of a snapshot: gate state, every connection with its age, data freshness,
 * subscriber counts and the monotonic counters (the same values as the metrics).
 *
 * @example
 * ```ts ignore
 * const body = healthReport(snapshot);
 * body.feed_state; // "connected" when every connection is
 * ```
 */
export function healthReport(s: ServiceSnapshot): HealthReport {
  const { now } = s;
  const byPriority = Object.fromEntries(PRIORITIES.map((p) => [p, 0])) as Record<Priority, number>;
  for (const sub of s.subscribers) byPriority[sub.priority]++;
  return {
    status: s.safety.safe ? "ok" : "paused",
    safe: s.safety.safe,
    reason: s.safety.reason,
    feed_state: overallState(s.connections),
    connections: s.connections.map((c) => connectionReport(c, now)),
    data_fresh: s.dataFresh,
    last_tick_at: s.lastDataAt,
    last_tick_age_ms: s.lastDataAt === null ? null : Math.max(0, now - s.lastDataAt),
    paused_since: s.pausedSince,
    cache_entries: s.cache.size,
    ring_entries: s.ringEntries,
    subscribers: { ...byPriority, total: s.subscribers.length },
    counters: {
      ticks: s.ingest.ticks,
      ticks_rejected: sum(Object.values(s.ingest.rejected)),
      depth_without_ltp: s.ingest.depthOnly,
      price_jumps: s.ingest.jumps,
      stale_exchange_time: s.ingest.staleExchangeTime,
      cache_hits: s.cache.hits,
      cache_misses: s.cache.misses,
      cache_expired: s.cache.expired,
      deliveries: s.dispatch.delivered,
      callback_errors: s.dispatch.errors,
      dropped: s.dispatch.dropped,
      replayed: s.dispatch.replayed,
      pauses: s.gate.pauses,
      stale_events: s.gate.staleEvents,
      connection_losses: s.connectionLosses,
      reconnects: s.reconnects,
    },
    uptime_ms: now - s.startedAt,
  };
}

function sum(xs: number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
