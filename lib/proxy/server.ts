// The :8765 server: puts the parts together — the TCP/HTTP edge (listener.ts), the route table
// (routes.ts), WebSocket upgrades into client sessions (sessions.ts), the fan-out (fanout.ts) —
// and answers /health and /metrics.

import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Buffer } from "node:buffer";
// @ts-types="@types/ws"
import { type ServerOptions, WebSocketServer } from "ws";
import { type MetricsSource, PrometheusText, renderMetrics } from "../metrics/mod.ts";
import type { Limits } from "../config/mod.ts";
import { type ConnectionStatus, overallState } from "../feed_state.ts";
import type { SubscriptionRegistry } from "../subscriptions/mod.ts";
import type { SubscriptionBudget } from "../budget/mod.ts";
import type { ApiKeyAuth } from "./auth.ts";
import { DROP_REASONS, DropLog } from "./drops.ts";
import { FanOut } from "./fanout.ts";
import { RequestHandlers } from "./handlers.ts";
import { ClientSessions } from "./sessions.ts";
import { memoryMb } from "./health.ts";
import { HttpListener } from "./listener.ts";
import { HttpRoutes, type RequestInfo } from "./routes.ts";
import type { Mode, Outcome, Tick } from "../types.ts";
import { CandleFeed, type CandleFeedOptions } from "./candles.ts";
import { OptionChainFeed } from "./option_chain.ts";
import { type OptionChainConfig, optionChainSchema } from "../config/mod.ts";
import type { OptionListing } from "../adapter/mod.ts";
import { type ChainQuotes, FeedChainQuotes } from "../options/mod.ts";
import { RegistryQuoteSource } from "../poll/mod.ts";
import type { Routing } from "../budget/mod.ts";

/** What the proxy needs from the rest of the gateway. */
export interface ProxyDeps {
  registry: SubscriptionRegistry;
  auth: ApiKeyAuth;
  /** The subscription budget, shown in `get_broker_info` (absent: no budget figures). */
  budget?: SubscriptionBudget;
  limits: Limits;
  /** Browser origins allowed besides same-origin pages and clients without an Origin header. */
  allowedOrigins?: string[];
  broker: string;
  userId: string;
  supportedBrokers: string[];
  /** Per-connection feed status (from the pool). */
  feedStatus(): ConnectionStatus[];
  /** The rest of the gateway's metrics, written after the proxy's into /metrics. */
  metrics?: MetricsSource;
  /**
   * The latest tick of a key (the market data cache), sent to a client as it subscribes; absent
   * when `snapshotOnSubscribe` is off.
   */
  snapshot?: (exchange: string, symbol: string, mode: Mode) => Tick | null;
  /** Candle tuning (tests): forming-bar interval and the clock that closes bars. */
  candles?: CandleFeedOptions;
  /** The option chain service; without `listOptions` every chain request fails with BROKER_ERROR. */
  optionChain?: {
    /** The adapter's option listing of an underlying (ConnectionPool.listOptions). */
    listOptions?(
      exchange: string,
      underlying: string,
    ): Promise<Outcome<{ listing: OptionListing | null }>>;
    /**
     * Where chain quotes come from; default: a feed of the stream or the poll registry, as
     * `poll.routing.optionChain` says (the stream when there is no poll registry).
     */
    quotes?: ChainQuotes;
    config?: OptionChainConfig;
    /** Epoch ms now (tests). */
    clock?: () => number;
  };
  /**
   * Ticks arrive once per mode (an edge gateway fed by the bus): each is delivered to the consumers
   * of exactly its mode instead of every mode up to it.
   */
  ticksPerMode?: boolean;
  /**
   * Stream-or-poll routing: a client's class picks `routing[class]`; `poll` subscriptions go to
   * `registry` here (the poller's, no streaming slot). Absent: everything streams.
   */
  poll?: { registry: SubscriptionRegistry; routing: Routing };
}

/**
 * The proxy server. Start with {@link ProxyServer.start}; feed it with `onTicks`; register HTTP
 * routes in `routes`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Gateway } from "../gateway.ts";
 * import { ADAPTERS, adapterOptionsFor } from "../../adapters/mod.ts";
 * import { configSchema } from "../config/mod.ts";
 * // The paper market on free ports; `deno task start` runs the same with your config.
 * const gw = await Gateway.start({
 *   config: configSchema.parse({
 *     port: 0, bus: "tcp://127.0.0.1:*", apiKeys: ["a-long-random-client-key"], logLevel: "error",
 *   }),
 *   adapters: ADAPTERS,
 *   adapterOptions: adapterOptionsFor,
 * });
 * // The gateway started its proxy (`ProxyServer.start`) and feeds it `onTicks`.
 * const ws = new WebSocket(`ws://127.0.0.1:${gw.proxy.addr.port}`);
 * await new Promise((resolve) => ws.onopen = resolve);
 * const reply = new Promise<MessageEvent>((resolve) => ws.onmessage = resolve);
 * ws.send(JSON.stringify({ action: "ping", _pingId: 1 }));
 * assert.deepEqual(
 *   { ...JSON.parse((await reply).data), server_timestamp: 0 },
 *   { type: "pong", status: "success", server_timestamp: 0, _pingId: 1 },
 * );
 * ws.close();
 * await gw.stop();
 * ```
 */
