// Slow-reader benchmark (issue 19), `deno task bench:slow` and the last part of `deno task bench`:
// the gateway as its own process on the paper market sends ~100 Quote frames/s to a reader that
// reads 50 frames/s (tests/helpers/paced_reader.ts: it takes bytes off its socket only as it
// reads, answering pings as it reaches them) and to a fast client on the same gateway. It runs
// twice, with the staleness bound and without it (bound and slow-consumer time set to an hour),
// and prints the tick age seen by each reader — p50 / p99 / max, from the tick's creation in the
// paper worker to the moment the reader reads it — side by side. Figures only; nothing fails.
//
//   deno task bench:slow                      # 10 s per run, bound 250 ms
//   deno task bench:slow --duration 5 --bound 100

import { parseArgs } from "node:util";
import { PacedReader } from "../tests/helpers/paced_reader.ts";

const REPO = new URL("../", import.meta.url).pathname;
const API_KEY = "bench-key-0123456789abcdef";
const SYMBOLS = ["RELIANCE", "TCS", "INFY", "SBIN"];
const SEND_RATE = 100;
const READ_RATE = 50;

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The gateway as a child process, paper feed at SEND_RATE ticks/s over SYMBOLS. */
async function startGateway(
  limits: Record<string, number>,
): Promise<{ port: number; stop(): Promise<void>; metrics(): Promise<Record<string, number>> }> {
  const port = freePort();
  const config = {
    logLevel: "error",
    broker: {
      name: "paper",
      options: { seed: 1, totalRate: SEND_RATE, intervalMs: 10, maxConnections: 1 },
    },
    limits,
  };
  const file = await Deno.makeTempFile({ prefix: "tickplex-slow-", suffix: ".json" });
  await Deno.writeTextFile(file, JSON.stringify(config));
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-P=gateway",
      "--unstable-worker-options",
      "main.ts",
      "--config",
      file,
      "--port",
      String(port),
      "--bus",
      `tcp://127.0.0.1:${freePort()}`,
    ],
    cwd: REPO,
    env: { TICKPLEX_API_KEY: API_KEY, NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const deadline = Date.now() + 30_000;
  while (true) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/health`);
      const body = await r.json();
      if (body.feed_state === "connected") break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error("gateway did not start within 30 s");
    }
    await sleep(100);
  }
  await sleep(300);
  return {
    port,
    async stop() {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await child.status;
      clearTimeout(timer);
      await Deno.remove(file).catch(() => {});
    },
    async metrics() {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const out: Record<string, number> = {};
      for (const line of text.split("\n")) {
        const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
        if (m) out[m[1] + (m[2] ?? "")] = Number(m[3]);
      }
      return out;
    },
  };
}

/** Tick ages collected during the measurement window. */
class Ages {
  readonly values: number[] = [];
  measuring = false;
  add(data: { timestamp?: number } | undefined): void {
    if (this.measuring && typeof data?.timestamp === "number") {
      this.values.push(Date.now() - data.timestamp);
    }
  }
  summary(): { n: number; p50: number; p99: number; max: number } {
    const s = [...this.values].sort((a, b) => a - b);
    const at = (p: number) => s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? NaN;
    return { n: s.length, p50: at(0.5), p99: at(0.99), max: s[s.length - 1] ?? NaN };
  }
}

const subscribe = JSON.stringify({
  action: "subscribe",
  symbols: SYMBOLS.map((symbol) => ({ symbol, exchange: "NSE" })),
  mode: 2,
});

interface RunResult {
  label: string;
  slow: ReturnType<Ages["summary"]>;
  fast: ReturnType<Ages["summary"]>;
  slowClosed: number | null;
  drops: number;
}

async function run(label: string, limits: Record<string, number>, seconds: number) {
  const gw = await startGateway(limits);
  const slowAges = new Ages();
  const fastAges = new Ages();
  const reader = await PacedReader.connect(gw.port, {
    framesPerSecond: READ_RATE,
    onText: (text) => {
      const f = JSON.parse(text);
      if (f.type === "market_data") slowAges.add(f.data);
    },
  });
  reader.send(JSON.stringify({ action: "authenticate", api_key: API_KEY }));
  reader.send(subscribe);
  const fast = new WebSocket(`ws://127.0.0.1:${gw.port}/`);
  await new Promise((r) => fast.onopen = r);
  fast.onmessage = (e) => {
    const f = JSON.parse(e.data);
    if (f.type === "market_data") fastAges.add(f.data);
  };
  fast.send(JSON.stringify({ action: "authenticate", api_key: API_KEY }));
  fast.send(subscribe);
  await sleep(2000);
  slowAges.measuring = fastAges.measuring = true;
  await sleep(seconds * 1000);
  slowAges.measuring = fastAges.measuring = false;
  const m = await gw.metrics();
  fast.close();
  reader.close();
  await gw.stop();
  const r: RunResult = {
    label,
    slow: slowAges.summary(),
    fast: fastAges.summary(),
    slowClosed: reader.closeCode,
    drops: m['tickplex_client_drops_total{reason="slow_consumer"}'] ?? 0,
  };
  console.log(
    `${label}: slow reader p50/p99/max ${r.slow.p50}/${r.slow.p99}/${r.slow.max} ms ` +
      `(${r.slow.n} ticks read), fast client ${r.fast.p50}/${r.fast.p99}/${r.fast.max} ms ` +
      `(${r.fast.n} ticks)`,
  );
  return r;
}

function table(results: RunResult[], seconds: number): string {
  const rows = [
    [
      "run",
      "slow reader tick age p50 / p99 / max (ms)",
      "ticks read",
      "fast client p50 / p99 / max (ms)",
      "fast ticks",
      "1008 closes",
    ],
    ...results.map((r) => [
      r.label,
      `${r.slow.p50} / ${r.slow.p99} / ${r.slow.max}`,
      String(r.slow.n),
      `${r.fast.p50} / ${r.fast.p99} / ${r.fast.max}`,
      String(r.fast.n),
      String(r.drops),
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [
    `Slow reader: ${READ_RATE} frames/s read of ~${SEND_RATE}/s sent (${SYMBOLS.length} Quote ` +
    `keys, paper feed), ${seconds} s measured after 2 s; a fast client on the same gateway.`,
    line(rows[0]),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.slice(1).map(line),
  ].join("\n");
}

/** Runs both configurations and prints the table; returns it. */
export async function slowReaderBench(seconds: number, bound: number): Promise<string> {
  const results = [
    await run(`bound ${bound} ms`, { maxStalenessMs: bound }, seconds),
    await run("no bound", { maxStalenessMs: 3_600_000, slowConsumerMs: 3_600_000 }, seconds),
  ];
  const t = table(results, seconds);
  console.log("\n" + t);
  return t;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      duration: { type: "string", short: "d", default: "10" },
      bound: { type: "string", short: "b", default: "250" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log("deno task bench:slow [--duration <s>] [--bound <ms>]");
    Deno.exit(0);
  }
  await slowReaderBench(Number(values.duration), Number(values.bound));
}
