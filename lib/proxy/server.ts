// The :8765 server: WebSocket clients speaking the OpenAlgo-compatible protocol, each with a
// deadline in every state (request, auth, lag, keep-alive, close), and the HTTP route table on
// the same port. The fan-out, the handlers and the TCP edge live in their own files.

import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Buffer } from "node:buffer";
// @ts-types="@types/ws"
import { type ServerOptions, type WebSocket, WebSocketServer } from "ws";
import { getLogger } from "../log.ts";
import { type MetricsSource, PrometheusText, renderMetrics } from "../metrics/mod.ts";
import type { Limits } from "../config/mod.ts";
import { type ConnectionStatus, overallState } from "../feed_state.ts";
import type { SubscriptionRegistry } from "../subscriptions/mod.ts";
import type { ApiKeyAuth } from "./auth.ts";
import { type ClientSocket, WsClient } from "./client.ts";
import { DROP_REASONS, DropLog, type DropReason } from "./drops.ts";
import { FanOut } from "./fanout.ts";
import { RequestHandlers } from "./handlers.ts";
import { memoryMb } from "./health.ts";
import { HttpListener } from "./listener.ts";
import { admit } from "./rate_limit.ts";
import { HttpRoutes, type RequestInfo } from "./routes.ts";
import type { Mode, Tick } from "../types.ts";
import { CandleFeed, type CandleFeedOptions } from "./candles.ts";

const log = getLogger(["tickplex", "proxy"]);

/** What the proxy needs from the rest of the gateway. */
export interface ProxyDeps {
  registry: SubscriptionRegistry;
  auth: ApiKeyAuth;
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
}

/** Keep-alive checks run at most this often; lag checks run every half probe interval. */
const KEEPALIVE_CHECK_MS = 1000;
/** Longest wait on shutdown for closed clients' subscriptions to be released upstream. */
const RELEASE_WAIT_MS = 3000;
/** A lag check later than its interval by more than this counts as a stall of the gateway. */
const STALL_SLACK_MS = 20;

