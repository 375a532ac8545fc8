// Wires the components into a running gateway: adapter workers → pool → (market data service,
// proxy fan-out, bus), with the registry on the control path, and shuts them down in order.

import { getLogger } from "./log.ts";
import type { Config } from "./config/mod.ts";
import { SubscriptionBudget } from "./budget/mod.ts";
import type { BrokerDescriptor } from "./adapter/mod.ts";
import { ConnectionPool, type LinkFactory, workerLinkFactory } from "./pool/mod.ts";
import { SubscriptionRegistry } from "./subscriptions/mod.ts";
import { Poller, type QuoteSource, RegistryQuoteSource, RoutedRegistry } from "./poll/mod.ts";
import { clientAuth, HttpRoutes, ProxyServer, readTls } from "./proxy/mod.ts";
import { BusPublisher, BusSnapshotServer, defaultSnapshotAddress } from "./bus/mod.ts";
import type { Clock, Tick } from "./types.ts";
import type { MetricsSource, PrometheusText, Sample } from "./metrics/mod.ts";
import { MARKET_DATA_PATHS, MarketDataService } from "./market_data/mod.ts";
import { installDashboard } from "./dashboard/mod.ts";
import { installCapture } from "./capture/mod.ts";
import { installHistory } from "./history/mod.ts";
import { addSecret } from "./log.ts";
import type { LeaseHost, NatsBus } from "./nats/mod.ts";
import type { NatsConnection } from "@nats-io/transport-node";

/** The NATS side of a primary gateway: the bus publisher and the edges' leases on one connection. */
export interface GatewayNats {
  readonly connection: NatsConnection;
  readonly bus: NatsBus;
  readonly leases: LeaseHost;
}

const log = getLogger(["tickplex", "gateway"]);

function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/** How to start a gateway. */
export interface GatewayOptions {
  config: Config;
  /** `TICKPLEX_API_KEY`, accepted as an API key when set (no key file is written then). */
  envApiKey?: string | null;
  /** Adapters by broker name. */
  adapters: Record<string, BrokerDescriptor>;
  /** Turns the broker config into the adapter's worker options. */
  adapterOptions: (config: Config) => unknown;
  /** Test hook: replaces the worker factory. */
  linkFactory?: LinkFactory;
  /** Pool tuning for tests (restart backoff, timeouts). */
  poolTuning?: { restartBaseMs?: number; requestTimeoutMs?: number; readyTimeoutMs?: number };
  /** Test hook: the market data service's clock (default `Date.now`). */
  marketDataClock?: Clock;
  /**
   * Test hook: the clock that closes candle bars (the candle feed's and the history endpoint's
   * "now"), e.g. a replayed day's time; default `Date.now`.
   */
  candleClock?: Clock;
}

/**
 * A running gateway.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ADAPTERS, adapterOptionsFor } from "../adapters/mod.ts";
 * import { configSchema } from "./config/mod.ts";
 * // The paper market on free ports; `deno task start` runs the same with your config.
 * const gw = await Gateway.start({
 *   config: configSchema.parse({
 *     port: 0, bus: "tcp://127.0.0.1:*", apiKeys: ["a-long-random-client-key"], logLevel: "error",
 *   }),
 *   adapters: ADAPTERS,
 *   adapterOptions: adapterOptionsFor,
 * });
 * const health = await (await fetch(`http://127.0.0.1:${gw.proxy.addr.port}/health`)).json();
 * assert.equal(health.broker, "paper");
 * await gw.stop();
 * ```
 */
export class Gateway {
  readonly pool: ConnectionPool;
  readonly registry: SubscriptionRegistry;
  /**
   * The subscription budget: classes, the trading reserve, pre-emption, quotas. A poller reports
   * its figures with `budget.setPollStats`.
   */
  readonly budget: SubscriptionBudget;
  /** Subscriptions routed to `poll`: served by the poller from the broker's REST quote API. */
  readonly pollRegistry: SubscriptionRegistry;
  /** Fetches the poll registry's keys within the broker's quote rate limit. */
  readonly poller: Poller;
  /** Stream-or-poll latest ticks for in-process features (the option chain). */
  readonly quoteSource: QuoteSource;
  readonly proxy: ProxyServer;
  readonly bus: BusPublisher;
  /** Answers bus readers' snapshot requests (docs/bus.md), beside the bus. */
  readonly busSnapshot: BusSnapshotServer;
  /** NATS (`--bus nats://…`): ticks published there too, and edges served; null without it. */
  readonly nats: GatewayNats | null;
  /** The in-process market data service (cache, priority callbacks, safety gate). */
  readonly marketData: MarketDataService;
  readonly config: Config;
  /** Where the generated API key lives, when one was generated or loaded from the key file. */
  readonly keyFile: string | null;
  /** Extra tick listeners (market data service, recorder, ...), called before the fan-out. */
  readonly tickListeners: ((ticks: Tick[]) => void)[] = [];
  #stopReaping: () => void;
  #stopping: Promise<void> | null = null;
  #closeHistory: () => Promise<void> = () => Promise.resolve();

