// The recording's DuckDB file: opens it (with a clear error when another process holds it), creates
// the tables, and writes tick batches and bus events through the appender API, one data chunk of
// up to 2048 rows at a time, committed by a flush.

import {
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBDataChunk,
  DuckDBInstance,
  DuckDBTimestampValue,
  type DuckDBType,
  type DuckDBValue,
  type DuckDBVector,
  listValue,
  structValue,
} from "@duckdb/node-api";
import type { BusEnvelope } from "../bus/mod.ts";
import type { DepthLevel } from "../types.ts";
import {
  type EventRow,
  EVENTS_TABLE,
  QUOTE_FIELDS,
  recordingDdl,
  SEGMENTS_TABLE,
  TICK_COLUMNS,
  TICKS_TABLE,
} from "./schema.ts";

/** A bus message waiting to be written. */
export interface PendingTick {
  ingestSeq: number;
  /** When the recorder received it, epoch ms. */
  received: number;
  topic: string;
  envelope: BusEnvelope;
}

/** A bus event waiting to be written, placed before the tick with `ingestSeq`. */
export interface PendingEvent extends EventRow {
  ingestSeq: number;
}

/** What the previous recorder run left behind, from the event table. */
export interface PreviousRun {
  /** `first` when nothing was ever recorded here. */
  ended: "first" | "after_stop" | "after_crash";
  /** Receive time of the newest tick still in the file (rolled ticks excluded), epoch ms. */
  lastReceived: number | null;
}

/** The file is locked by another process (DuckDB allows one writer per file). */
export class RecordingBusyError extends Error {
  override name = "RecordingBusyError";
}

/** DuckDB's vector size: a data chunk holds at most this many rows. */
const CHUNK_ROWS = 2048;

const QUOTE_COLUMN_START = TICK_COLUMNS.findIndex((c) => c.name === QUOTE_FIELDS[0]);

/** Epoch ms (possibly fractional) → DuckDB TIMESTAMP (µs). */
export function timestampValue(ms: number): DuckDBTimestampValue {
  return new DuckDBTimestampValue(BigInt(Math.round(ms * 1000)));
}

function depthValue(levels: readonly DepthLevel[]): DuckDBValue {
  return listValue(
    levels.map((l) => structValue({ price: l.price, quantity: l.quantity, orders: l.orders })),
  );
}

/**
 * Opens a DuckDB database file; a lock held by another process becomes a
 * {@link RecordingBusyError} that says so.
 *
 * @example
 * ```ts ignore
 * const db = await openDatabase("recordings/ticks.duckdb", { readOnly: true });
 * ```
 */
export async function openDatabase(
  path: string,
  options: { readOnly?: boolean } = {},
): Promise<DuckDBInstance> {
  try {
    return await DuckDBInstance.create(
      path,
      options.readOnly ? { access_mode: "READ_ONLY" } : {},
    );
  } catch (error) {
    const message = (error as Error).message;
    if (/lock/i.test(message)) {
      throw new RecordingBusyError(
        `${path} is in use by another process (a running recorder?); DuckDB allows one writer ` +
          `per file. Stop it, or read the rolled Parquet files instead. (${message})`,
        { cause: error },
      );
    }
    throw new Error(`cannot open ${path}: ${message}`, { cause: error });
  }
}

/**
 * The writable recording: tick and event appenders on one connection, and a second connection
 * for background work (rolling to Parquet) so a long COPY never blocks the appenders.
 *
 * @example
 * ```ts ignore
 * const store = await TickStore.open("recordings/ticks.duckdb");
 * store.writeTicks(ticks); // committed when this returns
 * store.close();
 * ```
 */
export class TickStore {
  readonly path: string;
  readonly instance: DuckDBInstance;
  /** Connection of the appenders. */
  readonly connection: DuckDBConnection;
  /** Connection for background statements (rolls); never used by the appenders. */
  readonly background: DuckDBConnection;
  #ticks: DuckDBAppender;
  #events: DuckDBAppender;
  #types: DuckDBType[];
  #nextIngestSeq: number;
  #closed = false;

