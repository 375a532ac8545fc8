// The :8765 server: WebSocket clients speaking the OpenAlgo-compatible protocol, the tick fan-out
// to them, and the HTTP endpoints (health, metrics, status) on the same port.

import { setImmediate } from "node:timers";
import { getLogger } from "../log.ts";
import type { Limits } from "../config/config.ts";
import type { ConnectionStatus } from "../pool/pool.ts";
import type { SubscriptionRegistry } from "../subscriptions/registry.ts";
import { type FeedState, type Mode, MODE_LABEL, type Tick } from "../types.ts";
import type { ApiKeyAuth } from "./auth.ts";
import { type SendScheduler, subKey, WsClient } from "./client.ts";
import { TickFrames } from "./frames.ts";
import {
  type EntryParse,
  isProtocolError,
  parseRequest,
  type ProtocolError,
  type Request,
} from "./protocol.ts";

const log = getLogger(["tickplex", "proxy"]);

/** Deliveries fanned out before yielding to the event loop. */
const FANOUT_SLICE = 2048;
/** Ticks waiting for fan-out beyond which the backlog is conflated per instrument. */
const MAX_FANOUT_BACKLOG = 100_000;
/** A backlog older than this is conflated too: late ticks are worth less than fresh ones. */
const MAX_FANOUT_LAG_MS = 250;

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
  /** Extra HTTP routes (market data service, recorder ...); null when not handled. */
  http?: (req: Request_, info: { address: string }) => Response | null | Promise<Response | null>;
  /** Extra Prometheus lines appended to /metrics. */
  metrics?: () => string;
}
type Request_ = globalThis.Request;

/** Worst state first: what a single feed-wide state should report. */
const STATE_RANK: Record<FeedState, number> = {
  failed: -1,
  auth_failed: 0,
  disconnected: 1,
  reconnecting: 2,
  stalled: 3,
  connecting: 4,
  connected: 5,
};

/** The feed-wide state: the worst state of any connection (disconnected when there are none). */
export function overallState(status: ConnectionStatus[]): FeedState {
  let worst: FeedState = status.length === 0 ? "disconnected" : "connected";
  for (const c of status) if (STATE_RANK[c.state] < STATE_RANK[worst]) worst = c.state;
  return worst;
}

/**
 * The proxy server. Start with {@link ProxyServer.start}; feed it with `onTicks`.
 *
 * @example
 * ```ts ignore
 * const proxy = await ProxyServer.start({ host: "127.0.0.1", port: 8765 }, deps);
 * pool.onticks = (ticks) => proxy.onTicks(ticks);
 * ```
 */
export class ProxyServer implements SendScheduler {
  readonly counters = {
    connections: 0,
    messages: 0,
    protocolErrors: 0,
    ticksFannedOut: 0,
    slowConsumersClosed: 0,
    floodersClosed: 0,
    ticksConflatedBehind: 0,
  };
  #fanBacklog: Tick[][] = [];
  #fanBacklogTicks = 0;
  #fanBacklogSince = 0;
  #lastBehindWarning = 0;
  /** Frames and ticks written to clients, all clients together. */
  readonly totals = { framesOut: 0, ticksOut: 0 };
  #deps: ProxyDeps;
  #server!: Deno.HttpServer<Deno.NetAddr>;
  #clients = new Set<WsClient>();
  #backlogged = new Set<WsClient>();
  #drainTimer: ReturnType<typeof setTimeout> | null = null;
  #batchDue = new Set<WsClient>();
  #batchTimer: ReturnType<typeof setTimeout> | null = null;
  #brokerJson: string;
  #nextId = 1;
  #startedAt = Date.now();
  #closing = false;

  private constructor(deps: ProxyDeps) {
    this.#deps = deps;
    this.#brokerJson = JSON.stringify(deps.broker);
  }

