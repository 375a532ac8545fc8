// Tests for the Angel One codec: golden packets written byte by byte from brokers.md §2.3, round
// trips through the simulator's encoders, malformed packets and a seeded fuzz run.

import assert from "node:assert/strict";
import { parseTick } from "../../lib/adapter/messages.ts";
import type { Tick } from "../../lib/types.ts";
import {
  type AngelPacket,
  type AngelPacketResult,
  createDecodeStats,
  decodePacket,
  decodeRequest,
  decodeText,
  encodeDepth20,
  encodeError,
  encodePacket,
  encodeRequest,
  priceDivisor,
  tokenKey,
} from "./codec.ts";
import { prng } from "../../lib/adapter/sim/mod.ts";

const NOW = 1_700_000_000_999;
const NSE = { exchange: "NSE", symbol: "RELIANCE" };
const any = () => NSE;

/** Hex string (spaces and `|` ignored) → bytes. */
function hex(s: string): Uint8Array {
  const clean = s.replace(/[\s|]/g, "");
  assert.equal(clean.length % 2, 0);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Little-endian hex of a two's-complement integer of `bytes` bytes, written without the codec. */
function le(n: number, bytes: number): string {
  let x = BigInt(n);
  if (x < 0n) x += 1n << BigInt(8 * bytes);
  let out = "";
  for (let i = 0; i < bytes; i++) {
    out += Number(x & 0xffn).toString(16).padStart(2, "0");
    x >>= 8n;
  }
  return out;
}
const i64 = (n: number) => le(n, 8);
const i32 = (n: number) => le(n, 4);
const i16 = (n: number) => le(n, 2);

/** "2885" as 25 NUL-padded ASCII bytes. */
function tokenHex(token: string): string {
  let out = "";
  for (const c of token) out += c.charCodeAt(0).toString(16);
  return out + "00".repeat(25 - token.length);
}

// IEEE-754 doubles, little-endian, worked out by hand: 5000 = 0x40B3880000000000,
// 4800 = 0x40B2C00000000000, 12.5 = 0x4029000000000000.
const F64_5000 = "00 00 00 00 00 88 b3 40";
const F64_4800 = "00 00 00 00 00 c0 b2 40";
const F64_12_5 = "00 00 00 00 00 00 29 40";

function decode(bytes: Uint8Array, lookup: (key: number) => typeof NSE | undefined = any) {
  const stats = createDecodeStats();
  const r = decodePacket(bytes, lookup, NOW, stats);
  return { r, stats };
}

function tickOf(r: AngelPacketResult): Tick {
  assert.equal(r.kind, "tick");
  return (r as { tick: Tick }).tick;
}

// The common header and quote block of RELIANCE (NSE 2885): seq 7, exchange time
// 1700000000123 ms, ltp 2940.70, ltq 10, atp 2938.12, volume 123456, tbq 5000, tsq 4800,
// open 2930.00, high 2950.50, low 2921.00, close 2925.40.
const HEAD = (mode: number, type = 1, token = "2885") =>
  le(mode, 1) + le(type, 1) + tokenHex(token) + i64(7) + i64(1_700_000_000_123);
const QUOTE_BODY = i64(294070) + i64(10) + i64(293812) + i64(123456) + F64_5000 + F64_4800 +
  i64(293000) + i64(295050) + i64(292100) + i64(292540);

Deno.test("golden LTP packet (51 bytes)", () => {
  const bytes = hex(HEAD(1) + i64(294070));
  assert.equal(bytes.byteLength, 51);
  const seen: number[] = [];
  const { r, stats } = decode(bytes, (k) => (seen.push(k), NSE));
  assert.deepEqual(seen, [tokenKey(1, 2885)]);
  assert.equal(stats.errors, 0);
  const t = tickOf(r);
  assert.equal(t.mode, 1);
  assert.equal(t.ltp, 2940.7);
  assert.equal(t.timestamp, 1_700_000_000_123);
  assert.equal(t.ltt, null);
  for (const f of ["open", "close", "volume", "oi", "change", "depth"] as const) {
    assert.equal(t[f], null, f);
  }
});

Deno.test("golden Quote packet (123 bytes): float64 totals, close is the previous close", () => {
  const bytes = hex(HEAD(2) + QUOTE_BODY);
  assert.equal(bytes.byteLength, 123);
  const { r, stats } = decode(bytes);
  assert.equal(stats.errors, 0);
  const t = tickOf(r);
  assert.equal(t.mode, 2);
  assert.equal(t.ltp, 2940.7);
  assert.equal(t.last_trade_quantity, 10);
  assert.equal(t.avg_trade_price, 2938.12);
  assert.equal(t.volume, 123456);
  assert.equal(t.total_buy_quantity, 5000);
  assert.equal(t.total_sell_quantity, 4800);
  assert.equal(t.open, 2930);
  assert.equal(t.high, 2950.5);
  assert.equal(t.low, 2921);
  assert.equal(t.close, 2925.4);
  assert.equal(t.change, 15.3);
  assert.equal(t.change_percent, (1530 * 100) / 292540);
  assert.equal(t.ltt, null);
  assert.equal(t.oi, null);
  assert.equal(t.depth, null);
});

/** Best five: buy i at 2940.65 - 0.05i, sell at 2940.75 + 0.05i. */
function bestFiveHex(flags = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]): string {
  let out = "";
  for (let i = 0; i < 5; i++) {
    out += i16(flags[i]) + i64(100 + i) + i64(294065 - 5 * i) + i16(3 + i);
  }
  for (let i = 0; i < 5; i++) {
    out += i16(flags[5 + i]) + i64(200 + i) + i64(294075 + 5 * i) + i16(7 + i);
  }
  return out;
}

