// Recorder and replay benchmark. Measures, on this machine:
//   1. the DuckDB appender path alone (TickStore.writeTicks), Quote and Depth ticks;
//   2. the sustained rate of the real recorder process (`main.ts record`) fed over the bus by a
//      publisher in this process: a ladder of fixed input rates, each held for --step seconds;
//      the highest rate the recorder commits with at most 1 s of lag is reported;
//   3. bytes per tick in the DuckDB file, in the rolled Parquet files and in the replay file;
//   4. replay: preparing the .tpr file, decoding it (the worker's loop), and end to end through
//      a gateway running the replay adapter at max speed to a bus reader.
// Prints a markdown table. Nothing fails on the figures.
//
//   deno run -P=bench --unstable-worker-options bench/recorder_bench.ts
//   deno run -P=bench --unstable-worker-options bench/recorder_bench.ts --ticks 100000 --symbols 100 --step 3

import { parseArgs } from "node:util";
import { buildEnvelope } from "../lib/bus/envelope.ts";
import { BusPublisher } from "../lib/bus/publisher.ts";
import { BusReader } from "../lib/bus/reader.ts";
import { configSchema } from "../lib/config/mod.ts";
import { Gateway } from "../lib/gateway.ts";
import { setupLogging } from "../lib/log.ts";
import type { Mode, Tick } from "../lib/types.ts";
import { buildUniverse, PaperMarket } from "../adapters/paper/mod.ts";
import { adapterOptionsFor, ADAPTERS } from "../adapters/mod.ts";
import { type PendingTick, TickStore } from "../lib/recorder/store.ts";
import { rollToParquet } from "../lib/recorder/roll.ts";
import { prepareReplay } from "../lib/recorder/replay_export.ts";
import { openReplay, recordToTick } from "../lib/replay/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    ticks: { type: "string", default: "200000" },
    symbols: { type: "string", default: "200" },
    step: { type: "string", default: "5" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(
    "deno run -P=bench --unstable-worker-options bench/recorder_bench.ts [--ticks N] [--symbols N]",
  );
  Deno.exit(0);
}
const N = Number(values.ticks);
const SYMBOLS = Number(values.symbols);
const STEP_S = Number(values.step);
const ROOT = new URL("../", import.meta.url).pathname;
await setupLogging("error");

function makeTicks(mode: Mode, count: number): Tick[] {
  const universe = buildUniverse({ now: Date.UTC(2024, 5, 3), extraSymbols: SYMBOLS });
  const market = new PaperMarket({ seed: 1, universe });
  const names = Array.from({ length: SYMBOLS }, (_, i) => `PAPER${String(i + 1).padStart(4, "0")}`);
  const start = Date.UTC(2024, 5, 3, 4, 0, 0);
  return Array.from(
    { length: count },
    (_, i) => market.nextTick("NSE", names[i % SYMBOLS], mode, start + Math.floor(i / 10)),
  );
}

async function dirSize(path: string): Promise<number> {
  let total = 0;
  for await (const e of Deno.readDir(path)) {
    const p = `${path}/${e.name}`;
    if (e.isDirectory) total += await dirSize(p);
    else if (e.isFile) total += (await Deno.stat(p)).size;
  }
  return total;
}

const rows: string[][] = [];
function report(what: string, value: string, note = ""): void {
  rows.push([what, value, note]);
  console.error(`${what}: ${value}${note ? ` (${note})` : ""}`);
}
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

