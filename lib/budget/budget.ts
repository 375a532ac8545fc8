// The subscription budget as the rest of the gateway sees it: the ledger the registry enforces,
// the poller's figures, and the one report behind `/api/v1/budget`, /metrics, `get_broker_info`,
// `/api/v1/status` and the dashboard's budget bar.

import type { PrometheusText } from "../metrics/mod.ts";
import {
  type BudgetConfig,
  budgetSchema,
  CONSUMER_CLASSES,
  type ConsumerClass,
  type DataRoute,
} from "./classes.ts";
import { type BudgetHolder, BudgetLedger } from "./ledger.ts";

/** What the poller reports: keys served from the broker's REST quote API, and its request rate. */
export interface PollStats {
  /** Distinct (exchange, symbol) polled (not streamed) right now. */
  keys: number;
  /** REST quote requests per second, averaged over the poller's recent window. */
  requestsPerSecond: number;
}

/** Supplies {@link PollStats}; the poller registers one with {@link SubscriptionBudget.setPollStats}. */
export type PollStatsProvider = () => PollStats;

/** One class in the report. */
export interface BudgetClassView {
  /** Streaming slots charged to the class (a slot held by several classes counts for the highest). */
  slots: number;
  /** New slots refused to the class since start. */
  refused_total: number;
  /** How the routing table serves the class. */
  route: DataRoute;
}

/** One holder (API key or in-process owner) in the report; never the key itself. */
export interface BudgetKeyView {
  name: string;
  class: ConsumerClass;
  kind: BudgetHolder["kind"];
  /** Distinct instruments its consumers hold (shared ones included). */
  held: number;
  quota: number | null;
}

/** The body of `GET /api/v1/budget`. */
export interface BudgetReport {
  /** Streaming slots of the broker login (connections × symbols per connection). */
  capacity: number;
  /** Slots only `trading` may take. */
  reserved: number;
  /** `budget.reserveTrading` as configured (slots or a percentage). */
  reserve_setting: number | string;
  /** Slots in use (streamed, or being subscribed). */
  used: number;
  free: number;
  classes: Record<ConsumerClass, BudgetClassView>;
  keys: BudgetKeyView[];
  preempt_display: boolean;
  /** Display slots evicted for trading since start. */
  preempted_total: number;
  /** Keys served by polling (no streaming slot) and the REST request rate; 0 without a poller. */
  poll: { keys: number; requests_per_second: number; interval_ms: number };
}

/**
 * The budget: built once by the gateway from the `budget` config and the pool's capacity; the
 * registry enforces its {@link ledger}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const budget = new SubscriptionBudget({ reserveTrading: "25%" }, 100);
 * budget.setPollStats(() => ({ keys: 40, requestsPerSecond: 0.5 }));
 * const r = budget.report();
 * assert.deepEqual([r.capacity, r.reserved, r.used, r.poll.keys], [100, 25, 0, 40]);
 * ```
 */
export class SubscriptionBudget {
  readonly config: BudgetConfig;
  readonly ledger: BudgetLedger;
  #poll: PollStatsProvider | null = null;

  /**
   * `config` is the `budget` section (defaults filled in); `capacity` the pool's slots, or its
   * connections × symbols per connection (so a full pool is reported in the pool's words).
   */
  constructor(
    config: Partial<BudgetConfig>,
    capacity: number | { connections: number; symbolsPerConnection: number },
  ) {
    this.config = budgetSchema.parse(config);
    const slots = typeof capacity === "number"
      ? capacity
      : capacity.connections * capacity.symbolsPerConnection;
    this.ledger = new BudgetLedger({
      capacity: slots,
      reserveTrading: this.config.reserveTrading,
      preemptDisplay: this.config.preemptDisplay,
      ...(typeof capacity === "number" ? {} : {
        capacityText: `${capacity.connections} connections × ` +
          `${capacity.symbolsPerConnection} symbols = ${slots} symbols`,
      }),
    });
  }

  /** The route the routing table gives a class (or the option chain). */
  routeFor(feature: ConsumerClass | "optionChain"): DataRoute {
    return this.config.routing[feature];
  }

  /** Registers (or, with null, removes) the poller's figures. */
  setPollStats(provider: PollStatsProvider | null): void {
    this.#poll = provider;
  }

  /** The poller's figures; zero when there is no poller. */
  pollStats(): PollStats {
    return this.#poll?.() ?? { keys: 0, requestsPerSecond: 0 };
  }

  /** The figures, as `/api/v1/budget` answers them. */
  report(): BudgetReport {
    const l = this.ledger.report();
    const poll = this.pollStats();
    const classes = {} as Record<ConsumerClass, BudgetClassView>;
    for (const c of CONSUMER_CLASSES) {
      classes[c] = { slots: l.classes[c], refused_total: l.refused[c], route: this.routeFor(c) };
    }
    return {
      capacity: l.capacity,
      reserved: l.reserved,
      reserve_setting: this.config.reserveTrading,
      used: l.used,
      free: l.free,
      classes,
      keys: l.holders,
      preempt_display: l.preemptDisplay,
      preempted_total: l.preempted,
      poll: {
        keys: poll.keys,
        requests_per_second: poll.requestsPerSecond,
        interval_ms: this.config.pollIntervalMs,
      },
    };
  }

  /** Writes the same figures into /metrics. */
  writeMetrics(out: PrometheusText): void {
    const r = this.report();
    out
      .one(
        "tickplex_budget_capacity_slots",
        "gauge",
        "Streaming slots of the broker login (connections x symbols per connection).",
        r.capacity,
      )
      .one(
        "tickplex_budget_reserved_slots",
        "gauge",
        "Streaming slots reserved for the trading class.",
        r.reserved,
      )
      .family(
        "tickplex_budget_used_slots",
        "gauge",
        "Streaming slots in use, by the class each is charged to (the highest holding it).",
        CONSUMER_CLASSES.map((c) => [{ class: c }, r.classes[c].slots]),
      )
      .family(
        "tickplex_budget_refused_total",
        "counter",
        "New streaming slots refused, by the class that asked.",
        CONSUMER_CLASSES.map((c) => [{ class: c }, r.classes[c].refused_total]),
      )
      .one(
        "tickplex_budget_preempted_total",
        "counter",
        "Display keys evicted so a trading consumer could stream.",
        r.preempted_total,
      )
      .family(
        "tickplex_budget_key_held",
        "gauge",
        "Distinct instruments held, by API key (or in-process owner) name.",
        r.keys.map((k) => [{ key: k.name, class: k.class }, k.held]),
      )
      .family(
        "tickplex_budget_key_quota",
        "gauge",
        "Instruments an API key may hold, for keys with a quota.",
        r.keys.filter((k) => k.quota !== null).map((k) => [{ key: k.name }, k.quota!]),
      )
      .one(
        "tickplex_budget_polled_keys",
        "gauge",
        "Instruments served from the broker's REST quote API (no streaming slot).",
        r.poll.keys,
      )
      .one(
        "tickplex_budget_poll_requests_per_second",
        "gauge",
        "REST quote requests per second made by the poller.",
        r.poll.requests_per_second,
      );
  }
}
