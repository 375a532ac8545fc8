// Runs one scenario row: a fresh gateway (and simulator), the load workers, warm-up, the
// measured window, then shutdown.

import { API_KEY, type GroupSpec, HIST_BUCKETS, MODE_NUMBER } from "./protocol.ts";
import { GatewayProcess, sleep } from "./gateway_process.ts";
import { KiteSimProcess } from "./zerodha.ts";
import { CORES, otherProcesses, sampleProc } from "./proc.ts";
import { WorkerHandle } from "./workers.ts";
import { type KiteResult, type PhaseResult, type PhaseSpec, type Settings } from "./scenarios.ts";
import { fmtK, log } from "./report.ts";

export function percentile(hist: Uint32Array, total: number, p: number): number {
  if (total === 0) return NaN;
  const want = Math.ceil(total * p);
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i];
    if (seen >= want) return i;
  }
  return hist.length - 1;
}

export async function runPhase(
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