export class ProxyServer {
  /** The HTTP route table of the port; other modules add their routes here. */
  readonly routes: HttpRoutes = new HttpRoutes();
  /** Every dropped connection, by reason. */
  readonly drops: DropLog = new DropLog();
  #deps: ProxyDeps;
  #fanout: FanOut;
  #handlers: RequestHandlers;
  #candles: CandleFeed;
  #chains: OptionChainFeed;
  #listener!: HttpListener;
  #wss: WebSocketServer;
  #sessions: ClientSessions;
  #startedAt = Date.now();
  #closing = false;

  private constructor(deps: ProxyDeps) {
    this.#deps = deps;
    const limits = deps.limits;
    this.#fanout = new FanOut(
      deps.registry,
      deps.broker,
      limits.batchIntervalMs,
      deps.poll?.registry,
      deps.ticksPerMode ?? false,
    );
    this.#candles = new CandleFeed(
      deps.registry,
      deps.broker,
      limits.maxSubscriptionsPerClient,
      deps.candles,
    );
    const chain = deps.optionChain ?? {};
    this.#chains = new OptionChainFeed({
      listOptions: chain.listOptions ??
        (() =>
          Promise.resolve({
            ok: false as const,
            code: "BROKER_ERROR" as const,
            message: "This gateway cannot list options",
          })),
      quotes: chain.quotes ?? new FeedChainQuotes(
        new RegistryQuoteSource(deps.registry, deps.poll?.registry ?? deps.registry).open(
          "option_chain",
          {
            route: deps.poll ? deps.poll.routing.optionChain : "stream",
            // Shared by every chain client, like the candle feed, so never a pre-emption victim
            // (only display is); routing it to poll (the default) keeps it off the stream.
            holder: { name: "option_chain", consumerClass: "monitoring", kind: "in_process" },
          },
        ),
        deps.snapshot && ((e, s) => deps.snapshot!(e, s, 3)),
      ),
      config: chain.config ?? optionChainSchema.parse({}),
      broker: deps.broker,
      clock: chain.clock,
    });
    this.#handlers = new RequestHandlers(deps, this.#candles, this.#chains);
    // closeTimeout is an option of ws 8.23 that its type definitions do not list yet.
    const wsOptions: ServerOptions & { closeTimeout: number } = {
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      // Frames up to twice the limit are read and answered INVALID_MESSAGE before the 1009;
      // larger ones are refused by the frame parser without being buffered.
      maxPayload: limits.maxFrameBytes * 2,
      // Our own close deadline cuts first and counts it; this is the library's backstop.
      closeTimeout: limits.closeTimeoutMs * 2,
    };
    this.#wss = new WebSocketServer(wsOptions);
    this.#sessions = new ClientSessions({
      deps,
      fanout: this.#fanout,
      handlers: this.#handlers,
      candles: this.#candles,
      chains: this.#chains,
      drops: this.drops,
    });
    this.routes.add({ path: "/health", methods: ["GET"], handler: () => json(this.health()) });
    this.routes.add({
      path: "/metrics",
      methods: ["GET"],
      handler: () =>
        new Response(
          renderMetrics([(out) => this.writeMetrics(out), this.#deps.metrics ?? (() => {})]),
          { headers: { "content-type": "text/plain; version=0.0.4" } },
        ),
    });
    this.routes.add({
      path: "/api/v1/subscriptions",
      methods: ["GET"],
      handler: async (req, info) => {
        const denied = await this.authorizeHttp(req, info.address);
        if (denied) return denied;
        return json({
          subscriptions: this.#deps.registry.list(),
          polled: this.#deps.poll?.registry.list() ?? [],
        });
      },
    });
  }

  /**
   * Binds host:port. Fails with a clear message when the port is taken (no fallback port), unless
   * `reusePort` shares it with other processes that ask the same (Linux SO_REUSEPORT).
   */
  static async start(
    listen: { host: string; port: number; cert?: string; key?: string; reusePort?: boolean },
    deps: ProxyDeps,
  ): Promise<ProxyServer> {
    const proxy = new ProxyServer(deps);
    const limits = deps.limits;
    try {
      proxy.#listener = await HttpListener.start(listen, {
        requestTimeoutMs: limits.requestTimeoutMs,
        maxConnectionsPerAddress: limits.maxConnectionsPerAddress,
        maxConnections: limits.maxConnections,
        maxBodyBytes: limits.maxFrameBytes,
      }, {
        request: (req, info) => proxy.#request(req, info),
        upgrade: (req, socket, head, info) => proxy.#upgrade(req, socket, head, info),
        drop: (reason, address) => proxy.drops.record(reason, { address }),
      });
    } catch (err) {
      proxy.#sessions.stop();
      throw err;
    }
    return proxy;
  }

  /** The bound address (port 0 resolves to the real port). */
  get addr(): { hostname: string; port: number } {
    return this.#listener.addr;
  }

  /** The candle feed of `subscribe_candles` (its open series hold the current session's bars). */
  get candles(): CandleFeed {
    return this.#candles;
  }

  /** Connected clients. */
  get clientCount(): number {
    return this.#sessions.size;
  }

  /** Frames and ticks written to clients, all clients together. */
  get totals(): { framesOut: number; ticksOut: number } {
    return this.#fanout.totals;
  }

  /** The proxy's counters (a snapshot). */
  get counters(): {
    connections: number;
    messages: number;
    protocolErrors: number;
    ticksFannedOut: number;
    slowConsumersClosed: number;
    floodersClosed: number;
    ticksConflatedBehind: number;
  } {
    return {
      connections: this.#sessions.counters.connections,
      messages: this.#sessions.counters.messages,
      protocolErrors: this.#handlers.protocolErrors,
      ticksFannedOut: this.#fanout.counters.ticksFannedOut,
      slowConsumersClosed: this.drops.count("slow_consumer"),
      floodersClosed: this.drops.count("flooding"),
      ticksConflatedBehind: this.#fanout.counters.ticksConflatedBehind,
    };
  }

  /** Delivers ticks to every client holding their keys (see {@link FanOut.onTicks}). */
  onTicks(ticks: Tick[]): void {
    this.#fanout.onTicks(ticks);
  }

  /** Delivers REST-polled ticks to poll subscribers, as `"source":"poll"` frames. */
  onPollTicks(ticks: Tick[]): void {
    this.#fanout.onPollTicks(ticks);
  }

  // ---- HTTP ---------------------------------------------------------------------------------

  #request(req: Request, info: RequestInfo): Promise<Response> {
    return this.routes.handle(req, info);
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, info: RequestInfo): void {
    const address = info.address;
    if (this.#closing) return refuse(socket, 503, "shutting down");
    const origin = req.headers.origin;
    if (!this.#originAllowed(origin, req.headers.host)) {
      this.drops.record("origin_refused", { address }, `origin ${origin}`);
      return refuse(socket, 403, "origin not allowed");
    }
    if (this.#sessions.size >= this.#deps.limits.maxClients) {
      this.drops.record("max_clients", { address });
      return refuse(socket, 503, "too many clients");
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#sessions.accept(ws, address));
  }

  #originAllowed(origin: string | undefined, hostHeader: string | undefined): boolean {
    if (origin === undefined) return true;
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return false;
    }
    if (host === hostHeader) return true;
    return (this.#deps.allowedOrigins ?? []).some((o) => new URL(o).origin === origin);
  }

  /**
   * Checks the API key of an HTTP request (`Authorization: Bearer <key>` or `X-API-Key`).
   * Returns null when allowed, else the 401/429 response to send.
   */
  async authorizeHttp(req: Request, address: string): Promise<Response | null> {
    const header = req.headers.get("authorization");
    const key = header?.startsWith("Bearer ") ? header.slice(7) : req.headers.get("x-api-key");
    const r = await this.#deps.auth.check(key ?? null, address);
    if (r.ok) return null;
    return json(
      { status: "error", code: r.code, message: r.message },
      r.code === "RATE_LIMITED" ? 429 : 401,
    );
  }

  /** The `/health` body. */
  health(): Record<string, unknown> {
    const feed = this.#deps.feedStatus();
    const state = overallState(feed);
    return {
      status: state === "connected" ? "ok" : "degraded",
      broker: this.#deps.broker,
      feed_state: state,
      connections: feed,
      clients: this.#sessions.size,
      subscriptions: this.#deps.registry.list().length,
      uptime_s: Math.round((Date.now() - this.#startedAt) / 1000),
      memory_mb: memoryMb(),
    };
  }

  /** The proxy's own metrics as a Prometheus document (what /metrics starts with). */
  metricsText(): string {
    const out = new PrometheusText();
    this.writeMetrics(out);
    return out.toString();
  }

  /** Writes the proxy's metric families: clients, connections, messages, drops by reason. */
  writeMetrics(out: PrometheusText): void {
    const c = this.counters;
    out
      .one("tickplex_clients", "gauge", "Connected WebSocket clients.", this.#sessions.size)
      .one(
        "tickplex_clients_conflated",
        "gauge",
        "Clients currently sent the newest tick per key in rounds because they lag.",
        this.#sessions.conflating(),
      )
      .one(
        "tickplex_tcp_connections",
        "gauge",
        "Open TCP connections on the port.",
        this.#listener.connections,
      )
      .one(
        "tickplex_tcp_connections_pending",
        "gauge",
        "Open TCP connections not upgraded to WebSocket (requests, or requests still arriving).",
        this.#listener.pending,
      )
      .one(
        "tickplex_client_connections_total",
        "counter",
        "WebSocket connections accepted.",
        c.connections,
      )
      .one("tickplex_client_messages_total", "counter", "Client messages received.", c.messages)
      .one(
        "tickplex_protocol_errors_total",
        "counter",
        "Client messages answered with an error.",
        c.protocolErrors,
      )
      .one(
        "tickplex_deliveries_total",
        "counter",
        "Ticks delivered to consumers.",
        c.ticksFannedOut,
      )
      .one(
        "tickplex_frames_out_total",
        "counter",
        "Frames written to WebSocket clients.",
        this.totals.framesOut,
      )
      .one(
        "tickplex_ticks_out_total",
        "counter",
        "Ticks written to WebSocket clients (a batched frame carries several).",
        this.totals.ticksOut,
      )
      .one(
        "tickplex_fanout_conflated_total",
        "counter",
        "Ticks dropped because the fan-out itself fell behind the feed (newest per instrument kept).",
        c.ticksConflatedBehind,
      )
      .one(
        "tickplex_slow_consumers_closed_total",
        "counter",
        "Clients closed as slow consumers.",
        c.slowConsumersClosed,
      )
      .one(
        "tickplex_flooders_closed_total",
        "counter",
        "Clients closed for flooding.",
        c.floodersClosed,
      )
      .one(
        "tickplex_subscription_keys",
        "gauge",
        "Distinct (exchange, symbol, mode) keys held.",
        this.#deps.registry.list().length,
      )
      .one(
        "tickplex_candle_series",
        "gauge",
        "Candle series (instrument, interval) built.",
        this.#candles.size,
      )
      .one(
        "tickplex_candle_frames_total",
        "counter",
        "Candle frames sent.",
        this.#candles.framesOut,
      )
      .one(
        "tickplex_candle_late_ticks_total",
        "counter",
        "Ticks dropped by candle series as older than the forming bar.",
        this.#candles.lateTicks,
      )
      .one(
        "tickplex_option_chains",
        "gauge",
        "Option chains open (one per underlying, expiry and window size, shared by its clients).",
        this.#chains.size,
      )
      .one(
        "tickplex_option_chain_instruments",
        "gauge",
        "Instruments the option chains hold on their quote source.",
        this.#chains.instruments,
      )
      .one(
        "tickplex_option_chain_frames_total",
        "counter",
        "Option chain frames sent.",
        this.#chains.framesOut,
      )
      .family(
        "tickplex_client_drops_total",
        "counter",
        "Connections dropped by the proxy, by reason.",
        DROP_REASONS.map((r) => [{ reason: r }, this.drops.count(r)]),
      );
  }

  /** Closes every client with 1001 and stops listening; connections left are cut. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#fanout.stop();
    this.#candles.close();
    this.#chains.close();
    await this.#sessions.closeAll();
    await this.#listener.close();
  }
}

const STATUS_TEXT: Record<number, string> = { 403: "Forbidden", 503: "Service Unavailable" };

/** Grace for a refused upgrade's answer to go out before the connection is cut. */
const REFUSE_GRACE_MS = 1000;

/**
 * Answers an upgrade request with an HTTP error and ends the connection; cut a moment later so a
 * peer that never closes its side cannot keep it half open (its request deadline is gone).
 */
function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${new TextEncoder().encode(text).byteLength}\r\nConnection: close\r\n\r\n` +
      text,
  );
  const timer = setTimeout(() => socket.destroy(), REFUSE_GRACE_MS);
  socket.once("close", () => clearTimeout(timer));
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}
