// Test harness: a gateway on free loopback ports and WebSocket clients with bounded waits.

import assert from "node:assert/strict";
import { type Config, configSchema } from "../../lib/config/mod.ts";
import { Gateway, type GatewayOptions } from "../../lib/gateway.ts";
import { adapterOptionsFor, ADAPTERS } from "../../adapters/mod.ts";

export const TEST_KEY = "test-key-0123456789abcdef";

/**
 * The least any bounded wait here lasts before it fails. The bounds are for liveness only (a wait
 * returns as soon as its condition holds, and no test expects one to run out), and a machine
 * running several suites at once can take many seconds to start a worker or a browser.
 */
export const MIN_WAIT_MS = 30_000;

/** A free TCP port on 127.0.0.1 (bound and released). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Starts a gateway on free ports with the given config overrides. */
export async function startGateway(
  overrides: Record<string, unknown> = {},
  extra: Partial<GatewayOptions> = {},
): Promise<Gateway> {
  const config: Config = configSchema.parse({
    host: "127.0.0.1",
    port: 0,
    bus: `tcp://127.0.0.1:${freePort()}`,
    apiKeys: [TEST_KEY],
    logLevel: "error",
    ...overrides,
  });
  return await Gateway.start({
    config,
    adapters: ADAPTERS,
    adapterOptions: adapterOptionsFor,
    poolTuning: { restartBaseMs: 50 },
    ...extra,
  });
}

type Frame = Record<string, unknown>;

/** A WebSocket test client that records every frame and waits with deadlines. */
export class TestClient {
  readonly frames: Frame[] = [];
  readonly ws: WebSocket;
  closeEvent: CloseEvent | null = null;
  #waiters: (() => void)[] = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.onmessage = (e) => {
      this.frames.push(JSON.parse(e.data));
      this.#wake();
    };
    ws.onclose = (e) => {
      this.closeEvent = e;
      this.#wake();
    };
  }

  #wake() {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  static async connect(gw: Gateway | number, path = "/"): Promise<TestClient> {
    const port = typeof gw === "number" ? gw : gw.proxy.addr.port;
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
    const c = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("connect failed"));
      setTimeout(() => reject(new Error("connect timeout")), 5000);
    });
    return c;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Waits (bounded) until a frame after index `from` matches. */
  async waitFor(pred: (f: Frame) => boolean, timeoutMs = 5000, from = 0): Promise<Frame> {
    const deadline = Date.now() + Math.max(timeoutMs, MIN_WAIT_MS);
    let seen = from;
    while (true) {
      for (; seen < this.frames.length; seen++) {
        if (pred(this.frames[seen])) return this.frames[seen];
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `timeout waiting for frame; last frames: ${JSON.stringify(this.frames.slice(-3))}`,
        );
      }
      if (this.closeEvent) throw new Error(`closed (${this.closeEvent.code}) while waiting`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Sends a request and waits for the reply of `type` carrying the same request_id. */
  async request(frame: Frame, type: string, timeoutMs = 5000): Promise<Frame> {
    const id = crypto.randomUUID();
    const from = this.frames.length;
    this.send({ ...frame, request_id: id });
    return await this.waitFor((f) => f.type === type && f.request_id === id, timeoutMs, from);
  }

  async auth(key = TEST_KEY, extra: Frame = {}): Promise<Frame> {
    return await this.request({ action: "authenticate", api_key: key, ...extra }, "auth");
  }

  async waitClose(timeoutMs = 5000): Promise<CloseEvent> {
    const deadline = Date.now() + Math.max(timeoutMs, MIN_WAIT_MS);
    while (!this.closeEvent) {
      if (Date.now() > deadline) throw new Error("timeout waiting for close");
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.closeEvent;
  }

  close(): Promise<void> {
    if (this.closeEvent || this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    this.ws.close();
    return this.waitClose().then(() => {});
  }
}

/** Waits (bounded) until `cond` holds. */
export async function until(
  cond: () => boolean,
  timeoutMs = 5000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + Math.max(timeoutMs, MIN_WAIT_MS);
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * The daily token expiry, end to end: `expire` makes the simulator refuse the current token (and
 * returns the one it will accept); the gateway must report `auth_failed` in the pool and in
 * `get_broker_info`, take the fresh token over `POST /api/v1/broker/token`, and connect again.
 * Returns the fresh token for the broker's own checks (where it went in the handshake).
 */
export async function expireAndRecover(
  gw: Gateway,
  client: TestClient,
  expire: () => string,
): Promise<string> {
  const fresh = expire();
  await until(() => gw.pool.status()[0].state === "auth_failed", 5000, "auth_failed");
  const info = await client.request({ action: "get_broker_info" }, "broker_info");
  assert.equal(info.adapter_status, "auth_failed");
  const r = await fetch(`http://127.0.0.1:${gw.proxy.addr.port}/api/v1/broker/token`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_KEY}` },
    body: JSON.stringify({ accessToken: fresh }),
  });
  assert.equal(r.status, 200, await r.text());
  await until(() => gw.pool.status()[0].state === "connected", 5000, "recovered");
  return fresh;
}

/**
 * A raw WebSocket client over TCP that performs the handshake and then never reads — the
 * slow consumer the proxy must contain. It can also send arbitrary (e.g. huge) frames.
 */
export class RawClient {
  private constructor(readonly conn: Deno.TcpConn) {}

  static async connect(port: number): Promise<RawClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    await conn.write(new TextEncoder().encode(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    ));
    // Read just the handshake response.
    const buf = new Uint8Array(1024);
    let text = "";
    while (!text.includes("\r\n\r\n")) {
      const n = await conn.read(buf);
      if (n === null) throw new Error("closed during handshake");
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    if (!text.startsWith("HTTP/1.1 101")) {
      throw new Error(`handshake failed: ${text.split("\r\n")[0]}`);
    }
    return new RawClient(conn);
  }

  /** Sends one masked text frame. */
  async sendText(text: string): Promise<void> {
    const payload = new TextEncoder().encode(text);
    const len = payload.length;
    const header: number[] = [0x81];
    if (len < 126) header.push(0x80 | len);
    else if (len < 65536) header.push(0x80 | 126, len >> 8, len & 255);
    else {
      header.push(
        0x80 | 127,
        0,
        0,
        0,
        0,
        (len >>> 24) & 255,
        (len >>> 16) & 255,
        (len >>> 8) & 255,
        len & 255,
      );
    }
    const mask = crypto.getRandomValues(new Uint8Array(4));
    const frame = new Uint8Array(header.length + 4 + len);
    frame.set(header, 0);
    frame.set(mask, header.length);
    const off = header.length + 4;
    for (let i = 0; i < len; i++) frame[off + i] = payload[i] ^ mask[i & 3];
    let written = 0;
    while (written < frame.length) written += await this.conn.write(frame.subarray(written));
  }

  /** Reads and discards whatever has arrived, up to `maxBytes`; returns bytes read (for tests). */
  close(): void {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}