  /** Binds host:port. Fails with a clear message when the port is taken (no fallback port). */
  static start(
    listen: { host: string; port: number; cert?: string; key?: string },
    deps: ProxyDeps,
  ): Promise<ProxyServer> {
    const proxy = new ProxyServer(deps);
    return new Promise((resolve, reject) => {
      try {
        proxy.#server = Deno.serve({
          hostname: listen.host,
          port: listen.port,
          ...(listen.cert && listen.key ? { cert: listen.cert, key: listen.key } : {}),
          onListen: () => resolve(proxy),
          onError: (err) => {
            log.error("HTTP handler failed: {err}", { err });
            return new Response("internal error", { status: 500 });
          },
        }, (req, info) => proxy.#handle(req, info));
      } catch (err) {
        if (err instanceof Deno.errors.AddrInUse) {
          reject(
            new Error(
              `${listen.host}:${listen.port} is already in use. tickplex does not fall back to ` +
                `another port because clients expect this one; stop the other process or choose ` +
                `--port.`,
            ),
          );
        } else reject(err);
      }
    });
  }

  /** The bound address (port 0 resolves to the real port). */
  get addr(): Deno.NetAddr {
    return this.#server.addr;
  }

  /** Connected clients. */
  get clientCount(): number {
    return this.#clients.size;
  }

  // ---- fan-out ------------------------------------------------------------------------------

  /**
   * Delivers a batch of ticks to every consumer holding their keys. Large batches are fanned out
   * in slices with a yield between them so socket writes, timers and client requests keep moving;
   * if the backlog grows past {@link MAX_FANOUT_BACKLOG} ticks or {@link MAX_FANOUT_LAG_MS} it is
   * conflated to the newest tick per instrument (what a slow client gets anyway), and the drop is
   * counted.
   */
  onTicks(ticks: Tick[]): void {
    if (this.#fanBacklog.length > 0) {
      this.#fanBacklog.push(ticks);
      this.#fanBacklogTicks += ticks.length;
      if (
        this.#fanBacklogTicks > MAX_FANOUT_BACKLOG ||
        Date.now() - this.#fanBacklogSince > MAX_FANOUT_LAG_MS
      ) this.#conflateBacklog();
      return;
    }
    const done = this.#fanOut(ticks, 0);
    if (done < ticks.length) {
      this.#fanBacklog.push(done === 0 ? ticks : ticks.slice(done));
      this.#fanBacklogTicks += ticks.length - done;
      this.#fanBacklogSince = Date.now();
      setImmediate(this.#pump);
    }
  }

  #pump = (): void => {
    const first = this.#fanBacklog[0];
    if (!first) return;
    const done = this.#fanOut(first, 0);
    this.#fanBacklogTicks -= done;
    if (done < first.length) this.#fanBacklog[0] = first.slice(done);
    else this.#fanBacklog.shift();
    if (this.#fanBacklog.length > 0) setImmediate(this.#pump);
  };

  #conflateBacklog(): void {
    const newest = new Map<string, Tick>();
    let total = 0;
    for (const batch of this.#fanBacklog) {
      for (const t of batch) {
        total++;
        const k = `${t.exchange}|${t.symbol}`;
        newest.delete(k);
        newest.set(k, t);
      }
    }
    this.counters.ticksConflatedBehind += total - newest.size;
    this.#fanBacklog = [[...newest.values()]];
    this.#fanBacklogTicks = newest.size;
    this.#fanBacklogSince = Date.now();
    const now = Date.now();
    if (now - this.#lastBehindWarning > 5000) {
      this.#lastBehindWarning = now;
      log.warn(
        "fan-out fell behind the feed: conflated the backlog to the newest tick per instrument " +
          "({dropped} ticks dropped so far)",
        { dropped: this.counters.ticksConflatedBehind },
      );
    }
  }

  /** Fans out ticks from `start` until the delivery budget is spent; returns where it stopped. */
  #fanOut(ticks: Tick[], start: number): number {
    const registry = this.#deps.registry;
    let fanned = 0;
    let i = start;
    for (; i < ticks.length && fanned < FANOUT_SLICE; i++) {
      const tick = ticks[i];
      const modes = registry.consumersOf(tick.exchange, tick.symbol);
      if (!modes) continue;
      const frames = new TickFrames(tick, this.#brokerJson);
      for (const [mode, entry] of modes) {
        if (mode > tick.mode) continue;
        for (const c of entry.consumers) {
          if (c.deliver) {
            try {
              c.deliver(tick, mode, frames);
              fanned++;
            } catch (err) {
              log.error("delivery to {id} failed: {err}", { id: c.id, err });
            }
          }
        }
      }
    }
    this.counters.ticksFannedOut += fanned;
    if (this.#batchDue.size > 0) this.#flushBatches();
    return i;
  }

  backlogged(client: WsClient): void {
    this.#backlogged.add(client);
    this.#drainTimer ??= setTimeout(() => this.#drain(), 5);
  }

  batchPending(client: WsClient): void {
    this.#batchDue.add(client);
  }

  #drain(): void {
    this.#drainTimer = null;
    const now = Date.now();
    for (const c of this.#backlogged) {
      const r = c.drain(now);
      if (r === true) this.#backlogged.delete(c);
      else if (r === false) {
        this.#backlogged.delete(c);
        this.#closeSlow(c);
      }
    }
    if (this.#backlogged.size > 0) this.#drainTimer = setTimeout(() => this.#drain(), 5);
  }

  #flushBatches(): void {
    const now = Date.now();
    const interval = this.#deps.limits.batchIntervalMs;
    let nextDue = Infinity;
    for (const c of this.#batchDue) {
      const due = c.lastBatchFlush + interval;
      if (due > now) {
        nextDue = Math.min(nextDue, due);
        continue;
      }
      const r = c.flushBatch(now);
      if (r === true) {
        this.#batchDue.delete(c);
        c.batchScheduled = false;
      } else if (r === false) {
        this.#batchDue.delete(c);
        this.#closeSlow(c);
      } else nextDue = Math.min(nextDue, now + interval);
    }
    if (this.#batchDue.size > 0 && this.#batchTimer === null) {
      this.#batchTimer = setTimeout(() => {
        this.#batchTimer = null;
        this.#flushBatches();
      }, Math.max(1, nextDue - now));
    }
  }

  #closeSlow(c: WsClient): void {
    this.counters.slowConsumersClosed++;
    log.warn("closing slow consumer {id} ({address}): {queued} ticks queued", {
      id: c.id,
      address: c.address,
      queued: c.queued,
    });
    this.#closeClient(c, 1008, "slow consumer");
  }

  // ---- HTTP ---------------------------------------------------------------------------------

  async #handle(req: Request_, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Promise<Response> {
    const address = info.remoteAddr.hostname;
    if (req.headers.get("upgrade")?.toLowerCase() === "websocket") {
      if (this.#closing) return new Response("shutting down", { status: 503 });
      if (!this.#originAllowed(req)) {
        log.warn("refused WebSocket from origin {origin} ({address})", {
          origin: req.headers.get("origin"),
          address,
        });
        return new Response("origin not allowed", { status: 403 });
      }
      if (this.#clients.size >= this.#deps.limits.maxClients) {
        return new Response("too many clients", { status: 503 });
      }
      const { socket, response } = Deno.upgradeWebSocket(req, {
        idleTimeout: this.#deps.limits.idleTimeoutS,
      });
      this.#accept(socket, address);
      return response;
    }
    const url = new URL(req.url);
    if (req.method === "GET" && url.pathname === "/health") return json(this.health());
    if (req.method === "GET" && url.pathname === "/metrics") {
      return new Response(this.metricsText() + (this.#deps.metrics?.() ?? ""), {
        headers: { "content-type": "text/plain; version=0.0.4" },
      });
    }
    if (req.method === "GET" && url.pathname === "/api/v1/subscriptions") {
      const denied = await this.#httpAuth(req, address);
      if (denied) return denied;
      return json({ subscriptions: this.#deps.registry.list() });
    }
    const extra = await this.#deps.http?.(req, { address });
    if (extra) return extra;
    return json(
      { status: "error", code: "NOT_FOUND", message: `No route for ${url.pathname}` },
      404,
    );
  }

  #originAllowed(req: Request_): boolean {
    const origin = req.headers.get("origin");
    if (origin === null) return true;
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return false;
    }
    if (host === req.headers.get("host")) return true;
    return (this.#deps.allowedOrigins ?? []).some((o) => new URL(o).origin === origin);
  }

  /**
   * Checks the API key of an HTTP request (`Authorization: Bearer <key>` or `X-API-Key`).
   * Returns null when allowed, else the 401/429 response to send.
   */
  authorizeHttp(req: Request_, address: string): Promise<Response | null> {
    return this.#httpAuth(req, address);
  }

  async #httpAuth(req: Request_, address: string): Promise<Response | null> {
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

  /** Prometheus text for the proxy's own counters. */
  metricsText(): string {
    const lines: string[] = [];
    const add = (name: string, type: "counter" | "gauge", help: string, value: number) => {
      lines.push(`# HELP tickplex_${name} ${help}`, `# TYPE tickplex_${name} ${type}`);
      lines.push(`tickplex_${name} ${value}`);
    };
    add("clients", "gauge", "Connected WebSocket clients.", this.#clients.size);
    add(
      "client_connections_total",
      "counter",
      "WebSocket connections accepted.",
      this.counters.connections,
    );
    add("client_messages_total", "counter", "Client messages received.", this.counters.messages);
    add(
      "protocol_errors_total",
      "counter",
      "Client messages answered with an error.",
      this.counters.protocolErrors,
    );
    add(
      "deliveries_total",
      "counter",
      "Ticks delivered to consumers.",
      this.counters.ticksFannedOut,
    );
    add(
      "slow_consumers_closed_total",
      "counter",
      "Clients closed as slow consumers.",
      this.counters.slowConsumersClosed,
    );
    add(
      "flooders_closed_total",
      "counter",
      "Clients closed for flooding.",
      this.counters.floodersClosed,
    );
    add(
      "subscription_keys",
      "gauge",
      "Distinct (exchange, symbol, mode) keys held.",
      this.#deps.registry.list().length,
    );
    for (const c of this.#deps.feedStatus()) {
      lines.push(`tickplex_connection_symbols{connection="${c.index + 1}"} ${c.symbols}`);
      lines.push(`tickplex_connection_ticks_total{connection="${c.index + 1}"} ${c.ticks}`);
      lines.push(
        `tickplex_connection_up{connection="${c.index + 1}",state="${c.state}"} ${
          c.state === "connected" ? 1 : 0
        }`,
      );
    }
    return lines.join("\n") + "\n";
  }

  // ---- WebSocket clients --------------------------------------------------------------------

  #accept(socket: WebSocket, address: string): void {
    const limits = this.#deps.limits;
    const client = new WsClient(
      `c${this.#nextId++}`,
      address,
      socket,
      limits,
      this,
      limits.messageBurst,
    );
    this.counters.connections++;
    let graceTimer: ReturnType<typeof setTimeout> | null = null;
    socket.onopen = () => {
      this.#clients.add(client);
      graceTimer = setTimeout(() => {
        if (!client.authenticated && !client.closed) {
          this.#closeClient(client, 4401, "auth timeout");
        }
      }, limits.authGraceMs);
    };
    socket.onmessage = (e) => {
      if (client.closed) return;
      this.counters.messages++;
      client.counters.received++;
      if (!this.#admit(client)) return;
      if (typeof e.data !== "string") {
        this.#reply(client, {
          type: "error",
          status: "error",
          code: "INVALID_MESSAGE",
          message: "Binary frames are not supported; send JSON text frames",
        });
        return;
      }
      const text = e.data;
      if (text.length > limits.maxFrameBytes) {
        this.#reply(client, {
          type: "error",
          status: "error",
          code: "INVALID_MESSAGE",
          message: `Message larger than ${limits.maxFrameBytes} bytes`,
        });
        this.#closeClient(client, 1009, "message too big");
        return;
      }
      client.pendingRequests++;
      client.chain = client.chain.then(() => this.#onText(client, text)).catch((err) => {
        log.error("request from {id} failed: {err}", { id: client.id, err });
        this.#reply(client, {
          type: "error",
          status: "error",
          code: "SERVER_ERROR",
          message: "Internal error",
        });
      }).finally(() => {
        client.pendingRequests--;
      });
    };
    const cleanup = () => {
      if (graceTimer !== null) clearTimeout(graceTimer);
      this.#forget(client);
    };
    socket.onclose = cleanup;
    socket.onerror = (e) => {
      e.preventDefault();
      cleanup();
    };
  }

  /** Token bucket per client; sustained flooding closes with 1008. */
  #admit(client: WsClient): boolean {
    const limits = this.#deps.limits;
    const now = Date.now();
    client.tokens = Math.min(
      limits.messageBurst,
      client.tokens + ((now - client.lastRefill) / 1000) * limits.messagesPerSecond,
    );
    client.lastRefill = now;
    if (client.tokens >= 1 && client.pendingRequests < limits.messageBurst) {
      client.tokens--;
      client.flooded = 0;
      return true;
    }
    client.flooded++;
    if (client.flooded >= limits.floodCloseAfter) {
      this.counters.floodersClosed++;
      log.warn("closing {id} ({address}) for flooding", { id: client.id, address: client.address });
      this.#closeClient(client, 1008, "message rate limit exceeded");
      return false;
    }
    if (now - client.lastRateLimitReply >= 1000) {
      client.lastRateLimitReply = now;
      this.#reply(client, {
        type: "error",
        status: "error",
        code: "RATE_LIMITED",
        message:
          `Too many messages; limit ${limits.messagesPerSecond}/s (burst ${limits.messageBurst}). ` +
          `Dropped messages since: ${client.flooded}`,
      });
    }
    return false;
  }

  #reply(client: WsClient, frame: Record<string, unknown>): void {
    client.sendControl(JSON.stringify(frame));
  }

  #error(client: WsClient, e: ProtocolError): void {
    this.counters.protocolErrors++;
    const frame: Record<string, unknown> = {
      type: e.replyType,
      status: "error",
      code: e.code,
      message: e.message,
    };
    if (e.requestId !== undefined) frame.request_id = e.requestId;
    this.#reply(client, frame);
  }

  async #onText(client: WsClient, text: string): Promise<void> {
    if (client.closed) return;
    const req = parseRequest(text, this.#deps.limits);
    if (isProtocolError(req)) return this.#error(client, req);
    const preAuth = req.action === "authenticate" || req.action === "ping" ||
      req.action === "get_supported_brokers";
    if (!preAuth && !client.authenticated) {
      const replyType = req.action === "unsubscribe_all" ? "unsubscribe" : {
        subscribe: "subscribe",
        unsubscribe: "unsubscribe",
        get_broker_info: "broker_info",
        get_subscriptions: "subscriptions",
      }[req.action as string] ?? "error";
      return this.#error(client, {
        code: "NOT_AUTHENTICATED",
        message: "You must authenticate first",
        replyType,
        requestId: req.requestId,
      });
    }
    switch (req.action) {
      case "authenticate":
        return await this.#authenticate(client, req);
      case "ping": {
        const frame: Record<string, unknown> = {
          type: "pong",
          status: "success",
          server_timestamp: Date.now(),
        };
        if (req.timestamp !== undefined) frame.client_timestamp = req.timestamp;
        if (req.pingId !== undefined) frame._pingId = req.pingId;
        return this.#reply(client, withRequestId(frame, req));
      }
      case "get_supported_brokers":
        return this.#reply(
          client,
          withRequestId({
            type: "supported_brokers",
            status: "success",
            brokers: this.#deps.supportedBrokers,
            count: this.#deps.supportedBrokers.length,
          }, req),
        );
      case "get_broker_info":
        return this.#reply(
          client,
          withRequestId({
            type: "broker_info",
            status: "success",
            broker: this.#deps.broker,
            adapter_status: overallState(this.#deps.feedStatus()),
            user_id: this.#deps.userId,
          }, req),
        );
      case "get_subscriptions": {
        const subs = [...client.subscriptions.values()].map((s) => ({
          symbol: s.symbol,
          exchange: s.exchange,
          mode: MODE_LABEL[s.mode],
          depth: s.depth,
        }));
        return this.#reply(
          client,
          withRequestId({
            type: "subscriptions",
            status: "success",
            subscriptions: subs,
            count: subs.length,
          }, req),
        );
      }
      case "subscribe":
        return await this.#subscribe(client, req);
      case "unsubscribe":
        return await this.#unsubscribe(client, req);
      case "unsubscribe_all":
        return await this.#unsubscribeAll(client, req);
    }
  }

  async #authenticate(client: WsClient, req: Extract<Request, { action: "authenticate" }>) {
    const r = await this.#deps.auth.check(req.apiKey, client.address);
    if (!r.ok) {
      return this.#error(client, {
        code: r.code,
        message: r.message,
        replyType: "auth",
        requestId: req.requestId,
      });
    }
    client.authenticated = true;
    client.batch = req.batch;
    client.conflate = req.conflate;
    this.#reply(
      client,
      withRequestId({
        type: "auth",
        status: "success",
        message: "Authentication successful",
        broker: this.#deps.broker,
        user_id: this.#deps.userId,
        supported_features: { ltp: true, quote: true, depth: true, batch: true },
      }, req),
    );
  }

  async #subscribe(client: WsClient, req: Extract<Request, { action: "subscribe" }>) {
    const broker = this.#deps.broker;
    const max = this.#deps.limits.maxSubscriptionsPerClient;
    // Entries naming the same key share one outcome: each gets the same answer.
    const byKey = new Map<string, Promise<Record<string, unknown>>>();
    const results = await Promise.all(req.entries.map((e) => {
      if (!e.ok) return entryError(e, broker);
      const mode = e.mode ?? req.mode;
      const key = subKey(e.exchange, e.symbol, mode);
      let outcome = byKey.get(key);
      if (!outcome) {
        outcome = this.#subscribeOne(client, e, mode, req.depth);
        byKey.set(key, outcome);
      }
      return outcome;
    }));
    this.#reply(
      client,
      withRequestId({
        type: "subscribe",
        status: overall(results as { status: string }[]),
        message: "Subscription processing complete",
        broker,
        subscriptions: results,
      }, req),
    );
  }

  async #subscribeOne(
    client: WsClient,
    e: { symbol: string; exchange: string },
    mode: Mode,
    depth: number,
  ): Promise<Record<string, unknown>> {
    const broker = this.#deps.broker;
    const max = this.#deps.limits.maxSubscriptionsPerClient;
    const key = subKey(e.exchange, e.symbol, mode);
    const held = client.subscriptions.get(key);
    if (held) return success(e, mode, held.depth, broker);
    if (client.subscriptions.size >= max) {
      return {
        symbol: e.symbol,
        exchange: e.exchange,
        status: "error",
        code: "MAX_CAPACITY_REACHED",
        message: `Per-client limit reached: ${max} subscriptions`,
        broker,
      };
    }
    // Reserve the slot before awaiting so one request cannot overshoot the per-client limit.
    client.subscriptions.set(key, {
      exchange: e.exchange,
      symbol: e.symbol,
      mode,
      depth,
    });
    const r = await this.#deps.registry.acquire(client, e.exchange, e.symbol, mode, depth);
    if (!r.ok || client.closed) {
      client.subscriptions.delete(key);
      if (r.ok) {
        // The client left while we waited: give the key back.
        void this.#deps.registry.release(client, e.exchange, e.symbol, mode);
      }
      if (!r.ok) {
        return {
          symbol: e.symbol,
          exchange: e.exchange,
          status: "error",
          code: r.code,
          message: r.message,
          broker,
        };
      }
      return entryError(
        { ...e, ok: false as const, code: "SERVER_ERROR", message: "Client closed" },
        broker,
      );
    }
    client.subscriptions.set(key, {
      exchange: e.exchange,
      symbol: e.symbol,
      mode,
      depth: r.depth,
    });
    return success(e, mode, r.depth, broker);
  }

  async #unsubscribe(client: WsClient, req: Extract<Request, { action: "unsubscribe" }>) {
    const broker = this.#deps.broker;
    const successful: Record<string, unknown>[] = [];
    const failed: Record<string, unknown>[] = [];
    await Promise.all(req.entries.map(async (e) => {
      if (!e.ok) {
        failed.push(entryError(e, broker));
        return;
      }
      const modes: Mode[] = e.mode !== null
        ? [e.mode]
        : ([1, 2, 3] as Mode[]).filter((m) =>
          client.subscriptions.has(subKey(e.exchange, e.symbol, m))
        );
      if (
        modes.length === 0 ||
        !modes.every((m) => client.subscriptions.has(subKey(e.exchange, e.symbol, m)))
      ) {
        failed.push({
          symbol: e.symbol,
          exchange: e.exchange,
          status: "error",
          code: "NOT_SUBSCRIBED",
          message: e.mode !== null
            ? `Not subscribed to ${e.symbol} on ${e.exchange} in mode ${MODE_LABEL[e.mode]}`
            : `Not subscribed to ${e.symbol} on ${e.exchange}`,
          broker,
        });
        return;
      }
      const errors: string[] = [];
      let code = "BROKER_ERROR";
      for (const m of modes) {
        const r = await this.#deps.registry.release(client, e.exchange, e.symbol, m);
        // Released from the client's view even if the upstream release must be retried later.
        client.subscriptions.delete(subKey(e.exchange, e.symbol, m));
        if (!r.ok && r.code !== "NOT_SUBSCRIBED") {
          errors.push(r.message);
          code = r.code;
        }
      }
      if (errors.length > 0) {
        // Released from the client's view all the same: say which modes.
        failed.push({
          symbol: e.symbol,
          exchange: e.exchange,
          status: "error",
          code,
          message: errors.join("; "),
          modes: modes.map((m) => MODE_LABEL[m]),
          broker,
        });
      } else {
        successful.push({
          symbol: e.symbol,
          exchange: e.exchange,
          status: "success",
          modes: modes.map((m) => MODE_LABEL[m]),
          broker,
        });
      }
    }));
    this.#reply(
      client,
      withRequestId({
        type: "unsubscribe",
        status: failed.length === 0 ? "success" : successful.length === 0 ? "error" : "partial",
        message: "Unsubscription processing complete",
        successful,
        failed,
        broker,
      }, req),
    );
  }

  async #unsubscribeAll(client: WsClient, req: { requestId?: unknown }) {
    const broker = this.#deps.broker;
    const held = [...client.subscriptions.values()];
    client.subscriptions.clear();
    await this.#deps.registry.releaseAll(client);
    // One entry per instrument, listing every mode released for it, lowest first.
    const byInstrument = new Map<string, { symbol: string; exchange: string; modes: Mode[] }>();
    for (const s of held) {
      const k = `${s.exchange}|${s.symbol}`;
      const entry = byInstrument.get(k);
      if (entry) entry.modes.push(s.mode);
      else byInstrument.set(k, { symbol: s.symbol, exchange: s.exchange, modes: [s.mode] });
    }
    const successful = [...byInstrument.values()].map((e) => ({
      symbol: e.symbol,
      exchange: e.exchange,
      status: "success",
      modes: e.modes.sort().map((m) => MODE_LABEL[m]),
      broker,
    }));
    this.#reply(
      client,
      withRequestId({
        type: "unsubscribe",
        status: "success",
        message: "Unsubscription processing complete",
        successful,
        failed: [],
        broker,
      }, req),
    );
  }

  #closeClient(client: WsClient, code: number, reason: string): void {
    if (client.closed) return;
    try {
      client.socket.close(code, reason);
    } catch {
      // already closing
    }
    this.#forget(client);
  }

  #forget(client: WsClient): void {
    if (client.closed) return;
    client.closed = true;
    this.#clients.delete(client);
    this.#backlogged.delete(client);
    this.#batchDue.delete(client);
    client.subscriptions.clear();
    // Wait for in-flight requests so a subscribe that lands after the close is released too.
    void client.chain.then(() => this.#deps.registry.releaseAll(client)).catch((err) => {
      log.error("releasing {id}'s subscriptions failed: {err}", { id: client.id, err });
    });
  }

  /** Closes every client with 1001 and stops listening. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    for (const c of [...this.#clients]) this.#closeClient(c, 1001, "server shutting down");
    if (this.#drainTimer !== null) clearTimeout(this.#drainTimer);
    if (this.#batchTimer !== null) clearTimeout(this.#batchTimer);
    // Let close frames go out before the listener stops.
    await new Promise((r) => setTimeout(r, 20));
    await this.#server.shutdown();
  }
}

function memoryMb(): Record<string, number> {
  const m = Deno.memoryUsage();
  const mb = (n: number) => Math.round(n / 1048576);
  return {
    rss: mb(m.rss),
    heap_total: mb(m.heapTotal),
    heap_used: mb(m.heapUsed),
    external: mb(m.external),
  };
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function withRequestId(frame: Record<string, unknown>, req: { requestId?: unknown }) {
  if (req.requestId !== undefined) frame.request_id = req.requestId;
  return frame;
}

function success(
  e: { symbol: string; exchange: string },
  mode: Mode,
  depth: number,
  broker: string,
): Record<string, unknown> {
  const ack: Record<string, unknown> = {
    symbol: e.symbol,
    exchange: e.exchange,
    status: "success",
    mode: MODE_LABEL[mode],
    depth,
    broker,
  };
  // The pool reports depth 0 when the instrument has no book (an index): say so, not "5".
  if (mode === 3 && depth === 0) {
    ack.message = `No market depth is available for ${e.symbol} on ${e.exchange}`;
  }
  return ack;
}

function entryError(e: Extract<EntryParse, { ok: false }>, broker: string) {
  return {
    symbol: e.symbol,
    exchange: e.exchange,
    status: "error",
    code: e.code,
    message: e.message,
    broker,
  };
}

function overall(results: { status: string }[]): "success" | "partial" | "error" {
  const failed = results.filter((r) => r.status !== "success").length;
  return failed === 0 ? "success" : failed === results.length ? "error" : "partial";
}
