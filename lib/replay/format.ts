// The prepared replay file (`.tpr`): what the replay adapter's sandboxed worker reads, because
// DuckDB's native addon needs FFI, which adapter workers never get. Layout:
//
//   TICKPLEX-REPLAY 1 <header bytes>\n
//   <header JSON>\n
//   <gzip of NDJSON records, one per tick, in recorded order>
//
// A record is {"p": published ms, "i": instrument index, "m": mode 1-3, "ltp", "ltt", "timestamp",
// the quote fields (null in LTP records), "buy"/"sell" depth levels (null below Depth)}.
// This module has no DuckDB import so the worker can load it.

import { z } from "zod";
import { type DepthLevel, type Mode, QUOTE_FIELDS, type Tick } from "../types.ts";

/** First token of a replay file. */
export const REPLAY_MAGIC = "TICKPLEX-REPLAY";
/** Format version this code writes and reads. */
export const REPLAY_VERSION = 1;
/** File extension of prepared replay files. */
export const REPLAY_EXTENSION = ".tpr";

const instrumentSchema = z.object({
  exchange: z.string().min(1),
  symbol: z.string().min(1),
  /** Richest mode recorded for the instrument. */
  mode: z.union([z.literal(1), z.literal(2), z.literal(3)]),
  /** Most depth levels recorded on one side (0 when never recorded at Depth). */
  depth: z.number().int().min(0),
  rows: z.number().int().min(0),
});

/** The header of a replay file. */
export const replayHeaderSchema = z.object({
  format: z.literal("tickplex-replay"),
  version: z.literal(REPLAY_VERSION),
  created: z.string(),
  /** The recording it was prepared from. */
  source: z.string(),
  rows: z.number().int().min(0),
  /** Publish time of the first and last record, epoch ms. */
  first: z.number().nullable(),
  last: z.number().nullable(),
  /** Instruments in index order (`i` of a record). */
  instruments: z.array(instrumentSchema),
});

/** A parsed replay header. */
export type ReplayHeader = z.infer<typeof replayHeaderSchema>;
/** One instrument of a replay header. */
export type ReplayInstrument = ReplayHeader["instruments"][number];

/** One replay record as stored. */
export interface ReplayRecord {
  p: number;
  i: number;
  m: Mode;
  ltp: number;
  ltt: number | null;
  timestamp: number;
  open?: number | null;
  high?: number | null;
  low?: number | null;
  close?: number | null;
  volume?: number | null;
  last_trade_quantity?: number | null;
  avg_trade_price?: number | null;
  total_buy_quantity?: number | null;
  total_sell_quantity?: number | null;
  oi?: number | null;
  change?: number | null;
  change_percent?: number | null;
  buy?: DepthLevel[] | null;
  sell?: DepthLevel[] | null;
}

/**
 * The prepared replay file of a recording: `<recording>.tpr` (a DuckDB file or a Parquet folder),
 * or the path itself when it already is a `.tpr` file.
 *
 * @example
 * ```ts
 * replayPathFor("recordings/ticks.duckdb"); // "recordings/ticks.duckdb.tpr"
 * replayPathFor("recordings/parquet/"); // "recordings/parquet.tpr"
 * ```
 */
export function replayPathFor(recording: string): string {
  const trimmed = recording.replace(/[/\\]+$/, "");
  return trimmed.endsWith(REPLAY_EXTENSION) ? trimmed : `${trimmed}${REPLAY_EXTENSION}`;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The bytes before the gzip body: the magic line and the header.
 *
 * @example
 * ```ts ignore
 * await file.write(encodePreamble(header));
 * ```
 */
export function encodePreamble(header: ReplayHeader): Uint8Array {
  const json = encoder.encode(JSON.stringify(header) + "\n");
  const magic = encoder.encode(`${REPLAY_MAGIC} ${REPLAY_VERSION} ${json.length}\n`);
  const out = new Uint8Array(magic.length + json.length);
  out.set(magic, 0);
  out.set(json, magic.length);
  return out;
}

/** The longest magic line accepted. */
const MAX_MAGIC = 64;

function parseMagic(bytes: Uint8Array, path: string): { headerLength: number; offset: number } {
  const nl = bytes.indexOf(10);
  const line = decoder.decode(nl === -1 ? bytes : bytes.subarray(0, nl));
  const m = /^TICKPLEX-REPLAY (\d+) (\d+)$/.exec(line);
  if (nl === -1 || m === null) throw new Error(`${path} is not a tickplex replay file`);
  if (Number(m[1]) !== REPLAY_VERSION) {
    throw new Error(`${path}: replay format version ${m[1]} is not supported (expected 1)`);
  }
  return { headerLength: Number(m[2]), offset: nl + 1 };
}

function parseHeader(bytes: Uint8Array, path: string): ReplayHeader {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch (error) {
    throw new Error(`${path}: unreadable replay header: ${(error as Error).message}`);
  }
  const r = replayHeaderSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(`${path}: invalid replay header: ${issue.path.join(".")}: ${issue.message}`);
  }
  return r.data;
}

function readFully(file: Deno.FsFile, buf: Uint8Array): number {
  let read = 0;
  while (read < buf.length) {
    const n = file.readSync(buf.subarray(read));
    if (n === null) break;
    read += n;
  }
  return read;
}

