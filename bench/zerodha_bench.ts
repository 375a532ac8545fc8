// The Kite simulator as a separate process for the load harness's Zerodha scenario
// (`deno task bench --scenario z`). bench/load/zerodha.ts spawns it; run by hand:
//
//   deno run -P=bench bench/zerodha_bench.ts --instruments kite.csv --interval 100
//
// It serves `startZerodhaSimulator` on 127.0.0.1 with the simulator's own timer off and drives the
// market itself: every `--interval` ms it stamps each instrument's total buy quantity with the
// wall-clock time (Date.now() mod 2^32, in ms) and then calls `sim.tick()`, which steps every
// subscribed token and sends it in frames of `--packets-per-frame` packets. The stamp travels in
// the quote (44-byte) and full (184-byte) packets alike and comes out unchanged as
// `data.total_buy_quantity` at the gateway's clients, so the harness measures latency from the
// frame's creation here to its receipt there in both modes (Kite's own quote packet has no
// timestamp, and the full packet's exchange time has one-second resolution). The timer is
// drift-free; a step more than one interval late is skipped (counted), so the rate actually sent
// is what the harness reports as "sent".
//
// Protocol on stdio (one JSON object per line): on start it prints
// `{"type":"ready","url":...,"pid":...,"apiKey":...,"accessToken":...}`; each `stats` line on
// stdin is answered with cumulative counters `{"type":"stats",...}`; stdin closing or
// SIGTERM/SIGINT closes the simulator and exits.

import { parseArgs } from "node:util";
import { startZerodhaSimulator } from "../adapters/zerodha/mod.ts";

/** Cumulative counters reported on each `stats` request. */
export interface KiteSimStats {
  type: "stats";
  /** performance.now() of the report (ms). */
  at: number;
  steps: number;
  skipped: number;
  /** Data packets and frames sent (subscribe snapshots included). */
  packets: number;
  frames: number;
  heartbeats: number;
  handshakes: number;
  /** How late the steps fired: sum and maximum (ms). */
  lateSumMs: number;
  lateMaxMs: number;
}

/** The tokens in the first column of a Kite instruments CSV (header skipped). */
export function tokensOfCsv(csv: string): number[] {
  const out: number[] = [];
  for (const line of csv.split("\n").slice(1)) {
    const t = Number(line.slice(0, line.indexOf(",")));
    if (line.length > 0 && Number.isInteger(t) && t > 0) out.push(t);
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      instruments: { type: "string" },
      interval: { type: "string", default: "100" },
      "packets-per-frame": { type: "string", default: "200" },
      port: { type: "string", default: "0" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.instruments === undefined) throw new Error("--instruments <csv> is required");
  const intervalMs = Number(values.interval);
  const perFrame = Number(values["packets-per-frame"]);
  if (!(intervalMs >= 1)) throw new Error(`bad --interval ${values.interval}`);
  if (!(perFrame >= 1)) throw new Error(`bad --packets-per-frame ${values["packets-per-frame"]}`);
  const csv = await Deno.readTextFile(values.instruments);
  const tokens = tokensOfCsv(csv);
  const sim = await startZerodhaSimulator({
    port: Number(values.port),
    tickIntervalMs: 0,
    packetsPerFrame: perFrame,
    instrumentsCsv: csv,
  });

  let steps = 0;
  let skipped = 0;
  let lateSum = 0;
  let lateMax = 0;
  let next = performance.now() + intervalMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const step = () => {
    const now = performance.now();
    const late = now - next;
    lateSum += late;
    if (late > lateMax) lateMax = late;
    const stamp = Date.now() % 4294967296;
    for (const t of tokens) sim.setQuote(t, { buyQuantity: stamp });
    sim.tick();
    steps++;
    next += intervalMs;
    const after = performance.now();
    if (after - next > intervalMs) {
      const behind = Math.floor((after - next) / intervalMs);
      skipped += behind;
      next += behind * intervalMs;
    }
    timer = setTimeout(step, Math.max(0, next - after));
  };
  timer = setTimeout(step, intervalMs);

  const stats = (): KiteSimStats => ({
    type: "stats",
    at: performance.now(),
    steps,
    skipped,
    packets: sim.stats.packets,
    frames: sim.stats.dataFrames,
    heartbeats: sim.stats.heartbeats,
    handshakes: sim.stats.handshakes,
    lateSumMs: lateSum,
    lateMaxMs: lateMax,
  });

  const encoder = new TextEncoder();
  const print = (o: unknown) => Deno.stdout.writeSync(encoder.encode(JSON.stringify(o) + "\n"));
  print({
    type: "ready",
    url: sim.url,
    pid: Deno.pid,
    tokens: tokens.length,
    apiKey: sim.apiKey,
    accessToken: sim.accessToken,
  });

  const done = Promise.withResolvers<void>();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const onSignal = () => done.resolve();
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  void (async () => {
    let rest = "";
    try {
      for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
        const lines = (rest + chunk).split("\n");
        rest = lines.pop() ?? "";
        for (const l of lines) if (l.trim() === "stats") print(stats());
      }
    } catch {
      // stdin went away
    }
    done.resolve();
  })();
  await done.promise;
  clearTimeout(timer);
  for (const s of signals) Deno.removeSignalListener(s, onSignal);
  await sim.close();
  Deno.exit(0);
}

if (import.meta.main) {
  try {
    await main();
  } catch (err) {
    console.error(`bench/zerodha_bench.ts: ${err instanceof Error ? err.message : err}`);
    Deno.exit(2);
  }
}
