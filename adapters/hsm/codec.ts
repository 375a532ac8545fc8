// The HSM binary codec shared by Fyers (brokers.md §4) and Kotak Neo (§10): field-framed
// requests, replies, data frames of snapshot/update/lite items, and the per-topic state that
// merges sparse updates into snapshots. Per-broker item layouts are configuration (HsmConfig).

/** −2147483648 (0x80000000): "no value" in snapshots, "unchanged" in updates. */
export const SENTINEL = -2147483648;

/** Request and reply type numbers (identical in both brokers' libraries). */
export const REQ = {
  CONNECT: 1,
  THROTTLE: 2,
  ACK: 3,
  SUBSCRIBE: 4,
  UNSUBSCRIBE: 5,
  DATA: 6,
  PAUSE: 7,
  RESUME: 8,
  SNAPSHOT: 9,
  PING: 11,
  MODE: 12,
} as const;

/** Item kinds inside a data frame. */
export const ITEM = { SNAPSHOT: 83, UPDATE: 85, LITE: 76 } as const;

/** Channel data modes of the Fyers lite/full request (type 12). */
export const CHANNEL_MODE = { LITE: 76, FULL: 70 } as const;

/** Topic kinds: scrip feed, index feed, depth. */
export type TopicKind = "sf" | "if" | "dp";

/** Field names per wire position, one list per topic kind (the libraries' short names). */
export interface HsmLayout {
  sf: readonly string[];
  if: readonly string[];
  dp: readonly string[];
}

/** How one broker frames its data items (brokers.md §10.7). */
export interface HsmConfig {
  /** Broker name, for messages. */
  readonly name: string;
  /** Bytes of the topic id in items: Fyers 2, Kotak 4. */
  readonly topicIdBytes: 2 | 4;
  /** Kotak puts a u16 item length before the kind byte; Fyers does not. */
  readonly itemLength: boolean;
  /**
   * Snapshot trailer: Fyers `fixed` (2 skipped bytes, u16 multiplier, u8 precision, 3 × (u8 len +
   * string)); Kotak `tagged` (u8 n, n × (u8 id, u8 len, string); multiplier/precision are fields).
   */
  readonly trailer: "fixed" | "tagged";
  /** Default field order per topic kind. */
  readonly layout: HsmLayout;
  /** Values a lite (76) item carries per topic kind (Fyers' `hfid`; 0 = no lite items). */
  readonly liteCount: Readonly<Record<TopicKind, number>>;
}

function seq(prefix: string, n: number, first = ""): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(i === 0 && first !== "" ? first : `${prefix}${i}`);
  return out;
}

/** Depth names level 1–5 as the libraries spell them: bp, bp1…bp4 / bno1…bno5. */
function depthNames(): string[] {
  return [
    ...seq("bp", 5, "bp"),
    ...seq("sp", 5, "sp"),
    ...seq("bq", 5, "bq"),
    ...seq("bs", 5, "bs"),
    ...[1, 2, 3, 4, 5].map((i) => `bno${i}`),
    ...[1, 2, 3, 4, 5].map((i) => `sno${i}`),
  ];
}

/** Fyers' field order (Python map.json, brokers.md §4.3); the auth ack may replace it. */
export const FYERS_LAYOUT: HsmLayout = {
  sf: "ltp v ltt fdtm bq bs bp sp ltq tbq tsq ap oi lo h yh yl lcl ucl op c".split(" "),
  if: "iv ic tvalue highPrice lowPrice openingPrice".split(" "),
  dp: depthNames(),
};

/** Kotak's fixed field tables (brokers.md §10.4). */
export const KOTAK_LAYOUT: HsmLayout = {
  sf: "ftm0 dtm1 fdtm ltt v ltp ltq tbq tsq bp sp bq bs ap lo h lcl ucl yh yl op c oi mul prec"
    .split(" "),
  if: "ftm0 dtm1 iv ic tvalue highPrice lowPrice openingPrice mul prec".split(" "),
  dp: ["ftm0", "dtm1", ...depthNames(), "mul", "prec"],
};

/** Fyers HSM framing. */
export const FYERS_HSM: HsmConfig = {
  name: "fyers",
  topicIdBytes: 2,
  itemLength: false,
  trailer: "fixed",
  layout: FYERS_LAYOUT,
  liteCount: { sf: 1, if: 1, dp: 0 },
};

/** Kotak Neo HSM framing. */
export const KOTAK_HSM: HsmConfig = {
  name: "kotak",
  topicIdBytes: 4,
  itemLength: true,
  trailer: "tagged",
  layout: KOTAK_LAYOUT,
  liteCount: { sf: 0, if: 0, dp: 0 },
};

// ---- layouts compiled to slots -----------------------------------------------------------------

/** What a field name means, independent of its position. */
const SLOT_OF_NAME: Readonly<Record<string, string>> = {
  ltp: "ltp",
  iv: "ltp",
  c: "close",
  ic: "close",
  op: "open",
  openingPrice: "open",
  h: "high",
  highPrice: "high",
  lo: "low",
  lowPrice: "low",
  v: "volume",
  ltq: "ltq",
  ap: "avg",
  tbq: "tbq",
  tsq: "tsq",
  oi: "oi",
  ltt: "ltt",
  fdtm: "feedTime",
  tvalue: "feedTime",
  mul: "mul",
  prec: "prec",
};