/**
 * Reads a replay file's header synchronously (for adapter capabilities, which are synchronous).
 *
 * @example
 * ```ts ignore
 * const { header } = readReplayHeaderSync("recordings/ticks.duckdb.tpr");
 * ```
 */
export function readReplayHeaderSync(path: string): { header: ReplayHeader; bodyOffset: number } {
  using file = Deno.openSync(path, { read: true });
  const head = new Uint8Array(MAX_MAGIC);
  const n = readFully(file, head);
  const { headerLength, offset } = parseMagic(head.subarray(0, n), path);
  const json = new Uint8Array(headerLength);
  file.seekSync(offset, Deno.SeekMode.Start);
  if (readFully(file, json) !== headerLength) throw new Error(`${path}: truncated replay header`);
  return { header: parseHeader(json, path), bodyOffset: offset + headerLength };
}

async function readFullyAsync(file: Deno.FsFile, buf: Uint8Array): Promise<number> {
  let read = 0;
  while (read < buf.length) {
    const n = await file.read(buf.subarray(read));
    if (n === null) break;
    read += n;
  }
  return read;
}

/** An open replay file: its header and a one-pass stream of its records. */
export interface ReplaySource extends AsyncDisposable {
  header: ReplayHeader;
  /** Records in batches of up to `batch`, in file order. Lines that do not parse are counted. */
  records(batch?: number): AsyncGenerator<ReplayRecord[], void, undefined>;
  /** Lines skipped because they were not valid JSON records. */
  readonly invalid: number;
  close(): Promise<void>;
}

/**
 * Opens a replay file for streaming: the body is decompressed and parsed as it is read, so memory
 * stays flat whatever the file size.
 *
 * @example
 * ```ts ignore
 * await using source = await openReplay("recordings/ticks.duckdb.tpr");
 * for await (const batch of source.records()) for (const r of batch) console.log(r.p, r.ltp);
 * ```
 */
export async function openReplay(path: string): Promise<ReplaySource> {
  const file = await Deno.open(path, { read: true });
  let header: ReplayHeader;
  let bodyOffset: number;
  try {
    const head = new Uint8Array(MAX_MAGIC);
    const n = await readFullyAsync(file, head);
    const { headerLength, offset } = parseMagic(head.subarray(0, n), path);
    const json = new Uint8Array(headerLength);
    await file.seek(offset, Deno.SeekMode.Start);
    if (await readFullyAsync(file, json) !== headerLength) {
      throw new Error(`${path}: truncated replay header`);
    }
    header = parseHeader(json, path);
    bodyOffset = offset + headerLength;
  } catch (error) {
    file.close();
    throw error;
  }
  let invalid = 0;
  let closed = false;
  let reader: ReadableStreamDefaultReader<string> | null = null;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    if (reader !== null) await reader.cancel().catch(() => {});
    else {
      try {
        file.close();
      } catch {
        // already closed by the stream
      }
    }
  };
  return {
    header,
    get invalid() {
      return invalid;
    },
    close,
    [Symbol.asyncDispose]: close,
    async *records(batch = 1000) {
      if (reader !== null) throw new Error("replay: records() can be iterated once");
      await file.seek(bodyOffset, Deno.SeekMode.Start);
      reader = file.readable
        .pipeThrough(new DecompressionStream("gzip"))
        .pipeThrough(new TextDecoderStream())
        .getReader();
      let carry = "";
      let out: ReplayRecord[] = [];
      const take = (line: string): void => {
        if (line === "") return;
        try {
          const r = JSON.parse(line) as ReplayRecord;
          if (typeof r.p !== "number" || typeof r.i !== "number" || typeof r.ltp !== "number") {
            invalid++;
          } else out.push(r);
        } catch {
          invalid++;
        }
      };
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          let start = 0;
          let nl = value.indexOf("\n");
          if (nl !== -1 && carry !== "") {
            take(carry + value.slice(0, nl));
            carry = "";
            start = nl + 1;
            nl = value.indexOf("\n", start);
          }
          while (nl !== -1) {
            take(value.slice(start, nl));
            start = nl + 1;
            nl = value.indexOf("\n", start);
          }
          carry += value.slice(start);
          if (out.length >= batch) {
            yield out;
            out = [];
          }
        }
        take(carry);
        if (out.length > 0) yield out;
      } finally {
        await close();
      }
    },
  };
}

const QUOTE_KEYS = QUOTE_FIELDS;

/**
 * The tick a record replays as for a stream at `mode`: the lower of that and the recorded mode,
 * with the fields of richer modes null. `shift` is added to `timestamp` and `ltt` (rebasing).
 *
 * @example
 * ```ts ignore
 * out.ticks([recordToTick(record, header.instruments[record.i], 2)]);
 * ```
 */
export function recordToTick(
  record: ReplayRecord,
  instrument: { exchange: string; symbol: string },
  mode: Mode,
  shift = 0,
): Tick {
  const m = Math.min(mode, record.m) as Mode;
  const tick = {
    exchange: instrument.exchange,
    symbol: instrument.symbol,
    mode: m,
    ltp: record.ltp,
    ltt: record.ltt === null ? null : record.ltt + shift,
    timestamp: record.timestamp + shift,
    depth: null,
  } as Record<string, unknown>;
  for (const k of QUOTE_KEYS) tick[k] = m >= 2 ? record[k] ?? null : null;
  if (m === 3) tick.depth = { buy: record.buy ?? [], sell: record.sell ?? [] };
  return tick as unknown as Tick;
}
