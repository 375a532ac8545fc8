// The TCP/HTTP edge of :8765 (node:http or node:https): every connection is seen from its
// accept, so each has a deadline before its request completes and caps per address and in total,
// which Deno.serve cannot offer (it shows a connection only once its headers are complete).
// Plain requests are bridged to web Request/Response; WebSocket upgrades are handed over.

import http from "node:http";
import https from "node:https";
import type { Duplex } from "node:stream";
import type { Socket } from "node:net";
import type { Buffer } from "node:buffer";
import type { DropReason } from "./drops.ts";
import type { RequestInfo } from "./routes.ts";

/** Connection limits of the listener, from config limits. */
export interface ListenerLimits {
  /** A connection must complete each request's headers (and body) within this; idle keep-alive too. */
  requestTimeoutMs: number;
  /** Open TCP connections from one address (WebSocket clients included). */
  maxConnectionsPerAddress: number;
  /** Open TCP connections in total. */
  maxConnections: number;
  /** Largest request body read; larger ones get 413. */
  maxBodyBytes: number;
}

/** What the listener calls. */
export interface ListenerHandlers {
  /** Answers a plain HTTP request. */
  request(req: Request, info: RequestInfo): Promise<Response>;
  /**
   * Takes over an upgrade request's socket (the request's deadline is already cleared). The
   * handler either completes the upgrade or answers with an HTTP error and ends the socket.
   */
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, info: RequestInfo): void;
  /** A connection was dropped by the listener. */
  drop(reason: DropReason, address: string): void;
}

interface Conn {
  address: string;
  timer: ReturnType<typeof setTimeout> | null;
  /** Requests being answered on this connection (HTTP/1.1 pipelining aside, 0 or 1). */
  active: number;
  /** The connection belongs to a WebSocket now; its deadlines are the client's. */
  upgraded: boolean;
}

/** IPv4-mapped IPv6 (`::ffff:1.2.3.4`) as plain IPv4, so one client has one address. */
function plainAddress(a: string | undefined): string {
  if (!a) return "unknown";
  return a.startsWith("::ffff:") ? a.slice(7) : a;
}

/**
 * The listener. {@link HttpListener.start} binds; {@link HttpListener.close} stops accepting and
 * cuts every connection still open.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const listener = await HttpListener.start(
 *   { host: "127.0.0.1", port: 0 },
 *   { requestTimeoutMs: 5000, maxConnectionsPerAddress: 10, maxConnections: 100, maxBodyBytes: 1024 },
 *   {
 *     request: () => Promise.resolve(new Response("hi")),
 *     upgrade: (_req, socket) => socket.destroy(),
 *     drop: () => {},
 *   },
 * );
 * const r = await fetch(`http://127.0.0.1:${listener.addr.port}/`);
 * assert.equal(await r.text(), "hi");
 * await listener.close();
 * ```
 */
export class HttpListener {
  #server: http.Server;
  #limits: ListenerLimits;
  #handlers: ListenerHandlers;
  #conns = new Map<Socket, Conn>();
  #perAddress = new Map<string, number>();
  #scheme: "http" | "https";
  #addr: { hostname: string; port: number } = { hostname: "", port: 0 };

  private constructor(
    tls: { cert: string; key: string } | null,
    limits: ListenerLimits,
    handlers: ListenerHandlers,
  ) {
    this.#limits = limits;
    this.#handlers = handlers;
    this.#scheme = tls ? "https" : "http";
    this.#server = tls ? https.createServer({ cert: tls.cert, key: tls.key }) : http.createServer();
    // The deadlines below replace node's own timers (which Deno's node:http does not enforce).
    this.#server.on("connection", (s: Socket) => this.#onConnection(s));
    this.#server.on("request", (req, res) => this.#onRequest(req, res));
    this.#server.on("upgrade", (req, socket, head) => this.#onUpgrade(req, socket, head));
    this.#server.on("clientError", (_err, socket: Duplex) => socket.destroy());
  }

