// The MarketDataService's metrics in Prometheus text format, every name prefixed `tickplex_mds_`,
// built from one ServiceSnapshot.

import { FEED_STATES } from "../types.ts";
import { PrometheusText, type Sample } from "../metrics/mod.ts";
import type { ServiceSnapshot } from "./snapshot.ts";
import { PRIORITIES, type SubscriberStats } from "./types.ts";
import { REJECT_REASONS } from "./validate.ts";

/**
 * The metrics text of a snapshot on its own (see {@link writeMetrics}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MarketDataService } from "./service.ts";
 * const registry = { acquire: () => Promise.resolve({ ok: true as const }), release: () => Promise.resolve({ ok: true as const }) };
 * const mds = new MarketDataService({ registry, feed: { status: () => [] } });
 * const text = mds.metricsText(); // metricsText() of the service's snapshot
 * assert.match(text, /^# HELP tickplex_mds_ticks_total /m);
 * assert.match(text, /^# TYPE tickplex_mds_ticks_total counter$/m);
 * assert.match(text, /^tickplex_mds_trade_safe 1$/m);
 * await mds.close();
 * ```
 */
export function metricsText(s: ServiceSnapshot): string {
  const out = new PrometheusText();
  writeMetrics(s, out);
  return out.toString();
}

/**
 * Writes a snapshot's families into `out`: counters, gauges and per-subscriber series, each with
 * HELP and TYPE lines.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MarketDataService } from "./service.ts";
 * const registry = {
 *   acquire: () => Promise.resolve({ ok: true as const }),
 *   release: () => Promise.resolve({ ok: true as const }),
 * };
 * const mds = new MarketDataService({ registry, feed: { status: () => [] } });
 * // The service writes its snapshot with writeMetrics into a PrometheusText for /metrics:
 * const text = mds.metricsText();
 * assert.match(text, /^# HELP tickplex_mds_ticks_total /m);
 * assert.match(text, /^# TYPE tickplex_mds_trade_safe gauge$/m);
 * await mds.close();
 * ```
 */
export function writeMetrics(s: ServiceSnapshot, out: PrometheusText): void {
  const one = (v: number): Sample[] => [[undefined, v]];
  const subs = s.subscribers;
  const conns = s.connections;
  const perSub = (f: (x: SubscriberStats) => number): Sample[] =>
    subs.map((x) => [{ subscriber: x.id, priority: x.priority }, f(x)]);
  out
    .family("tickplex_mds_ticks_total", "counter", "Ticks accepted.", one(s.ingest.ticks))
    .family(
      "tickplex_mds_ticks_rejected_total",
      "counter",
      "Ticks rejected by validation (never cached or delivered).",
      REJECT_REASONS.map((r) => [{ reason: r }, s.ingest.rejected[r]]),
    )
    .family(
      "tickplex_mds_depth_without_ltp_total",
      "counter",
      "Depth ticks without a valid price: depth cached, not delivered.",
      one(s.ingest.depthOnly),
    )
    .family(
      "tickplex_mds_price_jumps_total",
      "counter",
      "Accepted ticks flagged for a price jump beyond maxJumpPercent.",
      one(s.ingest.jumps),
    )
    .family(
      "tickplex_mds_stale_exchange_time_total",
      "counter",
      "Accepted ticks flagged for an exchange timestamp older than maxExchangeAgeMs.",
      one(s.ingest.staleExchangeTime),
    )
    .family(
      "tickplex_mds_cache_entries",
      "gauge",
      "Instruments in the cache.",
      one(s.cache.size),
    )
    .family(
      "tickplex_mds_cache_hits_total",
      "counter",
      "Cache reads that found a value.",
      one(s.cache.hits),
    )
    .family(
      "tickplex_mds_cache_misses_total",
      "counter",
      "Cache reads that found nothing.",
      one(s.cache.misses),
    )
    .family(
      "tickplex_mds_cache_expired_total",
      "counter",
      "Idle cache entries removed.",
      one(s.cache.expired),
    )
    .family(
      "tickplex_mds_ring_entries",
      "gauge",
      "Ticks held in the ring buffers.",
      one(s.ringEntries),
    )
    .family(
      "tickplex_mds_subscribers",
      "gauge",
      "Active subscribers by priority.",
      PRIORITIES.map((pr) => [{ priority: pr }, subs.filter((x) => x.priority === pr).length]),
    )
    .family(
      "tickplex_mds_deliveries_total",
      "counter",
      "Subscriber callback calls.",
      one(s.dispatch.delivered),
    )
    .family(
      "tickplex_mds_callback_errors_total",
      "counter",
      "Subscriber callbacks that threw or rejected.",
      one(s.dispatch.errors),
    )
    .family(
      "tickplex_mds_dropped_total",
      "counter",
      "Updates conflated or evicted from NORMAL/LOW subscriber queues.",
      one(s.dispatch.dropped),
    )
    .family(
      "tickplex_mds_replayed_total",
      "counter",
      "Ticks replayed after a pause.",
      one(s.dispatch.replayed),
    )
    .family(
      "tickplex_mds_subscriber_callback_errors_total",
      "counter",
      "Callback errors per active subscriber.",
      perSub((x) => x.errors),
    )
    .family(
      "tickplex_mds_subscriber_dropped_total",
      "counter",
      "Dropped updates per active subscriber.",
      perSub((x) => x.dropped),
    )
    .family(
      "tickplex_mds_subscriber_queued",
      "gauge",
      "Queued updates per active subscriber.",
      perSub((x) => x.queued),
    )
    .family(
      "tickplex_mds_trade_safe",
      "gauge",
      "1 when trade management is safe, 0 when paused.",
      one(s.safety.safe ? 1 : 0),
    )
    .family(
      "tickplex_mds_pauses_total",
      "counter",
      "Times trade management was paused.",
      one(s.gate.pauses),
    )
    .family(
      "tickplex_mds_stale_events_total",
      "counter",
      "Times the feed was found stale.",
      one(s.gate.staleEvents),
    )
    .family(
      "tickplex_mds_connection_losses_total",
      "counter",
      "Broker connections observed leaving the connected state.",
      one(s.connectionLosses),
    )
    .family(
      "tickplex_mds_reconnects_total",
      "counter",
      "Broker connections observed returning to the connected state.",
      one(s.reconnects),
    )
    .family(
      "tickplex_mds_connections",
      "gauge",
      "Broker connections by state.",
      FEED_STATES.map((st) => [{ state: st }, conns.filter((x) => x.state === st).length]),
    )
    .family(
      "tickplex_mds_last_tick_age_seconds",
      "gauge",
      "Seconds since the last valid tick (absent before the first one).",
      s.lastDataAt === null ? [] : one(Math.max(0, s.now - s.lastDataAt) / 1000),
    );
}