/** Positions of the fields a tick needs (−1 = the layout has no such field). */
export interface CompiledLayout {
  readonly names: readonly string[];
  readonly ltp: number;
  readonly close: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly volume: number;
  readonly ltq: number;
  readonly avg: number;
  readonly tbq: number;
  readonly tsq: number;
  readonly oi: number;
  readonly ltt: number;
  readonly feedTime: number;
  readonly mul: number;
  readonly prec: number;
  /** Depth positions, level 1 first (−1 where absent). */
  readonly bidPrice: readonly number[];
  readonly askPrice: readonly number[];
  readonly bidQty: readonly number[];
  readonly askQty: readonly number[];
  readonly bidOrders: readonly number[];
  readonly askOrders: readonly number[];
  /** Positions read as prices (signed, scaled); everything else is a count or time (unsigned). */
  readonly isPrice: readonly boolean[];
}

const PRICE_NAMES = new Set([
  ..."ltp iv ic c op openingPrice h highPrice lo lowPrice ap lcl ucl yh yl bp sp".split(" "),
  ...[1, 2, 3, 4].flatMap((i) => [`bp${i}`, `sp${i}`]),
]);

function levelName(prefix: string, level: number, oneBased: boolean): string {
  if (oneBased) return `${prefix}${level + 1}`;
  return level === 0 ? prefix : `${prefix}${level}`;
}

/**
 * Positions of a layout's fields (done once per layout, not per packet).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(compileLayout(KOTAK_LAYOUT.sf).ltp, 5);
 * assert.equal(compileLayout(FYERS_LAYOUT.if).close, 1);
 * ```
 */
export function compileLayout(names: readonly string[]): CompiledLayout {
  const at = (slot: string) => names.findIndex((n) => SLOT_OF_NAME[n] === slot);
  const levels = (prefix: string, oneBased: boolean) =>
    [0, 1, 2, 3, 4].map((l) => names.indexOf(levelName(prefix, l, oneBased)));
  return {
    names,
    ltp: at("ltp"),
    close: at("close"),
    open: at("open"),
    high: at("high"),
    low: at("low"),
    volume: at("volume"),
    ltq: at("ltq"),
    avg: at("avg"),
    tbq: at("tbq"),
    tsq: at("tsq"),
    oi: at("oi"),
    ltt: at("ltt"),
    feedTime: at("feedTime"),
    mul: at("mul"),
    prec: at("prec"),
    bidPrice: levels("bp", false),
    askPrice: levels("sp", false),
    bidQty: levels("bq", false),
    askQty: levels("bs", false),
    bidOrders: levels("bno", true),
    askOrders: levels("sno", true),
    isPrice: names.map((n) => PRICE_NAMES.has(n)),
  };
}

// ---- requests (client → server) --------------------------------------------------------------

