// Noren OMS WebSocket codec (brokers.md §6): the JSON requests a client sends, a decoder that
// merges snapshot + sparse string-valued updates per scrip into normalised ticks, and the inverse
// encoders the simulator uses. No I/O; the decoder never throws on bad input, it counts and skips.

import { type Decoded, NOTHING } from "../../lib/adapter/dialect.ts";
import type { SimQuote } from "../../lib/adapter/sim/market.ts";
import { isIndexExchange, IST_OFFSET_MS } from "../../lib/adapter/symbology.ts";
import { baseTick, type DepthLevel, type Mode, type Tick } from "../../lib/types.ts";
import type { NorenLogin } from "./brokers.ts";

// ---- requests (client → server) --------------------------------------------------------------

/** The two Noren feeds: touchline (`t`, serves LTP and Quote) and depth (`d`). */
export type NorenStream = "t" | "d";

/** Request types: subscribe/unsubscribe touchline (`t`/`u`) and depth (`d`/`ud`). */
export type NorenRequestType = "t" | "u" | "d" | "ud";

/** The subscribe request of each stream. */
export const SUBSCRIBE: Readonly<Record<NorenStream, NorenRequestType>> = { t: "t", d: "d" };
/** The unsubscribe request of each stream. */
export const UNSUBSCRIBE: Readonly<Record<NorenStream, NorenRequestType>> = { t: "u", d: "ud" };

/** Client heartbeat; the broker does not answer it. */
export const HEARTBEAT = '{"t":"h"}';

/** Depth levels per side in a depth message. */
export const DEPTH_LEVELS = 5;

/**
 * The Noren stream an OpenAlgo mode is served by: LTP and Quote by the touchline, Depth by depth.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(streamFor(1), "t");
 * assert.equal(streamFor(3), "d");
 * ```
 */
export function streamFor(mode: Mode): NorenStream {
  return mode === 3 ? "d" : "t";
}

/** What a login message carries. `token` goes to `accesstoken` (`t:a`) or `susertoken` (`t:c`). */
export interface LoginFields {
  uid: string;
  actid: string;
  source: string;
  token: string;
}

/**
 * The first message after the socket opens.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(
 *   encodeLogin("c", { uid: "FA1", actid: "FA1", source: "API", token: "s3" }),
 *   '{"t":"c","uid":"FA1","actid":"FA1","source":"API","susertoken":"s3"}',
 * );
 * ```
 */
export function encodeLogin(variant: NorenLogin, f: LoginFields): string {
  return variant === "a"
    ? JSON.stringify({ t: "a", uid: f.uid, actid: f.actid, source: f.source, accesstoken: f.token })
    : JSON.stringify({ t: "c", uid: f.uid, actid: f.actid, source: f.source, susertoken: f.token });
}

/**
 * A subscribe/unsubscribe request for `keys` (`EXCH|token`), joined by `#`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(encodeRequest("t", ["NSE|22", "NFO|35003"]), '{"t":"t","k":"NSE|22#NFO|35003"}');
 * ```
 */
export function encodeRequest(t: NorenRequestType, keys: readonly string[]): string {
  return JSON.stringify({ t, k: keys.join("#") });
}

// ---- per-scrip state -------------------------------------------------------------------------

/** Numeric fields kept per scrip, in state order; depth levels follow. */
const BASE_FIELDS = [
  "lp",
  "pc",
  "c",
  "o",
  "h",
  "l",
  "v",
  "ap",
  "ltq",
  "ft",
  "oi",
  "poi",
  "toi",
  "tbq",
  "tsq",
  "uc",
  "lc",
  "52h",
  "52l",
  "pp",
] as const;
const LEVEL_SIDES = ["bp", "bq", "bo", "sp", "sq", "so"] as const;

const FIELD = new Map<string, number>();
BASE_FIELDS.forEach((f, i) => FIELD.set(f, i));
LEVEL_SIDES.forEach((side, s) => {
  for (let i = 1; i <= DEPTH_LEVELS; i++) {
    FIELD.set(`${side}${i}`, BASE_FIELDS.length + s * DEPTH_LEVELS + i - 1);
  }
});
const FIELD_COUNT = BASE_FIELDS.length + LEVEL_SIDES.length * DEPTH_LEVELS;

