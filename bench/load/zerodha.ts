// Scenario z: the Kite simulator as its own process over a generated instruments CSV.

import { kiteSymbol } from "./symbols.ts";
import { encoder } from "./client.ts";
import { ANSI, REPO, sleep } from "./gateway_process.ts";
import type { KiteSimStats } from "../zerodha_bench.ts";

/**
 * Writes a Kite-format instruments CSV of `n` NSE equities SYM0..SYM<n - 1> (instrument token
 * (1000 + i) << 8 | 1: exchange token 1000 + i, segment 1 = NSE, paise prices).
 */
export async function writeKiteInstruments(n: number): Promise<string> {
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
export class KiteSimProcess {
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
