// End-to-end load harness for `deno task bench`. For each scenario it starts the real gateway
// (`deno run -P=gateway main.ts`) as a separate process on the paper market at a chosen tick rate,
// connects N WebSocket load clients on loopback (in Web Workers of this process), and measures over
// a fixed window after a warm-up: delivered ticks/s and frames/s, per-client rates, latency from the
// tick's creation in the paper worker (`data.timestamp`) to receipt, and the gateway process's CPU
// and memory from /proc; then stops the gateway with SIGTERM and checks that it exits. Each
// scenario prints one line as it finishes and a markdown table at the end (for the README).
// Figures are printed against the targets of issue 2; nothing fails on them.
//
// Scenario z (not in the default set) is Zerodha end to end: the Kite simulator runs as its own
// process (bench/zerodha_bench.ts) over a generated 1000-instrument Kite CSV, the gateway is
// started with `--broker zerodha --feed-url <sim> --instruments <csv>` and the credentials in
// TICKPLEX_BROKER_API_KEY / TICKPLEX_BROKER_ACCESS_TOKEN, and the clients subscribe every
// instrument in Quote or Depth mode, at a few simulator rates; latency is measured from the
// simulator's frame to the client (a stamp in total_buy_quantity).
//
//   deno task bench                          # every scenario but z, about 2 minutes
//   deno task bench --scenario a100,c        # selected rows (a = a10,a100,a1000; b; c; d)
//   deno task bench --scenario z             # Zerodha: Quote and Depth, 10k–40k ticks/s in
//   deno task bench --duration 5 --rate 2000 # shorter window, one input rate for every scenario
//   deno task bench --help

import { parseArgs } from "node:util";
import type { KiteSimStats } from "./zerodha_bench.ts";
import { slowReaderBench } from "./slow_reader.ts";

// ---- shared between the orchestrator and the load workers ---------------------------------

/** Latency histogram: 1 ms buckets; the last bucket collects everything slower. */
const HIST_BUCKETS = 60_001;
const API_KEY = "bench-key-0123456789abcdef";
const MODE_NUMBER = { ltp: 1, quote: 2, depth: 3 } as const;
type ModeName = keyof typeof MODE_NUMBER;
type Transport = "raw" | "ws";
/**
 * Where a tick's latency is read from: `timestamp` = receipt minus `data.timestamp` (epoch ms);
 * `stamp` = receipt minus `data.total_buy_quantity`, which the Kite simulator process
 * (bench/zerodha_bench.ts) sets to Date.now() mod 2^32 when it builds the frame.
 */
type LatencySource = "timestamp" | "stamp";

/** One group of load clients, run by one worker. */
interface GroupSpec {
  port: number;
  apiKey: string;
  batch: boolean;
  mode: number;
  transport: Transport;
  /** Symbol names: paper PAPER0001..PAPER<universe>; kite SYM0..SYM<universe - 1> (NSE). */
  symbols: "paper" | "kite";
  latency: LatencySource;
  universe: number;
  symbolsPerClient: number;
  /** Global index of each client of this group (its symbol window starts at `first`). */
  clients: { index: number; first: number }[];
}

type ToWorker =
  | { type: "connect"; spec: GroupSpec }
  | { type: "subscribe" }
  | { type: "reset" }
  | { type: "collect" }
  | { type: "close" };

interface GroupStats {
  elapsedMs: number;
  ticks: number;
  timed: number;
  frames: number;
  bytes: number;
  perClient: number[];
  hist: Uint32Array;
  maxLatency: number;
  negative: number;
  errors: number;
  errorSamples: string[];
  closes: Record<string, number>;
}

type FromWorker =
  | { type: "connected"; ok: number; failed: number; firstError: string | null }
  | { type: "subscribed"; ok: number; failed: number; firstError: string | null }
  | { type: "reset" }
  | { type: "stats"; stats: GroupStats }
  | { type: "closed" };

// ---- load worker --------------------------------------------------------------------------

const MARKET = '{"type":"market_data';
const LATENCY_KEY: Record<LatencySource, string> = {
  timestamp: '"timestamp":',
  stamp: '"total_buy_quantity":',
};
const TWO_32 = 4294967296;

/** Counters of one worker's clients since the last reset. */
class Collector {
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

type Frame = Record<string, unknown>;

/** Protocol state of one load client, independent of the transport. */
class LoadClient {
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
interface Connection {
  client: LoadClient;
  close(): void;
}

const encoder = new TextEncoder();

/**
 * A minimal RFC 6455 client over Deno.connect: one read pulls many frames, so the load side
 * spends little CPU per frame (the gateway is what is being measured on a 2-core machine).
 * Handles fragmentation, ping/pong and close; server frames are unmasked.
 */
class RawConnection implements Connection {
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
    const len = payload.length;
    const hdr = len < 126 ? 2 : len < 65536 ? 4 : 10;
    const frame = new Uint8Array(hdr + 4 + len);
    frame[0] = 0x80 | op;
    if (hdr === 2) frame[1] = 0x80 | len;
    else if (hdr === 4) {
      frame[1] = 0x80 | 126;
      frame[2] = len >> 8;
      frame[3] = len & 255;
    } else {
      frame[1] = 0x80 | 127;
      new DataView(frame.buffer).setBigUint64(2, BigInt(len));
    }
    const mask = crypto.getRandomValues(new Uint8Array(4));
    frame.set(mask, hdr);
    for (let i = 0; i < len; i++) frame[hdr + 4 + i] = payload[i] ^ mask[i & 3];
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

function findHeaderEnd(buf: Uint8Array, len: number): number {
  for (let i = 0; i + 3 < len; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
  }
  return -1;
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/** The standard WebSocket API (what a Deno or browser consumer would use). */
class WsConnection implements Connection {
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

function paperSymbol(n: number): string {
  return `PAPER${String(n).padStart(4, "0")}`;
}

/** Symbol `n` (0-based) of the generated Kite instruments CSV ({@link writeKiteInstruments}). */
function kiteSymbol(n: number): string {
  return `SYM${n}`;
}

/** Runs in a Web Worker: one group of load clients, driven by messages from the orchestrator. */
function loadWorker(): void {
  const collector = new Collector();
  const conns: Connection[] = [];
  let windowStart = performance.now();
  const scope = self as unknown as {
    postMessage(m: FromWorker): void;
    onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  };
  const post = (m: FromWorker) => scope.postMessage(m);

  let spec: GroupSpec | null = null;
  const authed: { conn: Connection; index: number; first: number }[] = [];

  async function connectOne(spec: GroupSpec, index: number, first: number): Promise<void> {
    const conn = spec.transport === "raw"
      ? await RawConnection.open(spec.port, collector)
      : await WsConnection.open(spec.port, collector);
    conns.push(conn);
    const auth = await conn.client.request(
      { action: "authenticate", api_key: spec.apiKey, batch: spec.batch },
      "auth",
      30_000,
    );
    if (auth.status !== "success") throw new Error(`client ${index}: auth ${JSON.stringify(auth)}`);
    authed.push({ conn, index, first });
  }

  async function subscribeOne(
    spec: GroupSpec,
    c: { conn: Connection; index: number; first: number },
  ): Promise<void> {
    const symbols = [];
    for (let j = 0; j < spec.symbolsPerClient; j++) {
      const n = (c.first + j) % spec.universe;
      symbols.push({
        symbol: spec.symbols === "kite" ? kiteSymbol(n) : paperSymbol(n + 1),
        exchange: "NSE",
      });
    }
    const ack = await c.conn.client.request(
      { action: "subscribe", symbols, mode: spec.mode, depth: 5 },
      "subscribe",
      180_000,
    );
    if (ack.status !== "success") {
      const bad = (ack.subscriptions as Frame[] | undefined)?.find((s) => s.status !== "success");
      throw new Error(
        `client ${c.index}: subscribe ${ack.status}: ${JSON.stringify(bad ?? ack).slice(0, 300)}`,
      );
    }
  }

  scope.onmessage = async (e: MessageEvent<ToWorker>) => {
    const msg = e.data;
    switch (msg.type) {
      case "connect": {
        // Open and authenticate every client first; subscriptions follow all at once, so the
        // first subscribers are not flooded while the others are still connecting.
        spec = msg.spec;
        const s = spec;
        collector.configure(s.latency);
        let ok = 0;
        let failed = 0;
        let firstError: string | null = null;
        const queue = [...s.clients];
        const lane = async () => {
          for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
            try {
              await connectOne(s, c.index, c.first);
              ok++;
            } catch (err) {
              failed++;
              firstError ??= err instanceof Error ? err.message : String(err);
            }
          }
        };
        await Promise.all(Array.from({ length: 32 }, lane));
        post({ type: "connected", ok, failed, firstError });
        return;
      }
      case "subscribe": {
        const s = spec!;
        let ok = 0;
        let failed = 0;
        let firstError: string | null = null;
        await Promise.all(authed.map(async (c) => {
          try {
            await subscribeOne(s, c);
            ok++;
          } catch (err) {
            failed++;
            firstError ??= err instanceof Error ? err.message : String(err);
          }
        }));
        post({ type: "subscribed", ok, failed, firstError });
        return;
      }
      case "reset":
        collector.reset();
        for (const c of conns) c.client.ticks = 0;
        windowStart = performance.now();
        post({ type: "reset" });
        return;
      case "collect":
        post({
          type: "stats",
          stats: {
            elapsedMs: performance.now() - windowStart,
            ticks: collector.ticks,
            timed: collector.timed,
            frames: collector.frames,
            bytes: collector.bytes,
            perClient: authed.map((c) => c.conn.client.ticks),
            hist: collector.hist,
            maxLatency: collector.maxLatency,
            negative: collector.negative,
            errors: collector.errors,
            errorSamples: collector.errorSamples,
            closes: { ...collector.closes },
          },
        });
        return;
      case "close": {
        for (const c of conns) c.close();
        const deadline = Date.now() + 3000;
        while (conns.some((c) => !c.client.closed) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 20));
        }
        post({ type: "closed" });
        return;
      }
    }
  };
}

// ---- orchestrator: gateway process ---------------------------------------------------------

const REPO = new URL("..", import.meta.url);

/** A free TCP port on 127.0.0.1 (bound and released). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

interface GatewayOptions {
  /** Paper feed (ignored with `kite`). */
  rate: number;
  universe: number;
  intervalMs: number;
  /** Zerodha against the Kite simulator instead of the paper market. */
  kite: { feedUrl: string; instruments: string; apiKey: string; accessToken: string } | null;
  /** limits.sendHighWaterBytes; null keeps the gateway's default. */
  highWaterBytes: number | null;
  profileDir: string | null;
  /** Extra `deno run` flags for the gateway (e.g. --v8-flags=...). */
  denoFlags: string[];
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/** The gateway under test, running `deno run -P=gateway main.ts` as a child process. */
class GatewayProcess {
  readonly lines: string[] = [];
  lineCount = 0;
  #exited = false;