const LP = FIELD.get("lp")!;
const PC = FIELD.get("pc")!;
const C = FIELD.get("c")!;
const O = FIELD.get("o")!;
const H = FIELD.get("h")!;
const L = FIELD.get("l")!;
const V = FIELD.get("v")!;
const AP = FIELD.get("ap")!;
const LTQ = FIELD.get("ltq")!;
const FT = FIELD.get("ft")!;
const OI = FIELD.get("oi")!;
const TBQ = FIELD.get("tbq")!;
const TSQ = FIELD.get("tsq")!;
const PP = FIELD.get("pp")!;
const levelIndex = (side: number, level: number) =>
  BASE_FIELDS.length + side * DEPTH_LEVELS + level;

/**
 * Price fields an update may not zero: Noren sends `"0"` for them in some sparse updates while
 * the cached value stands (OpenAlgo keeps the cached value too).
 */
const STICKY_PRICE = new Set([LP, O, H, L, C, AP]);

/** The merged state of one scrip on one stream: numbers (NaN = never sent) and the last `ltt`. */
export class ScripState {
  readonly values: Float64Array = new Float64Array(FIELD_COUNT).fill(NaN);
  ltt: string | null = null;
}

// ---- decoding (server → client) --------------------------------------------------------------

/** Counters a decoder updates; one object lives as long as the decoder. */
export interface DecodeStats {
  messages: number;
  ticks: number;
  /** Sum of the malformed-input counters below. */
  errors: number;
  /** A binary frame (Noren sends text only). */
  binary: number;
  badJson: number;
  /** Valid JSON that is not an object with a string `t`. */
  noType: number;
  /** A `t` this decoder does not know. */
  unknownType: number;
  /** A feed message without string `e` and `tk`. */
  noScrip: number;
  /** A field value that is not a number (the rest of the message is used). */
  badField: number;
  /** Feed for a scrip not subscribed on this connection (not an error: in flight after unsubscribe). */
  unknownToken: number;
  /** Feed of the other stream than the scrip is subscribed on (in flight after a mode change). */
  staleStream: number;
  /** A sparse update before its snapshot (dropped: it cannot be merged). */
  updateBeforeSnapshot: number;
  /** Login acks (`ak`/`ck`) seen. */
  loginAcks: number;
  /** Known messages that carry nothing for ticks (`uk`, `udk`, `ok`, `om`, `h`). */
  ignored: number;
}

/**
 * Zeroed decode counters.
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
    binary: 0,
    badJson: 0,
    noType: 0,
    unknownType: 0,
    noScrip: 0,
    badField: 0,
    unknownToken: 0,
    staleStream: 0,
    updateBeforeSnapshot: 0,
    loginAcks: 0,
    ignored: 0,
  };
}

/** What the decoder needs of an instrument. */
export interface ScripRef {
  readonly exchange: string;
  readonly symbol: string;
}

interface Watched<I> {
  readonly instrument: I;
  readonly stream: NorenStream;
  readonly index: boolean;
  /** Default price precision for the exchange until a snapshot states `pp`. */
  readonly pp: number;
  state: ScripState | null;
}

const IGNORED_TYPES = new Set(["uk", "udk", "ok", "om", "h"]);
const DAY_MS = 86_400_000;

/** Rounds away binary noise at `pp` decimals (2940.7 - 2925.4 → 15.3). */
function roundTo(x: number, pp: number): number {
  const f = 10 ** pp;
  return Math.round(x * f) / f;
}

function orNull(x: number): number | null {
  return Number.isNaN(x) ? null : x;
}

/**
 * Epoch ms of a Noren `ltt`: `HH:MM:SS` on the IST day of `refMs`, or `DD-MM-YYYY HH:MM:SS`.
 * Null when it is neither.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // 2023-11-14 22:13:20 UTC is 2023-11-15 03:43:20 IST
 * assert.equal(lttToMs("09:15:00", 1_700_000_000_000), Date.UTC(2023, 10, 15, 3, 45));
 * assert.equal(lttToMs("14-11-2023 15:29:59", 0), Date.UTC(2023, 10, 14, 9, 59, 59));
 * assert.equal(lttToMs("soon", 0), null);
 * ```
 */