  /** Binds host:port; rejects with a clear message when the port is taken. */
  static start(
    listen: { host: string; port: number; cert?: string; key?: string; reusePort?: boolean },
    limits: ListenerLimits,
    handlers: ListenerHandlers,
  ): Promise<HttpListener> {
    const tls = listen.cert && listen.key ? { cert: listen.cert, key: listen.key } : null;
    const l = new HttpListener(tls, limits, handlers);
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        if (err.code === "EADDRINUSE") {
          reject(
            new Error(
              `${listen.host}:${listen.port} is already in use. tickplex does not fall back to ` +
                `another port because clients expect this one; stop the other process or choose ` +
                `--port.`,
            ),
          );
        } else reject(err);
      };
      l.#server.once("error", onError);
      const options = {
        port: listen.port,
        host: listen.host,
        reusePort: listen.reusePort === true,
      };
      l.#server.listen(options, () => {
        l.#server.off("error", onError);
        const a = l.#server.address();
        if (a && typeof a === "object") l.#addr = { hostname: a.address, port: a.port };
        resolve(l);
      });
    });
  }

  /** The bound address (port 0 resolves to the real port). */
  get addr(): { hostname: string; port: number } {
    return this.#addr;
  }

  /** Open TCP connections (WebSocket clients included). */
  get connections(): number {
    return this.#conns.size;
  }

  /** Open TCP connections not (yet) upgraded: HTTP requests and connections still arriving. */
  get pending(): number {
    let n = 0;
    for (const c of this.#conns.values()) if (!c.upgraded) n++;
    return n;
  }

  #onConnection(socket: Socket): void {
    const address = plainAddress(socket.remoteAddress);
    const fromAddress = this.#perAddress.get(address) ?? 0;
    if (this.#conns.size >= this.#limits.maxConnections) {
      this.#handlers.drop("connection_cap", address);
      socket.destroy();
      return;
    }
    if (fromAddress >= this.#limits.maxConnectionsPerAddress) {
      this.#handlers.drop("address_cap", address);
      socket.destroy();
      return;
    }
    const conn: Conn = { address, timer: null, active: 0, upgraded: false };
    this.#conns.set(socket, conn);
    this.#perAddress.set(address, fromAddress + 1);
    this.#arm(socket, conn, "request_timeout");
    socket.once("close", () => {
      if (conn.timer !== null) clearTimeout(conn.timer);
      this.#conns.delete(socket);
      const n = (this.#perAddress.get(address) ?? 1) - 1;
      if (n <= 0) this.#perAddress.delete(address);
      else this.#perAddress.set(address, n);
    });
  }

  /** Starts the deadline for the next request on `socket`. */
  #arm(socket: Socket, conn: Conn, reason: DropReason): void {
    if (conn.timer !== null) clearTimeout(conn.timer);
    conn.timer = setTimeout(() => {
      conn.timer = null;
      if (conn.upgraded || socket.destroyed) return;
      this.#handlers.drop(reason, conn.address);
      socket.destroy();
    }, this.#limits.requestTimeoutMs);
  }

  #connOf(socket: Duplex): Conn | undefined {
    return this.#conns.get(socket as Socket);
  }

  async #onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const socket = req.socket;
    const conn = this.#connOf(socket);
    if (conn) conn.active++;
    // The deadline keeps running through the body: a request must arrive whole in time.
    let response: Response;
    try {
      const address = conn?.address ?? plainAddress(socket.remoteAddress);
      const body = await this.#readBody(req);
      if (body === "too_large") {
        response = new Response(
          JSON.stringify({
            status: "error",
            code: "INVALID_PARAMETERS",
            message: `Request body larger than ${this.#limits.maxBodyBytes} bytes`,
          }),
          { status: 413, headers: { "content-type": "application/json" } },
        );
      } else {
        if (conn?.timer) clearTimeout(conn.timer);
        if (conn) conn.timer = null;
        response = await this.#handlers.request(this.#webRequest(req, body), { address });
      }
    } catch {
      // The socket went away mid-body, or the handler failed: answer if the socket still can.
      response = new Response("internal error", { status: 500 });
    }
    if (res.destroyed) return;
    const payload = req.method === "HEAD" || response.body === null
      ? null
      : new Uint8Array(await response.arrayBuffer());
    const headers: Record<string, string> = {};
    response.headers.forEach((v, k) => headers[k] = v);
    if (payload !== null) headers["content-length"] = String(payload.byteLength);
    res.once("finish", () => {
      if (!conn) return;
      conn.active--;
      // Idle keep-alive: the next request must arrive within the same deadline.
      if (conn.active === 0 && !socket.destroyed) this.#arm(socket as Socket, conn, "http_idle");
    });
    res.writeHead(response.status, headers);
    res.end(payload ?? undefined);
  }

  #readBody(req: http.IncomingMessage): Promise<Uint8Array<ArrayBuffer> | null | "too_large"> {
    if (req.method === "GET" || req.method === "HEAD") {
      req.resume();
      return Promise.resolve(null);
    }
    return new Promise((resolve, reject) => {
      const chunks: Uint8Array[] = [];
      let size = 0;
      req.on("data", (chunk: Uint8Array) => {
        size += chunk.byteLength;
        if (size > this.#limits.maxBodyBytes) {
          req.removeAllListeners("data");
          req.resume();
          resolve("too_large");
          return;
        }
        chunks.push(chunk);
      });
      req.once("end", () => {
        if (size > this.#limits.maxBodyBytes) return;
        const out = new Uint8Array(size);
        let off = 0;
        for (const c of chunks) {
          out.set(c, off);
          off += c.byteLength;
        }
        resolve(out);
      });
      req.once("error", reject);
      req.once("close", () => reject(new Error("request closed before its body arrived")));
    });
  }

  #webRequest(req: http.IncomingMessage, body: Uint8Array<ArrayBuffer> | null): Request {
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) {
      if (Array.isArray(v)) { for (const x of v) headers.append(k, x); }
      else if (v !== undefined) headers.set(k, v);
    }
    const host = req.headers.host ?? `${this.#addr.hostname}:${this.#addr.port}`;
    return new Request(`${this.#scheme}://${host}${req.url ?? "/"}`, {
      method: req.method,
      headers,
      body: body && body.byteLength > 0 ? body : null,
    });
  }

  #onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const conn = this.#connOf(socket);
    if (conn) {
      conn.upgraded = true;
      if (conn.timer !== null) clearTimeout(conn.timer);
      conn.timer = null;
    }
    const address = conn?.address ?? plainAddress((socket as Socket).remoteAddress);
    this.#handlers.upgrade(req, socket, head, { address });
  }

  /** Builds the web Request of an upgrade (for origin checks and logging). */
  upgradeRequest(req: http.IncomingMessage): Request {
    return this.#webRequest(req, null);
  }

  /** Stops accepting and cuts every open connection. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      for (const s of this.#conns.keys()) s.destroy();
    });
  }
}

/**
 * Reads the PEM files of the `tls` config block for {@link HttpListener.start}; `{}` without one.
 * Throws naming the field and the file when one cannot be read.
 */
export async function readTls(
  tls: { cert: string; key: string } | undefined,
): Promise<{ cert?: string; key?: string }> {
  if (tls === undefined) return {};
  const read = async (path: string, field: string): Promise<string> => {
    try {
      return await Deno.readTextFile(path);
    } catch (e) {
      throw new Error(`${field}: cannot read ${path}: ${e instanceof Error ? e.message : e}`);
    }
  };
  return { cert: await read(tls.cert, "tls.cert"), key: await read(tls.key, "tls.key") };
}