  private constructor(
    readonly child: Deno.ChildProcess,
    readonly port: number,
    readonly configFile: string,
  ) {
    void child.status.then(() => this.#exited = true);
    void this.#pump(child.stdout);
    void this.#pump(child.stderr);
  }

  get pid(): number {
    return this.child.pid;
  }

  get exited(): boolean {
    return this.#exited;
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    let rest = "";
    try {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        const parts = (rest + chunk).split("\n");
        rest = parts.pop() ?? "";
        for (const raw of parts) {
          const line = raw.replace(ANSI, "").trimEnd();
          if (!line || line.includes("Permissions in the config file is an experimental")) {
            continue;
          }
          this.lineCount++;
          if (this.lines.length < 200) this.lines.push(line);
        }
      }
    } catch {
      // the process went away
    }
  }

  static async start(opts: GatewayOptions): Promise<GatewayProcess> {
    const port = freePort();
    const busPort = freePort();
    // Zerodha takes its broker settings from the command line and the environment, the way a
    // user starts it (README); the config file carries the limits only.
    const config = {
      logLevel: "warning",
      ...(opts.kite ? {} : {
        broker: {
          name: "paper",
          options: {
            seed: 1,
            totalRate: opts.rate,
            intervalMs: opts.intervalMs,
            extraSymbols: opts.universe,
            maxSymbolsPerConnection: 100_000,
            maxConnections: 1,
          },
        },
      }),
      limits: {
        maxSubscriptionsPerClient: 100_000,
        maxEntriesPerRequest: 100_000,
        maxFrameBytes: 16 * 1024 * 1024,
        ...(opts.highWaterBytes !== null ? { sendHighWaterBytes: opts.highWaterBytes } : {}),
        slowConsumerMs: 600_000,
        maxClients: 100_000,
      },
    };
    const configFile = await Deno.makeTempFile({ prefix: "tickplex-bench-", suffix: ".json" });
    await Deno.writeTextFile(configFile, JSON.stringify(config, null, 2));
    const args = ["run", "-P=gateway", "--unstable-worker-options"];
    if (opts.profileDir) args.push("--cpu-prof", `--cpu-prof-dir=${opts.profileDir}`);
    args.push(...opts.denoFlags);
    args.push(
      "main.ts",
      "--config",
      configFile,
      "--port",
      String(port),
      "--bus",
      `tcp://127.0.0.1:${busPort}`,
    );
    const env: Record<string, string> = { TICKPLEX_API_KEY: API_KEY, NO_COLOR: "1" };
    if (opts.kite) {
      args.push("--broker", "zerodha", "--feed-url", opts.kite.feedUrl);
      args.push("--instruments", opts.kite.instruments);
      env.TICKPLEX_BROKER_API_KEY = opts.kite.apiKey;
      env.TICKPLEX_BROKER_ACCESS_TOKEN = opts.kite.accessToken;
    }
    const child = new Deno.Command(Deno.execPath(), {
      args,
      cwd: REPO,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const gw = new GatewayProcess(child, port, configFile);
    const deadline = Date.now() + 30_000;
    while (true) {
      if (gw.exited) {
        throw new Error(`gateway exited during start:\n${gw.lines.slice(-20).join("\n")}`);
      }
      try {
        const r = await fetch(`http://127.0.0.1:${port}/health`);
        const body = r.ok ? await r.json() : (await r.body?.cancel(), null);
        if (body?.feed_state === "connected") {
          // main.ts installs its SIGTERM handler just after the gateway is up: give it a moment.
          await sleep(300);
          return gw;
        }
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await gw.stop();
        throw new Error(`gateway /health did not answer within 30 s`);
      }
      await sleep(100);
    }
  }

  /** Prometheus counters and gauges, summed over labels. */
  async metrics(): Promise<Record<string, number>> {
    const r = await fetch(`http://127.0.0.1:${this.port}/metrics`);
    const text = await r.text();
    const out: Record<string, number> = {};
    for (const line of text.split("\n")) {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{[^}]*\})?\s+(\S+)$/.exec(line);
      if (m) out[m[1]] = (out[m[1]] ?? 0) + Number(m[2]);
    }
    return out;
  }

  /** SIGTERM, then waits for the exit (SIGKILL after 20 s). */
  async stop(): Promise<{ code: number | null; ms: number; killed: boolean }> {
    const t0 = performance.now();
    let killed = false;
    if (!this.#exited) {
      try {
        this.child.kill("SIGTERM");
      } catch {
        // already gone
      }
      const timeout = sleep(20_000).then(() => "timeout" as const);
      if ((await Promise.race([this.child.status, timeout])) === "timeout") {
        killed = true;
        try {
          this.child.kill("SIGKILL");
        } catch {
          // already gone
        }
      }
    }
    const status = await this.child.status;
    await Deno.remove(this.configFile).catch(() => {});
    return { code: status.code, ms: performance.now() - t0, killed };
  }
}

// ---- orchestrator: Kite simulator process (scenario z) -------------------------------------

/**
 * Writes a Kite-format instruments CSV of `n` NSE equities SYM0..SYM<n - 1> (instrument token
 * (1000 + i) << 8 | 1: exchange token 1000 + i, segment 1 = NSE, paise prices).
 */
async function writeKiteInstruments(n: number): Promise<string> {
  const lines = [
    "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size," +
    "lot_size,instrument_type,segment,exchange",
  ];
  for (let i = 0; i < n; i++) {
    const et = 1000 + i;
    lines.push(`${(et << 8) | 1},${et},${kiteSymbol(i)},"SYMBOL ${i}",0,,0,0.05,1,EQ,NSE,NSE`);
  }
  const path = await Deno.makeTempFile({ prefix: "tickplex-bench-kite-", suffix: ".csv" });
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
  return path;
}

/**
 * The Kite simulator (bench/zerodha_bench.ts) as a separate process: `deno run -P=sim`, its own
 * event loop and its own /proc CPU figure, like a broker that is not the gateway's neighbour
 * thread. Talks JSON lines over stdio.
 */
class KiteSimProcess {
  readonly lines: string[] = [];
  #exited = false;
  #ready = Promise.withResolvers<{ url: string; apiKey: string; accessToken: string }>();
  #statsWaiters: ((s: KiteSimStats) => void)[] = [];
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  url = "";
  apiKey = "";
  accessToken = "";