export function lttToMs(text: string, refMs: number): number | null {
  let m = /^(\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (m !== null) {
    const dayStart = Math.floor((refMs + IST_OFFSET_MS) / DAY_MS) * DAY_MS - IST_OFFSET_MS;
    const s = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
    return s < 86_400 ? dayStart + s * 1000 : null;
  }
  m = /^(\d{2})-(\d{2})-(\d{4}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (m !== null) {
    const utc = Date.UTC(+m[3], +m[2] - 1, +m[1], +m[4], +m[5], +m[6]);
    return Number.isFinite(utc) ? utc - IST_OFFSET_MS : null;
  }
  return null;
}

/**
 * Decodes Noren feed messages into ticks, keeping per-scrip state so that sparse updates (`tf`,
 * `df`: only changed fields) are merged into the snapshot (`tk`, `dk`); a field an update omits
 * keeps its value and a field never sent stays null. Scrips are keyed `EXCH|token`, the form
 * requests use. Touchline ticks are Quote ticks (mode 2: they serve LTP and Quote), depth ticks
 * are Depth ticks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const d = new NorenDecoder<{ exchange: string; symbol: string }>();
 * d.watch("NSE|22", { exchange: "NSE", symbol: "ACC" }, "t");
 * d.decode('{"t":"tk","e":"NSE","tk":"22","pp":"2","lp":"2010.50","c":"2000.00","v":"900"}', 0);
 * const r = d.decode('{"t":"tf","e":"NSE","tk":"22","lp":"2011.00"}', 0);
 * assert.equal(r.ticks?.[0].ltp, 2011);
 * assert.equal(r.ticks?.[0].volume, 900);
 * assert.equal(r.ticks?.[0].change, 11);
 * ```
 */
export class NorenDecoder<I extends ScripRef> {
  readonly stats: DecodeStats = createDecodeStats();
  readonly #scrips = new Map<string, Watched<I>>();

  /** Number of watched scrips. */
  get size(): number {
    return this.#scrips.size;
  }

  /** Starts (or restarts) expecting `stream` for `key`; its state waits for a fresh snapshot. */
  watch(key: string, instrument: I, stream: NorenStream): void {
    const ex = instrument.exchange;
    this.#scrips.set(key, {
      instrument,
      stream,
      index: isIndexExchange(ex),
      pp: ex === "CDS" || ex === "BCD" ? 4 : 2,
      state: null,
    });
  }

  /** Stops `key` on `stream` and forgets its state (a later subscribe starts from a snapshot). */
  unwatch(key: string, stream: NorenStream): void {
    if (this.#scrips.get(key)?.stream === stream) this.#scrips.delete(key);
  }

  /** Forgets every scrip (a new connection resubscribes what it wants). */
  reset(): void {
    this.#scrips.clear();
  }

  /** The merged state of `key`, if a snapshot has arrived (for tests). */
  state(key: string): ScripState | null {
    return this.#scrips.get(key)?.state ?? null;
  }

  /** Reads one message; `now` is the receive time (epoch ms). Never throws. */
  decode(data: string | ArrayBuffer | Uint8Array, now: number): Decoded {
    const s = this.stats;
    s.messages++;
    if (typeof data !== "string") return this.#malformed("binary", "binary frame");
    let msg: unknown;
    try {
      msg = JSON.parse(data);
    } catch {
      return this.#malformed("badJson", "bad JSON");
    }
    if (typeof msg !== "object" || msg === null || Array.isArray(msg)) {
      return this.#malformed("noType", "message without type");
    }
    const m = msg as Record<string, unknown>;
    const t = m.t;
    if (typeof t !== "string") return this.#malformed("noType", "message without type");
    switch (t) {
      case "tk":
      case "dk":
        return this.#feed(m, t === "tk" ? "t" : "d", true, now);
      case "tf":
      case "df":
        return this.#feed(m, t === "tf" ? "t" : "d", false, now);
      case "ak":
      case "ck": {
        s.loginAcks++;
        const status = typeof m.s === "string" ? m.s : "";
        if (status.toUpperCase() === "OK") return { loggedIn: true };
        const why = typeof m.emsg === "string" && m.emsg !== "" ? m.emsg : status || "no status";
        return { authFailed: `login rejected (${t}): ${why}` };
      }
      default:
        if (IGNORED_TYPES.has(t)) {
          s.ignored++;
          return NOTHING;
        }
        return this.#malformed("unknownType", "unknown message type");
    }
  }

  #malformed(
    counter: "binary" | "badJson" | "noType" | "unknownType" | "noScrip",
    reason: string,
  ): Decoded {
    this.stats[counter]++;
    this.stats.errors++;
    return { malformed: reason };
  }

  #feed(m: Record<string, unknown>, stream: NorenStream, snapshot: boolean, now: number): Decoded {
    const e = m.e;
    const tk = m.tk;
    if (typeof e !== "string" || typeof tk !== "string") {
      return this.#malformed("noScrip", "feed message without scrip");
    }
    const s = this.stats;
    const w = this.#scrips.get(`${e}|${tk}`);
    if (w === undefined) {
      s.unknownToken++;
      return NOTHING;
    }
    if (w.stream !== stream) {
      s.staleStream++;
      return NOTHING;
    }
    if (snapshot) w.state = new ScripState();
    else if (w.state === null) {
      s.updateBeforeSnapshot++;
      return NOTHING;
    }
    const state = w.state!;
    const bad = merge(state, m, !snapshot);
    const tick = toTick(w, state, stream, m.ft !== undefined ? state.values[FT] : NaN, now);
    if (bad > 0) {
      s.badField += bad;
      s.errors += bad;
    }
    if (tick === null) return bad > 0 ? { malformed: "bad field value" } : NOTHING;
    s.ticks++;
    return bad > 0 ? { ticks: [tick], malformed: "bad field value" } : { ticks: [tick] };
  }
}