  private constructor(
    path: string,
    parts: {
      instance: DuckDBInstance;
      connection: DuckDBConnection;
      background: DuckDBConnection;
      ticks: DuckDBAppender;
      events: DuckDBAppender;
      nextIngestSeq: number;
    },
  ) {
    this.path = path;
    this.instance = parts.instance;
    this.connection = parts.connection;
    this.background = parts.background;
    this.#ticks = parts.ticks;
    this.#events = parts.events;
    this.#nextIngestSeq = parts.nextIngestSeq;
    this.#types = Array.from(
      { length: this.#ticks.columnCount },
      (_, i) => this.#ticks.columnType(i),
    );
  }

  /** Opens (creating when needed) the recording file and its tables. */
  static async open(path: string): Promise<TickStore> {
    const dir = path.replace(/[/\\][^/\\]*$/, "");
    if (dir !== path && dir !== "") await Deno.mkdir(dir, { recursive: true });
    const instance = await openDatabase(path);
    try {
      const connection = await instance.connect();
      for (const sql of recordingDdl()) await connection.run(sql);
      const background = await instance.connect();
      const reader = await connection.runAndReadAll(
        `SELECT greatest(
           (SELECT max(ingest_seq) FROM ${TICKS_TABLE}),
           (SELECT max(ingest_seq) FROM ${EVENTS_TABLE}),
           (SELECT max(max_ingest_seq) FROM ${SEGMENTS_TABLE})
         ) AS last`,
      );
      const last = reader.getRows()[0][0];
      const nextIngestSeq = last === null ? 0 : Number(last) + 1;
      const ticks = await connection.createAppender(TICKS_TABLE);
      const events = await connection.createAppender(EVENTS_TABLE);
      return new TickStore(path, {
        instance,
        connection,
        background,
        ticks,
        events,
        nextIngestSeq,
      });
    } catch (error) {
      instance.closeSync();
      throw error;
    }
  }

  /** The `ingest_seq` the next row should get (one past the largest ever written here). */
  get nextIngestSeq(): number {
    return this.#nextIngestSeq;
  }

  /** How the previous run ended, from the newest start/stop events. */
  async previousRun(): Promise<PreviousRun> {
    const reader = await this.connection.runAndReadAll(
      `SELECT kind FROM ${EVENTS_TABLE} WHERE kind IN ('start', 'stop')
       ORDER BY ingest_seq DESC, received DESC LIMIT 1`,
    );
    const rows = reader.getRows();
    const last = await this.connection.runAndReadAll(
      `SELECT epoch_us(max(received)) FROM ${TICKS_TABLE}`,
    );
    const us = last.getRows()[0][0];
    const lastReceived = us === null ? null : Number(us) / 1000;
    if (rows.length === 0) return { ended: "first", lastReceived };
    return { ended: rows[0][0] === "stop" ? "after_stop" : "after_crash", lastReceived };
  }

