// The replay adapter's Web Worker: streams a prepared `.tpr` recording and emits the ticks of
// subscribed instruments at the recorded pace (scaled by `speed`), like a broker connection would.
// `stall`/`resume` faults pause and continue playback.

import { setImmediate } from "node:timers";
import type { FaultKind, ItemResult, StreamItem } from "../../lib/adapter/messages.ts";
import { type AdapterHandlers, type AdapterOutput, runAdapter } from "../../lib/adapter/mod.ts";
import { instrumentKey, type Mode, MODE_LABEL, type Tick } from "../../lib/types.ts";
import {
  openReplay,
  recordToTick,
  type ReplayHeader,
  replayPathFor,
  type ReplaySource,
} from "../../lib/replay/mod.ts";
import { parseReplayOptions, type ReplayOptions } from "./mod.ts";
import { RateCap, ReplayClock } from "./clock.ts";

/** Ticks per worker→main message; bigger batches cost less per tick (architecture.md). */
const MAX_BATCH = 500;

interface Instrument {
  exchange: string;
  symbol: string;
}

function failure(
  item: Instrument,
  code: "SYMBOL_NOT_FOUND" | "NOT_SUBSCRIBED" | "INVALID_MODE",
  message: string,
): ItemResult {
  return { exchange: item.exchange, symbol: item.symbol, ok: false, code, message };
}

/** A recording played as a broker connection. */
class ReplayConnection implements AdapterHandlers {
  #out: AdapterOutput | null = null;
  #options: ReplayOptions | null = null;
  #path = "";
  #header: ReplayHeader | null = null;
  #index = new Map<string, number>();
  /** Instrument index → streamed mode. */
  #streams = new Map<number, Mode>();
  #clock: ReplayClock | null = null;
  #cap: RateCap | null = null;
  #startTimer: ReturnType<typeof setTimeout> | undefined;
  #playing: Promise<void> | null = null;
  #source: ReplaySource | null = null;
  #batch: Tick[] = [];
  #wake: (() => void) | null = null;
  #sleepTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #emitted = 0;

  async init(connection: number, options: unknown, out: AdapterOutput): Promise<void> {
    const opts = parseReplayOptions(options);
    this.#out = out;
    this.#options = opts;
    out.status("connecting");
    this.#path = replayPathFor(opts.recording);
    // Reading the header proves the file is readable before the pool sends subscriptions.
    const source = await openReplay(this.#path);
    const header = source.header;
    await source.close();
    this.#header = header;
    header.instruments.forEach((inst, i) =>
      this.#index.set(instrumentKey(inst.exchange, inst.symbol), i)
    );
    this.#clock = new ReplayClock(opts.speed, opts.maxGapMs);
    this.#cap = new RateCap(opts.maxRate);
    out.log(
      "info",
      `replay connection ${connection}: ${header.rows} ticks of ${header.instruments.length} ` +
        `instruments from ${this.#path}, speed ${opts.speed}`,
    );
    out.status("connected");
  }

  #check(item: StreamItem): { index: number } | ItemResult {
    const index = this.#index.get(instrumentKey(item.exchange, item.symbol));
    if (index === undefined) {
      return failure(
        item,
        "SYMBOL_NOT_FOUND",
        `Symbol not found in the recording: ${item.symbol} on ${item.exchange}`,
      );
    }
    const recorded = this.#header!.instruments[index].mode;
    if (item.mode > recorded) {
      return failure(
        item,
        "INVALID_MODE",
        `${item.symbol} on ${item.exchange} was recorded up to ${MODE_LABEL[recorded]}; ` +
          `${MODE_LABEL[item.mode]} is not in the recording`,
      );
    }
    return { index };
  }

