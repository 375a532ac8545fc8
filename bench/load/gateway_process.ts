// The gateway under test as a child process (`deno run -P=gateway main.ts`).

import { API_KEY } from "./protocol.ts";

/** The repository root: the gateway and the simulator run from there. */
export const REPO = new URL("../..", import.meta.url);

/** A free TCP port on 127.0.0.1 (bound and released). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

export interface GatewayOptions {
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
  /** `--fanout-processes` edges beside the primary over this NATS server; null: one gateway. */
  fanout?: { natsUrl: string; edges: number } | null;
}

// deno-lint-ignore no-control-regex
export const ANSI = /\x1b\[[0-9;]*m/g;

/** The gateway under test, running `deno run -P=gateway main.ts` as a child process. */
export class GatewayProcess {
  readonly lines: string[] = [];
  lineCount = 0;
  #exited = false;

  private constructor(
    readonly child: Deno.ChildProcess,
    readonly port: number,
    readonly configFile: string,
    readonly edges: number,
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
    const edges = opts.fanout?.edges ?? 0;
    if (opts.fanout) {
      args.push("--bus", opts.fanout.natsUrl, "--fanout-processes", String(edges));
    }
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
    const gw = new GatewayProcess(child, port, configFile, edges);
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
          if (edges > 0) await gw.#edgesUp(deadline);
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

  /**
   * Waits until edges answer on the shared port too (an edge listens once the primary answered
   * it), then a little longer for the last one, so clients are spread over every process.
   */
  async #edgesUp(deadline: number): Promise<void> {
    for (;;) {
      const text = await (await fetch(`http://127.0.0.1:${this.port}/metrics`, {
        headers: { connection: "close" },
      })).text();
      if (text.includes("tickplex_edge_ticks_in_total")) break;
      if (Date.now() > deadline) throw new Error("the edge processes did not come up");
      await sleep(100);
    }
    await sleep(1500);
  }

  /**
   * Prometheus counters and gauges, summed over labels. With edges on the port, the primary's
   * (the one counting ticks in) is asked until it is the one that answers.
   */
  async metrics(): Promise<Record<string, number>> {
    let text = "";
    for (let i = 0; i < 50; i++) {
      const r = await fetch(`http://127.0.0.1:${this.port}/metrics`, {
        headers: { connection: "close" },
      });
      text = await r.text();
      if (this.edges === 0 || text.includes("tickplex_ticks_in_total")) break;
    }
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

/** Resolves after `ms` of real time. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