/**
 * The proxy server. Start with {@link ProxyServer.start}; feed it with `onTicks`; register HTTP
 * routes in `routes`.
 *
 * @example
 * ```ts ignore
 * const proxy = await ProxyServer.start({ host: "127.0.0.1", port: 8765 }, deps);
 * pool.onticks = (ticks) => proxy.onTicks(ticks);
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
  #listener!: HttpListener;
  #wss: WebSocketServer;
  #clients = new Set<WsClient>();
  /** Subscription releases of closed clients still in progress (awaited on shutdown). */
  #releasing = new Set<Promise<void>>();
  #connections = 0;
  #messages = 0;
  #nextId = 1;
  #startedAt = Date.now();
  #closing = false;
  #lagTimer: ReturnType<typeof setInterval>;
  #lagInterval: number;
  #lastLagCheck = performance.now();
  #keepaliveTimer: ReturnType<typeof setInterval>;

  private constructor(deps: ProxyDeps) {
    this.#deps = deps;
    const limits = deps.limits;
    this.#fanout = new FanOut(deps.registry, deps.broker, limits.batchIntervalMs);
    this.#candles = new CandleFeed(
      deps.registry,
      deps.broker,
      limits.maxSubscriptionsPerClient,
      deps.candles,
    );
    this.#handlers = new RequestHandlers(deps, this.#candles);
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
    const probeMs = Math.max(10, Math.floor(limits.maxStalenessMs / 5));
    this.#lagInterval = Math.max(5, Math.floor(probeMs / 2));
    this.#lagTimer = setInterval(() => this.#checkLag(), this.#lagInterval);
    this.#keepaliveTimer = setInterval(() => this.#checkKeepalive(), KEEPALIVE_CHECK_MS);
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
        return json({ subscriptions: this.#deps.registry.list() });
      },
    });
  }

  /** Binds host:port. Fails with a clear message when the port is taken (no fallback port). */
  static async start(
    listen: { host: string; port: number; cert?: string; key?: string },
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
      proxy.#stopTimers();
      throw err;
    }
    return proxy;
  }

  /** The bound address (port 0 resolves to the real port). */
  get addr(): { hostname: string; port: number } {
    return this.#listener.addr;
  }

  /** Connected clients. */
  get clientCount(): number {
    return this.#clients.size;
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
      connections: this.#connections,
      messages: this.#messages,
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
    if (this.#clients.size >= this.#deps.limits.maxClients) {
      this.drops.record("max_clients", { address });
      return refuse(socket, 503, "too many clients");
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, address));
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
      clients: this.#clients.size,
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
    let conflating = 0;
    for (const client of this.#clients) if (client.lag.mode === "conflate") conflating++;
    out
      .one("tickplex_clients", "gauge", "Connected WebSocket clients.", this.#clients.size)
      .one(
        "tickplex_clients_conflated",
        "gauge",
        "Clients currently sent the newest tick per key in rounds because they lag.",
        conflating,
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
      .family(
        "tickplex_client_drops_total",
        "counter",
        "Connections dropped by the proxy, by reason.",
        DROP_REASONS.map((r) => [{ reason: r }, this.drops.count(r)]),
      );
  }

  // ---- WebSocket clients --------------------------------------------------------------------

  #accept(ws: WebSocket, address: string): void {
    const limits = this.#deps.limits;
    const socket: ClientSocket = {
      get bufferedAmount() {
        return ws.bufferedAmount;
      },
      get open() {
        return ws.readyState === ws.OPEN;
      },
      send: (d) => ws.send(d),
      ping: (p) => ws.ping(p),
      close: (code, reason) => ws.close(code, reason),
      terminate: () => ws.terminate(),
      // ws writes each frame as it is sent; corking its TCP socket for a fan-out pass turns a
      // system call per frame into one per client per pass.
      cork: () => (ws as unknown as { _socket: Duplex })._socket.cork(),
      uncork: () => (ws as unknown as { _socket: Duplex })._socket.uncork(),
    };
    const client = new WsClient(
      `c${this.#nextId++}`,
      address,
      socket,
      limits,
      this.#fanout,
      limits.messageBurst,
    );
    this.#connections++;
    this.#clients.add(client);
    const graceTimer = setTimeout(() => {
      if (!client.authenticated && !client.closed) {
        this.#closeClient(client, 4401, "auth timeout", "auth_timeout");
      }
    }, limits.authGraceMs);
    ws.on("message", (data: Buffer, isBinary: boolean) => this.#onMessage(client, data, isBinary));
    ws.on("pong", (data: Buffer) => {
      if (client.onPong(data.toString(), Date.now())) this.#fanout.flushClient(client);
    });
    ws.on("ping", () => client.lastHeard = Date.now());
    ws.on("error", (err: Error & { code?: string }) => {
      // The frame parser refused something (oversized frame, bad UTF-8 ...); ws closes it.
      const reason: DropReason = err.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH"
        ? "message_too_big"
        : "protocol_violation";
      if (!client.closed) this.drops.record(reason, client, err.message);
      this.#forget(client);
    });
    ws.on("close", () => {
      clearTimeout(graceTimer);
      if (client.closeTimer !== null) clearTimeout(client.closeTimer);
      client.closeTimer = null;
      this.#forget(client);
    });
  }

  #onMessage(client: WsClient, data: Buffer, isBinary: boolean): void {
    if (client.closed) return;
    const now = Date.now();
    client.lastHeard = now;
    this.#messages++;
    client.counters.received++;
    const limits = this.#deps.limits;
    const verdict = admit(client, limits, now);
    if (verdict === "flood") {
      this.#closeClient(client, 1008, "message rate limit exceeded", "flooding");
      return;
    }
    if (verdict === "limited") {
      if (now - client.lastRateLimitReply >= 1000) {
        client.lastRateLimitReply = now;
        this.#handlers.reply(client, {
          type: "error",
          status: "error",
          code: "RATE_LIMITED",
          message:
            `Too many messages; limit ${limits.messagesPerSecond}/s (burst ${limits.messageBurst}). ` +
            `Dropped messages since: ${client.flooded}`,
        });
      }
      return;
    }
    if (isBinary) {
      this.#handlers.reply(client, {
        type: "error",
        status: "error",
        code: "INVALID_MESSAGE",
        message: "Binary frames are not supported; send JSON text frames",
      });
      return;
    }
    if (data.byteLength > limits.maxFrameBytes) {
      this.#handlers.reply(client, {
        type: "error",
        status: "error",
        code: "INVALID_MESSAGE",
        message: `Message larger than ${limits.maxFrameBytes} bytes`,
      });
      this.#closeClient(client, 1009, "message too big", "message_too_big");
      return;
    }
    const text = data.toString();
    client.pendingRequests++;
    client.chain = client.chain.then(() => this.#handlers.handle(client, text)).catch((err) => {
      log.error("request from {id} failed: {err}", { id: client.id, err });
      this.#handlers.reply(client, {
        type: "error",
        status: "error",
        code: "SERVER_ERROR",
        message: "Internal error",
      });
    }).finally(() => {
      client.pendingRequests--;
    });
  }

  #checkLag(): void {
    // How late this pass is: the event loop stood still that long, whoever's fault it was.
    const t = performance.now();
    const late = t - this.#lastLagCheck - this.#lagInterval;
    this.#lastLagCheck = t;
    if (late > STALL_SLACK_MS) this.#fanout.stallMs += late;
    const now = Date.now();
    for (const c of this.#clients) {
      if (c.closed) continue;
      // Keep-alive is judged on its own, slower pass.
      if (c.check(now, 0) === "slow_consumer") this.#closeSlow(c, now);
    }
  }

  #checkKeepalive(): void {
    const idleMs = this.#deps.limits.idleTimeoutS * 1000;
    if (idleMs === 0) return;
    const now = Date.now();
    for (const c of this.#clients) {
      if (c.closed) continue;
      const v = c.check(now, idleMs);
      if (v === "slow_consumer") this.#closeSlow(c, now);
      else if (v === "keepalive_timeout") {
        this.#closeClient(c, 1001, "no answer to ping", "keepalive_timeout");
      }
    }
  }

  #closeSlow(c: WsClient, now: number): void {
    this.#closeClient(
      c,
      1008,
      "slow consumer",
      "slow_consumer",
      `${Math.round(c.lag.lag(now, this.#fanout.stallMs))} ms behind, ${c.queued} ticks queued`,
    );
  }

  /**
   * Closes a client: the close frame goes out (behind whatever is queued), its subscriptions are
   * released at once, and if the peer has not completed the close handshake within
   * `closeTimeoutMs` the TCP connection is cut.
   */
  #closeClient(
    client: WsClient,
    code: number,
    reason: string,
    drop: DropReason | null,
    detail = "",
  ): void {
    if (client.closed) return;
    if (drop) this.drops.record(drop, client, detail);
    try {
      client.socket.close(code, reason);
    } catch {
      // already closing
    }
    client.closeTimer = setTimeout(() => {
      client.closeTimer = null;
      this.drops.record("close_timeout", client, `no answer to close ${code}`);
      client.socket.terminate();
    }, this.#deps.limits.closeTimeoutMs);
    this.#forget(client);
  }

  #forget(client: WsClient): void {
    if (client.closed) return;
    client.closed = true;
    this.#clients.delete(client);
    this.#fanout.forget(client);
    client.subscriptions.clear();
    // Wait for in-flight requests so a subscribe that lands after the close is released too.
    const released = client.chain.then(() =>
      Promise.all([this.#deps.registry.releaseAll(client), this.#candles.forget(client)])
    ).then(() => {}, (err) => {
      log.error("releasing {id}'s subscriptions failed: {err}", { id: client.id, err });
    });
    this.#releasing.add(released);
    void released.finally(() => this.#releasing.delete(released));
  }

  #stopTimers(): void {
    clearInterval(this.#lagTimer);
    clearInterval(this.#keepaliveTimer);
    this.#fanout.stop();
  }

  /** Closes every client with 1001 and stops listening; connections left are cut. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#stopTimers();
    const closing = [...this.#clients];
    for (const c of closing) this.#closeClient(c, 1001, "server shutting down", null);
    this.#candles.close();
    // Let close frames go out and well-behaved peers answer before the listener cuts the rest.
    const deadline = Date.now() + Math.min(1000, this.#deps.limits.closeTimeoutMs);
    while (closing.some((c) => c.closeTimer !== null) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const c of closing) {
      if (c.closeTimer !== null) clearTimeout(c.closeTimer);
      c.closeTimer = null;
    }
    // The gateway stops the pool next: let the clients' releases reach it first (bounded).
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all([...this.#releasing]),
      new Promise((r) => timer = setTimeout(r, RELEASE_WAIT_MS)),
    ]);
    clearTimeout(timer);
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
