// Output: one line per row as it finishes and the markdown tables for the README.

import { CORES } from "./proc.ts";
import { type PhaseResult, type Settings } from "./scenarios.ts";

export function log(line: string): void {
  console.log(line);
}

export function fmtK(n: number): string {
  if (!Number.isFinite(n)) return "–";
  if (n >= 10_000) return `${Math.round(n / 1000)}k`;
  if (n >= 999.5) return `${(n / 1000).toFixed(1)}k`;
  return `${Math.round(n)}`;
}

export function fmtMs(n: number): string {
  return Number.isFinite(n) ? String(n) : "–";
}

export function verdict(r: PhaseResult): string {
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

export function summaryLine(r: PhaseResult): string {
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
export const NOISY_OTHER_CPU = 30;

export function table(results: PhaseResult[], s: Settings): string {
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

export function kiteTable(results: PhaseResult[], s: Settings): string {
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

/**
 * Scenario e side by side: per client count, one gateway vs a primary with edge processes on the
 * same port (delivered frames/s, latency percentiles, CPU of all the gateway's processes).
 */
export function edgesTable(results: PhaseResult[]): string {
  const rows = [
    "| clients | asked frames/s | one gateway: frames/s | p50 ms | p99 ms | CPU % | " +
    "primary + edges: frames/s | p50 ms | p99 ms | CPU % |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  const cells = (r: PhaseResult | undefined) =>
    r
      ? `${fmtK(r.framesPerS)} | ${fmtMs(r.p50)} | ${fmtMs(r.p99)} | ${r.gatewayCpu.toFixed(0)}`
      : "– | – | – | –";
  for (const n of [...new Set(results.map((r) => r.spec.clients))]) {
    const one = results.find((r) => r.spec.clients === n && !r.spec.edges);
    const fan = results.find((r) => r.spec.clients === n && (r.spec.edges ?? 0) > 0);
    const any = one ?? fan!;
    const asked = any.spec.rate * any.spec.symbolsPerClient / any.spec.universe * n;
    rows.push(`| ${n} | ${fmtK(asked)} | ${cells(one)} | ${cells(fan)} |`);
  }
  return rows.join("\n");
}