// A SnapQuote of an NFO future (exchange type 2, token 35001): ltt 1700000000 s, OI 1234500,
// OI change 12.5 %, circuits and 52-week range.
function snapHex(type = 2, token = "35001", flags?: number[]): string {
  return HEAD(3, type, token) + QUOTE_BODY + i64(1_700_000_000) + i64(1_234_500) + F64_12_5 +
    bestFiveHex(flags) + i64(323000) + i64(264000) + i64(310000) + i64(210000);
}

Deno.test("golden SnapQuote packet (379 bytes): ltt, OI, best five split buy then sell", () => {
  const bytes = hex(snapHex());
  assert.equal(bytes.byteLength, 379);
  const nfo = { exchange: "NFO", symbol: "RELIANCE25APR24FUT" };
  const { r, stats } = decode(bytes, (k) => k === tokenKey(2, 35001) ? nfo : undefined);
  assert.equal(stats.errors, 0);
  assert.equal(stats.flagMismatch, 0);
  const t = tickOf(r);
  assert.equal(t.exchange, "NFO");
  assert.equal(t.mode, 3);
  // The reference reads OHLC of depth ticks from keys its parser never sets (zeros, §2.5).
  assert.deepEqual([t.open, t.high, t.low, t.close], [2930, 2950.5, 2921, 2925.4]);
  assert.equal(t.ltt, 1_700_000_000_000);
  assert.equal(t.oi, 1_234_500);
  assert.equal(t.depth?.buy.length, 5);
  assert.equal(t.depth?.sell.length, 5);
  assert.deepEqual(t.depth?.buy[0], { price: 2940.65, quantity: 100, orders: 3 });
  assert.deepEqual(t.depth?.buy[4], { price: 2940.45, quantity: 104, orders: 7 });
  assert.deepEqual(t.depth?.sell[0], { price: 2940.75, quantity: 200, orders: 7 });
  assert.deepEqual(t.depth?.sell[4], { price: 2940.95, quantity: 204, orders: 11 });
});

Deno.test("SnapQuote: cash segments carry no OI; a disagreeing flag is counted, not trusted", () => {
  const { r, stats } = decode(hex(snapHex(1, "2885", [1, 1, 1, 1, 0, 0, 0, 0, 0, 0])));
  const t = tickOf(r);
  assert.equal(t.oi, null);
  assert.equal(stats.flagMismatch, 1);
  assert.equal(stats.errors, 0);
  assert.equal(t.depth?.buy[4].price, 2940.45);
});

