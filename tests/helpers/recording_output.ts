// Test helper: an AdapterOutput that records what a broker adapter emits (every tick checked with
// the worker protocol's parseTick, as the pool checks it), and a bounded wait.

import type { AdapterOutput } from "../../lib/adapter/mod.ts";
import { parseTick } from "../../lib/adapter/mod.ts";
import type { FeedState, Tick } from "../../lib/types.ts";

/** Records ticks, statuses and logs; `invalid` lists ticks the pool would have rejected. */
export class RecordingOutput implements AdapterOutput {
  readonly received: Tick[] = [];
  readonly statuses: { state: FeedState; detail?: string }[] = [];
  readonly logs: { level: string; message: string }[] = [];
  readonly invalid: string[] = [];

  ticks(ticks: Tick[]): void {
    for (const t of ticks) {
      // Ticks cross to the main isolate by structured clone; check what would arrive.
      const p = parseTick(structuredClone(t));
      if (typeof p === "string") this.invalid.push(`${t.symbol}: ${p}`);
      this.received.push(t);
    }
  }

  status(state: FeedState, detail?: string): void {
    this.statuses.push({ state, detail });
  }

  log(level: "debug" | "info" | "warning" | "error", message: string): void {
    this.logs.push({ level, message });
  }

  /** The last state reported. */
  get state(): FeedState | undefined {
    return this.statuses.at(-1)?.state;
  }

  /** Ticks of one symbol, oldest first. */
  of(symbol: string): Tick[] {
    return this.received.filter((t) => t.symbol === symbol);
  }
}

/** Polls `cond` every 10 ms until it holds or `ms` pass. */
export async function until(cond: () => boolean, label: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
