// Groww live-data codec: NATS subjects ↔ instruments, protobuf payloads (groww.proto, decoded by
// protobufjs) → normalised ticks with Groww's "only changed fields" merged per subject, and the
// encoders the simulator uses. No I/O here.

import protobuf from "protobufjs";
import schema from "./groww.proto" with { type: "text" };
import { baseTick, type DepthLevel, type Mode, type Tick } from "../../lib/types.ts";
import { DEPTH_LEVELS } from "./options.ts";

// ---- subjects -----------------------------------------------------------------------------------

/** The subject family: cash equities, F&O, indices. */
export type SubjectGroup = "eq" | "fo" | "indices";
/** The exchange as subjects spell it. */
export type SubjectExchange = "nse" | "bse";
/** What a subject carries: last price (and day fields), the detailed price, or the book. */
export type SubjectKind = "price" | "price_detailed" | "book";

/** One parsed `/ld/<group>/<exchange>/<kind>.<token>` subject. */
export interface Subject {
  group: SubjectGroup;
  exchange: SubjectExchange;
  kind: SubjectKind;
  /** Groww's `exchange_token` (numeric for instruments and BSE indices, a name for NSE indices). */
  token: string;
}

const SUBJECT = /^\/ld\/(eq|fo|indices)\/(nse|bse)\/(price|price_detailed|book)\.([^.\s*>]+)$/;

/**
 * The NATS subject of a stream.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(
 *   subjectOf({ group: "eq", exchange: "nse", kind: "price", token: "2885" }),
 *   "/ld/eq/nse/price.2885",
 * );
 * ```
 */
export function subjectOf(s: Subject): string {
  return `/ld/${s.group}/${s.exchange}/${s.kind}.${s.token}`;
}

/**
 * Parses a market-data subject; null for anything else (order updates, wildcards, garbage).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseSubject("/ld/indices/nse/price.NIFTY"), {
 *   group: "indices", exchange: "nse", kind: "price", token: "NIFTY",
 * });
 * assert.equal(parseSubject("stocks/order/updates.apex.1"), null);
 * ```
 */
export function parseSubject(text: string): Subject | null {
  const m = SUBJECT.exec(text);
  if (m === null) return null;
  return {
    group: m[1] as SubjectGroup,
    exchange: m[2] as SubjectExchange,
    kind: m[3] as SubjectKind,
    token: m[4],
  };
}

/**
 * The key of one instrument's streams, unique across groups and exchanges (NSE and BSE tokens
 * overlap): the instrument master's token and the decoder's lookup key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(streamKey("eq", "bse", "500325"), "eq/bse/500325");
 * ```
 */
export function streamKey(group: SubjectGroup, exchange: SubjectExchange, token: string): string {
  return `${group}/${exchange}/${token}`;
}

// ---- payloads -----------------------------------------------------------------------------------

const root = protobuf.parse(schema, { keepCase: true }).root;
const ResponseType = root.lookupType("groww.StocksSocketResponseProtoDto");

/** Fields of `StocksLivePriceProto`, by name (groww.proto). */
export const PRICE_FIELDS = [
  "tsInMillis",
  "open",
  "high",
  "low",
  "close",
  "volume",
  "value",
  "bidQty",
  "offerQty",
  "avgPrice",
  "highPriceRange",
  "lowPriceRange",
  "ltp",
  "openInterest",
  "lowTradeRange",
  "highTradeRange",
] as const;

/** A `StocksLivePriceProto` field name. */
export type PriceField = typeof PRICE_FIELDS[number];

/** The price fields a message carried (absent = unchanged since the last message). */
export type PriceFields = Partial<Record<PriceField, number>>;

/** One book level as sent: the map key is the level, not an order count. */
export interface BookEntry {
  level: number;
  price: number;
  qty: number;
}

/** A decoded payload, holding only the fields present on the wire. */
export type Payload =
  | { kind: "price"; fields: PriceFields }
  | { kind: "index"; tsInMillis?: number; value?: number }
  | { kind: "book"; tsInMillis?: number; buy?: BookEntry[]; sell?: BookEntry[] }
  /** No live point at all (nothing to do). */
  | { kind: "empty" };

/** Why a payload was rejected. */
export type Malformed = "undecodable" | "bad_value";

// protobufjs decodes proto3 fields present on the wire as own properties; defaults live on the
// prototype. `Object.hasOwn` is therefore presence, which the merge depends on.
interface WireBook {
  price?: number;
  qty?: number;
}
interface WireResponse {
  stockLivePrice?: Record<string, number>;
  stocksMarketDepth?: {
    tsInMillis?: number;
    buyBook?: Record<string, WireBook>;
    sellBook?: Record<string, WireBook>;
  };
  stocksLiveIndices?: { tsInMillis?: number; value?: number };
}