/** Merges a message's fields into `state`; returns how many values were not numbers. */
function merge(state: ScripState, m: Record<string, unknown>, update: boolean): number {
  const v = state.values;
  let bad = 0;
  for (const key in m) {
    const raw = m[key];
    const i = FIELD.get(key);
    if (i === undefined) {
      if (key === "ltt") {
        if (typeof raw === "string" && raw !== "") state.ltt = raw;
        else if (raw !== "") bad++;
      }
      continue;
    }
    let n: number;
    if (typeof raw === "string") {
      // An empty string carries no value; Number("") would be 0.
      if (raw === "") continue;
      n = Number(raw);
    } else if (typeof raw === "number") n = raw;
    else n = NaN;
    if (!Number.isFinite(n)) {
      bad++;
      continue;
    }
    if (update && n === 0 && STICKY_PRICE.has(i) && v[i] > 0) continue;
    v[i] = n;
  }
  return bad;
}

function toTick<I extends ScripRef>(
  w: Watched<I>,
  state: ScripState,
  stream: NorenStream,
  feedTimeS: number,
  now: number,
): Tick | null {
  const v = state.values;
  const lp = v[LP];
  if (Number.isNaN(lp)) return null;
  const pp = Number.isNaN(v[PP]) ? w.pp : v[PP];
  const ft = v[FT];
  const ltt = state.ltt === null ? null : lttToMs(state.ltt, Number.isNaN(ft) ? now : ft * 1000);
  const stamp = Number.isNaN(feedTimeS) ? now : feedTimeS * 1000;
  const ins = w.instrument;
  const t = baseTick(ins.exchange, ins.symbol, stream === "d" ? 3 : 2, lp, ltt, stamp);
  const close = v[C];
  t.open = orNull(v[O]);
  t.high = orNull(v[H]);
  t.low = orNull(v[L]);
  t.close = orNull(close);
  t.volume = orNull(v[V]);
  t.last_trade_quantity = orNull(v[LTQ]);
  t.avg_trade_price = orNull(v[AP]);
  t.total_buy_quantity = orNull(v[TBQ]);
  t.total_sell_quantity = orNull(v[TSQ]);
  t.oi = orNull(v[OI]);
  if (close > 0) {
    t.change = roundTo(lp - close, pp);
    t.change_percent = ((lp - close) * 100) / close;
  } else {
    t.change_percent = orNull(v[PC]);
  }
  if (stream === "d") {
    if (w.index) t.depth = { buy: [], sell: [] };
    else {
      const buy: DepthLevel[] = new Array(DEPTH_LEVELS);
      const sell: DepthLevel[] = new Array(DEPTH_LEVELS);
      for (let i = 0; i < DEPTH_LEVELS; i++) {
        buy[i] = level(v, 0, i);
        sell[i] = level(v, 3, i);
      }
      t.depth = { buy, sell };
    }
  }
  return t;
}

