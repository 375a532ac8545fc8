// The tick recorder: reads the bus through the public BusReader (so it runs as its own process),
// batches messages and commits them to DuckDB every `batchSize` ticks or `flushMs`, records bus
// sessions, gaps and drops as events, and rolls finished UTC days to Parquet.
//
// Loss bound: a batch is durable once its flush returns, so a crash (SIGKILL) loses at most the
// ticks received since the last flush — under `flushMs` of data and fewer than `batchSize` ticks —
// plus what zeromq had queued but not yet handed over. Every tick the reader delivered is either
// written or counted in `dropped` with a reason.

import { BusReader } from "../bus/mod.ts";
import { getLogger } from "../log.ts";
import type { Clock } from "../types.ts";
import type { DropReason, EventRow } from "./schema.ts";
import { type PendingEvent, type PendingTick, type PreviousRun, TickStore } from "./store.ts";
import {
  parquetLayout,
  recoverRolls,
  type RollResult,
  rollToParquet,
  utcDayStart,
} from "./roll.ts";
import type { SymbolSet } from "./symbols.ts";
import { type ProgressFn, silentProgress } from "./progress.ts";

const log = getLogger(["tickplex", "recorder"]);

/** Options of {@link Recorder.open}. */
export interface RecorderOptions {
  /** Bus endpoint, e.g. `tcp://127.0.0.1:5555`. */
  bus: string;
  /** DuckDB file to write. */
  db: string;
  /** Root of the Parquet datasets; default `parquet` beside the DuckDB file. */
  parquet?: string;
  /** Which messages to record; default everything on the bus. */
  symbols?: SymbolSet;
  /** Flush when this many ticks are waiting; default 10000. */
  batchSize?: number;
  /** Flush at least this often (ms) while ticks are waiting; default 1000. */
  flushMs?: number;
  /** Bound on ticks held in memory while the database refuses writes; default 500000. */
  maxPending?: number;
  /** Roll finished UTC days to Parquet at start and at each day change; default true. */
  roll?: boolean;
  /** zeromq receive high-water mark of the bus reader. */
  rcvHwm?: number;
  /**
   * Replace the bus reader after this long without a frame (default 2000 ms). Works around a
   * zeromq-in-Deno hang: a receive pending while the gateway restarts never completes. Messages
   * lost across the reconnect are recorded as gaps.
   */
  readerIdleMs?: number;
  /** Called after every successful flush. */
  onFlush?: (report: FlushReport) => void;
  /** Progress of long operations (rolls). */
  progress?: ProgressFn;
  clock?: Clock;
}

/** Sent to `onFlush` after each commit. */
export interface FlushReport {
  /** Ticks committed by this flush. */
  rows: number;
  /** Events committed by this flush. */
  events: number;
  /** Ticks committed since the recorder started. */
  written: number;
  /** Ticks still waiting (received during the flush). */
  pending: number;
  dropped: Record<DropReason, number>;
  /** Commit time, epoch ms. */
  at: number;
  durationMs: number;
}

/** Counters of a recorder run. */
export interface RecorderSummary {
  /** Ticks the bus reader delivered. */
  received: number;
  /** Ticks committed to the database. */
  written: number;
  /** Ticks (and invalid frames) not stored, by reason. */
  dropped: Record<DropReason, number>;
  /** Sequence gaps the reader reported, and the messages they cover. */
  gaps: number;
  missed: number;
  /** Publisher sessions seen. */
  sessions: number;
  /** Rolls to Parquet done during the run. */
  rolls: RollResult[];
}

const NO_DROPS = (): Record<DropReason, number> => ({
  invalid_frame: 0,
  not_selected: 0,
  backlog_full: 0,
  write_failed: 0,
});

/**
 * Records the bus into a DuckDB file.
 *
 * @example
 * ```ts ignore
 * const recorder = await Recorder.open({ bus: "tcp://127.0.0.1:5555", db: "recordings/ticks.duckdb" });
 * Deno.addSignalListener("SIGINT", () => recorder.stop("SIGINT"));
 * const summary = await recorder.run();
 * console.log(summary.written, "ticks recorded");
 * ```
 */
