// The proxy's WebSocket clients from accept to close: requests in order, the rate limit, and a
// deadline in every state — auth grace (4401), lag behind the staleness bound (1008), keep-alive
// (1001), and the close handshake (cut at the TCP level) — each drop counted once by reason.

import type { Buffer } from "node:buffer";
import type { Duplex } from "node:stream";
// @ts-types="@types/ws"
import type { WebSocket } from "ws";
import { getLogger } from "../log.ts";
import type { CandleFeed } from "./candles.ts";
import { type ClientSocket, WsClient } from "./client.ts";
import type { DropLog, DropReason } from "./drops.ts";
import type { FanOut } from "./fanout.ts";
import type { RequestHandlers } from "./handlers.ts";
import { admit } from "./rate_limit.ts";
import type { ProxyDeps } from "./server.ts";

const log = getLogger(["tickplex", "proxy"]);

/** Keep-alive checks run at most this often; lag checks run every half probe interval. */
const KEEPALIVE_CHECK_MS = 1000;
/** A lag check later than its interval by more than this counts as a stall of the gateway. */
const STALL_SLACK_MS = 20;
/** Longest wait on shutdown for closed clients' subscriptions to be released upstream. */
const RELEASE_WAIT_MS = 3000;

/**
 * The connected clients and their deadlines. The proxy hands it each upgraded WebSocket.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Gateway } from "../gateway.ts";
 * import { ADAPTERS, adapterOptionsFor } from "../../adapters/mod.ts";
 * import { configSchema } from "../config/mod.ts";
 * const gw = await Gateway.start({
 *   config: configSchema.parse({
 *     port: 0, bus: "tcp://127.0.0.1:*", apiKeys: ["a-long-random-client-key"], logLevel: "error",
 *   }),
 *   adapters: ADAPTERS,
 *   adapterOptions: adapterOptionsFor,
 * });
 * const ws = new WebSocket(`ws://127.0.0.1:${gw.proxy.addr.port}`);
 * await new Promise((resolve) => ws.onopen = resolve);
 * const reply = () => new Promise<{ type: string; code?: string }>((resolve) => {
 *   ws.onmessage = (e) => resolve(JSON.parse(e.data));
 * });
 * // The proxy hands each upgraded WebSocket to its ClientSessions (`sessions.accept`).
 * const pong = reply();
 * ws.send(JSON.stringify({ action: "ping" }));
 * assert.equal((await pong).type, "pong");
 * assert.equal(gw.proxy.clientCount, 1);
 * ws.close();
 * await gw.stop();
 * ```
 */
export class ClientSessions {
  #deps: ProxyDeps;
  #fanout: FanOut;
  #handlers: RequestHandlers;
  #candles: CandleFeed;
  #drops: DropLog;
  #clients = new Set<WsClient>();
  /** Subscription releases of closed clients still in progress (awaited on shutdown). */
  #releasing = new Set<Promise<void>>();
  #nextId = 1;
  /** WebSocket connections accepted, and messages received, since start. */
  readonly counters = { connections: 0, messages: 0 };
  #lagTimer: ReturnType<typeof setInterval>;
  #lagInterval: number;
  #lastLagCheck = performance.now();
  #keepaliveTimer: ReturnType<typeof setInterval>;

  constructor(parts: {
    deps: ProxyDeps;
    fanout: FanOut;
    handlers: RequestHandlers;
    candles: CandleFeed;
    drops: DropLog;
  }) {
    this.#deps = parts.deps;
    this.#fanout = parts.fanout;
    this.#handlers = parts.handlers;
    this.#candles = parts.candles;
    this.#drops = parts.drops;
    const probeMs = Math.max(10, Math.floor(this.#deps.limits.maxStalenessMs / 5));
    this.#lagInterval = Math.max(5, Math.floor(probeMs / 2));
    this.#lagTimer = setInterval(() => this.#checkLag(), this.#lagInterval);
    this.#keepaliveTimer = setInterval(() => this.#checkKeepalive(), KEEPALIVE_CHECK_MS);
  }

  /** Connected clients. */
  get size(): number {
    return this.#clients.size;
  }

  /** Clients currently sent the newest tick per key in rounds because they lag. */
  conflating(): number {
    let n = 0;
    for (const c of this.#clients) if (c.lag.mode === "conflate") n++;
    return n;
  }

  /** Takes a freshly upgraded WebSocket as a client. */
  accept(ws: WebSocket, address: string): void {
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
    this.counters.connections++;
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
      if (!client.closed) this.#drops.record(reason, client, err.message);
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
    this.counters.messages++;
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
    if (drop) this.#drops.record(drop, client, detail);
    try {
      client.socket.close(code, reason);
    } catch {
      // already closing
    }
    client.closeTimer = setTimeout(() => {
      client.closeTimer = null;
      this.#drops.record("close_timeout", client, `no answer to close ${code}`);
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
      Promise.all([
        this.#deps.registry.releaseAll(client),
        this.#deps.poll?.registry.releaseAll(client),
        this.#candles.forget(client),
      ])
    ).then(() => {}, (err) => {
      log.error("releasing {id}'s subscriptions failed: {err}", { id: client.id, err });
    });
    this.#releasing.add(released);
    void released.finally(() => this.#releasing.delete(released));
  }

  /** Stops the housekeeping timers. */
  stop(): void {
    clearInterval(this.#lagTimer);
    clearInterval(this.#keepaliveTimer);
  }

  /**
   * Closes every client with 1001, waits (briefly) for well-behaved peers to answer and for their
   * subscriptions to be released upstream; the listener then cuts whatever is left.
   */
  async closeAll(): Promise<void> {
    this.stop();
    const closing = [...this.#clients];
    for (const c of closing) this.#closeClient(c, 1001, "server shutting down", null);
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
  }
}