Deno.test("golden Depth-20 packet (443 bytes)", () => {
  let bids = "";
  let asks = "";
  for (let i = 0; i < 20; i++) {
    bids += i32(1000 + i) + i32(294065 - 5 * i) + i16(1 + i);
    asks += i32(2000 + i) + i32(294075 + 5 * i) + i16(21 + i);
  }
  const bytes = hex("04 01" + tokenHex("2885") + i64(1_700_000_000_456) + i64(1) + bids + asks);
  assert.equal(bytes.byteLength, 443);
  const { r, stats } = decode(bytes);
  assert.equal(stats.errors, 0);
  assert.equal(r.kind, "depth20");
  if (r.kind !== "depth20") return;
  assert.equal(r.key, tokenKey(1, 2885));
  assert.equal(r.timestamp, 1_700_000_000_456);
  assert.equal(r.depth.buy.length, 20);
  assert.equal(r.depth.sell.length, 20);
  assert.deepEqual(r.depth.buy[0], { price: 2940.65, quantity: 1000, orders: 1 });
  assert.deepEqual(r.depth.buy[19], { price: 2939.7, quantity: 1019, orders: 20 });
  assert.deepEqual(r.depth.sell[19], { price: 2941.7, quantity: 2019, orders: 40 });
});

Deno.test("indices: no volumes, no book; a 0 price is null, not 0", () => {
  const idx = { exchange: "NSE_INDEX", symbol: "NIFTY" };
  const body = i64(2200050) + i64(0) + i64(0) + i64(0) + i64(0) + i64(0) + i64(2195000) +
    i64(2210000) + i64(2190025) + i64(0);
  const q = tickOf(decode(hex(HEAD(2, 1, "99926000") + body), () => idx).r);
  assert.equal(q.ltp, 22000.5);
  assert.deepEqual([q.open, q.high, q.low], [21950, 22100, 21900.25]);
  assert.equal(q.close, null);
  assert.equal(q.change, null);
  assert.equal(q.change_percent, null);
  for (const f of ["volume", "last_trade_quantity", "avg_trade_price", "total_buy_quantity"]) {
    assert.equal(q[f as keyof Tick], null, f);
  }
  const s = tickOf(decode(hex(snapHex(1, "99926000")), () => idx).r);
  assert.equal(s.mode, 3);
  assert.equal(s.depth, null);
  assert.equal(s.oi, null);
  assert.equal(s.volume, null);
});

Deno.test("currency segment prices ÷1e7; exchange time 0 falls back to the receive time", () => {
  const bytes = hex("01 0d" + tokenHex("1234") + i64(1) + i64(0) + i64(835012500));
  const t = tickOf(decode(bytes).r);
  assert.equal(priceDivisor(13), 1e7);
  assert.equal(t.ltp, 83.50125);
  assert.equal(t.timestamp, NOW);
});

Deno.test("float64 totals that are not finite numbers become null", () => {
  // 0x7FF8000000000000 is NaN, 0x7FF0000000000000 is +Infinity.
  const body = i64(294070) + i64(10) + i64(293812) + i64(123456) + "000000000000f87f" +
    "000000000000f07f" + i64(293000) + i64(295050) + i64(292100) + i64(292540);
  const t = tickOf(decode(hex(HEAD(2) + body)).r);
  assert.equal(t.total_buy_quantity, null);
  assert.equal(t.total_sell_quantity, null);
  assert.equal(typeof parseTick(t), "object");
});

Deno.test("malformed packets are counted by reason and never throw", () => {
  const good = HEAD(1) + i64(294070);
  const cases: [string, string, keyof ReturnType<typeof createDecodeStats>][] = [
    ["empty", "", "shortPacket"],
    ["header cut", good.slice(0, 40), "shortPacket"],
    ["mode 0", "00" + good.slice(2), "unknownMode"],
    ["mode 9", "09" + good.slice(2), "unknownMode"],
    ["LTP one byte short", good.slice(0, -2), "badLength"],
    ["LTP marked as quote", "02" + good.slice(2), "badLength"],
    ["letters in token", "0101" + tokenHex("28A5") + good.slice(54), "badToken"],
    ["empty token", "0101" + "00".repeat(25) + good.slice(54), "badToken"],
    ["bytes after the NUL", "0101" + "320033" + "00".repeat(22) + good.slice(54), "badToken"],
    ["eleven digits", "0101" + tokenHex("12345678901") + good.slice(54), "badToken"],
  ];
  for (const [name, h, counter] of cases) {
    const { r, stats } = decode(hex(h));
    assert.equal(r.kind, "skip", name);
    assert.equal(stats[counter], 1, name);
    assert.equal(stats.errors, 1, name);
    assert.equal(typeof (r as { malformed?: string }).malformed, "string", name);
  }
  const { r, stats } = decode(hex(good), () => undefined);
  assert.deepEqual(r, { kind: "skip" });
  assert.equal(stats.unknownToken, 1);
  assert.equal(stats.errors, 0);
});