  private constructor(
    parts: {
      pool: ConnectionPool;
      registry: SubscriptionRegistry;
      budget: SubscriptionBudget;
      pollRegistry: SubscriptionRegistry;
      poller: Poller;
      proxy: ProxyServer;
      bus: BusPublisher;
      busSnapshot: BusSnapshotServer;
      nats: GatewayNats | null;
      marketData: MarketDataService;
      config: Config;
      keyFile: string | null;
    },
  ) {
    this.nats = parts.nats;
    this.marketData = parts.marketData;
    this.pool = parts.pool;
    this.registry = parts.registry;
    this.budget = parts.budget;
    this.pollRegistry = parts.pollRegistry;
    this.poller = parts.poller;
    this.quoteSource = new RegistryQuoteSource(parts.registry, parts.pollRegistry);
    this.proxy = parts.proxy;
    this.bus = parts.bus;
    this.busSnapshot = parts.busSnapshot;
    this.config = parts.config;
    this.keyFile = parts.keyFile;
    this.#stopReaping = this.registry.reapEvery(5000);
  }

  /** Starts every component; on failure, closes what was started and throws a clear error. */
  static async start(opts: GatewayOptions): Promise<Gateway> {
    const { config } = opts;
    if (config.edge) {
      throw new Error("edge: an edge runs as EdgeGateway (lib/edge.ts), not Gateway");
    }
    const descriptor = opts.adapters[config.broker.name];
    if (!descriptor) {
      throw new Error(
        `broker.name: unknown broker '${config.broker.name}'; supported: ${
          Object.keys(opts.adapters).join(", ")
        }`,
      );
    }
    addSecret(config.broker.apiKey);
    addSecret(config.broker.accessToken);
    for (const v of Object.values(config.broker.extra)) addSecret(v);
    const adapterOptions = opts.adapterOptions(config);
    const capabilities = descriptor.capabilities(adapterOptions);

    const { auth, keyFile, credentials } = await clientAuth(config, opts.envApiKey);

    const bus = await BusPublisher.open({
      address: config.bus,
      broker: config.broker.name,
      curve: config.busCurve,
      onDrop: (r) =>
        log.warn("bus dropped {n} messages ({reason})", { n: r.recent, reason: r.reason }),
    });
    let link: { connection: NatsConnection; bus: NatsBus } | null = null;
    // Loaded only when configured: the NATS client costs start-up time nobody else should pay.
    const natsModule = config.nats === undefined ? null : await import("./nats/mod.ts");
    if (config.nats !== undefined && natsModule !== null) {
      const { connectNats, ensureStream, NatsBus } = natsModule;
      try {
        const connection = await connectNats(config.nats, "tickplex-gateway");
        const prefix = config.nats.subjectPrefix;
        if (config.nats.jetstream !== undefined) {
          await ensureStream(connection, prefix, config.nats.jetstream).catch(async (err) => {
            await connection.close();
            throw err;
          });
        }
        link = { connection, bus: new NatsBus(connection, { prefix, broker: config.broker.name }) };
      } catch (err) {
        await bus.close();
        throw err;
      }
    }
    const pool = new ConnectionPool(
      capabilities,
      opts.linkFactory ?? workerLinkFactory(descriptor),
      {
        adapterOptions,
        maxSymbolsPerConnection: config.broker.maxSymbolsPerConnection,
        maxConnections: config.broker.maxConnections,
        ...opts.poolTuning,
      },
    );
    // The budget's capacity is the pool's: every slot the registry admits is one the pool has.
    const budget = new SubscriptionBudget(config.budget, {
      connections: pool.maxConnections,
      symbolsPerConnection: pool.maxSymbolsPerConnection,
    });
    for (const k of credentials) budget.ledger.register(k.holder);
    const registry = new SubscriptionRegistry(pool, budget.ledger);
    const nats: GatewayNats | null = link === null || natsModule === null ? null : {
      ...link,
      leases: new natsModule.LeaseHost(link.connection, registry, {
        prefix: config.nats!.subjectPrefix,
        session: link.bus.session,
        broker: config.broker.name,
        userId: config.broker.userId,
      }),
    };
    // Poll routes: the poller is the upstream of its own registry; it leaves alone any instrument
    // the stream carries at the mode it would poll (its subscribers get the streamed ticks).
    const poller = new Poller(pool, {
      intervalMs: config.budget.pollIntervalMs,
      streamed: (exchange, symbol, mode) =>
        registry.modesWithConsumers(exchange, symbol).some((m) => m >= mode),
    });
    const pollRegistry = new SubscriptionRegistry(poller);
    const md = config.marketData;
    const marketData = new MarketDataService({
      // In-process subscribers are routed by their class like WebSocket clients.
      registry: new RoutedRegistry(registry, pollRegistry, config.budget.routing),
      feed: pool,
      checkIntervalMs: md.checkIntervalMs,
      staleAfterMs: md.staleAfterMs,
      maxJumpPercent: md.maxJumpPercent,
      maxExchangeAgeMs: md.maxExchangeAgeMs,
      ring: { size: md.ringSize, maxAgeMs: md.ringMaxAgeMs },
      ringAllSymbols: md.ringAllSymbols,
      snapshotOnSubscribe: config.snapshotOnSubscribe,
      clock: opts.marketDataClock,
    });
    let proxy: ProxyServer;
    let busSnapshot: BusSnapshotServer | null = null;
    try {
      // Bus readers ask here for the latest tick of topics; the heartbeat announces the address.
      busSnapshot = await BusSnapshotServer.open({
        address: config.busSnapshot ?? defaultSnapshotAddress(bus.endpoint),
        broker: config.broker.name,
        session: bus.session,
        curve: config.busCurve,
        lookup: (e, s, m) => marketData.latestTick(e, s, m),
      });
      bus.snapshotEndpoint = busSnapshot.endpoint;
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
        budget,
        limits: config.limits,
        broker: config.broker.name,
        userId: config.broker.userId,
        supportedBrokers: Object.keys(opts.adapters),
        feedStatus: () => pool.status(),
        metrics: (out) => gw?.writeMetrics(out),
        // Closed bars of the candle feed's series go on the bus too, each once.
        candles: {
          clock: opts.candleClock,
          retainBars: config.history.memoryBars,
          onClosed: (bar, series) => {
            bus.publishCandle(series.exchange, series.symbol, series.interval, bar);
            nats?.bus.publishCandle(series.exchange, series.symbol, series.interval, bar);
          },
        },
        ...(config.snapshotOnSubscribe
          ? { snapshot: (e, s, m) => marketData.latestTick(e, s, m) }
          : {}),
        poll: { registry: pollRegistry, routing: config.budget.routing },
        // Chains read their quotes from the stream or the poller, as budget.routing.optionChain says.
        optionChain: {
          listOptions: (exchange, underlying) => pool.listOptions(exchange, underlying),
          config: config.optionChain,
        },
      });
    } catch (err) {
      await busSnapshot?.close();
      await bus.close();
      await nats?.connection.close();
      throw err;
    }
    const gw: Gateway = new Gateway({
      pool,
      registry,
      budget,
      pollRegistry,
      poller,
      proxy,
      bus,
      busSnapshot,
      nats,
      marketData,
      config,
      keyFile,
    });
    // Polled ticks are market data like streamed ones for the service (its cache, snapshots and
    // poll-routed in-process subscribers; they count as data for its silence check — a dead
    // stream is still caught by its connection state), then go to poll subscribers as poll frames.
    poller.onticks = (ticks) => {
      try {
        marketData.onTicks(ticks);
      } catch (err) {
        log.error("market data service failed on polled ticks: {err}", { err });
      }
      proxy.onPollTicks(ticks);
    };
    gw.metricsProviders.push((out) => writePollMetrics(out, poller));
    budget.setPollStats(() => {
      const s = poller.stats();
      return { keys: s.keys - s.reused, requestsPerSecond: s.requestsPerSecond };
    });
    gw.tickListeners.push((ticks) => marketData.onTicks(ticks));
    gw.statusListeners.push((index, state) => marketData.onFeedStatus(index, state));
    gw.routes.addAll(MARKET_DATA_PATHS, ["GET"], (req) => marketData.handleHttp(req));
    gw.routes.add({
      path: "/api/v1/broker/token",
      methods: ["POST"],
      handler: (req, info) => gw.#tokenRoute(req, info),
    });
    gw.metricsProviders.push((out) => marketData.writeMetrics(out));
    gw.routes.add({
      path: "/api/v1/budget",
      methods: ["GET"],
      handler: async (req, info) =>
        (await gw.authorize(req, info)) ?? jsonResponse(budget.report()),
    });
    gw.metricsProviders.push((out) => budget.writeMetrics(out));
    marketData.start();
    installDashboard({
      broker: config.broker.name,
      userId: config.broker.userId,
      pool,
      registry,
      budget,
      proxy,
      marketData,
      tickListeners: gw.tickListeners,
      statusListeners: gw.statusListeners,
      routes: gw.routes,
      authorize: (req, info) => gw.authorize(req, info),
    });
    installCapture(gw);
    gw.#closeHistory = installHistory({
      routes: gw.routes,
      authorize: (req, info) => gw.authorize(req, info),
      memory: (e, s, i) => proxy.candles.bars(e, s, i),
      clock: opts.candleClock,
    }, config.history);
    pool.onticks = (ticks) => gw.#onTicks(ticks);
    pool.onstatus = (index, state, detail) => {
      log.info("broker connection {n}: {state}{detail}", {
        n: index + 1,
        state,
        detail: detail ? ` (${detail})` : "",
      });
      for (const l of gw.statusListeners) l(index, state);
    };
    try {
      await pool.start();
    } catch (err) {
      await gw.stop();
      throw err;
    }
    poller.start();
    // Edges are answered once the pool can subscribe; the hello makes running edges re-announce.
    nats?.leases.start();
    return gw;
  }

  /** Connection-state listeners (the market data service's safety gate). */
  readonly statusListeners: ((index: number, state: import("./types.ts").FeedState) => void)[] = [];
  /** The HTTP route table of the gateway's port; modules add their paths here. */
  get routes(): HttpRoutes {
    return this.proxy.routes;
  }

  /** Null when the request carries a valid API key, else the 401/429 response to return. */
  authorize(req: Request, info: { address: string }): Promise<Response | null> {
    return this.proxy.authorizeHttp(req, info.address);
  }
  /** Further producers of /metrics families (the market data service ...). */
  readonly metricsProviders: MetricsSource[] = [];

  /**
   * `POST /api/v1/broker/token` `{"accessToken": "..."}` (API key required): hands a fresh broker
   * token to every adapter, e.g. after the daily rollover, without a restart.
   */
  async #tokenRoute(req: Request, info: { address: string }): Promise<Response> {
    const denied = await this.authorize(req, info);
    if (denied) return denied;
    let body: unknown;
    try {
      body = await req.json();
    } catch {
      return jsonResponse(
        { status: "error", code: "INVALID_JSON", message: "Invalid JSON body" },
        400,
      );
    }
    const token = (body as { accessToken?: unknown })?.accessToken;
    if (typeof token !== "string" || token.length === 0 || token.length > 4096) {
      return jsonResponse({
        status: "error",
        code: "INVALID_PARAMETERS",
        message: "accessToken must be a non-empty string",
      }, 400);
    }
    addSecret(token);
    this.pool.updateToken(token);
    log.info("fresh broker access token handed to {n} connection(s)", {
      n: this.pool.status().length,
    });
    return jsonResponse({ status: "success", connections: this.pool.status().length });
  }

  /**
   * Writes the gateway's families into /metrics: the pool's counters and connections, the bus,
   * then every {@link metricsProviders} entry.
   */
  writeMetrics(out: PrometheusText): void {
    const c = this.pool.counters;
    const connections = this.pool.status();
    const perConnection = (f: (s: (typeof connections)[number]) => number): Sample[] =>
      connections.map((s) => [{ connection: String(s.index + 1) }, f(s)]);
    out
      .one(
        "tickplex_ticks_in_total",
        "counter",
        "Ticks received from the broker adapters.",
        c.ticksIn,
      )
      .one(
        "tickplex_ticks_rejected_total",
        "counter",
        "Ticks from adapters that failed validation.",
        c.ticksRejected,
      )
      .one("tickplex_worker_restarts_total", "counter", "Adapter worker restarts.", c.restarts)
      .family(
        "tickplex_connection_symbols",
        "gauge",
        "Symbols streamed per broker connection.",
        perConnection((s) => s.symbols),
      )
      .family(
        "tickplex_connection_ticks_total",
        "counter",
        "Ticks received per broker connection.",
        perConnection((s) => s.ticks),
      )
      .family(
        "tickplex_connection_up",
        "gauge",
        "1 when the broker connection is connected, else 0; its state is a label.",
        connections.map((s) => [
          { connection: String(s.index + 1), state: s.state },
          s.state === "connected" ? 1 : 0,
        ]),
      )
      .one(
        "tickplex_bus_published_total",
        "counter",
        "Messages published on the bus.",
        this.bus.published,
      )
      .one(
        "tickplex_bus_dropped_total",
        "counter",
        "Bus messages dropped before the socket.",
        this.bus.dropped,
      );
    if (this.nats !== null) {
      const n = this.nats;
      out
        .one(
          "tickplex_nats_published_total",
          "counter",
          "Messages published on the NATS bus.",
          n.bus.published,
        )
        .one(
          "tickplex_nats_dropped_total",
          "counter",
          "NATS bus messages refused by the client.",
          n.bus.dropped,
        )
        .one("tickplex_edges", "gauge", "Edge gateways holding a lease.", n.leases.edges)
        .one(
          "tickplex_edge_keys",
          "gauge",
          "Keys held by edge gateways, all edges together.",
          n.leases.leasedKeys,
        )
        .one(
          "tickplex_edge_leases_expired_total",
          "counter",
          "Edge leases that expired (their keys were released).",
          n.leases.counters.expired,
        );
    }
    for (const p of this.metricsProviders) p(out);
  }

  #onTicks(ticks: Tick[]): void {
    for (const l of this.tickListeners) {
      try {
        l(ticks);
      } catch (err) {
        log.error("tick listener failed: {err}", { err });
      }
    }
    this.proxy.onTicks(ticks);
    const registry = this.registry;
    for (const t of ticks) {
      const modes = registry.modesWithConsumers(t.exchange, t.symbol);
      if (modes.length > 0) {
        this.bus.publish(t, modes);
        this.nats?.bus.publish(t, modes);
      }
    }
  }

  /**
   * Graceful shutdown: clients get close 1001, upstream subscriptions are released, workers end,
   * the bus closes. Nothing is left listening.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#stopReaping();
      await this.proxy.close();
      await this.poller.stop();
      await this.marketData.close();
      await this.nats?.leases.close();
      await this.pool.close();
      await this.busSnapshot.close();
      await this.bus.close();
      if (this.nats !== null) {
        this.nats.bus.close();
        // Drain sends what the client still buffers, then closes.
        await this.nats.connection.drain().catch(() => this.nats?.connection.close());
      }
      await this.#closeHistory();
      log.info("gateway stopped");
    })();
    return this.#stopping;
  }
}

/** The poller's figures in /metrics (the same numbers `/api/v1/budget` reports). */
function writePollMetrics(out: PrometheusText, poller: Poller): void {
  const s = poller.stats();
  out
    .one("tickplex_poll_keys", "gauge", "Instruments with poll subscribers.", s.keys)
    .one(
      "tickplex_poll_keys_reused",
      "gauge",
      "Polled instruments served from the stream because someone streams them.",
      s.reused,
    )
    .one(
      "tickplex_poll_requests_per_second",
      "gauge",
      "REST quote requests per second over the last 10 s.",
      s.requestsPerSecond,
    )
    .one(
      "tickplex_poll_rate_limit",
      "gauge",
      "The broker's REST quote rate limit (requests per second).",
      s.rateLimit,
    )
    .one("tickplex_poll_requests_total", "counter", "REST quote requests made.", s.requests)
    .one(
      "tickplex_poll_errors_total",
      "counter",
      "REST quote requests that failed (rate-limited ones included).",
      s.errors,
    )
    .one(
      "tickplex_poll_rate_limited_total",
      "counter",
      "REST quote requests the broker rate-limited (HTTP 429).",
      s.rateLimited,
    )
    .one(
      "tickplex_poll_cycle_ms",
      "gauge",
      "Duration of the last complete poll cycle.",
      s.lastCycleMs,
    );
}
