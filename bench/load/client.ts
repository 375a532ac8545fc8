// The load clients: a minimal RFC 6455 client and the WebSocket API, both feeding one protocol
// state machine that counts deliveries and latency.

import { HIST_BUCKETS, type LatencySource } from "./protocol.ts";
import { maskedFrame } from "../../tests/helpers/ws_frame.ts";

export const MARKET = '{"type":"market_data';
export const LATENCY_KEY: Record<LatencySource, string> = {
  timestamp: '"timestamp":',
  stamp: '"total_buy_quantity":',
};
export const TWO_32 = 4294967296;

/** Counters of one worker's clients since the last reset. */
export class Collector {
  hist = new Uint32Array(HIST_BUCKETS);
  maxLatency = 0;
  negative = 0;
  frames = 0;
  ticks = 0;
  /** Ticks with a numeric data.timestamp (the latency sample). */
  timed = 0;
  bytes = 0;
  errors = 0;
  errorSamples: string[] = [];
  closes: Record<string, number> = {};
  #key = LATENCY_KEY.timestamp;
  #wrap = false;

  /** Chooses the field the latency is read from (see {@link LatencySource}). */
  configure(source: LatencySource): void {
    this.#key = LATENCY_KEY[source];
    this.#wrap = source === "stamp";
  }

  reset(): void {
    this.hist.fill(0);
    this.maxLatency = 0;
    this.negative = 0;
    this.frames = 0;
    this.ticks = 0;
    this.timed = 0;
    this.bytes = 0;
    this.errors = 0;
    this.errorSamples = [];
  }

  /** Records the latency of every tick in a `market_data` or `market_data_batch` frame. */
  marketFrame(text: string, now: number): number {
    const key = this.#key;
    let n = 0;
    let i = text.indexOf(key);
    while (i !== -1) {
      const digits = i + key.length;
      let j = digits;
      let ts = 0;
      for (let c = text.charCodeAt(j); c >= 48 && c <= 57; c = text.charCodeAt(++j)) {
        ts = ts * 10 + (c - 48);
      }
      if (j > digits) {
        let lat = now - ts;
        if (this.#wrap) {
          // Both sides mod 2^32 ms; more than half the range ahead means receipt before creation.
          lat = ((now % TWO_32) - ts + TWO_32) % TWO_32;
          if (lat > TWO_32 / 2) lat -= TWO_32;
        }
        if (lat < 0) {
          this.negative++;
          lat = 0;
        }
        if (lat > this.maxLatency) this.maxLatency = lat;
        this.hist[lat < HIST_BUCKETS ? lat : HIST_BUCKETS - 1]++;
        this.timed++;
      }
      n++;
      // A one-tick frame holds exactly one timestamp; only batches need the scan.
      if (text.charCodeAt(20) !== 95 /* "_" of market_data_batch */) break;
      i = text.indexOf(key, j);
    }
    this.frames++;
    this.ticks += n;
    this.bytes += text.length;
    return n;
  }

  error(text: string): void {
    this.errors++;
    if (this.errorSamples.length < 5) this.errorSamples.push(text.slice(0, 300));
  }
}

export type Frame = Record<string, unknown>;

/** Protocol state of one load client, independent of the transport. */
export class LoadClient {
  ticks = 0;
  closed = false;
  #waiter: { type: string; resolve: (f: Frame) => void } | null = null;
  #failWaiter: ((e: Error) => void) | null = null;

  constructor(readonly collector: Collector, readonly send: (text: string) => void) {}

  onText(text: string): void {
    if (text.startsWith(MARKET)) {
      this.ticks += this.collector.marketFrame(text, Date.now());
      return;
    }
    let f: Frame;
    try {
      f = JSON.parse(text);
    } catch {
      this.collector.error(text);
      return;
    }
    const w = this.#waiter;
    if (w !== null && f.type === w.type) {
      this.#waiter = null;
      this.#failWaiter = null;
      w.resolve(f);
      return;
    }
    if (f.status === "error") this.collector.error(text);
  }

  onClose(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    const k = `${code}${reason ? ` ${reason}` : ""}`;
    this.collector.closes[k] = (this.collector.closes[k] ?? 0) + 1;
    this.#failWaiter?.(new Error(`closed (${k})`));
  }