  private constructor(readonly child: Deno.ChildProcess) {
    this.#stdin = child.stdin.getWriter();
    void child.status.then(() => {
      this.#exited = true;
      this.#ready.reject(new Error(`simulator exited during start: ${this.lines.join(" | ")}`));
    });
    void this.#pumpOut(child.stdout);
    void this.#pumpErr(child.stderr);
  }

  get pid(): number {
    return this.child.pid;
  }

  get exited(): boolean {
    return this.#exited;
  }

  static async start(
    opts: { instruments: string; intervalMs: number; packetsPerFrame: number },
  ): Promise<KiteSimProcess> {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-P=sim",
        "bench/zerodha_bench.ts",
        "--instruments",
        opts.instruments,
        "--interval",
        String(opts.intervalMs),
        "--packets-per-frame",
        String(opts.packetsPerFrame),
      ],
      cwd: REPO,
      env: { NO_COLOR: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const sim = new KiteSimProcess(child);
    const timeout = sleep(30_000).then(() => null);
    const ready = await Promise.race([sim.#ready.promise, timeout]);
    if (ready === null) {
      await sim.stop();
      throw new Error("the Kite simulator did not start within 30 s");
    }
    sim.url = ready.url;
    sim.apiKey = ready.apiKey;
    sim.accessToken = ready.accessToken;
    return sim;
  }

  async #pumpOut(stream: ReadableStream<Uint8Array>): Promise<void> {
    let rest = "";
    try {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        const parts = (rest + chunk).split("\n");
        rest = parts.pop() ?? "";
        for (const line of parts) {
          let m: { type?: string } & Record<string, unknown>;
          try {
            m = JSON.parse(line);
          } catch {
            if (line.trim() && this.lines.length < 50) this.lines.push(line);
            continue;
          }
          if (m.type === "ready") {
            this.#ready.resolve(
              m as unknown as { url: string; apiKey: string; accessToken: string },
            );
          } else if (m.type === "stats") this.#statsWaiters.shift()?.(m as unknown as KiteSimStats);
        }
      }
    } catch {
      // the process went away
    }
  }

  async #pumpErr(stream: ReadableStream<Uint8Array>): Promise<void> {
    try {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        for (const raw of chunk.split("\n")) {
          const line = raw.replace(ANSI, "").trimEnd();
          if (!line || line.includes("Permissions in the config file is an experimental")) continue;
          if (this.lines.length < 50) this.lines.push(line);
        }
      }
    } catch {
      // the process went away
    }
  }

  /** The simulator's cumulative counters. */
  async stats(): Promise<KiteSimStats> {
    if (this.#exited) throw new Error("the Kite simulator exited");
    const reply = new Promise<KiteSimStats>((resolve) => this.#statsWaiters.push(resolve));
    await this.#stdin.write(encoder.encode("stats\n"));
    const timeout = sleep(10_000).then(() => null);
    const s = await Promise.race([reply, timeout]);
    if (s === null) throw new Error("the Kite simulator did not answer 'stats' within 10 s");
    return s;
  }

  /** Closes its stdin (it shuts down), SIGTERM after 5 s, SIGKILL after 10 s. */
  async stop(): Promise<void> {
    await this.#stdin.close().catch(() => {});
    for (const [sig, ms] of [["SIGTERM", 5000], ["SIGKILL", 5000]] as const) {
      const timeout = sleep(ms).then(() => "timeout" as const);
      if ((await Promise.race([this.child.status, timeout])) !== "timeout") return;
      try {
        this.child.kill(sig);
      } catch {
        // already gone
      }
    }
    await this.child.status;
  }

  /** For SIGINT: no waiting. */
  kill(): void {
    try {
      this.child.kill("SIGTERM");
    } catch {
      // gone
    }
  }
}

// ---- orchestrator: /proc sampling ---------------------------------------------------------

let clkTck = 100;

async function detectClockTicks(): Promise<void> {
  try {
    const out = await new Deno.Command("getconf", { args: ["CLK_TCK"], stdout: "piped" }).output();
    const n = Number(new TextDecoder().decode(out.stdout).trim());
    if (n > 0) clkTck = n;
  } catch {
    // keep 100, the Linux default
  }
}

/** CPU seconds (utime + stime) of the gateway and of this process, the machine's jiffies, memory. */
interface ProcSample {
  gateway: number;
  /** Of which kernel time (stime). */
  gatewaySys: number;
  self: number;
  /** CPU seconds of every other process, by pid, with its name. */
  others: Map<number, { name: string; cpu: number }>;
  busy: number;
  total: number;
  rssMb: number;
  hwmMb: number;
}

/**
 * Samples /proc through `grep` (Deno asks for --allow-all to read /proc itself; the bench
 * permission set may run programs): every process's stat, the gateway's status, /proc/stat.
 */
async function sampleProc(pid: number): Promise<ProcSample> {
  const out = await new Deno.Command("sh", {
    args: ["-c", `exec grep -H "" /proc/[0-9]*/stat /proc/${pid}/status /proc/stat 2>/dev/null`],
    stdout: "piped",
    stderr: "null",
  }).output();
  const sample: ProcSample = {
    gateway: NaN,
    gatewaySys: NaN,
    self: NaN,
    others: new Map(),
    busy: NaN,
    total: NaN,
    rssMb: NaN,
    hwmMb: NaN,
  };
  const gwStatus = `/proc/${pid}/status`;
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const path = line.slice(0, colon);
    const text = line.slice(colon + 1);
    if (path === "/proc/stat") {
      if (!text.startsWith("cpu ")) continue;
      const v = text.trim().split(/\s+/).slice(1, 9).map(Number);
      sample.total = v.reduce((a, b) => a + b, 0);
      sample.busy = sample.total - v[3] - v[4];
    } else if (path === gwStatus) {
      const m = /^(VmRSS|VmHWM):\s+(\d+)/.exec(text);
      if (m) sample[m[1] === "VmRSS" ? "rssMb" : "hwmMb"] = Number(m[2]) / 1024;
    } else if (path.endsWith("/stat")) {
      const p = Number(path.slice(6, -5));
      const close = text.lastIndexOf(")");
      const f = text.slice(close + 2).split(" ");
      const user = Number(f[11]) / clkTck;
      const sys = Number(f[12]) / clkTck;
      if (p === pid) {
        sample.gateway = user + sys;
        sample.gatewaySys = sys;
      } else if (p === Deno.pid) sample.self = user + sys;
      else {sample.others.set(p, {
          name: text.slice(text.indexOf("(") + 1, close),
          cpu: user + sys,
        });}
    }
  }
  return sample;
}

/** CPU % of other processes (but `exclude`) between two samples, and the busiest one. */
function otherProcesses(a: ProcSample, b: ProcSample, seconds: number, exclude: number | null) {
  let sum = 0;
  let top = { name: "", pct: 0 };
  for (const [pid, x] of b.others) {
    if (pid === exclude) continue;
    // A process started during the window spent all its CPU time in it.
    const pct = (x.cpu - (a.others.get(pid)?.cpu ?? 0)) / seconds * 100;
    sum += pct;
    if (pct > top.pct) top = { name: x.name, pct };
  }
  return { pct: sum, top };
}

const CORES = navigator.hardwareConcurrency;

// ---- orchestrator: load workers -----------------------------------------------------------

class WorkerHandle {
  readonly worker: Worker;
  #waiting: { type: string; resolve: (m: FromWorker) => void }[] = [];
  #error: Error | null = null;