export class Recorder {
  readonly options: Readonly<RecorderOptions>;
  readonly store: TickStore;
  readonly parquetRoot: string;
  /** How the previous run on this file ended. */
  readonly previous: PreviousRun;
  #clock: Clock;
  #batchSize: number;
  #flushMs: number;
  #maxPending: number;
  #pending: PendingTick[] = [];
  #events: PendingEvent[] = [];
  #nextSeq: number;
  #lastFlush: number;
  #received = 0;
  #written = 0;
  #dropped = NO_DROPS();
  #droppedRecorded = NO_DROPS();
  #invalidSeen = 0;
  #gaps = 0;
  #missed = 0;
  #sessions = 0;
  #rolls: RollResult[] = [];
  #rolling: Promise<void> | null = null;
  #rolledUpTo: number;
  #failures = 0;
  #abort = new AbortController();
  #stopReason = "abort";
  #reader: BusReader | null = null;
  #running = false;
  #started = false;
  /** Readers opened so far; a zeromq receive pending across a publisher restart never wakes up
   * in Deno, so a reader silent for `readerIdleMs` is replaced. */
  #generation = 0;
  #readerIdleMs: number;
  #lastFrames = -1;
  #lastFrameAt = 0;
  #lastSession: string | null = null;
  /** True when the current session followed another one (a gateway restart). */
  #restarted = false;
  /** Last seq seen per topic in the current session. */
  #lastSeq = new Map<string, number>();

  private constructor(options: RecorderOptions, store: TickStore, previous: PreviousRun) {
    this.options = options;
    this.store = store;
    this.previous = previous;
    this.#clock = options.clock ?? Date.now;
    this.#batchSize = options.batchSize ?? 10_000;
    this.#flushMs = options.flushMs ?? 1000;
    this.#maxPending = Math.max(this.#batchSize, options.maxPending ?? 500_000);
    this.parquetRoot = options.parquet ?? defaultParquetRoot(options.db);
    this.#nextSeq = store.nextIngestSeq;
    this.#lastFlush = this.#clock();
    this.#rolledUpTo = utcDayStart(this.#clock());
    this.#readerIdleMs = options.readerIdleMs ?? 2000;
  }