  /** Sends a request and waits for the reply of `type`. */
  request(frame: Frame, type: string, timeoutMs: number): Promise<Frame> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error("closed"));
      const timer = setTimeout(() => {
        this.#waiter = null;
        reject(new Error(`no ${type} reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiter = {
        type,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      this.#failWaiter = (e) => {
        clearTimeout(timer);
        reject(e);
      };
      this.send(JSON.stringify(frame));
    });
  }
}

/** A transport: opens the socket and feeds a LoadClient. */
export interface Connection {
  client: LoadClient;
  close(): void;
}

export const encoder = new TextEncoder();

/**
 * A minimal RFC 6455 client over Deno.connect: one read pulls many frames, so the load side
 * spends little CPU per frame (the gateway is what is being measured on a 2-core machine).
 * Handles fragmentation, ping/pong and close; server frames are unmasked.
 */
export class RawConnection implements Connection {
  readonly client: LoadClient;
  #conn: Deno.TcpConn;
  #writing: Promise<void> = Promise.resolve();
  #decoder = new TextDecoder();
  #fragments: Uint8Array[] = [];
  #done = false;

  private constructor(conn: Deno.TcpConn, collector: Collector) {
    this.#conn = conn;
    this.client = new LoadClient(collector, (text) => this.#send(1, encoder.encode(text)));
  }

  static async open(port: number, collector: Collector): Promise<RawConnection> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    await writeAll(
      conn,
      encoder.encode(
        `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    let buf = new Uint8Array(4096);
    let len = 0;
    let headerEnd = -1;
    while (headerEnd < 0) {
      if (len === buf.length) {
        const b = new Uint8Array(buf.length * 2);
        b.set(buf);
        buf = b;
      }
      const n = await conn.read(buf.subarray(len));
      if (n === null) {
        conn.close();
        throw new Error("closed during handshake");
      }
      len += n;
      headerEnd = findHeaderEnd(buf, len);
    }
    const head = new TextDecoder().decode(buf.subarray(0, headerEnd));
    if (!head.startsWith("HTTP/1.1 101")) {
      conn.close();
      throw new Error(`handshake failed: ${head.split("\r\n")[0]}`);
    }
    const c = new RawConnection(conn, collector);
    void c.#readLoop(buf.slice(headerEnd + 4, len));
    return c;
  }

  async #readLoop(initial: Uint8Array): Promise<void> {
    let buf = new Uint8Array(Math.max(1 << 17, initial.length * 2));
    buf.set(initial);
    let start = 0;
    let end = initial.length;
    let closeCode = 1006;
    let closeReason = "";
    try {
      while (!this.#done) {
        // Parse every complete frame in the buffer.
        while (end - start >= 2) {
          const b0 = buf[start];
          const b1 = buf[start + 1];
          let len = b1 & 0x7f;
          let hdr = 2;
          if (len === 126) {
            if (end - start < 4) break;
            len = (buf[start + 2] << 8) | buf[start + 3];
            hdr = 4;
          } else if (len === 127) {
            if (end - start < 10) break;
            len = (buf[start + 6] * 2 ** 24) + ((buf[start + 7] << 16) | (buf[start + 8] << 8) |
              buf[start + 9]);
            hdr = 10;
          }
          const masked = (b1 & 0x80) !== 0;
          if (masked) hdr += 4;
          if (end - start < hdr + len) {
            if (hdr + len > buf.length) {
              const bigger = new Uint8Array((hdr + len) * 2);
              bigger.set(buf.subarray(start, end));
              end -= start;
              start = 0;
              buf = bigger;
            }
            break;
          }
          const payload = buf.subarray(start + hdr, start + hdr + len);
          if (masked) {
            const m = buf.subarray(start + hdr - 4, start + hdr);
            for (let i = 0; i < len; i++) payload[i] ^= m[i & 3];
          }
          start += hdr + len;
          const op = b0 & 0x0f;
          const fin = (b0 & 0x80) !== 0;
          if (op === 8) {
            if (len >= 2) {
              closeCode = (payload[0] << 8) | payload[1];
              closeReason = this.#decoder.decode(payload.subarray(2));
            } else closeCode = 1005;
            this.#send(8, payload.slice(0, 2));
            this.#done = true;
            break;
          } else if (op === 9) {
            this.#send(10, payload.slice());
          } else if (op === 1 || op === 0) {
            if (op === 1 && fin) this.client.onText(this.#decoder.decode(payload));
            else {
              this.#fragments.push(payload.slice());
              if (fin) {
                const total = this.#fragments.reduce((s, f) => s + f.length, 0);
                const all = new Uint8Array(total);
                let off = 0;
                for (const f of this.#fragments) {
                  all.set(f, off);
                  off += f.length;
                }
                this.#fragments = [];
                this.client.onText(this.#decoder.decode(all));
              }
            }
          } else if (op === 2) {
            this.client.collector.error("binary frame");
          }
        }
        if (this.#done) break;
        if (start === end) start = end = 0;
        else if (start > buf.length / 2 || end === buf.length) {
          buf.copyWithin(0, start, end);
          end -= start;
          start = 0;
        }
        const n = await this.#conn.read(buf.subarray(end));
        if (n === null) break;
        end += n;
      }
    } catch (e) {
      closeReason = e instanceof Error ? e.message : String(e);
    }
    this.#done = true;
    this.client.onClose(closeCode, closeReason);
    await this.#writing;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }

  #send(op: number, payload: Uint8Array): void {
    if (this.#done && op !== 8) return;
    const frame = maskedFrame(op, payload);
    this.#writing = this.#writing.then(() => writeAll(this.#conn, frame)).catch(() => {});
  }

  close(): void {
    if (this.#done) return;
    this.#send(8, new Uint8Array([0x03, 0xe8]));
    this.#done = true;
    // The read loop ends on the next read; make sure it does.
    void this.#writing.then(() => {
      try {
        this.#conn.close();
      } catch {
        // already closed
      }
    });
  }
}

export function findHeaderEnd(buf: Uint8Array, len: number): number {
  for (let i = 0; i + 3 < len; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
  }
  return -1;
}

export async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/** The standard WebSocket API (what a Deno or browser consumer would use). */
export class WsConnection implements Connection {
  readonly client: LoadClient;
  #ws: WebSocket;

  private constructor(ws: WebSocket, collector: Collector) {
    this.#ws = ws;
    this.client = new LoadClient(collector, (text) => ws.send(text));
    ws.onmessage = (e) => {
      if (typeof e.data === "string") this.client.onText(e.data);
      else collector.error("binary frame");
    };
    ws.onclose = (e) => this.client.onClose(e.code, e.reason);
  }

  static open(port: number, collector: Collector): Promise<WsConnection> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
      const timer = setTimeout(() => reject(new Error("connect timeout")), 30_000);
      ws.onopen = () => {
        clearTimeout(timer);
        resolve(new WsConnection(ws, collector));
      };
      ws.onerror = () => {
        clearTimeout(timer);
        reject(new Error("connect failed"));
      };
    });
  }

  close(): void {
    try {
      this.#ws.close();
    } catch {
      // already closed
    }
  }
}