/** One request field: `u8 id, u16 len, bytes`. */
export interface HsmField {
  id: number;
  data: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A field-framed request: `u16 len (total − 2), u8 type, u8 fieldCount`, then the fields.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const ack = encodeRequest(REQ.ACK, [{ id: 1, data: new Uint8Array([0, 0, 0, 5]) }]);
 * assert.deepEqual([...ack], [0, 9, 3, 1, 1, 0, 4, 0, 0, 0, 5]);
 * ```
 */
export function encodeRequest(type: number, fields: readonly HsmField[]): Uint8Array {
  let size = 4;
  for (const f of fields) size += 3 + f.data.byteLength;
  if (size - 2 > 0xffff) throw new RangeError("request too long");
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint16(0, size - 2);
  out[2] = type;
  out[3] = fields.length;
  let o = 4;
  for (const f of fields) {
    if (f.data.byteLength > 0xffff) throw new RangeError("field too long");
    out[o] = f.id;
    v.setUint16(o + 1, f.data.byteLength);
    out.set(f.data, o + 3);
    o += 3 + f.data.byteLength;
  }
  return out;
}

function ascii(s: string): Uint8Array {
  return encoder.encode(s);
}

function int32Bytes(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n);
  return b;
}

/**
 * Kotak's connect request: trade token, sid, source (`JS_API`), as `prepareConnectionRequest2`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(encodeKotakConnect("JWT", "SID").byteLength, 25);
 * ```
 */
export function encodeKotakConnect(token: string, sid: string, source = "JS_API"): Uint8Array {
  return encodeRequest(REQ.CONNECT, [
    { id: 1, data: ascii(token) },
    { id: 2, data: ascii(sid) },
    { id: 3, data: ascii(source) },
  ]);
}

/**
 * Fyers' auth request: hsm_key, mode `P`, stream-data-config wanted (1), source.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const req = encodeFyersAuth("key");
 * assert.deepEqual([...req.subarray(0, 4)], [0, req.byteLength - 2, 1, 4]);
 * ```
 */
export function encodeFyersAuth(hsmKey: string, source = "JS_API"): Uint8Array {
  return encodeRequest(REQ.CONNECT, [
    { id: 1, data: ascii(hsmKey) },
    { id: 2, data: ascii("P") },
    { id: 3, data: new Uint8Array([1]) },
    { id: 4, data: ascii(source) },
  ]);
}

/**
 * Subscribe (4) or unsubscribe (5) topics on a channel: f1 = u16 count + (u8 len + topic)*,
 * f2 = channel byte.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const req = encodeTopics(REQ.SUBSCRIBE, ["sf|nse_cm|11536"], 1);
 * assert.equal(req.byteLength, 29);
 * ```
 */
export function encodeTopics(
  type: typeof REQ.SUBSCRIBE | typeof REQ.UNSUBSCRIBE,
  topics: readonly string[],
  channel: number,
): Uint8Array {
  const parts = topics.map(ascii);
  let size = 2;
  for (const p of parts) {
    if (p.byteLength > 255) throw new RangeError(`topic too long: ${p.byteLength} bytes`);
    size += 1 + p.byteLength;
  }
  const list = new Uint8Array(size);
  new DataView(list.buffer).setUint16(0, parts.length);
  let o = 2;
  for (const p of parts) {
    list[o] = p.byteLength;
    list.set(p, o + 1);
    o += 1 + p.byteLength;
  }
  return encodeRequest(type, [{ id: 1, data: list }, { id: 2, data: new Uint8Array([channel]) }]);
}

/**
 * The 8-byte channel bitmask: int32 for channels 33–64, then int32 for 1–32 (bit `1 << ch`).
 * Only 1–31 are unambiguous (the libraries' shifts wrap or overflow past 31), so the high word is 0.
 */
function channelMask(channels: readonly number[]): Uint8Array {
  let low = 0;
  for (const ch of channels) {
    if (!Number.isInteger(ch) || ch < 1 || ch > 31) throw new RangeError(`channel ${ch} not 1–31`);
    low |= 1 << ch;
  }
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setInt32(0, 0);
  v.setInt32(4, low);
  return b;
}

/**
 * Channel pause (7) / resume (8).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(encodeChannels(REQ.RESUME, [11]).byteLength, 15);
 * ```
 */
export function encodeChannels(
  type: typeof REQ.PAUSE | typeof REQ.RESUME,
  channels: readonly number[],
): Uint8Array {
  return encodeRequest(type, [{ id: 1, data: channelMask(channels) }]);
}

/**
 * Fyers' lite/full mode request (12) for channels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const req = encodeChannelMode([11], "full");
 * assert.equal(req[req.byteLength - 1], 70);
 * ```
 */
export function encodeChannelMode(channels: readonly number[], mode: "lite" | "full"): Uint8Array {
  return encodeRequest(REQ.MODE, [
    { id: 1, data: channelMask(channels) },
    { id: 2, data: new Uint8Array([mode === "full" ? CHANNEL_MODE.FULL : CHANNEL_MODE.LITE]) },
  ]);
}

/**
 * Ack (3) of data message `msgNum`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual([...encodeAck(5)], [0, 9, 3, 1, 1, 0, 4, 0, 0, 0, 5]);
 * ```
 */
export function encodeAck(msgNum: number): Uint8Array {
  return encodeRequest(REQ.ACK, [{ id: 1, data: int32Bytes(msgNum | 0) }]);
}

/**
 * Throttling interval (2); Kotak's hslib.js sends value 0 every 30 s as its keep-alive.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual([...encodeThrottle(0)], [0, 9, 2, 1, 1, 0, 4, 0, 0, 0, 0]);
 * ```
 */
export function encodeThrottle(intervalMs: number): Uint8Array {
  return encodeRequest(REQ.THROTTLE, [{ id: 1, data: int32Bytes(intervalMs) }]);
}

/**
 * Fyers' ping: `00 01 0B`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual([...encodeFyersPing()], [0, 1, 11]);
 * ```
 */
export function encodeFyersPing(): Uint8Array {
  return new Uint8Array([0, 1, REQ.PING]);
}

/** A request as the server reads it (simulator side). */
export interface ParsedRequest {
  type: number;
  /** Field data by id (the last one wins when an id repeats). */
  fields: Map<number, Uint8Array>;
}

/**
 * Reads a request by its fields (the length prefix is not trusted: OpenAlgo computes it
 * differently). Returns a string naming the problem when the bytes are not a request.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const r = parseRequest(encodeAck(7));
 * assert.ok(typeof r !== "string" && r.type === REQ.ACK);
 * assert.equal(typeof parseRequest(new Uint8Array([0, 9, 3, 1, 1])), "string");
 * ```
 */
export function parseRequest(bytes: Uint8Array): ParsedRequest | string {
  if (bytes.byteLength < 3) return "request shorter than its header";
  const type = bytes[2];
  const fields = new Map<number, Uint8Array>();
  if (bytes.byteLength === 3) return { type, fields };
  const count = bytes[3];
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = 4;
  for (let i = 0; i < count; i++) {
    if (o + 3 > bytes.byteLength) return `field ${i + 1} header past the end`;
    const id = bytes[o];
    const len = v.getUint16(o + 1);
    if (o + 3 + len > bytes.byteLength) return `field ${i + 1} data past the end`;
    fields.set(id, bytes.subarray(o + 3, o + 3 + len));
    o += 3 + len;
  }
  if (o !== bytes.byteLength) return "bytes after the last field";
  return { type, fields };
}

/**
 * The topics of a subscribe/unsubscribe/snapshot field, or a string naming the problem.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const r = parseRequest(encodeTopics(REQ.SUBSCRIBE, ["sf|nse_cm|1", "if|nse_cm|Nifty 50"], 1));
 * assert.ok(typeof r !== "string");
 * assert.deepEqual(parseTopicList(r.fields.get(1)!), ["sf|nse_cm|1", "if|nse_cm|Nifty 50"]);
 * ```
 */
export function parseTopicList(data: Uint8Array): string[] | string {
  if (data.byteLength < 2) return "topic list shorter than its count";
  const count = (data[0] << 8) | data[1];
  const topics: string[] = [];
  let o = 2;
  for (let i = 0; i < count; i++) {
    if (o >= data.byteLength) return `topic ${i + 1} past the end`;
    const len = data[o];
    if (o + 1 + len > data.byteLength) return `topic ${i + 1} past the end`;
    topics.push(decoder.decode(data.subarray(o + 1, o + 1 + len)));
    o += 1 + len;
  }
  if (o !== data.byteLength) return "bytes after the last topic";
  return topics;
}

/**
 * Channels of an 8-byte channel mask field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const r = parseRequest(encodeChannels(REQ.PAUSE, [1, 11]));
 * assert.ok(typeof r !== "string");
 * assert.deepEqual(parseChannelMask(r.fields.get(1)!), [1, 11]);
 * ```
 */
export function parseChannelMask(data: Uint8Array): number[] {
  if (data.byteLength !== 8) return [];
  const v = new DataView(data.buffer, data.byteOffset, 8);
  const low = v.getUint32(4);
  const out: number[] = [];
  for (let ch = 1; ch < 32; ch++) if ((low >>> ch) & 1) out.push(ch);
  return out;
}

/** A field's bytes as ASCII text. */
export function fieldText(data: Uint8Array | undefined): string {
  return data === undefined ? "" : decoder.decode(data);
}

// ---- replies and data frames (server → client; simulator side) -------------------------------

/**
 * A connect reply: status `K`/`N`, ack-every-N (as a 4-byte integer) when given, and (Fyers) the
 * streamDataConfig JSON.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(
 *   [...encodeConnectReply(true, 5)],
 *   [0, 13, 1, 2, 1, 0, 1, 75, 2, 0, 4, 0, 0, 0, 5],
 * );
 * ```
 */
export function encodeConnectReply(
  ok: boolean,
  ackEvery?: number,
  streamConfig?: string,
): Uint8Array {
  const fields: HsmField[] = [{ id: 1, data: ascii(ok ? "K" : "N") }];
  if (ackEvery !== undefined || streamConfig !== undefined) {
    fields.push({ id: 2, data: int32Bytes(ackEvery ?? 0) });
  }
  if (streamConfig !== undefined) fields.push({ id: 3, data: ascii(streamConfig) });
  return encodeRequest(REQ.CONNECT, fields);
}

/**
 * A status reply to a subscribe/unsubscribe/pause/resume/snapshot/mode request.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual([...encodeStatusReply(REQ.SUBSCRIBE, true)], [0, 6, 4, 1, 1, 0, 1, 75]);
 * ```
 */
export function encodeStatusReply(type: number, ok: boolean): Uint8Array {
  return encodeRequest(type, [{ id: 1, data: ascii(ok ? "K" : "N") }]);
}

/** A snapshot item in wire units. `null` values are sent as the sentinel. */
export interface SnapshotItem {
  topicId: number;
  /** Topic name (`sf|nse_cm|11536`). */
  name: string;
  values: readonly (number | null)[];
  /** Fyers trailer only (Kotak sends them as fields). Default 1 / 2. */
  multiplier?: number;
  precision?: number;
  /** Fyers: exchange, token, trading symbol. Kotak: tagged strings 52 tk, 53 e, 54 ts. */
  exchange: string;
  token: string;
  tradingSymbol: string;
}

/** An update (85) or lite (76) item in wire units; `null` = unchanged (sentinel). */
export interface UpdateItem {
  topicId: number;
  values: readonly (number | null)[];
}

/** Tagged string ids of Kotak's snapshot trailer. */
export const KOTAK_STRING = { TOKEN: 52, EXCHANGE: 53, TRADING_SYMBOL: 54 } as const;

class Writer {
  bytes = new Uint8Array(256);
  view = new DataView(this.bytes.buffer);
  pos = 0;