function isGood(n: unknown): n is number {
  return typeof n === "number" && Number.isFinite(n) && n >= 0;
}

/** A present, finite, non-negative field; `undefined` when absent; NaN marks a bad value. */
function field(o: object, name: string): number | undefined {
  if (!Object.hasOwn(o, name)) return undefined;
  const v = (o as Record<string, unknown>)[name];
  return isGood(v) ? v : NaN;
}

function bookSide(m: Record<string, WireBook> | undefined): BookEntry[] | null | undefined {
  if (m === undefined || Object.keys(m).length === 0) return undefined;
  const out: BookEntry[] = [];
  for (const key of Object.keys(m)) {
    const e = m[key];
    const price = field(e, "price") ?? 0;
    const qty = field(e, "qty") ?? 0;
    const level = Number(key);
    if (Number.isNaN(price) || Number.isNaN(qty) || !Number.isInteger(level)) return null;
    out.push({ level, price, qty });
  }
  return out;
}

/**
 * Decodes one payload. Never throws: bytes protobufjs cannot read are `undecodable`, numbers
 * that are not finite and non-negative are `bad_value`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const bytes = encodeIndex({ tsInMillis: 1760000000000, value: 25000.5 });
 * assert.deepEqual(decodePayload(bytes), {
 *   kind: "index", tsInMillis: 1760000000000, value: 25000.5,
 * });
 * assert.deepEqual(decodePayload(new Uint8Array([0x22, 0x05, 0x09])), { malformed: "undecodable" });
 * ```
 */
export function decodePayload(bytes: Uint8Array): Payload | { malformed: Malformed } {
  let m: WireResponse;
  try {
    m = ResponseType.decode(bytes) as unknown as WireResponse;
  } catch {
    return { malformed: "undecodable" };
  }
  if (Object.hasOwn(m, "stockLivePrice") && m.stockLivePrice) {
    const p = m.stockLivePrice;
    const fields: PriceFields = {};
    for (const name of PRICE_FIELDS) {
      const v = field(p, name);
      if (v === undefined) continue;
      if (Number.isNaN(v)) return { malformed: "bad_value" };
      fields[name] = v;
    }
    return { kind: "price", fields };
  }
  if (Object.hasOwn(m, "stocksMarketDepth") && m.stocksMarketDepth) {
    const d = m.stocksMarketDepth;
    const ts = field(d, "tsInMillis");
    const buy = bookSide(d.buyBook);
    const sell = bookSide(d.sellBook);
    if (Number.isNaN(ts) || buy === null || sell === null) return { malformed: "bad_value" };
    const out: Payload = { kind: "book" };
    if (ts !== undefined) out.tsInMillis = ts;
    if (buy !== undefined) out.buy = buy;
    if (sell !== undefined) out.sell = sell;
    return out;
  }
  if (Object.hasOwn(m, "stocksLiveIndices") && m.stocksLiveIndices) {
    const x = m.stocksLiveIndices;
    const ts = field(x, "tsInMillis");
    const value = field(x, "value");
    if (Number.isNaN(ts) || Number.isNaN(value)) return { malformed: "bad_value" };
    const out: Payload = { kind: "index" };
    if (ts !== undefined) out.tsInMillis = ts;
    if (value !== undefined) out.value = value;
    return out;
  }
  return { kind: "empty" };
}

// ---- merge and ticks ----------------------------------------------------------------------------

/** Exchange and OpenAlgo symbol of an instrument. */
export interface InstrumentRef {
  readonly exchange: string;
  readonly symbol: string;
}

/** Counters a decoder updates; one object lives as long as a worker. */
export interface DecodeStats {
  messages: number;
  ticks: number;
  /** Sum of the malformed counters below. */
  errors: number;
  undecodable: number;
  badValue: number;
  /** A message on a subject that is not a market-data subject. */
  badSubject: number;
  /** Messages for instruments nobody wants (in flight after an unsubscribe). */
  unknownInstrument: number;
  /** Messages that made no tick: no last price seen yet, or a book in flight after Depth ended. */
  noTick: number;
  /** Messages with no live point. */
  empty: number;
}

/**
 * A zeroed set of decode counters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(createDecodeStats().errors, 0);
 * ```
 */
export function createDecodeStats(): DecodeStats {
  return {
    messages: 0,
    ticks: 0,
    errors: 0,
    undecodable: 0,
    badValue: 0,
    badSubject: 0,
    unknownInstrument: 0,
    noTick: 0,
    empty: 0,
  };
}

interface Book {
  buy: DepthLevel[];
  sell: DepthLevel[];
  tsInMillis?: number;
}

