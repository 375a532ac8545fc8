// A WebSocket client over raw TCP that reads at a fixed number of data frames per second — the
// slow reader of issue 19 — answering pings as it reaches them, as a WebSocket library does.
// It pulls bytes off the socket only when it needs the next frame, so what it has not read stays
// in the kernel's queues, as with a real slow consumer. Used by tests and bench/slow_reader.ts.

import { maskedFrame } from "./ws_frame.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Options of a paced reader. */
export interface PacedReaderOptions {
  /** Data frames read per second; 0 reads nothing until {@link PacedReader.setRate}. */
  framesPerSecond: number;
  /** Called with each data frame's text, at the paced rate. */
  onText: (text: string) => void;
}

/** The reader. Connect with {@link PacedReader.connect}. */
export class PacedReader {
  /** Close code received from the server, when one arrived. */
  closeCode: number | null = null;
  /** Pings answered. */
  pings = 0;
  /** How the TCP connection ended: "eof" (orderly), "reset", or null while open. */
  ended: "eof" | "reset" | null = null;
  #conn: Deno.TcpConn;
  #buf = new Uint8Array(1 << 16);
  #len = 0;
  #rate: number;
  #onText: (text: string) => void;
  #slot = 0;
  #wake: (() => void) | null = null;
  #writing: Promise<void> = Promise.resolve();
  #done = false;
  /** Resolves when the read loop ends. */
  readonly finished: Promise<void>;

  private constructor(conn: Deno.TcpConn, opts: PacedReaderOptions, rest: Uint8Array) {
    this.#conn = conn;
    this.#rate = opts.framesPerSecond;
    this.#onText = opts.onText;
    this.#buf.set(rest);
    this.#len = rest.length;
    this.finished = this.#loop();
  }

  /** Opens the connection and completes the WebSocket handshake. */
  static async connect(port: number, opts: PacedReaderOptions): Promise<PacedReader> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    await writeAll(
      conn,
      enc.encode(
        `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    const buf = new Uint8Array(4096);
    let len = 0;
    while (true) {
      const n = await conn.read(buf.subarray(len));
      if (n === null) throw new Error("closed during handshake");
      len += n;
      const end = dec.decode(buf.subarray(0, len)).indexOf("\r\n\r\n");
      if (end >= 0) {
        const head = dec.decode(buf.subarray(0, end));
        if (!head.startsWith("HTTP/1.1 101")) {
          throw new Error(`handshake: ${head.split("\r\n")[0]}`);
        }
        return new PacedReader(conn, opts, buf.slice(end + 4, len));
      }
    }
  }

  /** Changes the read rate (0 stops reading; anything else resumes at once). */
  setRate(framesPerSecond: number): void {
    this.#rate = framesPerSecond;
    this.#slot = performance.now();
    this.#wake?.();
  }

  /** Sends one text frame. */
  send(text: string): void {
    this.#send(1, enc.encode(text));
  }

  #send(op: number, payload: Uint8Array): void {
    const frame = maskedFrame(op, payload);
    this.#writing = this.#writing.then(() => writeAll(this.#conn, frame)).catch(() => {});
  }

  /** Parses one frame from the buffer, or returns null when it is incomplete. */
  #frame(): { op: number; payload: Uint8Array } | null {
    if (this.#len < 2) return null;
    const b = this.#buf;
    const op = b[0] & 0x0f;
    let len = b[1] & 0x7f;
    let off = 2;
    if (len === 126) {
      if (this.#len < 4) return null;
      len = (b[2] << 8) | b[3];
      off = 4;
    } else if (len === 127) {
      if (this.#len < 10) return null;
      len = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(2));
      off = 10;
    }
    if (off + len > b.length) {
      const bigger = new Uint8Array(off + len);
      bigger.set(b.subarray(0, this.#len));
      this.#buf = bigger;
    }
    if (this.#len < off + len) return null;
    const payload = this.#buf.slice(off, off + len);
    this.#buf.copyWithin(0, off + len, this.#len);
    this.#len -= off + len;
    return { op, payload };
  }

  async #loop(): Promise<void> {
    this.#slot = performance.now();
    try {
      while (!this.#done) {
        let f = this.#frame();
        while (f === null) {
          // Only now take more bytes off the socket: unread data stays in the kernel.
          if (this.#len === this.#buf.length) {
            const bigger = new Uint8Array(this.#buf.length * 2);
            bigger.set(this.#buf);
            this.#buf = bigger;
          }
          const n = await this.#conn.read(this.#buf.subarray(this.#len, this.#len + 4096));
          if (n === null) {
            this.ended = "eof";
            return;
          }
          this.#len += n;
          f = this.#frame();
        }
        if (f.op === 0x9) {
          this.pings++;
          this.#send(0xa, f.payload);
        } else if (f.op === 0x8) {
          this.closeCode = f.payload.length >= 2 ? (f.payload[0] << 8) | f.payload[1] : 1005;
          this.#send(0x8, f.payload.subarray(0, 2));
        } else if (f.op === 0x1) {
          await this.#pace();
          this.#onText(dec.decode(f.payload));
        }
      }
    } catch {
      this.ended = "reset";
    }
  }

  /** Waits for this frame's slot; with rate 0, until the rate changes. */
  async #pace(): Promise<void> {
    while (this.#rate === 0 && !this.#done) {
      await new Promise<void>((r) => this.#wake = r);
      this.#wake = null;
    }
    this.#slot += 1000 / this.#rate;
    const wait = this.#slot - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    else if (wait < -1000) this.#slot = performance.now(); // fell far behind: no catch-up burst
  }

  /** Stops reading and closes the TCP connection. */
  close(): void {
    this.#done = true;
    this.#wake?.();
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}