  constructor() {
    this.worker = new Worker(import.meta.url, { type: "module" });
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const i = this.#waiting.findIndex((w) => w.type === e.data.type);
      if (i >= 0) this.#waiting.splice(i, 1)[0].resolve(e.data);
    };
    this.worker.onerror = (e) => {
      e.preventDefault();
      this.#error = new Error(`load worker failed: ${e.message}`);
    };
  }

  call<T extends FromWorker["type"]>(
    msg: ToWorker,
    reply: T,
    timeoutMs = 300_000,
  ): Promise<Extract<FromWorker, { type: T }>> {
    if (this.#error) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(this.#error ?? new Error(`load worker: no '${reply}' within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#waiting.push({
        type: reply,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as Extract<FromWorker, { type: T }>);
        },
      });
      this.worker.postMessage(msg);
    });
  }
}

// ---- orchestrator: scenarios ----------------------------------------------------------------

interface Settings {
  duration: number;
  warmup: number;
  intervalMs: number;
  workers: number | null;
  transport: Transport;
  mode: ModeName;
  highWaterBytes: number | null;
  rate: number | null;
  profileDir: string | null;
  denoFlags: string[];
  /** Scenario z: load clients, Kite simulator step intervals, instruments, packets per frame. */
  zClients: number;
  zIntervals: number[];
  zInstruments: number;
  zPacketsPerFrame: number;
  zBatch: boolean;
}

interface PhaseSpec {
  /** Row id, selectable with --scenario (as are its group and tags). */
  key: string;
  group: "a" | "b" | "c" | "d" | "z";
  tags?: string[];
  label: string;
  /** Paper feed: total ticks/s over `universe` synthetic symbols (z: the nominal Kite rate). */
  rate: number;
  /** Zerodha against the Kite simulator process instead of the paper market. */
  kite?: { intervalMs: number; packetsPerFrame: number };
  /** Subscription mode of this row (default: --mode). */
  mode?: ModeName;
  universe: number;
  clients: number;
  symbolsPerClient: number;
  batch: boolean;
  target: "frames100k" | "batch500k" | "p99_5ms" | "rss200" | "keepup" | null;
}

/** Scenario z: what the Kite simulator process did during the window. */
interface KiteResult {
  /** Packets (ticks) per second it sent, and the nominal rate (instruments × 1000 / interval). */
  sentPerS: number;
  nominal: number;
  /** Its steps that fired late: mean and max (ms); steps skipped for lateness. */
  lateMeanMs: number;
  lateMaxMs: number;
  skipped: number;
  cpu: number;
  /** Takes in and delivers everything, loses nothing (see {@link kiteTable}'s note). */
  keepsUp: boolean;
  /** Why not, when it does not. */
  why: string[];
  /** p99 latency within one step interval: each burst is delivered before the next one. */
  drained: boolean;
}

interface PhaseResult {
  spec: PhaseSpec;
  inRate: number;
  demand: number;
  ticksPerS: number;
  framesPerS: number;
  mbPerS: number;
  clientMin: number;
  clientMedian: number;
  p50: number;
  p99: number;
  max: number;
  gatewayCpu: number;
  gatewaySysCpu: number;
  loadCpu: number;
  /**
   * The rest of the machine's CPU (noise): other processes (the busiest named) and whatever was
   * charged to no live process (processes that ended, kernel work).
   */
  otherCpu: number;
  otherTop: { name: string; pct: number };
  otherProcCpu: number;
  rss: number;
  hwm: number;
  connected: number;
  workers: number;
  notes: string[];
  kite: KiteResult | null;
}

/** Every row; each runs on a fresh gateway (and, for z, a fresh simulator). */
function phases(rate: number | null, s: Settings): PhaseSpec[] {
  // 1200 ticks/s: 120k frames/s to 100 clients, a margin over the 100k target.
  const a = rate ?? 1200;
  const fast = rate ?? 10_000;
  return [
    ...([10, 100, 1000] as const).map((n): PhaseSpec => ({
      key: `a${n}`,
      group: "a",
      label: `a: ${n} clients, one-tick frames`,
      rate: a,
      universe: 1000,
      clients: n,
      // Each symbol has min(n, 100) subscribers: 10 and 100 clients take all 1000 symbols,
      // 1000 clients 100 each (overlapping windows).
      symbolsPerClient: n <= 100 ? 1000 : 100,
      batch: false,
      target: n === 100 ? "frames100k" : null,
    })),
    {
      key: "b",
      group: "b",
      label: "b: 100 clients, batched frames",
      rate: fast,
      universe: 1000,
      clients: 100,
      symbolsPerClient: 1000,
      batch: true,
      target: "batch500k",
    },
    {
      key: "b1",
      group: "b",
      label: "b: 100 clients, one-tick frames",
      rate: fast,
      universe: 1000,
      clients: 100,
      symbolsPerClient: 1000,
      batch: false,
      target: null,
    },
    {
      key: "c",
      group: "c",
      label: "c: 10 clients, one-tick frames",
      rate: fast,
      universe: 1000,
      clients: 10,
      symbolsPerClient: 1000,
      batch: false,
      target: "p99_5ms",
    },
    {
      // 1 tick/s per symbol, 10 subscribers per symbol: 100 ticks/s per client.
      key: "d",
      group: "d",
      label: "d: 1000 clients × 100 symbols",
      rate: fast,
      universe: 10_000,
      clients: 1000,
      symbolsPerClient: 100,
      batch: false,
      target: "rss200",
    },
    // z: Zerodha end to end, Kite simulator process → gateway → clients; each mode, each rate.
    ...(["quote", "depth"] as const).flatMap((mode) =>
      s.zIntervals.map((intervalMs): PhaseSpec => {
        const m = mode === "quote" ? "q" : "d";
        return {
          key: `z${m}${intervalMs}`,
          group: "z",
          tags: [`z${m}`],
          label: mode === "quote"
            ? `z: Quote clients, Kite quote packets every ${intervalMs} ms`
            : `z: Depth clients, Kite full packets every ${intervalMs} ms`,
          rate: s.zInstruments * 1000 / intervalMs,
          kite: { intervalMs, packetsPerFrame: s.zPacketsPerFrame },
          mode,
          universe: s.zInstruments,
          clients: s.zClients,
          symbolsPerClient: s.zInstruments,
          batch: s.zBatch,
          target: "keepup",
        };
      })
    ),
  ];
}