  /**
   * Appends ticks and commits them (one appender flush, all or nothing). Synchronous: when it
   * returns the rows are in the database's WAL and survive a crash of this process. Throws when
   * DuckDB refuses the batch; nothing of a failed call is committed.
   */
  writeTicks(ticks: readonly PendingTick[]): void {
    if (this.#closed) throw new Error("recording is closed");
    if (ticks.length === 0) return;
    try {
      for (let start = 0; start < ticks.length; start += CHUNK_ROWS) {
        const end = Math.min(ticks.length, start + CHUNK_ROWS);
        this.#ticks.appendDataChunk(this.#chunk(ticks, start, end));
      }
      this.#ticks.flushSync();
    } catch (error) {
      // Rows appended but not flushed would ride along with the next flush: drop them so a retry
      // does not write them twice.
      this.#ticks.clear();
      throw error;
    }
    this.#advance(ticks[ticks.length - 1].ingestSeq);
  }

  /** Appends bus events and commits them; same guarantees as {@link writeTicks}. */
  writeEvents(events: readonly PendingEvent[]): void {
    if (this.#closed) throw new Error("recording is closed");
    if (events.length === 0) return;
    try {
      for (const e of events) this.#appendEvent(e);
      this.#events.flushSync();
    } catch (error) {
      this.#events.clear();
      throw error;
    }
    for (const e of events) this.#advance(e.ingestSeq);
  }

  #advance(ingestSeq: number): void {
    if (ingestSeq >= this.#nextIngestSeq) this.#nextIngestSeq = ingestSeq + 1;
  }

  #chunk(ticks: readonly PendingTick[], start: number, end: number): DuckDBDataChunk {
    const n = end - start;
    const chunk = DuckDBDataChunk.create(this.#types, n);
    const vectors: DuckDBVector[] = this.#types.map((_, i) => chunk.getColumnVector(i));
    const [
      ingestSeq,
      received,
      session,
      seq,
      topic,
      broker,
      exchange,
      symbol,
      mode,
      published,
      ltp,
      ltt,
      timestamp,
    ] = vectors;
    const buy = vectors[vectors.length - 2];
    const sell = vectors[vectors.length - 1];
    for (let row = 0; row < n; row++) {
      const t = ticks[start + row];
      const e = t.envelope;
      const d = e.data;
      ingestSeq.setItem(row, BigInt(t.ingestSeq));
      received.setItem(row, timestampValue(t.received));
      session.setItem(row, e.session);
      seq.setItem(row, BigInt(e.seq));
      topic.setItem(row, t.topic);
      broker.setItem(row, e.broker);
      exchange.setItem(row, e.exchange);
      symbol.setItem(row, e.symbol);
      mode.setItem(row, e.mode);
      published.setItem(row, timestampValue(e.published));
      ltp.setItem(row, d.ltp);
      ltt.setItem(row, d.ltt === null ? null : timestampValue(d.ltt));
      timestamp.setItem(row, timestampValue(d.timestamp));
      if (e.mode === "LTP") {
        for (let f = 0; f < QUOTE_FIELDS.length; f++) {
          vectors[QUOTE_COLUMN_START + f].setItem(row, null);
        }
      } else {
        const q = e.data as Record<string, unknown>;
        for (let f = 0; f < QUOTE_FIELDS.length; f++) {
          vectors[QUOTE_COLUMN_START + f].setItem(row, q[QUOTE_FIELDS[f]] as number | null);
        }
      }
      if (e.mode === "DEPTH") {
        buy.setItem(row, depthValue(e.data.depth.buy));
        sell.setItem(row, depthValue(e.data.depth.sell));
      } else {
        buy.setItem(row, null);
        sell.setItem(row, null);
      }
    }
    for (const v of vectors) v.flush();
    return chunk;
  }

  #appendEvent(e: PendingEvent): void {
    const a = this.#events;
    a.appendBigInt(BigInt(e.ingestSeq));
    a.appendTimestamp(timestampValue(e.received));
    a.appendVarchar(e.kind);
    for (const v of [e.session, e.previousSession, e.broker, e.topic]) {
      if (v === undefined || v === null) a.appendNull();
      else a.appendVarchar(v);
    }
    for (const v of [e.seqFrom, e.seqTo, e.count]) {
      if (v === undefined || v === null) a.appendNull();
      else a.appendBigInt(BigInt(v));
    }
    for (const v of [e.reason, e.detail]) {
      if (v === undefined || v === null) a.appendNull();
      else a.appendVarchar(v);
    }
    a.endRow();
  }

  /** Closes the appenders (flushing nothing new) and the database. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#ticks.closeSync();
      this.#events.closeSync();
    } finally {
      this.background.closeSync();
      this.connection.closeSync();
      this.instance.closeSync();
    }
  }
}
