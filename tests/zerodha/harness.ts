// Test harness: runs the real Zerodha adapter worker with narrow permissions, drives it with the
// pool's messages and collects what it posts, validated by `parseFromWorker`.

import { type FromWorker, parseFromWorker, type ToWorker } from "../../lib/adapter/messages.ts";
import type { FeedState, Tick } from "../../lib/types.ts";

export const SAMPLE_INSTRUMENTS = new URL(
  "../../adapters/zerodha/testdata/instruments.csv",
  import.meta.url,
).pathname;

const WORKER_URL = new URL("../../adapters/zerodha/worker.ts", import.meta.url);

type Ack = Extract<FromWorker, { type: "ack" }>;

/** A running adapter worker and everything it has said. */
export class WorkerHarness {
  readonly worker: Worker;
  readonly messages: FromWorker[] = [];
  /** Messages that failed `parseFromWorker` or carried rejected ticks. */
  readonly invalid: string[] = [];
  #nextId = 1;
  #listeners = new Set<() => void>();

  private constructor(port: number, readPaths: string[]) {
    this.worker = new Worker(WORKER_URL, {
      type: "module",
      deno: {
        permissions: {
          net: [`127.0.0.1:${port}`],
          read: readPaths,
          write: false,
          env: false,
          run: false,
          ffi: false,
          sys: false,
        },
      },
    } as WorkerOptions);
    this.worker.onmessage = (e: MessageEvent) => {
      const p = parseFromWorker(e.data);
      if (!p.ok) this.invalid.push(p.error);
      else {
        if (p.rejectedTicks > 0) this.invalid.push(`rejected ticks: ${p.firstTickError}`);
        this.messages.push(p.message);
      }
      for (const l of this.#listeners) l();
    };
    this.worker.onerror = (e) => {
      this.invalid.push(`worker error: ${e.message}`);
      e.preventDefault();
    };
  }

  /** Starts a worker, sends `init` and waits for `ready`. */
  static async start(
    port: number,
    options: Record<string, unknown>,
    readPaths: string[] = [SAMPLE_INSTRUMENTS],
  ): Promise<WorkerHarness> {
    const h = new WorkerHarness(port, readPaths);
    h.send({ type: "init", connection: 0, options });
    await h.waitFor((m) => m.type === "ready" ? m : undefined, 10_000, "ready");
    return h;
  }

  send(msg: ToWorker): void {
    this.worker.postMessage(msg);
  }

  /** Sends a subscribe/unsubscribe/set_mode request and waits for its ack. */
  async request(
    type: "subscribe" | "set_mode",
    items: { exchange: string; symbol: string; mode: 1 | 2 | 3; depth?: number }[],
  ): Promise<Ack>;
  async request(type: "unsubscribe", items: { exchange: string; symbol: string }[]): Promise<Ack>;
  async request(
    type: "subscribe" | "set_mode" | "unsubscribe",
    items: { exchange: string; symbol: string; mode?: 1 | 2 | 3; depth?: number }[],
  ): Promise<Ack> {
    const id = this.#nextId++;
    if (type === "unsubscribe") {
      this.send({
        type,
        id,
        items: items.map((i) => ({ exchange: i.exchange, symbol: i.symbol })),
      });
    } else {
      this.send({
        type,
        id,
        items: items.map((i) => ({
          exchange: i.exchange,
          symbol: i.symbol,
          mode: i.mode ?? 2,
          depth: i.depth ?? 5,
        })),
      });
    }
    return await this.waitFor(
      (m) => (m.type === "ack" && m.id === id ? m : undefined),
      10_000,
      `ack ${id}`,
    );
  }

  /** Waits until `pick` returns a value for some message at index ≥ `from`. */
  waitFor<T>(
    pick: (m: FromWorker) => T | undefined,
    timeoutMs = 5000,
    label = "message",
    from = 0,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let i = from;
      const check = () => {
        for (; i < this.messages.length; i++) {
          const v = pick(this.messages[i]);
          if (v !== undefined) {
            done();
            resolve(v);
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        done();
        const states = this.statuses().map((s) => `${s.state}(${s.detail ?? ""})`).join(" → ");
        reject(
          new Error(`timed out after ${timeoutMs} ms waiting for ${label}; states: ${states}`),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#listeners.delete(check);
      };
      this.#listeners.add(check);
      check();
    });
  }

  /** Waits for a status message with `state` after index `from`. */
  waitForState(state: FeedState, timeoutMs = 5000, from = 0): Promise<number> {
    return this.waitFor(
      (m) => m.type === "status" && m.state === state ? this.messages.indexOf(m) : undefined,
      timeoutMs,
      `status ${state}`,
      from,
    );
  }

  /** Waits for a tick matching `pred` after index `from`. */
  waitForTick(pred: (t: Tick) => boolean, timeoutMs = 5000, from = 0): Promise<Tick> {
    return this.waitFor(
      (m) => m.type === "ticks" ? m.ticks.find(pred) : undefined,
      timeoutMs,
      "tick",
      from,
    );
  }

  statuses(): { state: string; detail?: string }[] {
    return this.messages.flatMap((m) => m.type === "status" ? [m] : []);
  }

  ticks(from = 0): Tick[] {
    return this.messages.slice(from).flatMap((m) => m.type === "ticks" ? m.ticks : []);
  }

  get mark(): number {
    return this.messages.length;
  }

  /** Sends `close`, waits for `disconnected`, then terminates the worker. */
  async close(): Promise<void> {
    try {
      const from = this.mark;
      this.send({ type: "close" });
      await this.waitForState("disconnected", 3000, from).catch(() => {});
    } finally {
      this.worker.terminate();
    }
  }
}

/** Polls `cond` every 20 ms until true or `timeoutMs` passes. */
export async function until(
  cond: () => boolean,
  timeoutMs = 5000,
  label = "condition",
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Writes a real-format instruments CSV with `n` NSE equities (tokens (1000+i)<<8|1). */
export async function writeBigInstruments(n: number): Promise<string> {
  const lines = [
    "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size," +
    "lot_size,instrument_type,segment,exchange",
  ];
  for (let i = 0; i < n; i++) {
    const et = 1000 + i;
    lines.push(`${(et << 8) | 1},${et},SYM${i},"SYMBOL ${i}",0,,0,0.05,1,EQ,NSE,NSE`);
  }
  const path = await Deno.makeTempFile({ prefix: "kite-instruments-", suffix: ".csv" });
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
  return path;
}