function percentile(hist: Uint32Array, total: number, p: number): number {
  if (total === 0) return NaN;
  const want = Math.ceil(total * p);
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i];
    if (seen >= want) return i;
  }
  return hist.length - 1;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function runPhase(
  gw: GatewayProcess,
  sim: KiteSimProcess | null,
  spec: PhaseSpec,
  s: Settings,
): Promise<PhaseResult> {
  const nWorkers = Math.min(
    spec.clients,
    s.workers ?? (spec.clients >= 100 || s.transport === "ws" ? 2 : 1),
  );
  const workers = Array.from({ length: nWorkers }, () => new WorkerHandle());
  const notes: string[] = [];
  try {
    const groups: GroupSpec[] = workers.map(() => ({
      port: gw.port,
      apiKey: API_KEY,
      batch: spec.batch,
      mode: MODE_NUMBER[spec.mode ?? s.mode],
      transport: s.transport,
      symbols: spec.kite ? "kite" : "paper",
      latency: spec.kite ? "stamp" : "timestamp",
      universe: spec.universe,
      symbolsPerClient: spec.symbolsPerClient,
      clients: [],
    }));
    for (let i = 0; i < spec.clients; i++) {
      groups[i % nWorkers].clients.push({
        index: i,
        first: Math.floor((i * spec.universe) / spec.clients) % spec.universe,
      });
    }
    const t0 = performance.now();
    const connected = await Promise.all(
      workers.map((w, i) => w.call({ type: "connect", spec: groups[i] }, "connected")),
    );
    const t1 = performance.now();
    const subscribed = await Promise.all(
      workers.map((w) => w.call({ type: "subscribe" }, "subscribed")),
    );
    const t2 = performance.now();
    const ok = subscribed.reduce((n, c) => n + c.ok, 0);
    const failed = spec.clients - ok;
    if (failed > 0) {
      const why = [...connected, ...subscribed].find((c) => c.firstError)?.firstError;
      notes.push(`${failed} clients failed to connect/subscribe: ${why}`);
    }
    if (ok === 0) throw new Error(notes.join("; "));
    const rssSubscribed = (await sampleProc(gw.pid)).rssMb;
    log(
      `  ${spec.key}: ${ok} clients connected in ${((t1 - t0) / 1000).toFixed(1)} s, ` +
        `subscribed in ${((t2 - t1) / 1000).toFixed(1)} s (gateway RSS ${
          rssSubscribed.toFixed(0)
        } MB); warm-up ${s.warmup} s`,
    );
    await sleep(s.warmup * 1000);

    // Gateway counters: rates use the interval between the two answers (an overloaded gateway
    // answers /metrics late, so the harness's window would be the wrong denominator).
    const m0 = await gw.metrics();
    const tm0 = performance.now();
    await Promise.all(workers.map((w) => w.call({ type: "reset" }, "reset")));
    const k0 = sim ? await sim.stats() : null;
    const c0 = await sampleProc(gw.pid);
    const w0 = performance.now();
    await sleep(s.duration * 1000);
    const stats = (await Promise.all(workers.map((w) => w.call({ type: "collect" }, "stats"))))
      .map((r) => r.stats);
    const wallS = (performance.now() - w0) / 1000;
    const c1 = await sampleProc(gw.pid);
    const k1 = sim ? await sim.stats() : null;
    const m1 = await gw.metrics();
    const metricsS = (performance.now() - tm0) / 1000;

    const elapsedS = stats.reduce((a, st) => a + st.elapsedMs, 0) / stats.length / 1000;
    const hist = new Uint32Array(HIST_BUCKETS);
    let ticks = 0;
    let timed = 0;
    let frames = 0;
    let bytes = 0;
    let maxLat = 0;
    let negative = 0;
    let errors = 0;
    const errorSamples: string[] = [];
    const closes: Record<string, number> = {};
    const perClient: number[] = [];
    for (const st of stats) {
      for (let i = 0; i < HIST_BUCKETS; i++) hist[i] += st.hist[i];
      ticks += st.ticks;
      timed += st.timed;
      frames += st.frames;
      bytes += st.bytes;
      maxLat = Math.max(maxLat, st.maxLatency);
      negative += st.negative;
      errors += st.errors;
      errorSamples.push(...st.errorSamples);
      for (const [k, v] of Object.entries(st.closes)) closes[k] = (closes[k] ?? 0) + v;
      perClient.push(...st.perClient.map((t) => t / elapsedS));
    }
    perClient.sort((x, y) => x - y);
    const d = (k: string) => (m1[k] ?? 0) - (m0[k] ?? 0);
    const inRate = d("tickplex_ticks_in_total") / metricsS;
    const sysBusy = (c1.busy - c0.busy) / (c1.total - c0.total) * 100 * CORES;
    const others = otherProcesses(c0, c1, wallS, sim?.pid ?? null);
    const simCpu = sim
      ? ((c1.others.get(sim.pid)?.cpu ?? NaN) - (c0.others.get(sim.pid)?.cpu ?? NaN)) / wallS *
        100
      : 0;
    const gatewayCpu = (c1.gateway - c0.gateway) / wallS * 100;
    const gatewaySysCpu = (c1.gatewaySys - c0.gatewaySys) / wallS * 100;
    const loadCpu = (c1.self - c0.self) / wallS * 100;
    if (errors > 0) notes.push(`${errors} error frames, e.g. ${errorSamples[0]}`);
    const closeList = Object.entries(closes);
    if (closeList.length > 0) {
      notes.push(`clients closed: ${closeList.map(([k, v]) => `${v}× ${k}`).join(", ")}`);
    }
    const slow = m1.tickplex_slow_consumers_closed_total ?? 0;
    if (slow > 0) notes.push(`gateway closed ${slow} slow consumers`);
    const dropped = d("tickplex_bus_dropped_total");
    if (dropped > 0) notes.push(`bus dropped ${dropped} messages`);
    if (timed < ticks) {
      const field = spec.kite ? "total_buy_quantity (stamp)" : "timestamp";
      notes.push(`${ticks - timed} ticks without a numeric data.${field}`);
    }
    if (negative > 0) notes.push(`${negative} ticks with receipt before creation (clock)`);
    const fannedOut = d("tickplex_deliveries_total") / metricsS;
    const result: PhaseResult = {
      spec,
      inRate,
      demand: inRate * spec.symbolsPerClient / spec.universe * ok,
      ticksPerS: ticks / elapsedS,
      framesPerS: frames / elapsedS,
      mbPerS: bytes / elapsedS / 1e6,
      clientMin: perClient[0] ?? 0,
      clientMedian: perClient[Math.floor(perClient.length / 2)] ?? 0,
      p50: percentile(hist, timed, 0.5),
      p99: percentile(hist, timed, 0.99),
      max: maxLat,
      gatewayCpu,
      gatewaySysCpu,
      loadCpu,
      otherCpu: Math.max(0, sysBusy - gatewayCpu - loadCpu - (simCpu || 0)),
      otherTop: others.top,
      otherProcCpu: others.pct,
      rss: c1.rssMb,
      hwm: c1.hwmMb,
      connected: ok,
      workers: nWorkers,
      notes: [`gateway fan-out ${fmtK(fannedOut)} ticks/s`, ...notes],
      kite: null,
    };
    if (spec.kite && k0 && k1) {
      const simS = (k1.at - k0.at) / 1000;
      const steps = k1.steps - k0.steps;
      const sentPerS = (k1.packets - k0.packets) / simS;
      const k: KiteResult = {
        sentPerS,
        nominal: spec.rate,
        lateMeanMs: steps > 0 ? (k1.lateSumMs - k0.lateSumMs) / steps : NaN,
        lateMaxMs: k1.lateMaxMs,
        skipped: k1.skipped - k0.skipped,
        cpu: simCpu,
        keepsUp: true,
        why: [],
        drained: result.p99 <= spec.kite.intervalMs,
      };
      // Keeping up: the gateway takes in what the simulator sends, publishes all of it on the
      // bus and delivers all of it to every client (a gateway that falls behind conflates the
      // client queues and drops bus messages, so the rates fall short).
      if (result.inRate < 0.98 * sentPerS) {
        k.why.push(`in ${fmtK(result.inRate)} < 98% of sent ${fmtK(sentPerS)}`);
      }
      if (result.ticksPerS < 0.98 * result.demand) {
        k.why.push(`delivered ${fmtK(result.ticksPerS)} < 98% of ${fmtK(result.demand)}`);
      }
      if (dropped > 0) k.why.push(`bus dropped ${fmtK(dropped / metricsS)}/s`);
      if (ok < spec.clients || closeList.length > 0 || slow > 0) k.why.push("clients lost");
      k.keepsUp = k.why.length === 0;
      if (sentPerS < 0.95 * spec.rate) {
        notes.push(
          `the simulator sent ${fmtK(sentPerS)} ticks/s, short of the nominal ${
            fmtK(spec.rate)
          } (${k.skipped} steps skipped, mean lateness ${k.lateMeanMs.toFixed(1)} ms)`,
        );
      }
      result.kite = k;
    }
    return result;
  } finally {
    await Promise.all(
      workers.map((w) => w.call({ type: "close" }, "closed", 10_000).catch(() => {})),
    );
    for (const w of workers) w.worker.terminate();
  }
}

// ---- orchestrator: output -------------------------------------------------------------------

function log(line: string): void {
  console.log(line);
}

function fmtK(n: number): string {
  if (!Number.isFinite(n)) return "–";
  if (n >= 10_000) return `${Math.round(n / 1000)}k`;
  if (n >= 999.5) return `${(n / 1000).toFixed(1)}k`;
  return `${Math.round(n)}`;
}

function fmtMs(n: number): string {
  return Number.isFinite(n) ? String(n) : "–";
}

function verdict(r: PhaseResult): string {
  switch (r.spec.target) {
    case "frames100k": {
      const met = r.framesPerS >= 100_000 && r.p99 <= 20;
      return `≥100k frames/s at p99 ≤ 20 ms: ${met ? "met" : "not met"}`;
    }
    case "batch500k":
      return `≥500k ticks/s: ${r.ticksPerS >= 500_000 ? "met" : "not met"}`;
    case "p99_5ms":
      return `p99 ≤ 5 ms: ${r.p99 <= 5 ? "met" : "not met"}`;
    case "rss200":
      return `RSS ≤ 200 MB: ${r.hwm <= 200 ? "met" : "not met"} (peak)`;
    case "keepup":
      return r.kite?.keepsUp
        ? `keeps up${r.kite.drained ? "" : " (p99 over one step: bursts overlap)"}`
        : `falls behind: ${r.kite?.why.join("; ") ?? "?"}`;
    default:
      return "—";
  }
}