  #room(n: number): void {
    if (this.pos + n <= this.bytes.byteLength) return;
    const next = new Uint8Array(Math.max(this.bytes.byteLength * 2, this.pos + n));
    next.set(this.bytes);
    this.bytes = next;
    this.view = new DataView(next.buffer);
  }
  u8(x: number): void {
    this.#room(1);
    this.bytes[this.pos++] = x;
  }
  u16(x: number): void {
    this.#room(2);
    this.view.setUint16(this.pos, x);
    this.pos += 2;
  }
  u32(x: number): void {
    this.#room(4);
    this.view.setUint32(this.pos, x >>> 0);
    this.pos += 4;
  }
  value(x: number | null): void {
    const n = x ?? SENTINEL;
    if (!Number.isInteger(n) || n < -0x80000000 || n > 0xffffffff) {
      throw new RangeError(`value ${n} is not a 32-bit integer`);
    }
    this.u32(n);
  }
  raw(b: Uint8Array): void {
    this.#room(b.byteLength);
    this.bytes.set(b, this.pos);
    this.pos += b.byteLength;
  }
  shortString(s: string): void {
    const b = ascii(s);
    if (b.byteLength > 255) throw new RangeError("string too long");
    this.u8(b.byteLength);
    this.raw(b);
  }
  done(): Uint8Array {
    return this.bytes.slice(0, this.pos);
  }
}

