// An edge gateway (`--upstream nats://…`): serves its own clients on its own port from the primary's
// NATS bus, with the same registry and proxy as the gateway; no broker login, no native code.

import { getLogger } from "./log.ts";
import type { Config } from "./config/mod.ts";
import { SubscriptionRegistry } from "./subscriptions/mod.ts";
import { SubscriptionBudget } from "./budget/mod.ts";
import { clientAuth, type HttpRoutes, ProxyServer, readTls } from "./proxy/mod.ts";
import { connectNats, NatsUpstream, type PrimaryInfo } from "./nats/mod.ts";
import type { NatsConnection } from "@nats-io/transport-node";
import type { PrometheusText } from "./metrics/mod.ts";

const log = getLogger(["tickplex", "edge"]);

/** Slots of an edge's budget: more than any broker login streams, so only quotas bind here. */
const EDGE_NOMINAL_SLOTS = 1_000_000;

/** How to start an edge. */
export interface EdgeOptions {
  /** The configuration; `nats` names the primary's NATS servers. */
  config: Config;
  /** `TICKPLEX_API_KEY`, accepted as an API key when set. */
  envApiKey?: string | null;
  /** Gives up waiting for a primary (e.g. on SIGTERM before one answered). */
  signal?: AbortSignal;
}

/**
 * A running edge gateway: {@link NatsUpstream} → {@link SubscriptionRegistry} → {@link ProxyServer}.
 * Its registry counts its own clients; the primary counts this edge as one consumer per key.

 * Started by `tickplex --upstream nats://host:4222` (see docs/nats.md); a primary must be running
 * (`tickplex --bus nats://host:4222`) for it to come up.
 */
export class EdgeGateway {
  readonly registry: SubscriptionRegistry;
  readonly proxy: ProxyServer;
  readonly upstream: NatsUpstream;
  readonly connection: NatsConnection;
  readonly config: Config;
  /** Where the generated API key lives, when one was generated or loaded from the key file. */
  readonly keyFile: string | null;
  #stopReaping: () => void;
  #stopping: Promise<void> | null = null;

  private constructor(parts: {
    registry: SubscriptionRegistry;
    proxy: ProxyServer;
    upstream: NatsUpstream;
    connection: NatsConnection;
    config: Config;
    keyFile: string | null;
  }) {
    this.registry = parts.registry;
    this.proxy = parts.proxy;
    this.upstream = parts.upstream;
    this.connection = parts.connection;
    this.config = parts.config;
    this.keyFile = parts.keyFile;
    this.#stopReaping = this.registry.reapEvery(5000);
  }

  /**
   * Connects to NATS, waits until a primary answers (it names the broker the edge serves), then
   * listens. On failure, closes what was started and throws.
   */
  static async start(opts: EdgeOptions): Promise<EdgeGateway> {
    const { config } = opts;
    const nats = config.nats;
    if (nats === undefined) throw new Error("nats.servers: an edge needs the primary's NATS");
    const { auth, keyFile, credentials } = await clientAuth(config, opts.envApiKey);
    const connection = await connectNats(nats, "tickplex-edge");
    const upstream = new NatsUpstream(connection, {
      prefix: nats.subjectPrefix,
      leaseMs: nats.leaseMs,
      requestTimeoutMs: nats.requestTimeoutMs,
      stream: nats.jetstream?.stream ?? null,
    });
    let primary: PrimaryInfo;
    try {
      primary = await upstream.start(500, opts.signal);
    } catch (err) {
      await upstream.close();
      await connection.close();
      throw err;
    }
    // The edge's own budget enforces its API keys' quotas across its clients; its capacity is
    // nominal, as the broker's slots are counted (and refused) at the primary.
    const budget = new SubscriptionBudget(config.budget, EDGE_NOMINAL_SLOTS);
    for (const c of credentials) budget.ledger.register(c.holder);
    const registry = new SubscriptionRegistry(upstream, budget.ledger);
    let proxy: ProxyServer;
    try {
      const tls = await readTls(config.tls);
      proxy = await ProxyServer.start({
        host: config.host,
        port: config.port,
        reusePort: config.reusePort,
        ...tls,
      }, {
        allowedOrigins: config.allowedOrigins,
        registry,
        auth,
        limits: config.limits,
        broker: primary.broker,
        userId: primary.userId,
        supportedBrokers: [primary.broker],
        feedStatus: () => [{
          index: 0,
          state: upstream.state,
          symbols: upstream.keys,
          capacity: EDGE_NOMINAL_SLOTS,
          restarts: 0,
          reconnects: upstream.counters.reconnects,
          lastTickAt: upstream.lastTickAt,
          ticks: upstream.counters.received,
          detail: `edge of primary session ${upstream.primary?.session ?? "?"}`,
        }],
        metrics: (out) => edge?.writeMetrics(out),
        ticksPerMode: true,
      });
    } catch (err) {
      await upstream.close();
      await connection.close();
      throw err;
    }
    const edge: EdgeGateway = new EdgeGateway({
      registry,
      proxy,
      upstream,
      connection,
      config,
      keyFile,
    });
    upstream.onticks = (ticks) => proxy.onTicks(ticks);
    log.info("edge {id} serving broker {broker} from NATS {server}", {
      id: upstream.edgeId,
      broker: primary.broker,
      server: connection.getServer(),
    });
    return edge;
  }

  /** What the primary said in its latest renew reply. */
  get primary(): PrimaryInfo {
    return this.upstream.primary!;
  }

  /** The HTTP route table of the edge's port. */
  get routes(): HttpRoutes {
    return this.proxy.routes;
  }

  /** The edge's families in /metrics (besides the proxy's). */
  writeMetrics(out: PrometheusText): void {
    const c = this.upstream.counters;
    out
      .one("tickplex_edge_ticks_in_total", "counter", "Envelopes received from NATS.", c.received)
      .one(
        "tickplex_edge_ticks_rejected_total",
        "counter",
        "Envelopes from NATS that failed validation.",
        c.invalid,
      )
      .one(
        "tickplex_edge_renew_failures_total",
        "counter",
        "Lease renewals the primary did not answer.",
        c.renewFailures,
      )
      .one("tickplex_edge_upstream_keys", "gauge", "Keys held at the primary.", this.upstream.keys)
      .one(
        "tickplex_edge_gaps_total",
        "counter",
        "Sequence gaps seen on a key (ticks lost between the primary and this edge).",
        c.gaps,
      )
      .one(
        "tickplex_edge_recovered_total",
        "counter",
        "Missed ticks fetched back from the JetStream stream.",
        c.recovered,
      );
  }

  /**
   * Graceful shutdown: clients get close 1001 and their keys are released at the primary, then the
   * NATS connection drains.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#stopReaping();
      await this.proxy.close();
      await this.upstream.close();
      await this.connection.drain().catch(() => this.connection.close());
      log.info("edge stopped");
    })();
    return this.#stopping;
  }
}
