// CPU and memory of the gateway and of the rest of the machine, sampled from /proc.

export let clkTck = 100;

export async function detectClockTicks(): Promise<void> {
  try {
    const out = await new Deno.Command("getconf", { args: ["CLK_TCK"], stdout: "piped" }).output();
    const n = Number(new TextDecoder().decode(out.stdout).trim());
    if (n > 0) clkTck = n;
  } catch {
    // keep 100, the Linux default
  }
}

/**
 * CPU seconds (utime + stime) of the gateway (with its child processes: the edges of
 * `--fanout-processes`; adapter workers are threads and count already) and of this process, the machine's jiffies, memory. */
export interface ProcSample {
  gateway: number;
  /** Of which kernel time (stime). */
  gatewaySys: number;
  self: number;
  /** CPU seconds of every other process, by pid, with its name. */
  others: Map<number, { name: string; cpu: number }>;
  busy: number;
  total: number;
  rssMb: number;
  hwmMb: number;
}

/**
 * Samples /proc through `grep` (Deno asks for --allow-all to read /proc itself; the bench
 * permission set may run programs): every process's stat, the gateway's status, /proc/stat.
 */
export async function sampleProc(pid: number): Promise<ProcSample> {
  const out = await new Deno.Command("sh", {
    args: ["-c", `exec grep -H "" /proc/[0-9]*/stat /proc/${pid}/status /proc/stat 2>/dev/null`],
    stdout: "piped",
    stderr: "null",
  }).output();
  const sample: ProcSample = {
    gateway: NaN,
    gatewaySys: NaN,
    self: NaN,
    others: new Map(),
    busy: NaN,
    total: NaN,
    rssMb: NaN,
    hwmMb: NaN,
  };
  const gwStatus = `/proc/${pid}/status`;
  const children: { user: number; sys: number }[] = [];
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const path = line.slice(0, colon);
    const text = line.slice(colon + 1);
    if (path === "/proc/stat") {
      if (!text.startsWith("cpu ")) continue;
      const v = text.trim().split(/\s+/).slice(1, 9).map(Number);
      sample.total = v.reduce((a, b) => a + b, 0);
      sample.busy = sample.total - v[3] - v[4];
    } else if (path === gwStatus) {
      const m = /^(VmRSS|VmHWM):\s+(\d+)/.exec(text);
      if (m) sample[m[1] === "VmRSS" ? "rssMb" : "hwmMb"] = Number(m[2]) / 1024;
    } else if (path.endsWith("/stat")) {
      const p = Number(path.slice(6, -5));
      const close = text.lastIndexOf(")");
      const f = text.slice(close + 2).split(" ");
      const user = Number(f[11]) / clkTck;
      const sys = Number(f[12]) / clkTck;
      if (p === pid) {
        sample.gateway = user + sys;
        sample.gatewaySys = sys;
      } else if (Number(f[1]) === pid) children.push({ user, sys });
      else if (p === Deno.pid) sample.self = user + sys;
      else {sample.others.set(p, {
          name: text.slice(text.indexOf("(") + 1, close),
          cpu: user + sys,
        });}
    }
  }
  for (const c of children) {
    sample.gateway += c.user + c.sys;
    sample.gatewaySys += c.sys;
  }
  return sample;
}

/** CPU % of other processes (but `exclude`) between two samples, and the busiest one. */
export function otherProcesses(
  a: ProcSample,
  b: ProcSample,
  seconds: number,
  exclude: number | null,
) {
  let sum = 0;
  let top = { name: "", pct: 0 };
  for (const [pid, x] of b.others) {
    if (pid === exclude) continue;
    // A process started during the window spent all its CPU time in it.
    const pct = (x.cpu - (a.others.get(pid)?.cpu ?? 0)) / seconds * 100;
    sum += pct;
    if (pct > top.pct) top = { name: x.name, pct };
  }
  return { pct: sum, top };
}

export const CORES = navigator.hardwareConcurrency;