function topicId(w: Writer, config: HsmConfig, id: number): void {
  if (config.topicIdBytes === 2) w.u16(id);
  else w.u32(id);
}

function withItemLength(config: HsmConfig, body: Uint8Array): Uint8Array {
  if (!config.itemLength) return body;
  const out = new Uint8Array(body.byteLength + 2);
  new DataView(out.buffer).setUint16(0, body.byteLength);
  out.set(body, 2);
  return out;
}

/**
 * One snapshot (83) item, framed as `config` frames items.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const item = encodeSnapshotItem(KOTAK_HSM, {
 *   topicId: 1, name: "sf|nse_cm|1", values: [1], exchange: "nse_cm", token: "1", tradingSymbol: "X",
 * });
 * assert.equal(item[2], 83);
 * ```
 */
export function encodeSnapshotItem(config: HsmConfig, item: SnapshotItem): Uint8Array {
  const w = new Writer();
  w.u8(ITEM.SNAPSHOT);
  topicId(w, config, item.topicId);
  w.shortString(item.name);
  if (item.values.length > 255) throw new RangeError("too many values");
  w.u8(item.values.length);
  for (const x of item.values) w.value(x);
  if (config.trailer === "fixed") {
    w.u16(0);
    w.u16(item.multiplier ?? 1);
    w.u8(item.precision ?? 2);
    w.shortString(item.exchange);
    w.shortString(item.token);
    w.shortString(item.tradingSymbol);
  } else {
    const strings: [number, string][] = [
      [KOTAK_STRING.TOKEN, item.token],
      [KOTAK_STRING.EXCHANGE, item.exchange],
      [KOTAK_STRING.TRADING_SYMBOL, item.tradingSymbol],
    ];
    w.u8(strings.length);
    for (const [id, s] of strings) {
      w.u8(id);
      w.shortString(s);
    }
  }
  return withItemLength(config, w.done());
}

/**
 * One update (85) item, or a lite (76) item when `lite` (Fyers).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const item = encodeUpdateItem(FYERS_HSM, { topicId: 1, values: [null, 5] });
 * assert.deepEqual([...item], [85, 0, 1, 2, 128, 0, 0, 0, 0, 0, 0, 5]);
 * ```
 */
export function encodeUpdateItem(config: HsmConfig, item: UpdateItem, lite = false): Uint8Array {
  const w = new Writer();
  w.u8(lite ? ITEM.LITE : ITEM.UPDATE);
  topicId(w, config, item.topicId);
  if (!lite) {
    if (item.values.length > 255) throw new RangeError("too many values");
    w.u8(item.values.length);
  }
  for (const x of item.values) w.value(x);
  return withItemLength(config, w.done());
}

/**
 * A data frame (6): `u16 len, 6, [u32 msgNum when ack-N > 0], u16 count`, then the items.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const frame = encodeDataFrame(null, [encodeUpdateItem(FYERS_HSM, { topicId: 1, values: [] })]);
 * assert.deepEqual([...frame], [0, 7, 6, 0, 1, 85, 0, 1, 0]);
 * ```
 */
export function encodeDataFrame(msgNum: number | null, items: readonly Uint8Array[]): Uint8Array {
  if (items.length > 0xffff) throw new RangeError("too many items");
  const w = new Writer();
  w.u16(0);
  w.u8(REQ.DATA);
  if (msgNum !== null) w.u32(msgNum);
  w.u16(items.length);
  for (const it of items) w.raw(it);
  const out = w.done();
  if (out.byteLength - 2 <= 0xffff) new DataView(out.buffer).setUint16(0, out.byteLength - 2);
  return out;
}

// ---- decoding (server → client) ----------------------------------------------------------------

/** The streamed state of one topic: raw int32 values (SENTINEL = not known) and its scale. */
export interface TopicState {
  readonly id: number;
  readonly kind: TopicKind;
  /** Topic name without its kind prefix (`nse_cm|11536`), the key the adapter subscribed by. */
  readonly key: string;
  readonly layout: CompiledLayout;
  /** Raw values by position; SENTINEL where no value has been seen. */
  values: Int32Array;
  /** 10^precision × multiplier. */
  divisor: number;
  precision: number;
  exchange: string;
  token: string;
  tradingSymbol: string;
}

