// The scenarios: settings, what each row runs, and what it measured.

import { type ModeName, type Transport } from "./protocol.ts";

export interface Settings {
  duration: number;
  warmup: number;
  intervalMs: number;
  workers: number | null;
  transport: Transport;
  mode: ModeName;
  highWaterBytes: number | null;
  rate: number | null;
  profileDir: string | null;
  denoFlags: string[];
  /** Scenario z: load clients, Kite simulator step intervals, instruments, packets per frame. */
  zClients: number;
  zIntervals: number[];
  zInstruments: number;
  zPacketsPerFrame: number;
  zBatch: boolean;
}

export interface PhaseSpec {
  /** Row id, selectable with --scenario (as are its group and tags). */
  key: string;
  group: "a" | "b" | "c" | "d" | "e" | "z";
  tags?: string[];
  label: string;
  /** Paper feed: total ticks/s over `universe` synthetic symbols (z: the nominal Kite rate). */
  rate: number;
  /** Zerodha against the Kite simulator process instead of the paper market. */
  kite?: { intervalMs: number; packetsPerFrame: number };
  /** Subscription mode of this row (default: --mode). */
  mode?: ModeName;
  universe: number;
  clients: number;
  symbolsPerClient: number;
  batch: boolean;
  /** Edge processes beside the primary (`--fanout-processes`, NATS bus); 0 or absent: one gateway. */
  edges?: number;
  target: "frames100k" | "batch500k" | "p99_5ms" | "rss200" | "keepup" | null;
}

/** Scenario z: what the Kite simulator process did during the window. */
export interface KiteResult {
  /** Packets (ticks) per second it sent, and the nominal rate (instruments × 1000 / interval). */
  sentPerS: number;
  nominal: number;
  /** Its steps that fired late: mean and max (ms); steps skipped for lateness. */
  lateMeanMs: number;
  lateMaxMs: number;
  skipped: number;
  cpu: number;
  /** Takes in and delivers everything, loses nothing (see {@link kiteTable}'s note). */
  keepsUp: boolean;
  /** Why not, when it does not. */
  why: string[];
  /** p99 latency within one step interval: each burst is delivered before the next one. */
  drained: boolean;
}

export interface PhaseResult {
  spec: PhaseSpec;
  inRate: number;
  demand: number;
  ticksPerS: number;
  framesPerS: number;
  mbPerS: number;
  clientMin: number;
  clientMedian: number;
  p50: number;
  p99: number;
  max: number;
  gatewayCpu: number;
  gatewaySysCpu: number;
  loadCpu: number;
  /**
   * The rest of the machine's CPU (noise): other processes (the busiest named) and whatever was
   * charged to no live process (processes that ended, kernel work).
   */
  otherCpu: number;
  otherTop: { name: string; pct: number };
  otherProcCpu: number;
  rss: number;
  hwm: number;
  connected: number;
  workers: number;
  notes: string[];
  kite: KiteResult | null;
}

/** Every row; each runs on a fresh gateway (and, for z, a fresh simulator). */
export function phases(rate: number | null, s: Settings): PhaseSpec[] {
  // 1200 ticks/s: 120k frames/s to 100 clients, a margin over the 100k target.
  const a = rate ?? 1200;
  const fast = rate ?? 10_000;
  return [
    ...([10, 100, 1000] as const).map((n): PhaseSpec => ({
      key: `a${n}`,
      group: "a",
      label: `a: ${n} clients, one-tick frames`,
      rate: a,
      universe: 1000,
      clients: n,
      // Each symbol has min(n, 100) subscribers: 10 and 100 clients take all 1000 symbols,
      // 1000 clients 100 each (overlapping windows).
      symbolsPerClient: n <= 100 ? 1000 : 100,
      batch: false,
      target: n === 100 ? "frames100k" : null,
    })),
    {
      key: "b",
      group: "b",
      label: "b: 100 clients, batched frames",
      rate: fast,
      universe: 1000,
      clients: 100,
      symbolsPerClient: 1000,
      batch: true,
      target: "batch500k",
    },
    {
      key: "b1",
      group: "b",
      label: "b: 100 clients, one-tick frames",
      rate: fast,
      universe: 1000,
      clients: 100,
      symbolsPerClient: 1000,
      batch: false,
      target: null,
    },
    {
      key: "c",
      group: "c",
      label: "c: 10 clients, one-tick frames",
      rate: fast,
      universe: 1000,
      clients: 10,
      symbolsPerClient: 1000,
      batch: false,
      target: "p99_5ms",
    },
    {
      // 1 tick/s per symbol, 10 subscribers per symbol: 100 ticks/s per client.
      key: "d",
      group: "d",
      label: "d: 1000 clients × 100 symbols",
      rate: fast,
      universe: 10_000,
      clients: 1000,
      symbolsPerClient: 100,
      batch: false,
      target: "rss200",
    },
    // e: one gateway vs one primary + 2 edge processes on the same port, same load, side by side.
    ...([100, 1000] as const).flatMap((n) =>
      [0, 2].map((edges): PhaseSpec => ({
        key: edges === 0 ? `e${n}` : `e${n}x${edges}`,
        group: "e",
        tags: [`e${n}`],
        label: `e: ${n} clients, ${edges === 0 ? "one gateway" : `primary + ${edges} edges`}`,
        rate: rate ?? 250,
        universe: 100,
        clients: n,
        // 100 clients take all 100 symbols, 1000 clients 10 each: 25k frames/s asked either way.
        symbolsPerClient: n === 100 ? 100 : 10,
        batch: false,
        edges,
        target: null,
      }))
    ),
    // z: Zerodha end to end, Kite simulator process → gateway → clients; each mode, each rate.
    ...(["quote", "depth"] as const).flatMap((mode) =>
      s.zIntervals.map((intervalMs): PhaseSpec => {
        const m = mode === "quote" ? "q" : "d";
        return {
          key: `z${m}${intervalMs}`,
          group: "z",
          tags: [`z${m}`],
          label: mode === "quote"
            ? `z: Quote clients, Kite quote packets every ${intervalMs} ms`
            : `z: Depth clients, Kite full packets every ${intervalMs} ms`,
          rate: s.zInstruments * 1000 / intervalMs,
          kite: { intervalMs, packetsPerFrame: s.zPacketsPerFrame },
          mode,
          universe: s.zInstruments,
          clients: s.zClients,
          symbolsPerClient: s.zInstruments,
          batch: s.zBatch,
          target: "keepup",
        };
      })
    ),
  ];
}