  #accepted(item: StreamItem, index: number): ItemResult {
    const inst = this.#header!.instruments[index];
    const depth = item.mode === 3 && inst.depth > 0 ? Math.min(item.depth, inst.depth) : item.depth;
    return { exchange: item.exchange, symbol: item.symbol, ok: true, depth };
  }

  subscribe(items: StreamItem[]): Promise<ItemResult[]> {
    const results = items.map((item): ItemResult => {
      const r = this.#check(item);
      if ("ok" in r) return r;
      this.#streams.set(r.index, item.mode);
      return this.#accepted(item, r.index);
    });
    if (this.#streams.size > 0) this.#scheduleStart();
    return Promise.resolve(results);
  }

  unsubscribe(items: Instrument[]): Promise<ItemResult[]> {
    return Promise.resolve(items.map((item): ItemResult => {
      const index = this.#index.get(instrumentKey(item.exchange, item.symbol));
      if (index === undefined || !this.#streams.delete(index)) {
        return failure(
          item,
          "NOT_SUBSCRIBED",
          `Not subscribed: ${item.symbol} on ${item.exchange}`,
        );
      }
      return { exchange: item.exchange, symbol: item.symbol, ok: true };
    }));
  }

  setMode(items: StreamItem[]): Promise<ItemResult[]> {
    return Promise.resolve(items.map((item): ItemResult => {
      const r = this.#check(item);
      if ("ok" in r) return r;
      if (!this.#streams.has(r.index)) {
        return failure(
          item,
          "NOT_SUBSCRIBED",
          `Not subscribed: ${item.symbol} on ${item.exchange}`,
        );
      }
      this.#streams.set(r.index, item.mode);
      return this.#accepted(item, r.index);
    }));
  }

  token(_accessToken: string): void {
    // A recording needs no credentials.
  }

  fault(kind: FaultKind): void {
    const clock = this.#clock;
    if (clock === null) return;
    if (kind === "stall") {
      clock.pause(performance.now());
      this.#out?.status("stalled", "replay paused");
    } else if (kind === "resume") {
      clock.resume(performance.now());
      this.#cap?.start(performance.now());
      this.#out?.status("connected");
      this.#wakeUp();
    } else if (kind === "crash") {
      setTimeout(() => {
        throw new Error("replay: simulated crash");
      }, 0);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#startTimer);
    this.#wakeUp();
    await this.#source?.close();
    await this.#playing?.catch(() => {});
  }

  #scheduleStart(): void {
    if (this.#playing !== null || this.#startTimer !== undefined || this.#closed) return;
    this.#startTimer = setTimeout(() => {
      this.#playing = this.#play().catch((error) => {
        this.#out?.log("error", `replay stopped: ${(error as Error).message}`);
        this.#out?.status("disconnected", `replay failed: ${(error as Error).message}`);
      });
    }, this.#options!.startDelayMs);
  }

  #wakeUp(): void {
    clearTimeout(this.#sleepTimer);
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** Sleeps until woken (close, resume) or `ms` passed. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#sleepTimer = ms === Infinity ? undefined : setTimeout(() => this.#wakeUp(), ms);
    });
  }

  #flush(): void {
    if (this.#batch.length === 0) return;
    this.#out!.ticks(this.#batch);
    this.#batch = [];
  }

  async #play(): Promise<void> {
    const opts = this.#options!;
    const clock = this.#clock!;
    const cap = this.#cap!;
    const header = this.#header!;
    let round = 0;
    do {
      const source = await openReplay(this.#path);
      this.#source = source;
      clock.start(performance.now());
      cap.start(performance.now());
      round++;
      for await (const records of source.records()) {
        for (const record of records) {
          clock.advance(record.p);
          for (;;) {
            if (this.#closed) return;
            if (clock.paused) {
              this.#flush();
              await this.#sleep(Infinity);
              continue;
            }
            const now = performance.now();
            const at = Math.max(clock.due(), cap.nextAt());
            if (at <= now + 0.5) break;
            this.#flush();
            await this.#sleep(at - now);
          }
          const mode = this.#streams.get(record.i);
          if (mode === undefined) continue;
          const shift = opts.rebaseTime ? Date.now() - record.p : 0;
          this.#batch.push(recordToTick(record, header.instruments[record.i], mode, shift));
          cap.count(1, performance.now());
          this.#emitted++;
          if (this.#batch.length >= MAX_BATCH) {
            this.#flush();
            // Let subscribe/unsubscribe requests in between batches.
            await new Promise<void>((resolve) => setImmediate(resolve));
          }
        }
        this.#flush();
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      this.#flush();
      if (this.#closed) return;
      if (source.invalid > 0) {
        this.#out!.log("warning", `replay: skipped ${source.invalid} unreadable records`);
      }
      this.#out!.log(
        "info",
        `replay finished${opts.loop ? ` (round ${round})` : ""}: ${this.#emitted} ticks emitted`,
      );
    } while (opts.loop && !this.#closed);
  }
}

runAdapter(new ReplayConnection());
