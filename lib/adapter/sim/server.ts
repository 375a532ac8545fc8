// The part of a broker simulator every broker shares: a WebSocket (and plain HTTP) server on
// 127.0.0.1, a connection registry with stall/resume/drop faults, server heartbeats and a market
// clock. A broker simulator adds its handshake check, request decoding and frame encoding.

/** One message to a client: text or binary. */
export type SimFrame = string | Uint8Array;

/** One client connection. */
export class SimConnection<S> {
  /** Whether output (data, heartbeats) is suppressed by a `stall()`. */
  stalled = false;
  open = true;

  constructor(
    /** 1-based, in order of handshake. */
    readonly id: number,
    readonly socket: WebSocket,
    /** Broker-specific per-connection state (subscriptions, login). */
    readonly state: S,
  ) {}

  /** Sends unless stalled or closed; returns whether it was sent. */
  send(frame: SimFrame): boolean {
    if (!this.open || this.stalled || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(frame);
    return true;
  }

  /** Closes the connection (server side). */
  close(code = 1000, reason = ""): void {
    this.open = false;
    try {
      this.socket.close(code, reason);
    } catch {
      // already closed
    }
  }
}

/** Hooks a broker simulator plugs into {@link SimServer}. */
export interface SimServerHooks<S> {
  /**
   * Decides a WebSocket handshake (`url` has the query). Return the new connection's state, or a
   * Response to refuse it (401/403/429, as the broker does).
   */
  accept(req: Request, url: URL): S | Response;
  onOpen?(conn: SimConnection<S>): void;
  onMessage(conn: SimConnection<S>, data: string | Uint8Array): void;
  onClose?(conn: SimConnection<S>): void;
  /** Plain HTTP (REST endpoints, instrument masters); null → 404. */
  http?(req: Request, url: URL): Response | null | Promise<Response | null>;
  /** Paths that upgrade to WebSocket (default: any path with an Upgrade header). */
  isFeedPath?(url: URL): boolean;
}

/** Options of {@link SimServer}. */
export interface SimServerOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Server heartbeat: `frame()` sent to every connection every `everyMs` (unless stalled). */
  heartbeat?: { everyMs: number; frame(): SimFrame };
  /**
   * WebSocket-level keep-alive: a ping after this many idle seconds, and the connection closed
   * when no pong follows (Dhan pings every 10 s). Default: Deno's (120 s).
   */
  idleTimeoutS?: number;
  /** Market clock: `onTick()` called every `everyMs`; 0 or absent = only when asked. */
  tickEveryMs?: number;
  onTick?(): void;
}

/**
 * A WebSocket + HTTP server on 127.0.0.1 for one simulated broker.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const server = new SimServer<{ n: number }>({
 *   accept: () => ({ n: 0 }),
 *   onMessage: (conn, data) => conn.send(`echo ${data}`),
 * });
 * const ws = new WebSocket(server.url);
 * const reply = await new Promise<string>((resolve) => {
 *   ws.onopen = () => ws.send("hi");
 *   ws.onmessage = (e) => resolve(e.data);
 * });
 * assert.equal(reply, "echo hi");
 * ws.close();
 * await server.close();
 * ```
 */
export class SimServer<S> {
  readonly port: number;
  /** `ws://127.0.0.1:<port>/` */
  readonly url: string;
  /** `http://127.0.0.1:<port>` */
  readonly httpBase: string;
  /** Handshakes attempted (accepted or refused). */
  handshakes = 0;
  readonly #hooks: SimServerHooks<S>;
  readonly #conns: SimConnection<S>[] = [];
  readonly #server: Deno.HttpServer;
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  readonly #idleTimeoutS: number | undefined;
  #nextId = 1;

  constructor(hooks: SimServerHooks<S>, options: SimServerOptions = {}) {
    this.#hooks = hooks;
    this.#idleTimeoutS = options.idleTimeoutS;
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: options.port ?? 0, onListen: () => {} },
      (req) => this.#handle(req),
    );
    const addr = this.#server.addr as Deno.NetAddr;
    this.port = addr.port;
    this.url = `ws://127.0.0.1:${this.port}/`;
    this.httpBase = `http://127.0.0.1:${this.port}`;
    const hb = options.heartbeat;
    if (hb !== undefined && hb.everyMs > 0) {
      this.#timers.push(setInterval(() => {
        for (const c of this.connections()) c.send(hb.frame());
      }, hb.everyMs));
    }
    if (options.tickEveryMs !== undefined && options.tickEveryMs > 0 && options.onTick) {
      this.#timers.push(setInterval(options.onTick, options.tickEveryMs));
    }
  }

  /** Open connections (all, including closed ones, when `includeClosed`). */
  connections(includeClosed = false): SimConnection<S>[] {
    return includeClosed ? [...this.#conns] : this.#conns.filter((c) => c.open);
  }

  /** Closes every open connection; returns how many. */
  drop(): number {
    const open = this.connections();
    for (const c of open) c.close(1001, "simulated drop");
    return open.length;
  }

  /** Suppresses all output on open connections. */
  stall(): void {
    for (const c of this.connections()) c.stalled = true;
  }

  /** Lifts a stall. */
  resume(): void {
    for (const c of this.connections()) c.stalled = false;
  }

  /** Sends `frames` to every open connection. */
  broadcast(frames: readonly SimFrame[]): void {
    for (const c of this.connections()) for (const f of frames) c.send(f);
  }

  /** Stops the server and closes every connection. */
  async close(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    for (const c of this.connections()) c.close(1001, "simulator closing");
    await this.#server.shutdown();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const upgrade = req.headers.get("upgrade")?.toLowerCase() === "websocket";
    if (upgrade && (this.#hooks.isFeedPath?.(url) ?? true)) {
      this.handshakes++;
      const state = this.#hooks.accept(req, url);
      if (state instanceof Response) return state;
      const { socket, response } = Deno.upgradeWebSocket(
        req,
        this.#idleTimeoutS !== undefined ? { idleTimeout: this.#idleTimeoutS } : {},
      );
      socket.binaryType = "arraybuffer";
      const conn = new SimConnection(this.#nextId++, socket, state);
      this.#conns.push(conn);
      socket.onopen = () => this.#hooks.onOpen?.(conn);
      socket.onmessage = (e) => {
        if (!conn.open) return;
        const data = typeof e.data === "string" ? e.data : new Uint8Array(e.data as ArrayBuffer);
        this.#hooks.onMessage(conn, data);
      };
      socket.onclose = () => {
        conn.open = false;
        this.#hooks.onClose?.(conn);
      };
      socket.onerror = () => {};
      return response;
    }
    const r = await this.#hooks.http?.(req, url);
    return r ?? new Response("not found", { status: 404 });
  }
}