/** One book level; a level the broker never filled is an empty level (0 @ 0). */
function level(v: Float64Array, side: number, i: number): DepthLevel {
  const price = v[levelIndex(side, i)];
  const qty = v[levelIndex(side + 1, i)];
  return {
    price: Number.isNaN(price) ? 0 : price,
    quantity: Number.isNaN(qty) ? 0 : qty,
    orders: orNull(v[levelIndex(side + 2, i)]),
  };
}

// ---- simulator side: parsing requests, encoding feed -----------------------------------------

/** A client message as the simulator reads it. */
export type ClientMessage =
  | {
    kind: "login";
    variant: NorenLogin;
    uid: string;
    actid: string;
    source: string;
    token: string;
  }
  | { kind: "request"; t: NorenRequestType; keys: string[] }
  | { kind: "heartbeat" }
  | { kind: "orders"; actid: string };

/**
 * Parses a client message (simulator side); a string names what is wrong with it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseClientMessage('{"t":"u","k":"NSE|22#NSE|1"}'), {
 *   kind: "request", t: "u", keys: ["NSE|22", "NSE|1"],
 * });
 * assert.equal(typeof parseClientMessage("{"), "string");
 * ```
 */
export function parseClientMessage(text: string): ClientMessage | string {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return "bad JSON";
  }
  if (typeof msg !== "object" || msg === null || Array.isArray(msg)) return "not an object";
  const m = msg as Record<string, unknown>;
  const str = (k: string) => (typeof m[k] === "string" ? m[k] as string : "");
  switch (m.t) {
    case "a":
    case "c": {
      const token = str(m.t === "a" ? "accesstoken" : "susertoken");
      if (str("uid") === "" || token === "") return `login without uid or token`;
      return {
        kind: "login",
        variant: m.t,
        uid: str("uid"),
        actid: str("actid"),
        source: str("source"),
        token,
      };
    }
    case "t":
    case "u":
    case "d":
    case "ud": {
      const k = str("k");
      const keys = k === "" ? [] : k.split("#");
      if (keys.length === 0 || keys.some((x) => !/^[A-Z]+\|[^|#]+$/.test(x))) {
        return `bad scrip list '${k.slice(0, 80)}'`;
      }
      return { kind: "request", t: m.t, keys };
    }
    case "h":
      return { kind: "heartbeat" };
    case "o":
      return { kind: "orders", actid: str("actid") };
    default:
      return `unknown request type ${JSON.stringify(m.t)}`;
  }
}

/**
 * The login ack: `ak` for `t:a`, `ck` for `t:c`; `s` is `OK` or `NOT_OK` with `emsg`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(encodeLoginAck("a", "FA1", null), '{"t":"ak","uid":"FA1","s":"OK"}');
 * ```
 */
export function encodeLoginAck(variant: NorenLogin, uid: string, error: string | null): string {
  const t = variant === "a" ? "ak" : "ck";
  return error === null
    ? JSON.stringify({ t, uid, s: "OK" })
    : JSON.stringify({ t, uid, s: "NOT_OK", emsg: error });
}

/** Feed message types. */
export type FeedType = "tk" | "tf" | "dk" | "df";

/**
 * One feed message: `t`, `e`, `tk` then the string fields.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(encodeFeed("tf", "NSE", "22", { lp: "2011.00" }),
 *   '{"t":"tf","e":"NSE","tk":"22","lp":"2011.00"}');
 * ```
 */
export function encodeFeed(
  t: FeedType,
  e: string,
  tk: string,
  fields: Readonly<Record<string, string>>,
): string {
  return JSON.stringify({ t, e, tk, ...fields });
}

/** Static facts of a scrip that snapshots carry (`ts`, `ls`, `ti`) and how it is quoted. */
export interface ScripFacts {
  tradingSymbol: string;
  lotSize: number;
  tickSize: number;
  /** Price precision (2; 4 for currency). */
  pp: number;
  /** Indices carry only prices. */
  index: boolean;
  /** Derivatives carry open interest. */
  hasOi: boolean;
}

/** `HH:MM:SS` in IST of an epoch-ms time. */
function istClock(ms: number): string {
  const d = new Date(ms + IST_OFFSET_MS);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

/**
 * Every field a snapshot of `stream` carries for a quote (rupees → decimal strings at `pp`),
 * as Noren documents them: touchline with best bid/ask, depth with five levels, order counts,
 * circuits, last trade time and quantity. Indices carry prices only.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SimMarket } from "../../lib/adapter/sim/market.ts";
 * const q = new SimMarket(1).quote("22", { price: 2010.5 });
 * const f = quoteFields(q, "t", { tradingSymbol: "ACC-EQ", lotSize: 1, tickSize: 0.05, pp: 2,
 *   index: false, hasOi: false }, 1_700_000_000_000);
 * assert.equal(f.lp, "2010.50");
 * assert.equal(f.ft, "1700000000");
 * ```
 */
export function quoteFields(
  q: SimQuote,
  stream: NorenStream,
  facts: ScripFacts,
  nowMs: number,
): Record<string, string> {
  const px = (x: number) => x.toFixed(facts.pp);
  const n = (x: number) => String(Math.round(x));
  const f: Record<string, string> = {
    lp: px(q.ltp),
    pc: q.close > 0 ? (((q.ltp - q.close) * 100) / q.close).toFixed(2) : "0.00",
    o: px(q.open),
    h: px(q.high),
    l: px(q.low),
    c: px(q.close),
  };
  if (!facts.index) {
    f.v = n(q.volume);
    f.ap = px(q.averagePrice);
    if (facts.hasOi) {
      f.oi = n(q.oi);
      f.poi = n(q.oi);
      f.toi = n(q.oi);
    }
    if (stream === "t") {
      f.bp1 = px(q.bids[0]?.price ?? 0);
      f.bq1 = n(q.bids[0]?.quantity ?? 0);
      f.sp1 = px(q.asks[0]?.price ?? 0);
      f.sq1 = n(q.asks[0]?.quantity ?? 0);
    } else {
      f.ltt = istClock(q.ltt);
      f.ltq = n(q.lastQuantity);
      f.tbq = n(q.totalBuyQuantity);
      f.tsq = n(q.totalSellQuantity);
      for (let i = 0; i < DEPTH_LEVELS; i++) {
        const b = q.bids[i];
        const a = q.asks[i];
        f[`bp${i + 1}`] = px(b?.price ?? 0);
        f[`bq${i + 1}`] = n(b?.quantity ?? 0);
        f[`bo${i + 1}`] = n(b?.orders ?? 0);
        f[`sp${i + 1}`] = px(a?.price ?? 0);
        f[`sq${i + 1}`] = n(a?.quantity ?? 0);
        f[`so${i + 1}`] = n(a?.orders ?? 0);
      }
      f.uc = px(q.close * 1.2);
      f.lc = px(q.close * 0.8);
    }
  }
  f.ft = String(Math.floor(nowMs / 1000));
  return f;
}

/**
 * The snapshot-only facts (`ts`, `pp`, `ls`, `ti`) added to a snapshot's fields.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const f = snapshotFacts({ tradingSymbol: "ACC-EQ", lotSize: 1, tickSize: 0.05, pp: 2,
 *   index: false, hasOi: false });
 * assert.deepEqual(f, { ts: "ACC-EQ", pp: "2", ls: "1", ti: "0.05" });
 * ```
 */
export function snapshotFacts(facts: ScripFacts): Record<string, string> {
  return {
    ts: facts.tradingSymbol,
    pp: String(facts.pp),
    ls: String(facts.lotSize),
    ti: String(facts.tickSize),
  };
}

/**
 * The fields of `next` whose value differs from `prev` (a sparse update's content).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(changedFields({ lp: "1", v: "5" }, { lp: "2", v: "5" }), { lp: "2" });
 * ```
 */
export function changedFields(
  prev: Readonly<Record<string, string>>,
  next: Readonly<Record<string, string>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in next) if (prev[k] !== next[k]) out[k] = next[k];
  return out;
}