const dir = await Deno.makeTempDir({ prefix: "tickplex-recbench-" });
try {
  for (const [label, mode] of [["Quote", 2], ["Depth", 3]] as const) {
    const ticks = makeTicks(mode, N);
    const topicMode = mode === 2 ? "QUOTE" : "DEPTH";

    // 1. The appender path alone.
    {
      const store = await TickStore.open(`${dir}/store-${label}.duckdb`);
      const pending: PendingTick[] = ticks.map((t, i) => ({
        ingestSeq: i,
        received: t.timestamp,
        topic: `NSE_${t.symbol}_${topicMode}`,
        envelope: buildEnvelope(t, mode, {
          seq: i,
          session: "bench",
          broker: "paper",
          published: t.timestamp,
        }),
      }));
      const t0 = performance.now();
      for (let i = 0; i < pending.length; i += 10_000) {
        store.writeTicks(pending.slice(i, i + 10_000));
      }
      const secs = (performance.now() - t0) / 1000;
      store.close();
      report(
        `${label}: appender only (TickStore.writeTicks, batches of 10k)`,
        `${fmt(N / secs)} ticks/s`,
      );
    }

    // 2. The recorder process, fed over the bus with flow control.
    const db = `${dir}/rec-${label}.duckdb`;
    const bus = await BusPublisher.open({ address: "tcp://127.0.0.1:*", broker: "paper" });
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--config",
        `${ROOT}deno.json`,
        "-P=bench",
        `${ROOT}main.ts`,
        "record",
        "--bus",
        bus.endpoint,
        "--db",
        db,
        "--no-roll",
        "--progress",
        "json",
        "--flush-ms",
        "200",
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "inherit",
      env: { TICKPLEX_LOG_LEVEL: "error" },
    }).spawn();
    let written = 0;
    let started = false;
    let stopped: Record<string, unknown> | null = null;
    const reading = (async () => {
      let carry = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        carry += chunk;
        let nl;
        while ((nl = carry.indexOf("\n")) !== -1) {
          const line = JSON.parse(carry.slice(0, nl));
          carry = carry.slice(nl + 1);
          if (line.event === "started") started = true;
          if (line.event === "flush") written = line.written;
          if (line.event === "stopped") stopped = line;
        }
      }
    })();
    while (!started) await new Promise((r) => setTimeout(r, 20));
    // Warm-up until the recorder's subscription is live.
    let warm = 0;
    while (written === 0) {
      bus.publish({ ...ticks[0], symbol: "WARMUP" }, [mode]);
      warm++;
      await new Promise((r) => setTimeout(r, 20));
    }
    // A rate ladder: each step publishes at a fixed rate for STEP_S seconds, then waits until
    // the recorder has committed everything. A step is sustained when it caught up within 1 s.
    const ladder = mode === 2
      ? [10_000, 20_000, 40_000, 60_000, 80_000]
      : [5_000, 10_000, 20_000, 30_000, 40_000];
    let sent = 0;
    let best = 0;
    let overload = "";
    for (const rate of ladder) {
      const stepStart = sent;
      const t0 = performance.now();
      while (performance.now() - t0 < STEP_S * 1000) {
        const due = stepStart + Math.floor(((performance.now() - t0) * rate) / 1000);
        while (sent < due) bus.publish(ticks[sent++ % N], [mode]);
        await new Promise((r) => setTimeout(r, 1));
      }
      const t1 = performance.now();
      while (written < warm + sent && performance.now() - t1 < 30_000) {
        await new Promise((r) => setTimeout(r, 5));
      }
      const lag = performance.now() - t1;
      const stepTicks = sent - stepStart;
      if (lag <= 1000) best = rate;
      else {
        overload = `at ${fmt(rate)}/s offered it wrote ${
          fmt(stepTicks / (STEP_S + lag / 1000))
        }/s (caught up ${(lag / 1000).toFixed(1)} s late)`;
        break;
      }
    }
    child.kill("SIGTERM");
    await child.status;
    await reading;
    await bus.close();
    const s = stopped as { gaps?: number; written?: number } | null;
    report(
      `${label}: recorder process, bus → DuckDB, sustained (caught up ≤ 1 s after ${STEP_S} s)`,
      `${fmt(best)} ticks/s`,
      `${overload}; ${s?.gaps ?? "?"} gaps, ${
        fmt(s?.written ?? 0)
      } rows; publisher in a second process`,
    );

    // 3. Bytes per tick, on the appender-only file: N distinct ticks (the ladder cycles them).
    const storeDb = `${dir}/store-${label}.duckdb`;
    const dbBytes = (await Deno.stat(storeDb)).size;
    report(`${label}: DuckDB file`, `${(dbBytes / N).toFixed(1)} B/tick`, `${fmt(dbBytes)} B`);
    const store = await TickStore.open(storeDb);
    const t1 = performance.now();
    await rollToParquet(store.background, `${dir}/parquet-${label}`, {
      cutoff: Date.now() + 1,
      maxIngestSeq: store.nextIngestSeq - 1,
    });
    const rollSecs = (performance.now() - t1) / 1000;
    store.close();
    const pqBytes = await dirSize(`${dir}/parquet-${label}/ticks`);
    report(
      `${label}: Parquet (zstd)`,
      `${(pqBytes / N).toFixed(1)} B/tick`,
      `${fmt(pqBytes)} B; rolled at ${fmt(N / rollSecs)} ticks/s`,
    );

    // 4. Replay.
    const t2 = performance.now();
    const prepared = await prepareReplay({
      parquet: `${dir}/parquet-${label}`,
      out: `${dir}/${label}.tpr`,
    });
    const prepSecs = (performance.now() - t2) / 1000;
    report(
      `${label}: replay file (.tpr, gzip NDJSON)`,
      `${(prepared.bytes / N).toFixed(1)} B/tick`,
      `prepared at ${fmt(N / prepSecs)} ticks/s`,
    );
    {
      const t3 = performance.now();
      await using source = await openReplay(prepared.out);
      let n = 0;
      for await (const batch of source.records()) {
        for (const r of batch) {
          recordToTick(r, source.header.instruments[r.i], mode);
          n++;
        }
      }
      const decodeSecs = (performance.now() - t3) / 1000;
      report(`${label}: replay decode (the worker's read loop)`, `${fmt(n / decodeSecs)} ticks/s`);
    }
    for (const maxRate of [20_000, 50_000]) {
      const config = configSchema.parse({
        host: "127.0.0.1",
        port: 0,
        bus: "tcp://127.0.0.1:*",
        apiKeys: ["bench-key-0123456789abcdef"],
        logLevel: "error",
        broker: {
          name: "replay",
          options: { recording: prepared.out, speed: "max", startDelayMs: 500, maxRate },
        },
      });
      const gw = await Gateway.start({
        config,
        adapters: ADAPTERS,
        adapterOptions: adapterOptionsFor,
      });
      const reader = BusReader.connect({ address: gw.bus.endpoint });
      let got = 0;
      let first = 0;
      let last = 0;
      const counting = (async () => {
        for await (const _ of reader.ticks()) {
          if (got++ === 0) first = performance.now();
          last = performance.now();
        }
      })();
      await new Promise((r) => setTimeout(r, 300));
      const consumer = { id: "bench" };
      for (const inst of prepared.header.instruments) {
        await gw.registry.acquire(consumer, inst.exchange, inst.symbol, mode, 5);
      }
      const deadline = Date.now() + 120_000;
      let prev = -1;
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        if (got === prev && got > 0) break;
        prev = got;
      }
      const ticksIn = gw.pool.counters.ticksIn;
      const dropped = gw.bus.dropped;
      reader.close();
      await counting;
      await gw.stop();
      const secs = (last - first) / 1000;
      report(
        `${label}: replay through a gateway to a bus reader (speed max, maxRate ${fmt(maxRate)})`,
        `${fmt(got / secs)} ticks/s`,
        `${fmt(got)} of ${fmt(ticksIn)} ticks in; bus dropped ${
          fmt(dropped)
        }; reader gaps ${reader.gaps}`,
      );
    }
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}

console.log(`\n| measurement (${fmt(N)} ticks, ${SYMBOLS} symbols) | result | notes |`);
console.log("|---|---|---|");
for (const [a, b, c] of rows) console.log(`| ${a} | ${b} | ${c} |`);
Deno.exit(0);