function summaryLine(r: PhaseResult): string {
  const k = r.kite;
  const sim = k
    ? `simulator sent ${fmtK(k.sentPerS)} ticks/s (nominal ${fmtK(k.nominal)}; steps late by ` +
      `${k.lateMeanMs.toFixed(1)} ms on average, ${k.lateMaxMs.toFixed(0)} at most since ` +
      `start; ` +
      `CPU ${k.cpu.toFixed(0)}%), `
    : "";
  return `  ${r.spec.key}: ${sim}in ${fmtK(r.inRate)} ticks/s, demand ${fmtK(r.demand)}, ` +
    `delivered ${fmtK(r.ticksPerS)} ticks/s in ${fmtK(r.framesPerS)} frames/s ` +
    `(${r.mbPerS.toFixed(1)} MB/s), per client min ${fmtK(r.clientMin)} / median ${
      fmtK(r.clientMedian)
    }, latency p50 ${fmtMs(r.p50)} / p99 ${fmtMs(r.p99)} / max ${fmtMs(r.max)} ms, ` +
    `CPU gateway ${r.gatewayCpu.toFixed(0)}% (kernel ${r.gatewaySysCpu.toFixed(0)}%) load ${
      r.loadCpu.toFixed(0)
    }% other ${r.otherCpu.toFixed(0)}% (processes ${r.otherProcCpu.toFixed(0)}%${
      r.otherTop.pct >= 5 ? `, most ${r.otherTop.name} ${r.otherTop.pct.toFixed(0)}%` : ""
    }), RSS ${r.rss.toFixed(0)} MB (peak ${r.hwm.toFixed(0)}) — ${verdict(r)}` +
    (r.notes.length > 0 ? `\n    ${r.notes.join("\n    ")}` : "");
}

/** "other" CPU (% of a core) above which a row is flagged as measured on a busy machine. */
const NOISY_OTHER_CPU = 30;

function table(results: PhaseResult[], s: Settings): string {
  const head = [
    "scenario",
    "clients × symbols",
    "ticks/s in",
    "delivered ticks/s",
    "frames/s",
    "per client min / median",
    "latency p50 / p99 / max (ms)",
    "CPU gateway / load / other",
    "gateway RSS / peak (MB)",
    "target",
  ];
  const rows = results.map((r) => [
    r.spec.label,
    `${r.connected} × ${r.spec.symbolsPerClient}`,
    fmtK(r.inRate),
    fmtK(r.ticksPerS),
    fmtK(r.framesPerS),
    `${fmtK(r.clientMin)} / ${fmtK(r.clientMedian)}`,
    `${fmtMs(r.p50)} / ${fmtMs(r.p99)} / ${fmtMs(r.max)}`,
    `${r.gatewayCpu.toFixed(0)}% / ${r.loadCpu.toFixed(0)}% / ${r.otherCpu.toFixed(0)}%`,
    `${r.rss.toFixed(0)} / ${r.hwm.toFixed(0)}`,
    verdict(r),
  ]);
  const lines = [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => i === 0 || i === head.length - 1 ? "---" : "--:").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ];
  const out = [lines.join("\n")];
  const b1 = results.find((r) => r.spec.key === "b1");
  const b = results.find((r) => r.spec.key === "b");
  if (b1 && b && b1.ticksPerS > 0) {
    out.push(
      `\nBatched vs one-tick frames, same 100 clients × ${b.spec.symbolsPerClient} symbols at ` +
        `${fmtK(b.inRate)} ticks/s in (same run, a fresh gateway each): ${fmtK(b.ticksPerS)} vs ${
          fmtK(b1.ticksPerS)
        } ticks/s delivered = ${(b.ticksPerS / b1.ticksPerS).toFixed(1)}× ` +
        `(frames/s ${fmtK(b.framesPerS)} vs ${fmtK(b1.framesPerS)}; gateway CPU ${
          b.gatewayCpu.toFixed(0)
        }% vs ${b1.gatewayCpu.toFixed(0)}%).`,
    );
  }
  const noisy = results.filter((r) => r.otherCpu > NOISY_OTHER_CPU);
  if (noisy.length > 0) {
    out.push(
      `\nMeasured while the rest of the machine was busy (other > ${NOISY_OTHER_CPU}% CPU), ` +
        `so likely pessimistic: ${
          noisy.map((r) =>
            `${r.spec.key} (${r.otherCpu.toFixed(0)}%${
              r.otherTop.pct >= 5 ? `, most ${r.otherTop.name}` : ""
            })`
          ).join(", ")
        }.`,
    );
  }
  out.push(
    `\n${CORES} cores (${Deno.build.os}/${Deno.build.arch}), Deno ${Deno.version.deno}; ` +
      `${s.duration} s window after ${s.warmup} s warm-up; paper feed emits every ` +
      `${s.intervalMs} ms, ${s.mode} mode; load clients in this process ` +
      `(${s.transport === "raw" ? "minimal RFC 6455 client" : "WebSocket API"}, ` +
      `${
        s.workers ?? "1–2"
      } Web Workers). CPU is % of one core (${CORES} cores = ${CORES}00%); "other" is the ` +
      `rest of the machine during the window: other processes, kernel work charged to none (noise). Latency is ` +
      `Date.now() at receipt minus the tick's data.timestamp (Date.now() when the paper worker ` +
      `created it): millisecond granularity, so 0 means under 1 ms and every figure is ±1 ms.`,
  );
  return out.join("\n");
}