/** Counters one decoder keeps for its connection's life. */
export interface HsmDecodeStats {
  frames: number;
  dataFrames: number;
  items: number;
  snapshots: number;
  updates: number;
  lites: number;
  /** Every rejected case below, summed. */
  errors: number;
  /** Frame shorter than its header, or an item/field past the end. */
  truncated: number;
  /** Bytes left after the last item or field. */
  trailingBytes: number;
  /** An item kind that is none of 83/85/76 (the rest of the frame cannot be framed). */
  unknownKind: number;
  /** A Kotak item whose length prefix disagrees with its contents. */
  itemLength: number;
  /** A snapshot whose topic name has no known kind prefix. */
  unknownTopicKind: number;
  /** A reply type the decoder does not know. */
  unknownType: number;
  /** Snapshot multiplier/precision out of range (defaults used instead). */
  badScale: number;
  /** An update/lite for a topic id no snapshot introduced (dropped, not an error). */
  unknownTopic: number;
}

/**
 * Zeroed decode counters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(createHsmStats().errors, 0);
 * ```
 */
export function createHsmStats(): HsmDecodeStats {
  return {
    frames: 0,
    dataFrames: 0,
    items: 0,
    snapshots: 0,
    updates: 0,
    lites: 0,
    errors: 0,
    truncated: 0,
    trailingBytes: 0,
    unknownKind: 0,
    itemLength: 0,
    unknownTopicKind: 0,
    unknownType: 0,
    badScale: 0,
    unknownTopic: 0,
  };
}

/** What one server message said. */
export type HsmMessage =
  | {
    type: "connect";
    ok: boolean;
    /** Ack every N data frames (0 = no acks, no msgNum in data frames). */
    ackEvery: number;
    /** Fyers' streamDataConfig JSON text, when sent. */
    streamConfig?: string;
  }
  | { type: "status"; request: number; ok: boolean }
  | {
    type: "data";
    /** Topics whose state changed, in order of first change. */
    changed: TopicState[];
    /** A type-3 ack to send now (every N-th data frame), with this message number. */
    ack?: number;
  }
  | { type: "malformed"; reason: keyof HsmDecodeStats }
  /** A message that carries nothing (text frames, empty data). */
  | { type: "none" };

const NONE: HsmMessage = Object.freeze({ type: "none" });

type Op =
  | {
    kind: "snapshot";
    id: number;
    topic: TopicKind;
    key: string;
    at: number;
    count: number;
    mul: number;
    prec: number;
    strings: string[];
  }
  | { kind: "update" | "lite"; id: number; at: number; count: number };

function topicKindOf(prefix: string): TopicKind | null {
  return prefix === "sf" || prefix === "if" || prefix === "dp" ? prefix : null;
}

/**
 * Decodes one connection's server messages and keeps its topic state. Snapshots replace a topic's
 * state, updates write every non-sentinel value into it, lite items update the first values.
 * A frame whose framing is inconsistent is rejected whole; nothing throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const d = new HsmDecoder(KOTAK_HSM);
 * assert.deepEqual(d.decode(encodeConnectReply(true, 0)), { type: "connect", ok: true, ackEvery: 0 });
 * ```
 */
export class HsmDecoder {
  readonly config: HsmConfig;
  readonly stats: HsmDecodeStats = createHsmStats();
  #layouts: Record<TopicKind, CompiledLayout>;
  #liteCount: Readonly<Record<TopicKind, number>>;
  #topics = new Map<number, TopicState>();
  #ackEvery = 0;
  #sinceAck = 0;

