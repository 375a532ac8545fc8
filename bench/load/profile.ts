// Summarises the gateway's --cpu-prof output into its top functions.

export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }[];
  samples: number[];
  timeDeltas: number[];
}

export async function summariseProfiles(dir: string): Promise<string> {
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