function kiteTable(results: PhaseResult[], s: Settings): string {
  const head = [
    "scenario",
    "clients × instruments",
    "sim step (ms)",
    "ticks/s sent (sim)",
    "ticks/s in (gateway)",
    "delivered ticks/s (of demand)",
    "per client min / median",
    "latency p50 / p99 / max (ms)",
    "CPU gateway / sim / load / other",
    "gateway RSS / peak (MB)",
    "keeps up",
  ];
  const rows = results.map((r) => [
    `${r.spec.key}: ${r.spec.mode === "depth" ? "Depth (full)" : "Quote (quote)"}`,
    `${r.connected} × ${r.spec.symbolsPerClient}`,
    String(r.spec.kite?.intervalMs ?? "–"),
    fmtK(r.kite?.sentPerS ?? NaN),
    fmtK(r.inRate),
    `${fmtK(r.ticksPerS)} (${(r.ticksPerS / r.demand * 100).toFixed(0)}%)`,
    `${fmtK(r.clientMin)} / ${fmtK(r.clientMedian)}`,
    `${fmtMs(r.p50)} / ${fmtMs(r.p99)} / ${fmtMs(r.max)}`,
    `${r.gatewayCpu.toFixed(0)}% / ${(r.kite?.cpu ?? NaN).toFixed(0)}% / ${
      r.loadCpu.toFixed(0)
    }% / ${r.otherCpu.toFixed(0)}%`,
    `${r.rss.toFixed(0)} / ${r.hwm.toFixed(0)}`,
    r.kite?.keepsUp
      ? (r.kite.drained ? "yes" : `yes, p99 > ${r.spec.kite?.intervalMs} ms step`)
      : `no: ${r.kite?.why.join("; ") ?? "?"}`,
  ]);
  const out = [
    [
      `| ${head.join(" | ")} |`,
      `|${head.map((_, i) => i === 0 || i === head.length - 1 ? "---" : "--:").join("|")}|`,
      ...rows.map((r) => `| ${r.join(" | ")} |`),
    ].join("\n"),
  ];
  for (const mode of ["quote", "depth"] as const) {
    const rows = results.filter((r) => r.spec.mode === mode);
    if (rows.length === 0) continue;
    const top = (ok: (r: PhaseResult) => boolean) =>
      rows.filter(ok).sort((a, b) => b.inRate - a.inRate)[0] as PhaseResult | undefined;
    const best = top((r) => r.kite?.keepsUp === true);
    const drained = top((r) => r.kite?.keepsUp === true && r.kite.drained);
    const name = mode === "quote" ? "Quote (Kite quote packets)" : "Depth (Kite full packets)";
    const at = (r: PhaseResult) =>
      `${fmtK(r.inRate)} ticks/s in (simulator step ${r.spec.kite!.intervalMs} ms; ` +
      `${fmtK(r.ticksPerS)} ticks/s delivered to ${r.connected} clients, p99 ${fmtMs(r.p99)} ms)`;
    out.push(
      best
        ? `\n${name}: highest rate kept up with ${at(best)}` +
          (drained === best
            ? "."
            : drained
            ? `; with every burst delivered within one step: ${at(drained)}.`
            : "; no rate had every burst delivered within one step.")
        : `\n${name}: the gateway fell behind at every rate tried.`,
    );
  }
  const noisy = results.filter((r) => r.otherCpu > NOISY_OTHER_CPU);
  if (noisy.length > 0) {
    out.push(
      `\nMeasured while the rest of the machine was busy (other > ${NOISY_OTHER_CPU}% CPU): ${
        noisy.map((r) => `${r.spec.key} (${r.otherCpu.toFixed(0)}%)`).join(", ")
      }.`,
    );
  }
  out.push(
    `\n${CORES} cores (${Deno.build.os}/${Deno.build.arch}), Deno ${Deno.version.deno}; ` +
      `${s.duration} s window after ${s.warmup} s warm-up. The Kite simulator ` +
      `(bench/zerodha_bench.ts, a separate process) steps all ${s.zInstruments} instruments ` +
      `every "sim step" ms and sends them in frames of ≤ ${s.zPacketsPerFrame} packets (quote: ` +
      `44 B, full: 184 B); the gateway (--broker zerodha --feed-url --instruments) and ` +
      `${s.zClients} ${s.transport === "raw" ? "minimal RFC 6455" : "WebSocket API"} ` +
      `clients, each subscribing all instruments in ${s.zBatch ? "batched" : "one-tick"} ` +
      `frames (Web Workers of this process). "in" is the gateway's tickplex_ticks_in_total; ` +
      `"demand" = in × clients. ` +
      `Latency: receipt at the client minus the time the simulator built the frame, carried ` +
      `in total_buy_quantity (Date.now() mod 2^32); millisecond clock, ±1 ms, the same in both ` +
      `modes; each step is a burst of every instrument, so p99 is close to the time to drain ` +
      `one burst. Keeps up = in ≥ 98% of sent, delivered ≥ 98% of demand (a gateway that ` +
      `falls behind conflates per instrument), no bus drops, no client lost; "p99 > step" ` +
      `marks rates where bursts overlap (no headroom left). CPU is % of one core; "sim" is ` +
      `the simulator process.`,
  );
  return out.join("\n");
}

// ---- orchestrator: CPU profile summary ----------------------------------------------------

interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }[];
  samples: number[];
  timeDeltas: number[];
}

async function summariseProfiles(dir: string): Promise<string> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.endsWith(".cpuprofile")) continue;
    const prof: CpuProfile = JSON.parse(await Deno.readTextFile(`${dir}/${entry.name}`));
    const frameOf = new Map<number, string>();
    for (const n of prof.nodes) {
      const cf = n.callFrame;
      const file = cf.url ? cf.url.replace(/^.*\/(node_modules|main)\//, "$1/") : "";
      frameOf.set(
        n.id,
        `${cf.functionName || "(anonymous)"}${file ? ` ${file}:${cf.lineNumber + 1}` : ""}`,
      );
    }
    const self = new Map<string, number>();
    let total = 0;
    for (let i = 0; i < prof.samples.length; i++) {
      const dt = prof.timeDeltas[i] ?? 0;
      const k = frameOf.get(prof.samples[i]) ?? "?";
      self.set(k, (self.get(k) ?? 0) + dt);
      total += dt;
    }
    const idle = self.get("(idle)") ?? 0;
    const busy = total - idle;
    self.delete("(idle)");
    const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20);
    const which = entry.name.includes(".worker-") ? "adapter worker isolate" : "main isolate";
    out.push(
      `  ${which}: ${dir}/${entry.name}\n    ${(total / 1e6).toFixed(1)} s sampled, ` +
        `${(busy / 1e6).toFixed(1)} s in JS/ops (the rest is idle — including Rust-side socket ` +
        `I/O, which V8 does not see); top self time, % of the JS/ops time:`,
    );
    for (const [k, v] of top) {
      out.push(
        `    ${(v / busy * 100).toFixed(1).padStart(5)}%  ${
          (v / 1000).toFixed(0).padStart(6)
        } ms  ${k}`,
      );
    }
  }
  return out.join("\n");
}

// ---- orchestrator: main ---------------------------------------------------------------------