function levels(entries: readonly BookEntry[], descending: boolean): DepthLevel[] {
  // Sorted by price, not by map key or wire order; empty levels (price 0) dropped.
  const out = entries.filter((e) => e.price > 0)
    .sort((a, b) => descending ? b.price - a.price : a.price - b.price)
    .slice(0, DEPTH_LEVELS);
  return out.map((e) => ({ price: e.price, quantity: Math.round(e.qty), orders: null }));
}

function qty(v: number | undefined): number | null {
  return v === undefined ? null : Math.round(v);
}

/**
 * What a connection has seen per subject, merged: Groww sends a subject's full state first and
 * then only the fields that changed, so a field absent from an update keeps its last value (never
 * null or 0 because absent). Price and book of one instrument meet in one Depth tick.
 *
 * Caches belong to one connection: {@link clear} them when a new one opens.
 */
export class FeedCache {
  readonly #price = new Map<string, PriceFields>();
  readonly #index = new Map<string, { tsInMillis?: number; value?: number }>();
  readonly #book = new Map<string, Book>();
  readonly #depth = new Set<string>();

  /** Marks an instrument (by stream key) as wanted at Depth or not; leaving Depth drops its book. */
  setDepth(key: string, wanted: boolean): void {
    if (wanted) this.#depth.add(key);
    else {
      this.#depth.delete(key);
      this.#book.delete(key);
    }
  }

  /** Forgets an instrument (unsubscribed). */
  forget(key: string): void {
    this.#price.delete(key);
    this.#index.delete(key);
    this.#book.delete(key);
    this.#depth.delete(key);
  }

  /** Drops every merged value (a new connection starts from fresh snapshots); keeps Depth marks. */
  clear(): void {
    this.#price.clear();
    this.#index.clear();
    this.#book.clear();
  }

  /**
   * Merges one payload into the instrument's state and returns the tick it makes, or null when
   * there is nothing to publish yet (no last price seen).
   */
  apply(key: string, ref: InstrumentRef, payload: Payload, now: number): Tick | null {
    switch (payload.kind) {
      case "price": {
        const s = this.#price.get(key);
        if (s === undefined) this.#price.set(key, { ...payload.fields });
        else Object.assign(s, payload.fields);
        return this.#tick(key, ref, payload.fields.tsInMillis, now);
      }
      case "book": {
        let b = this.#book.get(key);
        if (b === undefined) {
          b = { buy: [], sell: [] };
          // A book arriving after the instrument left Depth is dropped with it, not cached.
          if (this.#depth.has(key)) this.#book.set(key, b);
        }
        if (payload.buy !== undefined) b.buy = levels(payload.buy, true);
        if (payload.sell !== undefined) b.sell = levels(payload.sell, false);
        if (payload.tsInMillis !== undefined) b.tsInMillis = payload.tsInMillis;
        if (!this.#depth.has(key)) return null;
        return this.#tick(key, ref, payload.tsInMillis, now);
      }
      case "index": {
        const s = this.#index.get(key) ?? {};
        if (payload.tsInMillis !== undefined) s.tsInMillis = payload.tsInMillis;
        if (payload.value !== undefined) s.value = payload.value;
        this.#index.set(key, s);
        if (s.value === undefined) return null;
        const ts = payload.tsInMillis !== undefined ? Math.round(payload.tsInMillis) : now;
        const ltt = s.tsInMillis !== undefined ? Math.round(s.tsInMillis) : null;
        // Indices have no book: a Depth subscriber gets the value in a Depth tick without levels.
        const mode: Mode = this.#depth.has(key) ? 3 : 2;
        return baseTick(ref.exchange, ref.symbol, mode, s.value, ltt, ts);
      }
      case "empty":
        return null;
    }
  }

  #tick(key: string, ref: InstrumentRef, ts: number | undefined, now: number): Tick | null {
    const p = this.#price.get(key);
    if (p === undefined || p.ltp === undefined) return null;
    const book = this.#depth.has(key) ? this.#book.get(key) : undefined;
    const ltt = p.tsInMillis !== undefined ? Math.round(p.tsInMillis) : null;
    const t = baseTick(
      ref.exchange,
      ref.symbol,
      book !== undefined ? 3 : 2,
      p.ltp,
      ltt,
      ts !== undefined ? Math.round(ts) : now,
    );
    t.open = p.open ?? null;
    t.high = p.high ?? null;
    t.low = p.low ?? null;
    t.close = p.close ?? null;
    t.volume = qty(p.volume);
    t.avg_trade_price = p.avgPrice ?? null;
    t.total_buy_quantity = qty(p.bidQty);
    t.total_sell_quantity = qty(p.offerQty);
    t.oi = qty(p.openInterest);
    if (book !== undefined) t.depth = { buy: book.buy, sell: book.sell };
    return t;
  }
}

/** What one NATS message meant. */
export interface MessageResult {
  tick: Tick | null;
  malformed?: Malformed | "bad_subject";
}

const NO_TICK: MessageResult = Object.freeze({ tick: null });

/**
 * Decodes one NATS message (subject + payload) into at most one tick: parses the subject, looks
 * the instrument up by its stream key, decodes the payload and merges it into `cache`. Counts
 * every outcome in `stats`; never throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const cache = new FeedCache();
 * const stats = createDecodeStats();
 * const ref = { exchange: "NSE", symbol: "RELIANCE" };
 * const r = decodeMessage(
 *   "/ld/eq/nse/price.2885",
 *   encodePrice({ tsInMillis: 1760000000000, ltp: 2940.7 }),
 *   (key) => key === "eq/nse/2885" ? ref : undefined,
 *   cache, 0, stats,
 * );
 * assert.equal(r.tick?.ltp, 2940.7);
 * assert.equal(r.tick?.mode, 2);
 * ```
 */
export function decodeMessage(
  subject: string,
  data: Uint8Array,
  lookup: (key: string) => InstrumentRef | undefined,
  cache: FeedCache,
  now: number,
  stats: DecodeStats,
): MessageResult {
  stats.messages++;
  const s = parseSubject(subject);
  if (s === null) {
    stats.badSubject++;
    stats.errors++;
    return { tick: null, malformed: "bad_subject" };
  }
  const key = streamKey(s.group, s.exchange, s.token);
  const ref = lookup(key);
  if (ref === undefined) {
    stats.unknownInstrument++;
    return NO_TICK;
  }
  const payload = decodePayload(data);
  if ("malformed" in payload) {
    stats.errors++;
    if (payload.malformed === "undecodable") stats.undecodable++;
    else stats.badValue++;
    return { tick: null, malformed: payload.malformed };
  }
  if (payload.kind === "empty") {
    stats.empty++;
    return NO_TICK;
  }
  const tick = cache.apply(key, ref, payload, now);
  if (tick === null) {
    stats.noTick++;
    return NO_TICK;
  }
  stats.ticks++;
  return { tick };
}

// ---- encoders (simulator, tests) ----------------------------------------------------------------

/** Payload envelope fields (all optional; zero values are left out as proto3 does). */
export interface Envelope {
  symbol?: string;
  /** `StockExchangeProto`: BSE 0, NSE 1. */
  exchange?: number;
  /** `StockSegmentProto`: CASH 0, FNO 1. */
  segment?: number;
}

function nonZero<T extends Record<string, number | undefined>>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const k of Object.keys(o) as (keyof T)[]) {
    const v = o[k];
    if (v !== undefined && v !== 0) out[k] = v;
  }
  return out;
}