Deno.test("text messages: pong, JSON errors, anything else", () => {
  assert.deepEqual(decodeText("pong"), { kind: "pong" });
  assert.deepEqual(decodeText(encodeError("tp00000001", "E1002", "Invalid Request Payload")), {
    kind: "error",
    correlationID: "tp00000001",
    errorCode: "E1002",
    errorMessage: "Invalid Request Payload",
  });
  assert.deepEqual(decodeText('{"errorMessage":"x"}'), {
    kind: "error",
    correlationID: "",
    errorCode: "",
    errorMessage: "x",
  });
  for (const t of ["ping", "{", "[]", "null", '{"a":1}', "Pong"]) {
    assert.deepEqual(decodeText(t), { kind: "unknown" }, t);
  }
});

Deno.test("JSON requests: encode and server-side decode", () => {
  const text = encodeRequest(1, 2, [
    { exchangeType: 1, tokens: ["10626", "5290"] },
    { exchangeType: 5, tokens: ["234230"] },
  ], "abcde12345");
  // The example request of brokers.md §2.2, with mode 2.
  assert.equal(
    text,
    '{"correlationID":"abcde12345","action":1,"params":{"mode":2,"tokenList":' +
      '[{"exchangeType":1,"tokens":["10626","5290"]},{"exchangeType":5,"tokens":["234230"]}]}}',
  );
  assert.deepEqual(decodeRequest(text), {
    correlationID: "abcde12345",
    action: 1,
    mode: 2,
    tokenList: [{ exchangeType: 1, tokens: ["10626", "5290"] }, {
      exchangeType: 5,
      tokens: ["234230"],
    }],
  });
  assert.equal(encodeRequest(0, 4, []), '{"action":0,"params":{"mode":4,"tokenList":[]}}');
  for (
    const bad of [
      "{",
      "1",
      '{"action":2,"params":{"mode":1,"tokenList":[]}}',
      '{"action":1,"params":{"mode":5,"tokenList":[]}}',
      '{"action":1,"params":{"mode":1}}',
      '{"action":1,"params":{"mode":1,"tokenList":[{"exchangeType":1,"tokens":[2885]}]}}',
    ]
  ) {
    assert.equal(typeof decodeRequest(bad), "string", bad);
  }
});

Deno.test("round trip: encode → decode for every mode and exchange type", () => {
  const base: Omit<AngelPacket, "mode" | "exchangeType" | "token"> = {
    sequence: 99,
    exchangeTimestamp: 1_700_000_100_500,
    ltp: 100000,
    lastTradedQuantity: 7,
    averagePrice: 99950,
    volume: 9_000_000_000,
    totalBuyQuantity: 1234.5,
    totalSellQuantity: 4321,
    open: 99000,
    high: 101000,
    low: 98000,
    close: 98500,
    lastTradedTimestamp: 1_700_000_100,
    oi: 3_000_000_000,
    oiChangePercent: -1.25,
    bestFive: {
      buy: [1, 2, 3, 4, 5].map((i) => ({ quantity: i * 10, price: 100000 - i, orders: i })),
      sell: [1, 2, 3, 4, 5].map((i) => ({ quantity: i * 20, price: 100000 + i, orders: 32767 })),
    },
  };
  for (const exchangeType of [1, 2, 3, 4, 5, 7, 13]) {
    const div = priceDivisor(exchangeType);
    for (const mode of [1, 2, 3] as const) {
      const bytes = encodePacket({ ...base, mode, exchangeType, token: "4242" });
      const { r, stats } = decode(
        bytes,
        (k) => k === tokenKey(exchangeType, 4242) ? NSE : undefined,
      );
      assert.equal(stats.errors, 0);
      const t = tickOf(r);
      assert.equal(t.mode, mode);
      assert.equal(t.ltp, 100000 / div);
      assert.equal(t.timestamp, 1_700_000_100_500);
      if (mode === 1) continue;
      assert.equal(t.volume, 9_000_000_000);
      assert.equal(t.total_buy_quantity, 1234.5);
      assert.equal(t.avg_trade_price, 99950 / div);
      assert.deepEqual(
        [t.open, t.high, t.low, t.close],
        [99000, 101000, 98000, 98500].map((x) => x / div),
      );
      assert.equal(t.change, 1500 / div);
      if (mode === 2) continue;
      assert.equal(t.oi, exchangeType === 1 || exchangeType === 3 ? null : 3_000_000_000);
      assert.equal(t.ltt, 1_700_000_100_000);
      assert.deepEqual(t.depth?.buy[2], { quantity: 30, price: 99997 / div, orders: 3 });
      assert.deepEqual(t.depth?.sell[4], { quantity: 100, price: 100005 / div, orders: 32767 });
    }
  }
  const d = decode(encodeDepth20({
    exchangeType: 1,
    token: "4242",
    exchangeTimestamp: 5,
    bids: [{ quantity: 1, price: 2, orders: 3 }],
    asks: [],
  })).r;
  assert.equal(d.kind, "depth20");
  if (d.kind === "depth20") {
    assert.deepEqual(d.depth.buy[0], { quantity: 1, price: 0.02, orders: 3 });
    assert.deepEqual(d.depth.sell[0], { quantity: 0, price: 0, orders: 0 });
  }
});

