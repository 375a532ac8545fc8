// What the orchestrator and the load workers exchange: group specs, commands, counters.

/** Latency histogram: 1 ms buckets; the last bucket collects everything slower. */
export const HIST_BUCKETS = 60_001;
export const API_KEY = "bench-key-0123456789abcdef";
export const MODE_NUMBER = { ltp: 1, quote: 2, depth: 3 } as const;
export type ModeName = keyof typeof MODE_NUMBER;
export type Transport = "raw" | "ws";
/**
 * Where a tick's latency is read from: `timestamp` = receipt minus `data.timestamp` (epoch ms);
 * `stamp` = receipt minus `data.total_buy_quantity`, which the Kite simulator process
 * (bench/zerodha_bench.ts) sets to Date.now() mod 2^32 when it builds the frame.
 */
export type LatencySource = "timestamp" | "stamp";

/** One group of load clients, run by one worker. */
export interface GroupSpec {
  port: number;
  apiKey: string;
  batch: boolean;
  mode: number;
  transport: Transport;
  /** Symbol names: paper PAPER0001..PAPER<universe>; kite SYM0..SYM<universe - 1> (NSE). */
  symbols: "paper" | "kite";
  latency: LatencySource;
  universe: number;
  symbolsPerClient: number;
  /** Global index of each client of this group (its symbol window starts at `first`). */
  clients: { index: number; first: number }[];
}

export type ToWorker =
  | { type: "connect"; spec: GroupSpec }
  | { type: "subscribe" }
  | { type: "reset" }
  | { type: "collect" }
  | { type: "close" };

export interface GroupStats {
  elapsedMs: number;
  ticks: number;
  timed: number;
  frames: number;
  bytes: number;
  perClient: number[];
  hist: Uint32Array;
  maxLatency: number;
  negative: number;
  errors: number;
  errorSamples: string[];
  closes: Record<string, number>;
}

export type FromWorker =
  | { type: "connected"; ok: number; failed: number; firstError: string | null }
  | { type: "subscribed"; ok: number; failed: number; firstError: string | null }
  | { type: "reset" }
  | { type: "stats"; stats: GroupStats }
  | { type: "closed" };