  constructor(config: HsmConfig) {
    this.config = config;
    this.#liteCount = config.liteCount;
    this.#layouts = {
      sf: compileLayout(config.layout.sf),
      if: compileLayout(config.layout.if),
      dp: compileLayout(config.layout.dp),
    };
  }

  /** Forgets every topic and the ack count (a new connection). */
  reset(): void {
    this.#topics.clear();
    this.#ackEvery = 0;
    this.#sinceAck = 0;
  }

  /** Replaces the field order and lite counts (Fyers' streamDataConfig). */
  setLayout(layout: HsmLayout, liteCount?: Readonly<Record<TopicKind, number>>): void {
    if (liteCount !== undefined) this.#liteCount = liteCount;
    this.#layouts = {
      sf: compileLayout(layout.sf),
      if: compileLayout(layout.if),
      dp: compileLayout(layout.dp),
    };
  }

  /** The layout in force for a topic kind. */
  layout(kind: TopicKind): CompiledLayout {
    return this.#layouts[kind];
  }

  /** Ack every N data frames, as the connect reply said. */
  get ackEvery(): number {
    return this.#ackEvery;
  }

  /** Number of topics with state. */
  get topicCount(): number {
    return this.#topics.size;
  }

  /** Reads one binary message. */
  decode(bytes: Uint8Array): HsmMessage {
    const s = this.stats;
    s.frames++;
    if (bytes.byteLength < 3) return this.#bad("truncated");
    const type = bytes[2];
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    switch (type) {
      case REQ.DATA:
        return this.#data(bytes, v);
      case REQ.CONNECT:
        return this.#connect(bytes, v);
      case REQ.SUBSCRIBE:
      case REQ.UNSUBSCRIBE:
      case REQ.PAUSE:
      case REQ.RESUME:
      case REQ.SNAPSHOT:
      case REQ.MODE: {
        const fields = this.#fields(bytes, v);
        if (typeof fields === "string") return this.#bad(fields);
        return { type: "status", request: type, ok: fieldText(fields.get(1)) === "K" };
      }
      default:
        return this.#bad("unknownType");
    }
  }

  #bad(reason: keyof HsmDecodeStats): HsmMessage {
    (this.stats[reason] as number)++;
    this.stats.errors++;
    return { type: "malformed", reason };
  }

  #fields(bytes: Uint8Array, v: DataView): Map<number, Uint8Array> | keyof HsmDecodeStats {
    if (bytes.byteLength < 4) return "truncated";
    const count = bytes[3];
    const fields = new Map<number, Uint8Array>();
    let o = 4;
    for (let i = 0; i < count; i++) {
      if (o + 3 > bytes.byteLength) return "truncated";
      const len = v.getUint16(o + 1);
      if (o + 3 + len > bytes.byteLength) return "truncated";
      fields.set(bytes[o], bytes.subarray(o + 3, o + 3 + len));
      o += 3 + len;
    }
    return o === bytes.byteLength ? fields : "trailingBytes";
  }

  #connect(bytes: Uint8Array, v: DataView): HsmMessage {
    const fields = this.#fields(bytes, v);
    if (typeof fields === "string") return this.#bad(fields);
    const ok = fieldText(fields.get(1)) === "K";
    let ackEvery = 0;
    const ack = fields.get(2);
    if (ack !== undefined) {
      // Big-endian integer spanning the field's length, as both libraries read it.
      for (const b of ack.subarray(Math.max(0, ack.byteLength - 6))) ackEvery = ackEvery * 256 + b;
    }
    this.#ackEvery = ok ? ackEvery : 0;
    this.#sinceAck = 0;
    const config = fields.get(3);
    return config === undefined
      ? { type: "connect", ok, ackEvery }
      : { type: "connect", ok, ackEvery, streamConfig: fieldText(config) };
  }

  #data(bytes: Uint8Array, v: DataView): HsmMessage {
    const s = this.stats;
    const len = bytes.byteLength;
    let o = 3;
    let msgNum: number | undefined;
    if (this.#ackEvery > 0) {
      if (o + 4 > len) return this.#bad("truncated");
      msgNum = v.getUint32(o);
      o += 4;
    }
    if (o + 2 > len) return this.#bad("truncated");
    const count = v.getUint16(o);
    o += 2;
    // Pass 1: frame every item without touching state, so a misframed message changes nothing.
    const ops: Op[] = [];
    const kinds = new Map<number, TopicKind>();
    const idBytes = this.config.topicIdBytes;
    for (let i = 0; i < count; i++) {
      let end = -1;
      if (this.config.itemLength) {
        if (o + 2 > len) return this.#bad("truncated");
        end = o + 2 + v.getUint16(o);
        if (end > len) return this.#bad("truncated");
        o += 2;
      }
      if (o + 1 + idBytes > len) return this.#bad("truncated");
      const kind = bytes[o];
      const id = idBytes === 2 ? v.getUint16(o + 1) : v.getUint32(o + 1);
      o += 1 + idBytes;
      if (kind === ITEM.SNAPSHOT) {
        if (o + 1 > len) return this.#bad("truncated");
        const nameLen = bytes[o];
        if (o + 1 + nameLen + 1 > len) return this.#bad("truncated");
        const name = decoder.decode(bytes.subarray(o + 1, o + 1 + nameLen));
        o += 1 + nameLen;
        const n = bytes[o];
        const at = o + 1;
        o = at + 4 * n;
        if (o > len) return this.#bad("truncated");
        let mul = 1;
        let prec = 2;
        const strings = ["", "", ""];
        if (this.config.trailer === "fixed") {
          if (o + 5 > len) return this.#bad("truncated");
          mul = v.getUint16(o + 2);
          prec = bytes[o + 4];
          o += 5;
          for (let k = 0; k < 3; k++) {
            if (o + 1 > len || o + 1 + bytes[o] > len) return this.#bad("truncated");
            strings[k] = decoder.decode(bytes.subarray(o + 1, o + 1 + bytes[o]));
            o += 1 + bytes[o];
          }
        } else {
          if (o + 1 > len) return this.#bad("truncated");
          const nStr = bytes[o++];
          for (let k = 0; k < nStr; k++) {
            if (o + 2 > len || o + 2 + bytes[o + 1] > len) return this.#bad("truncated");
            const text = decoder.decode(bytes.subarray(o + 2, o + 2 + bytes[o + 1]));
            const slot = bytes[o] === KOTAK_STRING.EXCHANGE
              ? 0
              : bytes[o] === KOTAK_STRING.TOKEN
              ? 1
              : bytes[o] === KOTAK_STRING.TRADING_SYMBOL
              ? 2
              : -1;
            if (slot >= 0) strings[slot] = text;
            o += 2 + bytes[o + 1];
          }
        }
        const bar = name.indexOf("|");
        const topic = topicKindOf(bar < 0 ? "" : name.slice(0, bar));
        if (topic === null) {
          if (end >= 0 && end !== o) return this.#bad("itemLength");
          // The libraries skip a snapshot of an unknown feed type; so do we, counted.
          s.unknownTopicKind++;
          s.errors++;
          continue;
        }
        kinds.set(id, topic);
        ops.push({
          kind: "snapshot",
          id,
          topic,
          key: name.slice(bar + 1),
          at,
          count: n,
          mul,
          prec,
          strings,
        });
      } else if (kind === ITEM.UPDATE) {
        if (o + 1 > len) return this.#bad("truncated");
        const n = bytes[o];
        ops.push({ kind: "update", id, at: o + 1, count: n });
        o += 1 + 4 * n;
        if (o > len) return this.#bad("truncated");
      } else if (kind === ITEM.LITE) {
        const known = kinds.get(id) ?? this.#topics.get(id)?.kind;
        // A lite item's size depends on its topic: unknown topic → the rest cannot be framed.
        if (known === undefined) return this.#bad("unknownTopic");
        const n = this.#liteCount[known];
        ops.push({ kind: "lite", id, at: o, count: n });
        o += 4 * n;
        if (o > len) return this.#bad("truncated");
      } else {
        return this.#bad("unknownKind");
      }
      if (end >= 0 && end !== o) return this.#bad("itemLength");
    }
    if (o !== len) return this.#bad("trailingBytes");
    s.dataFrames++;
    s.items += count;
    // Pass 2: apply.
    const changed: TopicState[] = [];
    const seen = new Set<number>();
    for (const op of ops) {
      let t: TopicState | undefined;
      if (op.kind === "snapshot") {
        s.snapshots++;
        t = this.#snapshot(op, v);
      } else {
        if (op.kind === "update") s.updates++;
        else s.lites++;
        t = this.#topics.get(op.id);
        if (t === undefined) {
          s.unknownTopic++;
          continue;
        }
        const vals = t.values;
        const n = Math.min(op.count, vals.length);
        for (let k = 0; k < n; k++) {
          const x = v.getInt32(op.at + 4 * k);
          if (x !== SENTINEL) vals[k] = x;
        }
      }
      if (!seen.has(t.id)) {
        seen.add(t.id);
        changed.push(t);
      }
    }
    let ack: number | undefined;
    if (msgNum !== undefined && ++this.#sinceAck >= this.#ackEvery) {
      this.#sinceAck = 0;
      ack = msgNum;
    }
    if (changed.length === 0 && ack === undefined) return NONE;
    return ack === undefined ? { type: "data", changed } : { type: "data", changed, ack };
  }

  #snapshot(op: Extract<Op, { kind: "snapshot" }>, v: DataView): TopicState {
    const layout = this.#layouts[op.topic];
    const values = new Int32Array(Math.max(layout.names.length, op.count)).fill(SENTINEL);
    for (let k = 0; k < op.count; k++) values[k] = v.getInt32(op.at + 4 * k);
    let mul = op.mul;
    let prec = op.prec;
    if (this.config.trailer === "tagged") {
      mul = layout.mul >= 0 && values[layout.mul] !== SENTINEL ? values[layout.mul] : 1;
      prec = layout.prec >= 0 && values[layout.prec] !== SENTINEL ? values[layout.prec] : 2;
    }
    if (!(mul >= 1 && prec >= 0 && prec <= 9)) {
      this.stats.badScale++;
      this.stats.errors++;
      mul = 1;
      prec = 2;
    }
    const t: TopicState = {
      id: op.id,
      kind: op.topic,
      key: op.key,
      layout,
      values,
      divisor: 10 ** prec * mul,
      precision: prec,
      exchange: op.strings[0],
      token: op.strings[1],
      tradingSymbol: op.strings[2],
    };
    this.#topics.set(op.id, t);
    return t;
  }
}

/**
 * A price field of a topic in rupees, or null when the broker sent no value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const layout = compileLayout(["ltp"]);
 * const t = { values: Int32Array.of(294070), divisor: 100, layout } as unknown as TopicState;
 * assert.equal(priceAt(t, 0), 2940.7);
 * ```
 */
export function priceAt(t: TopicState, pos: number): number | null {
  if (pos < 0 || pos >= t.values.length) return null;
  const x = t.values[pos];
  return x === SENTINEL ? null : x / t.divisor;
}

/**
 * A count (volume, quantity, OI, orders) or time field, read unsigned: the libraries read int32
 * signed, which equals this for every value below 2^31 and keeps a larger count positive.
 */
export function countAt(t: TopicState, pos: number): number | null {
  if (pos < 0 || pos >= t.values.length) return null;
  const x = t.values[pos];
  return x === SENTINEL ? null : x >>> 0;
}