Deno.test("encoder rejects values that do not fit the wire", () => {
  const p = { mode: 1 as const, exchangeType: 1, token: "1", exchangeTimestamp: 0, ltp: 1 };
  assert.throws(() => encodePacket({ ...p, ltp: 1.5 }), RangeError);
  assert.throws(() => encodePacket({ ...p, ltp: 2 ** 60 }), RangeError);
  assert.throws(() => encodePacket({ ...p, token: "A1" }), RangeError);
  assert.throws(() => encodePacket({ ...p, exchangeType: 300 }), RangeError);
  assert.throws(() =>
    encodeDepth20({
      exchangeType: 1,
      token: "1",
      exchangeTimestamp: 0,
      bids: [{ quantity: 2 ** 31, price: 1, orders: 1 }],
      asks: [],
    }), RangeError);
});

function assertSane(r: AngelPacketResult): void {
  if (r.kind !== "tick") return;
  const parsed = parseTick(r.tick);
  assert.notEqual(typeof parsed, "string", `invalid tick field ${parsed}`);
}

Deno.test("fuzz: random bytes, truncations and bit flips never throw or yield bad ticks", () => {
  const rnd = prng(0xa11e1);
  const valid = (): Uint8Array => {
    const mode = 1 + Math.floor(rnd() * 4);
    const token = String(1 + Math.floor(rnd() * 99_999_999));
    const exchangeType = [1, 2, 3, 4, 5, 7, 13][Math.floor(rnd() * 7)];
    if (mode === 4) {
      return encodeDepth20({ exchangeType, token, exchangeTimestamp: NOW, bids: [], asks: [] });
    }
    return encodePacket({
      mode: mode as 1 | 2 | 3,
      exchangeType,
      token,
      exchangeTimestamp: NOW,
      ltp: Math.floor(rnd() * 1e9),
      close: Math.floor(rnd() * 1e9),
    });
  };
  const stats = createDecodeStats();
  let cases = 0;
  for (let i = 0; i < 3000; i++) {
    const len = rnd() < 0.5 ? [51, 123, 379, 443][i % 4] : Math.floor(rnd() * 500);
    const bytes = new Uint8Array(len);
    for (let j = 0; j < len; j++) bytes[j] = Math.floor(rnd() * 256);
    if (len > 1 && rnd() < 0.5) bytes[0] = 1 + (i % 4);
    assertSane(decodePacket(bytes, any, NOW, stats));
    cases++;
  }
  for (let i = 0; i < 500; i++) {
    const packet = valid();
    assert.notEqual(decodePacket(packet, any, NOW, createDecodeStats()).kind, "skip");
    for (let cut = 0; cut < packet.length; cut += 1 + Math.floor(rnd() * 9)) {
      const s = createDecodeStats();
      const r = decodePacket(packet.subarray(0, cut), any, NOW, s);
      // A truncated packet is never accepted.
      assert.equal(r.kind, "skip");
      assert.equal(s.errors, 1);
      cases++;
    }
    const flipped = packet.slice();
    flipped[Math.floor(rnd() * flipped.length)] ^= 1 << Math.floor(rnd() * 8);
    assertSane(decodePacket(flipped, any, NOW, stats));
    cases++;
  }
  assert.ok(cases > 5000, `only ${cases} cases`);
  assert.ok(stats.errors > 0);
});