function envelope(e: Envelope): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (e.symbol) out.symbol = e.symbol;
  if (e.exchange) out.exchange = e.exchange;
  if (e.segment) out.segment = e.segment;
  return out;
}

function encode(obj: Record<string, unknown>): Uint8Array {
  const buf = ResponseType.encode(ResponseType.fromObject(obj)).finish();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Encodes a price payload with the given fields (zeros and undefined left out).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(encodePrice({ ltp: 2940.7 }).length, 11);
 * ```
 */
export function encodePrice(fields: PriceFields, e: Envelope = {}): Uint8Array {
  return encode({ ...envelope(e), stockLivePrice: nonZero(fields) });
}

/**
 * Encodes an index payload.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal((decodePayload(encodeIndex({ value: 25000 })) as { value: number }).value, 25000);
 * ```
 */
export function encodeIndex(
  v: { tsInMillis?: number; value?: number },
  e: Envelope = {},
): Uint8Array {
  return encode({ ...envelope(e), stocksLiveIndices: nonZero(v) });
}

/**
 * Encodes a book payload; each side is a map level (1-based, in the given order) → {price, qty}.
 * An omitted side is left out of the message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const p = decodePayload(encodeBook({ buy: [{ price: 10, qty: 5 }] }));
 * assert.deepEqual(p, { kind: "book", buy: [{ level: 1, price: 10, qty: 5 }] });
 * ```
 */
export function encodeBook(
  b: {
    tsInMillis?: number;
    buy?: readonly { price: number; qty: number }[];
    sell?: readonly { price: number; qty: number }[];
  },
  e: Envelope = {},
): Uint8Array {
  const side = (levels: readonly { price: number; qty: number }[] | undefined) => {
    if (levels === undefined) return undefined;
    const m: Record<number, Record<string, number>> = {};
    levels.forEach((l, i) => m[i + 1] = nonZero({ price: l.price, qty: l.qty }));
    return m;
  };
  const depth: Record<string, unknown> = nonZero({ tsInMillis: b.tsInMillis });
  const buy = side(b.buy);
  const sell = side(b.sell);
  if (buy !== undefined) depth.buyBook = buy;
  if (sell !== undefined) depth.sellBook = sell;
  return encode({ ...envelope(e), stocksMarketDepth: depth });
}
