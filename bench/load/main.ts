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
import { slowReaderBench } from "../slow_reader.ts";
import { MODE_NUMBER, type ModeName } from "./protocol.ts";
import { GatewayProcess } from "./gateway_process.ts";
import { KiteSimProcess, writeKiteInstruments } from "./zerodha.ts";
import { CORES, detectClockTicks, sampleProc } from "./proc.ts";
import { type PhaseResult, phases, type Settings } from "./scenarios.ts";
import { runPhase } from "./harness.ts";
import { edgesTable, fmtK, kiteTable, log, summaryLine, table } from "./report.ts";
import { type NatsServer, startNatsServer } from "../../tests/helpers/nats_server.ts";
import { summariseProfiles } from "./profile.ts";

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
  e100, e1000       one gateway vs one primary + 2 edge processes on the same port (NATS bus,
                    a nats-server started here), Quote, one-tick frames, 250 ticks/s over 100
                    symbols; 100 clients × 100 symbols, 1000 clients × 10; printed side by side.
                    Rows e<n> (one gateway) and e<n>x2 (primary + 2 edges); 'e' selects all four
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
  -s, --scenario <list>   comma-separated scenarios (default a,b,c,d,e)
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
      scenario: { type: "string", short: "s", default: "a,b,c,d,e" },
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

  // One nats-server for every row with edges (the primary publishes on it, the edges read it).
  const nats: NatsServer | null = selected.some((ph) => (ph.edges ?? 0) > 0)
    ? await startNatsServer()
    : null;
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
    void nats?.stop().finally(() => Deno.exit(130));
    if (nats === null) Deno.exit(130);
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
        fanout: ph.edges ? { natsUrl: nats!.url, edges: ph.edges } : null,
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
  await nats?.stop();

  const paper = results.filter((r) => !r.kite);
  const edgeRows = results.filter((r) => r.spec.group === "e");
  if (edgeRows.length > 0) {
    log("\n## One gateway vs primary + edges on one host (NATS bus)\n");
    log(edgesTable(edgeRows));
  }
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

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (err) {
    console.error(`bench/load: ${err instanceof Error ? err.message : err}`);
    Deno.exit(2);
  }
}