const HELP = `tickplex end-to-end load harness (deno task bench)

Starts the gateway (main.ts) on the paper market as a child process, connects WebSocket load
clients on loopback and prints delivered ticks/s, frames/s, per-client rates, latency from tick
creation to receipt, and the gateway's CPU and RSS, against the targets of issue 2.

Scenarios (default: all, about 2 minutes):
  a10, a100, a1000  one-tick frames, fixed input rate (default 1200 ticks/s over 1000 symbols);
                    10 and 100 clients subscribe to all 1000, 1000 clients to 100 each
  b, b1             100 clients × 1000 symbols at the highest input rate (default 10000 ticks/s):
                    b with batched frames, b1 with one-tick frames (a fresh gateway each), and
                    their ratio; 'b' selects both
  c                 10 clients × 1000 symbols at 10000 ticks/s in, one-tick frames (p99 target)
  d                 1000 clients × 100 symbols out of 10000, gateway RSS (default 10000 ticks/s:
                    1 tick/s per symbol, 100 ticks/s per client)
  'a' selects a10, a100, a1000.
  z                 Zerodha end to end, not in the default set (about 2.5 minutes): a Kite
                    simulator process (bench/zerodha_bench.ts) steps --z-instruments instruments
                    (generated Kite CSV, default 1000) every --z-intervals ms (default
                    100,50,40,33,25: 10k–40k ticks/s in); the gateway runs --broker zerodha
                    --feed-url <sim> --instruments <csv>; --z-clients clients (default 10)
                    subscribe to every instrument. Rows zq<ms> (Quote; Kite quote packets)
                    and zd<ms> (Depth; Kite full packets); 'zq' and 'zd' select one mode.
                    Prints ticks/s sent by the simulator and taken in by the gateway, delivered
                    ticks/s, latency from the simulator's frame to the client, CPU of gateway /
                    simulator / load clients, gateway RSS, and the highest rate the gateway
                    keeps up with.

Options:
  -s, --scenario <list>   comma-separated scenarios (default a,b,c,d)
  -d, --duration <s>      measurement window per scenario (default 10)
      --warmup <s>        warm-up before each window (default 3)
  -r, --rate <n>          input ticks/s for every selected scenario (default per scenario)
      --interval <ms>     paper feed emit interval (default 5)
      --mode <m>          ltp | quote | depth (default quote)
      --client <t>        raw (minimal RFC 6455 client, cheap per frame; default) | ws (WebSocket API)
      --workers <n>       Web Workers running the load clients (default 1, or 2 from 100 clients)
      --high-water <b>    gateway limits.sendHighWaterBytes (default: the gateway's own)
      --profile           run the gateway with --cpu-prof and print its top functions
      --gateway-flag <f>  extra 'deno run' flag for the gateway, repeatable
                          (e.g. --gateway-flag=--v8-flags=--max-semi-space-size=4)
      --z-clients <n>     scenario z: load clients (default 10)
      --z-intervals <l>   scenario z: simulator step intervals in ms (default
                          100,50,40,33,25)
      --z-instruments <n> scenario z: instruments in the generated CSV (default 1000, ≤ 9000;
                          above 3000 the gateway opens further Kite connections)
      --z-packets <n>     scenario z: most packets in one Kite frame (default 200)
      --z-batch           scenario z: batched client frames (default one-tick frames)
  -h, --help              this help
`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      scenario: { type: "string", short: "s", default: "a,b,c,d" },
      duration: { type: "string", short: "d", default: "10" },
      warmup: { type: "string", default: "3" },
      rate: { type: "string", short: "r" },
      interval: { type: "string", default: "5" },
      mode: { type: "string", default: "quote" },
      client: { type: "string", default: "raw" },
      workers: { type: "string" },
      "high-water": { type: "string" },
      profile: { type: "boolean", default: false },
      "gateway-flag": { type: "string", multiple: true, default: [] },
      "z-clients": { type: "string", default: "10" },
      "z-intervals": { type: "string", default: "100,50,40,33,25" },
      "z-instruments": { type: "string", default: "1000" },
      "z-packets": { type: "string", default: "200" },
      "z-batch": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const num = (name: string, v: string | undefined, min: number): number | null => {
    if (v === undefined) return null;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name}: expected a number ≥ ${min}`);
    return n;
  };
  if (!(values.mode in MODE_NUMBER)) throw new Error("--mode: expected ltp, quote or depth");
  if (values.client !== "raw" && values.client !== "ws") {
    throw new Error("--client: expected raw or ws");
  }
  const settings: Settings = {
    duration: num("duration", values.duration, 1)!,
    warmup: num("warmup", values.warmup, 0)!,
    intervalMs: Math.round(num("interval", values.interval, 1)!),
    workers: num("workers", values.workers, 1),
    transport: values.client,
    mode: values.mode as ModeName,
    highWaterBytes: num("high-water", values["high-water"], 1024),
    rate: num("rate", values.rate, 1),
    profileDir: null,
    denoFlags: values["gateway-flag"],
    zClients: Math.round(num("z-clients", values["z-clients"], 1)!),
    zIntervals: values["z-intervals"].split(",").map((x) => x.trim()).filter(Boolean).map((x) =>
      Math.round(num("z-intervals", x, 1)!)
    ),
    zInstruments: Math.round(num("z-instruments", values["z-instruments"], 1)!),
    zPacketsPerFrame: Math.round(num("z-packets", values["z-packets"], 1)!),
    zBatch: values["z-batch"],
  };
  if (settings.zInstruments > 9000) {
    throw new Error("--z-instruments: at most 9000 (Kite: 3000 per connection, 3 connections)");
  }
  if (settings.zPacketsPerFrame > 65535) throw new Error("--z-packets: at most 65535");
  const all = phases(settings.rate, settings);
  const wanted = new Set<string>();
  for (const raw of values.scenario.split(",").map((x) => x.trim()).filter(Boolean)) {
    const hit = all.filter((ph) => ph.key === raw || ph.group === raw || ph.tags?.includes(raw));
    if (hit.length === 0) {
      throw new Error(
        `--scenario: unknown '${raw}'; choose from a, b, z, zq, zd, ${
          all.map((x) => x.key).join(", ")
        }`,
      );
    }
    for (const h of hit) wanted.add(h.key);
  }
  const selected = all.filter((ph) => wanted.has(ph.key));
  await detectClockTicks();

  const running = new Set<GatewayProcess>();
  const sims = new Set<KiteSimProcess>();
  // One instruments file for every z row (the gateway and the simulator both read it).
  const kiteCsv = selected.some((ph) => ph.kite)
    ? await writeKiteInstruments(settings.zInstruments)
    : null;
  const onSigint = () => {
    for (const gw of running) {
      try {
        gw.child.kill("SIGTERM");
      } catch {
        // gone
      }
      try {
        Deno.removeSync(gw.configFile);
      } catch {
        // already removed
      }
    }
    for (const sim of sims) sim.kill();
    if (kiteCsv) Deno.removeSync(kiteCsv);
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSigint);

  log(
    `tickplex load harness: ${selected.map((x) => x.key).join(", ")}; ${settings.duration} s ` +
      `window, ${settings.warmup} s warm-up, ${settings.transport} clients, ${CORES} cores`,
  );
  const results: PhaseResult[] = [];
  const failures: string[] = [];
  for (const ph of selected) {
    if (values.profile) {
      settings.profileDir = await Deno.makeTempDir({ prefix: `tickplex-prof-${ph.key}-` });
    }
    log(
      ph.kite
        ? `\n[${ph.key}] ${ph.label}; gateway: zerodha ← Kite simulator process stepping ` +
          `${ph.universe} instruments every ${ph.kite.intervalMs} ms (${fmtK(ph.rate)} ticks/s, ` +
          `≤ ${ph.kite.packetsPerFrame} packets a frame)`
        : `\n[${ph.key}] ${ph.label}; gateway: paper ${ph.rate} ticks/s over ${ph.universe} ` +
          `symbols, emit every ${settings.intervalMs} ms`,
    );
    let gw: GatewayProcess | null = null;
    let sim: KiteSimProcess | null = null;
    try {
      if (ph.kite) {
        sim = await KiteSimProcess.start({
          instruments: kiteCsv!,
          intervalMs: ph.kite.intervalMs,
          packetsPerFrame: ph.kite.packetsPerFrame,
        });
        sims.add(sim);
        log(`  Kite simulator pid ${sim.pid} on ${sim.url}`);
      }
      gw = await GatewayProcess.start({
        rate: ph.rate,
        universe: ph.universe,
        intervalMs: settings.intervalMs,
        kite: sim
          ? {
            feedUrl: sim.url,
            instruments: kiteCsv!,
            apiKey: sim.apiKey,
            accessToken: sim.accessToken,
          }
          : null,
        highWaterBytes: settings.highWaterBytes,
        profileDir: settings.profileDir,
        denoFlags: settings.denoFlags,
      });
      running.add(gw);
      const idle = await sampleProc(gw.pid);
      log(`  gateway pid ${gw.pid} on :${gw.port}, idle RSS ${idle.rssMb.toFixed(0)} MB`);
      const r = await runPhase(gw, sim, ph, settings);
      results.push(r);
      log(summaryLine(r));
      if (gw.exited) failures.push(`${ph.key}: the gateway exited during the run`);
      if (sim?.exited) failures.push(`${ph.key}: the Kite simulator exited during the run`);
    } catch (err) {
      const msg = `${ph.key}: ${err instanceof Error ? err.message : err}`;
      failures.push(msg);
      log(`  FAILED ${msg}`);
    } finally {
      if (gw) {
        const st = await gw.stop();
        running.delete(gw);
        const how = st.killed
          ? `did NOT exit within 20 s of SIGTERM; killed`
          : `exited ${st.code} ${(st.ms / 1000).toFixed(1)} s after SIGTERM`;
        log(`  gateway ${how}`);
        if (st.killed || st.code !== 0) failures.push(`${ph.key}: gateway ${how}`);
        if (gw.lineCount > 0) {
          log(`  gateway printed ${gw.lineCount} log lines (level warning), first ones:`);
          for (const l of gw.lines.slice(0, 8)) log(`    ${l.slice(0, 240)}`);
        }
      }
      if (sim) {
        await sim.stop();
        sims.delete(sim);
        if (sim.lines.length > 0) {
          log(`  the Kite simulator printed:`);
          for (const l of sim.lines.slice(0, 8)) log(`    ${l.slice(0, 240)}`);
        }
      }
      if (settings.profileDir) {
        try {
          log(await summariseProfiles(settings.profileDir));
        } catch (err) {
          log(`  could not read the CPU profile: ${err instanceof Error ? err.message : err}`);
        }
      }
    }
  }
  Deno.removeSignalListener("SIGINT", onSigint);
  if (kiteCsv) await Deno.remove(kiteCsv).catch(() => {});

  const paper = results.filter((r) => !r.kite);
  const kite = results.filter((r) => r.kite);
  if (paper.length > 0) {
    log("\n## Load benchmark\n");
    log(table(paper, settings));
  }
  if (kite.length > 0) {
    log("\n## Zerodha end to end (Kite simulator → gateway → clients)\n");
    log(kiteTable(kite, settings));
  }
  if (failures.length > 0) {
    log(`\nProblems during the run:\n${failures.map((f) => `- ${f}`).join("\n")}`);
  }
  // The slow reader with and without the staleness bound (bench/slow_reader.ts, issue 19).
  if (paper.length > 0) await slowReaderBench(Math.min(10, settings.duration), 250);
  return 0;
}

if ("WorkerGlobalScope" in globalThis) {
  loadWorker();
} else if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (err) {
    console.error(`bench/load.ts: ${err instanceof Error ? err.message : err}`);
    Deno.exit(2);
  }
}