  /**
   * Opens (or creates) the recording, finishes any roll a crash interrupted, rolls finished days
   * (unless `roll: false`) and records a `start` event. Rejects with a RecordingBusyError when
   * another process holds the file.
   */
  static async open(options: RecorderOptions): Promise<Recorder> {
    for (const [name, value] of [["batchSize", options.batchSize], ["flushMs", options.flushMs]]) {
      if (value !== undefined && (!Number.isInteger(value) || (value as number) < 1)) {
        throw new RangeError(`${name} must be a positive integer, got ${value}`);
      }
    }
    const store = await TickStore.open(options.db);
    try {
      const previous = await store.previousRun();
      const root = options.parquet ?? defaultParquetRoot(options.db);
      const recovered = await recoverRolls(store.background, root);
      if (recovered.length > 0) log.info("finished interrupted rolls {ids}", { ids: recovered });
      const recorder = new Recorder(options, store, previous);
      if (previous.ended === "after_crash") {
        log.warn(
          "the previous run on {db} ended without a stop marker (crash or kill): ticks received " +
            "after its last flush (at most one batch interval) are missing",
          { db: options.db },
        );
      }
      recorder.#event({
        kind: "start",
        reason: previous.ended,
        detail: JSON.stringify({
          bus: options.bus,
          symbols: options.symbols?.prefixes ?? [],
          batchSize: recorder.#batchSize,
          flushMs: recorder.#flushMs,
          lastReceivedBefore: previous.lastReceived,
        }),
      });
      // Commit the start marker now: a run killed before its first batch is still seen as one.
      recorder.flush();
      if (options.roll ?? true) await recorder.#roll(utcDayStart(recorder.#clock()));
      return recorder;
    } catch (error) {
      store.close();
      throw error;
    }
  }

  /** Ticks delivered by the bus reader so far. */
  get received(): number {
    return this.#received;
  }
  /** Ticks committed so far. */
  get written(): number {
    return this.#written;
  }
  /** Ticks waiting for the next flush. */
  get pending(): number {
    return this.#pending.length;
  }
  /** Drops so far, by reason. */
  get dropped(): Readonly<Record<DropReason, number>> {
    return this.#dropped;
  }
  /** True once the bus reader is connected and iterating. */
  get running(): boolean {
    return this.#running;
  }

  /** Stops the run: the reader closes, the last batch is flushed, a `stop` event is written. */
  stop(reason = "abort"): void {
    this.#stopReason = reason;
    this.#abort.abort();
  }

  /**
   * Records until {@link stop} (or `signal`), then flushes, writes the `stop` event and closes the
   * database. Resolves with the run's counters; rejects only when the final flush failed (the
   * lost ticks are counted as `write_failed` in the error's message).
   */
  async run(signal?: AbortSignal): Promise<RecorderSummary> {
    if (this.#started) throw new Error("recorder: run() can be called once");
    this.#started = true;
    signal?.addEventListener("abort", () => this.stop("abort"), { once: true });
    this.#running = true;
    // Checked five times per interval, so a flush is at most a fifth of an interval late.
    const timer = setInterval(
      () => this.#onTimer(),
      Math.max(10, Math.min(250, this.#flushMs / 5)),
    );
    let failure: unknown = null;
    try {
      while (!this.#abort.signal.aborted) {
        const reader = BusReader.connect({
          address: this.options.bus,
          topics: this.options.symbols?.prefixes,
          signal: this.#abort.signal,
          rcvHwm: this.options.rcvHwm,
        });
        this.#reader = reader;
        this.#invalidSeen = 0;
        this.#lastFrames = -1;
        try {
          await this.#consume(reader);
        } finally {
          reader.close();
          this.#noteInvalid();
          this.#generation++;
        }
      }
    } catch (error) {
      failure = error;
      this.#stopReason = "error";
      log.error("bus reader failed: {error}", { error });
    } finally {
      clearInterval(timer);
      this.#running = false;
    }
    await this.#rolling;
    this.#event({
      kind: "stop",
      reason: this.#stopReason,
      detail: failure === null ? null : String((failure as Error)?.message ?? failure),
    });
    const ok = this.flush();
    if (!ok) {
      const lost = this.#pending.length;
      this.#dropped.write_failed += lost;
      this.#pending = [];
      this.store.close();
      throw new Error(
        `recorder: the final flush failed; ${lost} ticks could not be written (write_failed)`,
      );
    }
    this.store.close();
    if (failure !== null) throw failure;
    return this.summary();
  }

  /**
   * Reads one BusReader until it closes. A reader after the first starts blind: its first
   * session looks new and its topics start counting at their first message, so the recorder
   * checks continuity against what earlier readers saw (restart marker, gaps across the
   * reconnect) for each topic's first message in that reader's first session.
   */
  async #consume(reader: BusReader): Promise<void> {
    const symbols = this.options.symbols;
    const continued = this.#generation > 0;
    let firstSession: string | null = null;
    const checked = new Set<string>();
    for await (const event of reader) {
      switch (event.kind) {
        case "tick": {
          this.#received++;
          const { topic, envelope } = event;
          if (symbols !== undefined && !symbols.matches(topic, envelope)) {
            this.#dropped.not_selected++;
            continue;
          }
          if (continued && envelope.session === firstSession && !checked.has(topic)) {
            checked.add(topic);
            const last = this.#lastSeq.get(topic);
            const from = last !== undefined ? last + 1 : this.#restarted ? 0 : envelope.seq;
            if (envelope.seq > from) this.#gap(envelope.session, topic, from, envelope.seq - 1);
          }
          this.#lastSeq.set(topic, envelope.seq);
          this.#pending.push({
            ingestSeq: this.#nextSeq++,
            received: this.#clock(),
            topic,
            envelope,
          });
          if (this.#pending.length >= this.#batchSize) this.flush();
          break;
        }
        case "gap":
          this.#gap(event.session, event.topic, event.from, event.to);
          break;
        case "session": {
          firstSession ??= event.session;
          const previous = event.previous ?? this.#lastSession;
          if (event.session === this.#lastSession) break; // same publisher, reader reconnected
          // Sequence numbers of earlier sessions say nothing about this one.
          this.#restarted = previous !== null;
          this.#lastSeq.clear();
          this.#lastSession = event.session;
          this.#sessions++;
          this.#event({
            kind: "session",
            session: event.session,
            broker: event.broker,
            previousSession: previous,
          });
          break;
        }
      }
    }
  }

  #gap(session: string, topic: string, from: number, to: number): void {
    this.#gaps++;
    this.#missed += to - from + 1;
    this.#event({
      kind: "gap",
      session,
      topic,
      seqFrom: from,
      seqTo: to,
      count: to - from + 1,
    });
  }

  /** The run's counters so far. */
  summary(): RecorderSummary {
    return {
      received: this.#received,
      written: this.#written,
      dropped: { ...this.#dropped },
      gaps: this.#gaps,
      missed: this.#missed,
      sessions: this.#sessions,
      rolls: [...this.#rolls],
    };
  }

  /**
   * Commits what is waiting (ticks, events, new drop counts). Synchronous. Returns false when the
   * database refused the batch; the ticks stay queued for the next attempt (bounded by
   * `maxPending`, beyond which the oldest are dropped as `backlog_full`).
   */
  flush(): boolean {
    this.#noteInvalid();
    for (const reason of Object.keys(this.#dropped) as DropReason[]) {
      const delta = this.#dropped[reason] - this.#droppedRecorded[reason];
      if (delta > 0 && reason !== "write_failed") {
        this.#event({
          kind: "drop",
          reason,
          count: delta,
          detail: reason === "invalid_frame" ? this.#reader?.lastInvalid ?? null : null,
        });
        this.#droppedRecorded[reason] = this.#dropped[reason];
      }
    }
    const ticks = this.#pending;
    const events = this.#events;
    if (ticks.length === 0 && events.length === 0) {
      this.#lastFlush = this.#clock();
      return true;
    }
    const started = performance.now();
    try {
      this.store.writeTicks(ticks);
      this.#pending = [];
      this.#written += ticks.length;
      this.store.writeEvents(events);
      this.#events = [];
    } catch (error) {
      this.#failures++;
      if (this.#failures === 1 || this.#failures % 100 === 0) {
        log.error("writing {n} ticks to {db} failed ({count} failures so far): {error}", {
          n: this.#pending.length,
          db: this.options.db,
          count: this.#failures,
          error,
        });
      }
      this.#trimBacklog();
      return false;
    }
    this.#failures = 0;
    const at = this.#clock();
    this.#lastFlush = at;
    try {
      this.options.onFlush?.({
        rows: ticks.length,
        events: events.length,
        written: this.#written,
        pending: this.#pending.length,
        dropped: { ...this.#dropped },
        at,
        durationMs: performance.now() - started,
      });
    } catch (error) {
      log.warn("onFlush callback failed: {error}", { error });
    }
    return true;
  }

  #trimBacklog(): void {
    const excess = this.#pending.length - this.#maxPending;
    if (excess <= 0) return;
    this.#pending.splice(0, excess);
    this.#dropped.backlog_full += excess;
  }

  #noteInvalid(): void {
    const invalid = this.#reader?.invalid ?? 0;
    if (invalid > this.#invalidSeen) {
      this.#dropped.invalid_frame += invalid - this.#invalidSeen;
      this.#invalidSeen = invalid;
    }
  }

  #event(row: Omit<EventRow, "received">): void {
    this.#events.push({ received: this.#clock(), ...row, ingestSeq: this.#nextSeq });
  }

  #onTimer(): void {
    const now = this.#clock();
    const reader = this.#reader;
    if (reader !== null && this.#running) {
      if (reader.received !== this.#lastFrames) {
        this.#lastFrames = reader.received;
        this.#lastFrameAt = now;
      } else if (now - this.#lastFrameAt >= this.#readerIdleMs && !reader.closed) {
        log.debug("bus silent for {ms} ms; reconnecting the reader", {
          ms: now - this.#lastFrameAt,
        });
        this.#lastFrameAt = now;
        reader.close();
      }
    }
    if (now - this.#lastFlush >= this.#flushMs) this.flush();
    const today = utcDayStart(now);
    if ((this.options.roll ?? true) && today > this.#rolledUpTo && this.#rolling === null) {
      // Commit yesterday's last ticks first, so the roll sees them.
      this.flush();
      this.#rolling = this.#roll(today).finally(() => this.#rolling = null);
    }
  }

  async #roll(cutoff: number): Promise<void> {
    try {
      const result = await rollToParquet(this.store.background, this.parquetRoot, {
        cutoff,
        maxIngestSeq: this.store.nextIngestSeq - 1,
        progress: this.options.progress ?? silentProgress,
      });
      this.#rolledUpTo = cutoff;
      if (result !== null) {
        this.#rolls.push(result);
        log.info("rolled {ticks} ticks and {events} events to {dir} ({files} files)", {
          ticks: result.tickRows,
          events: result.eventRows,
          dir: parquetLayout(this.parquetRoot).ticks,
          files: result.files,
        });
      }
    } catch (error) {
      // The rows stay in the database; the next day change (or restart) tries again.
      this.#rolledUpTo = cutoff;
      log.error("rolling to Parquet failed: {error}", { error });
    }
  }
}

/** The default Parquet root for a DuckDB file: `parquet` in the same folder. */
export function defaultParquetRoot(db: string): string {
  const slash = Math.max(db.lastIndexOf("/"), db.lastIndexOf("\\"));
  return slash === -1 ? "parquet" : `${db.slice(0, slash)}/parquet`;
}
