// Tests for the Dhan codec: golden packets written byte by byte from brokers.md §3.3 (no official
// JS client exists to check against), a message of several concatenated packets, previous-close
// and OI merging, round trips through the simulator's encoders, malformed input and a fuzz run.

import assert from "node:assert/strict";
import { parseTick } from "../../lib/adapter/messages.ts";
import type { Tick } from "../../lib/types.ts";
import {
  createDecodeStats,
  decodeFrame,
  decodeRequest,
  type DhanFull,
  encodeDisconnect,
  encodeDisconnectRequest,
  encodeFull,
  encodeMarketStatus,
  encodeOi,
  encodePrevClose,
  encodeQuote,
  encodeRequest,
  encodeTicker,
  joinPackets,
  type MergeState,
  tokenKey,
} from "./codec.ts";
import { prng } from "../../lib/adapter/sim/mod.ts";

const NOW = 1_700_000_000_999;
const HDFC = { exchange: "NSE", symbol: "HDFCBANK" };

/** Hex string (spaces and `|` ignored) → bytes. */
function hex(s: string): Uint8Array {
  const clean = s.replace(/[\s|]/g, "");
  assert.equal(clean.length % 2, 0);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Little-endian hex of an unsigned integer of `bytes` bytes, written without the codec. */
function le(n: number, bytes: number): string {
  let out = "";
  for (let i = 0; i < bytes; i++) {
    out += (Math.floor(n / 256 ** i) % 256).toString(16).padStart(2, "0");
  }
  return out;
}

// float32 little-endian, worked out by hand (sign | exponent+127 | 23-bit mantissa), e.g.
// 1642.5 = 1.60400390625 × 2^10 → 0 10001001 1001101 0101 0000… = 0x44CD5000.
const F = {
  "1642.5": "0050cd44",
  "1640.25": "0008cd44",
  "1630": "00c0cb44",
  "1650.75": "0058ce44",
  "1625.5": "0030cb44",
  "1620": "0080ca44",
  "1600": "0000c844",
  "1641": "0020cd44",
  "1642.45": "664ecd44", // nearest float32 is 1642.449951…
  "1642.55": "9a51cd44", // nearest float32 is 1642.550048…
  "2940.7": "33cb3745", // nearest float32 is 2940.699951…
  "83.2525": "4881a642", // nearest float32 is 83.252502…
  "21950.5": "007dab46",
  "22000.25": "80e0ab46",
  "0": "00000000",
} as const;

/** The 8-byte header: code, total length, segment, security id. */
function head(code: number, length: number, segment: number, id: number): string {
  return le(code, 1) + le(length, 2) + le(segment, 1) + le(id, 4);
}

const LTT = 1_700_000_000; // 0x6553F100

function decode(
  bytes: Uint8Array,
  state: MergeState = new Map(),
  lookup: (key: number) => typeof HDFC | undefined = () => HDFC,
) {
  const stats = createDecodeStats();
  const r = decodeFrame(bytes, lookup, NOW, state, stats);
  return { r, stats, state };
}

Deno.test("golden Ticker packet (16 bytes)", () => {
  const bytes = hex("02 | 10 00 | 01 | 35 05 00 00 | 00 50 cd 44 | 00 f1 53 65");
  assert.equal(
    head(2, 16, 1, 1333) + F["1642.5"] + le(LTT, 4),
    "0210000135050000" + "0050cd44" + "00f15365",
  );
  const seen: number[] = [];
  const { r, stats } = decode(bytes, new Map(), (k) => (seen.push(k), HDFC));
  assert.deepEqual(seen, [tokenKey(1, 1333)]);
  assert.equal(stats.errors, 0);
  assert.equal(r.ticks.length, 1);
  const t = r.ticks[0];
  assert.equal(t.mode, 1);
  assert.equal(t.ltp, 1642.5);
  assert.equal(t.ltt, LTT * 1000);
  assert.equal(t.timestamp, NOW);
  for (const f of ["open", "close", "change", "volume", "oi", "depth"] as const) {
    assert.equal(t[f], null, f);
  }
});

// Quote of HDFCBANK: ltp 1642.5, ltq 25, ltt, atp 1640.25, volume 1234567, total sell 4800,
// total buy 5000, open 1630, close 0 (not sent during the session), high 1650.75, low 1625.5.
const QUOTE = head(4, 50, 1, 1333) + F["1642.5"] + le(25, 2) + le(LTT, 4) + F["1640.25"] +
  le(1234567, 4) + le(4800, 4) + le(5000, 4) + F["1630"] + F["0"] + F["1650.75"] + F["1625.5"];
const PREV_CLOSE = head(6, 16, 1, 1333) + F["1620"] + le(0, 4);

Deno.test("golden Quote packet (50 bytes): open, close, high, low; sell qty before buy qty", () => {
  const bytes = hex(QUOTE);
  assert.equal(bytes.byteLength, 50);
  const { r, stats } = decode(bytes);
  assert.equal(stats.errors, 0);
  const t = r.ticks[0];
  assert.equal(t.mode, 2);
  assert.equal(t.ltp, 1642.5);
  assert.equal(t.last_trade_quantity, 25);
  assert.equal(t.ltt, LTT * 1000);
  assert.equal(t.avg_trade_price, 1640.25);
  assert.equal(t.volume, 1234567);
  assert.equal(t.total_sell_quantity, 4800);
  assert.equal(t.total_buy_quantity, 5000);
  assert.deepEqual([t.open, t.high, t.low], [1630, 1650.75, 1625.5]);
  // No previous-close packet yet: close and change unknown, not 0.
  assert.equal(t.close, null);
  assert.equal(t.change, null);
  assert.equal(t.change_percent, null);
  assert.equal(t.oi, null);
  assert.equal(t.depth, null);
});

Deno.test("a message of several packets: prev close, OI, quote, ticker, market status", () => {
  // Prev close 1620 for HDFCBANK, OI 5000 for an NFO future (segment 2, id 35001) that then
  // quotes, HDFCBANK quote and ticker, and a market-status packet: 16+12+50+50+16+8 bytes.
  const futQuote = head(4, 50, 2, 35001) + F["21950.5"] + le(50, 2) + le(LTT, 4) + F["0"] +
    le(700, 4) + le(1, 4) + le(2, 4) + F["21950.5"] + F["0"] + F["22000.25"] + F["21950.5"];
  const frame = hex(
    PREV_CLOSE + head(5, 12, 2, 35001) + le(5000, 4) + QUOTE + futQuote +
      head(2, 16, 1, 1333) + F["1641"] + le(LTT + 1, 4) + head(7, 8, 1, 0),
  );
  assert.equal(frame.byteLength, 152);
  const fut = { exchange: "NFO", symbol: "NIFTY28MAR24FUT" };
  const lookup = (k: number) =>
    k === tokenKey(1, 1333) ? HDFC : k === tokenKey(2, 35001) ? fut : undefined;
  const { r, stats, state } = decode(frame, new Map(), lookup);
  assert.equal(stats.errors, 0);
  assert.equal(stats.packets, 6);
  assert.equal(stats.merged, 2);
  assert.equal(stats.marketStatus, 1);
  assert.deepEqual(r.ticks.map((t) => [t.symbol, t.mode, t.ltp]), [
    ["HDFCBANK", 2, 1642.5],
    ["NIFTY28MAR24FUT", 2, 21950.5],
    ["HDFCBANK", 1, 1641],
  ]);
  const [q, f, tk] = r.ticks;
  // The reference drops previous-close and OI packets; we merge them.
  assert.equal(q.close, 1620);
  assert.equal(q.change, 22.5);
  assert.equal(q.change_percent, (22.5 * 100) / 1620);
  assert.equal(q.oi, null); // cash segment
  assert.equal(f.oi, 5000);
  assert.equal(f.close, null);
  assert.equal(f.avg_trade_price, null); // 0 price → not sent
  assert.equal(tk.close, null); // LTP ticks carry only LTP fields
  assert.deepEqual(state.get(tokenKey(1, 1333)), { prevClose: 1620, oi: null });
  assert.deepEqual(state.get(tokenKey(2, 35001)), { prevClose: null, oi: 5000 });
  // The state outlives the message: the next quote still has its previous close.
  const next = decode(hex(QUOTE), state).r.ticks[0];
  assert.equal(next.close, 1620);
});

Deno.test("golden Full packet (162 bytes): OI, five bid/ask entries", () => {
  let depth = "";
  // Entry i: bid qty 100+i, ask qty 200+i, bid orders 3+i, ask orders 7+i, bid 1642.45, ask 1642.55
  for (let i = 0; i < 5; i++) {
    depth += le(100 + i, 4) + le(200 + i, 4) + le(3 + i, 2) + le(7 + i, 2) + F["1642.45"] +
      F["1642.55"];
  }
  const body = head(8, 162, 2, 35001) + F["2940.7"] + le(25, 2) + le(LTT, 4) + F["1640.25"] +
    le(1234567, 4) + le(4800, 4) + le(5000, 4) + le(777777, 4) + le(800000, 4) + le(700000, 4) +
    F["1630"] + F["0"] + F["1650.75"] + F["1625.5"] + depth;
  const bytes = hex(PREV_CLOSE.replace("01350500", "02b98800") + body);
  assert.equal(bytes.byteLength, 16 + 162);
  const fut = { exchange: "NFO", symbol: "X" };
  const { r, stats } = decode(bytes, new Map(), (k) => k === tokenKey(2, 35001) ? fut : undefined);
  assert.equal(stats.errors, 0);
  const t = r.ticks[0];
  assert.equal(t.mode, 3);
  assert.equal(t.ltp, 2940.7); // float32 2940.699951… rounded to paise
  assert.equal(t.oi, 777777);
  assert.equal(t.close, 1620);
  assert.equal(t.change, 1320.7);
  assert.deepEqual([t.open, t.high, t.low], [1630, 1650.75, 1625.5]);
  assert.equal(t.depth?.buy.length, 5);
  assert.deepEqual(t.depth?.buy[0], { price: 1642.45, quantity: 100, orders: 3 });
  assert.deepEqual(t.depth?.sell[0], { price: 1642.55, quantity: 200, orders: 7 });
  assert.deepEqual(t.depth?.buy[4], { price: 1642.45, quantity: 104, orders: 7 });
  assert.deepEqual(t.depth?.sell[4], { price: 1642.55, quantity: 204, orders: 11 });
});

Deno.test("indices (IDX_I): no volumes or book; currencies keep four decimals", () => {
  const idx = { exchange: "NSE_INDEX", symbol: "NIFTY" };
  const q = hex(
    head(4, 50, 0, 13) + F["22000.25"] + le(0, 2) + le(LTT, 4) + F["0"] + le(0, 4) + le(0, 4) +
      le(0, 4) + F["21950.5"] + F["0"] + F["22000.25"] + F["21950.5"],
  );
  const t = decode(q, new Map(), () => idx).r.ticks[0];
  assert.equal(t.ltp, 22000.25);
  assert.equal(t.mode, 3); // no book exists: the Quote serves Depth subscribers too
  assert.equal(t.depth, null);
  assert.equal(t.volume, null);
  assert.equal(t.last_trade_quantity, null);
  assert.equal(t.total_buy_quantity, null);
  assert.equal(t.oi, null);
  const full = encodeFull(0, 13, {
    ...quoteOf(22000.25),
    oi: 9,
    oiDayHigh: 9,
    oiDayLow: 9,
    depth: [],
  });
  const f = decode(full, new Map(), () => idx).r.ticks[0];
  assert.equal(f.depth, null);
  assert.equal(f.oi, null);
  const cur = decode(hex(head(2, 16, 3, 8000) + F["83.2525"] + le(LTT, 4))).r.ticks[0];
  assert.equal(cur.ltp, 83.2525);
});

Deno.test("disconnect packet: the reason code is returned (805–809)", () => {
  for (const reason of [805, 806, 807, 808, 809]) {
    const { r, stats } = decode(hex(head(50, 10, 0, 0) + le(reason, 2)));
    assert.equal(r.disconnect, reason);
    assert.equal(stats.errors, 0);
    assert.deepEqual(r.ticks, []);
  }
  assert.deepEqual(encodeDisconnect(807), hex(head(50, 10, 0, 0) + le(807, 2)));
});

Deno.test("malformed messages: framing errors reject the message, bad packets are skipped", () => {
  const ticker = head(2, 16, 1, 1333) + F["1642.5"] + le(LTT, 4);
  const whole: [string, string, keyof ReturnType<typeof createDecodeStats>][] = [
    ["empty", "", "shortPacket"],
    ["7 bytes", ticker.slice(0, 14), "shortPacket"],
    ["length 4", "02 04 00 01 35 05 00 00", "shortPacket"],
    ["length past the end", ticker.slice(0, 30), "overrun"],
    ["trailing half header", ticker + "0210", "shortPacket"],
    ["second length past the end", ticker + head(2, 40, 1, 1333) + F["1642.5"], "overrun"],
  ];
  for (const [name, h, counter] of whole) {
    const { r, stats } = decode(hex(h));
    assert.deepEqual(r.ticks, [], name);
    assert.equal(stats[counter], 1, name);
    assert.equal(stats.errors, 1, name);
    assert.equal(typeof r.malformed, "string", name);
  }
  // A well-framed message: unknown code 99 and a ticker claiming 20 bytes are skipped, the
  // ticker after them is kept.
  const frame = hex(
    head(99, 12, 1, 1333) + "00000000" + head(2, 20, 1, 1333) + F["1642.5"] + le(LTT, 4) +
      "00000000" + ticker,
  );
  const { r, stats } = decode(frame);
  assert.equal(r.ticks.length, 1);
  assert.equal(stats.unknownCode, 1);
  assert.equal(stats.badLength, 1);
  assert.equal(stats.errors, 2);
  assert.equal(r.malformed, "unknown response code");
  // Unknown instruments are skipped, not errors; their prev close is not kept.
  const u = decode(hex(PREV_CLOSE + ticker), new Map(), () => undefined);
  assert.deepEqual(u.r.ticks, []);
  assert.equal(u.stats.unknownToken, 2);
  assert.equal(u.stats.errors, 0);
  assert.equal(u.state.size, 0);
});

Deno.test("JSON requests: encode and server-side decode", () => {
  const text = encodeRequest(15, [
    { segment: "NSE_EQ", securityId: "1333" },
    { segment: "BSE_EQ", securityId: "532540" },
  ]);
  // The example request of brokers.md §3.2.
  assert.equal(
    text,
    '{"RequestCode":15,"InstrumentCount":2,"InstrumentList":[{"ExchangeSegment":"NSE_EQ",' +
      '"SecurityId":"1333"},{"ExchangeSegment":"BSE_EQ","SecurityId":"532540"}]}',
  );
  assert.deepEqual(decodeRequest(text), {
    code: 15,
    instruments: [{ segment: "NSE_EQ", securityId: "1333" }, {
      segment: "BSE_EQ",
      securityId: "532540",
    }],
  });
  assert.deepEqual(decodeRequest(encodeDisconnectRequest()), { code: 12, instruments: [] });
  for (
    const bad of [
      "{",
      "[]",
      '{"RequestCode":15,"InstrumentCount":2,"InstrumentList":[]}',
      '{"RequestCode":15,"InstrumentCount":1,"InstrumentList":[{"ExchangeSegment":"NYSE","SecurityId":"1"}]}',
      '{"RequestCode":15,"InstrumentCount":1,"InstrumentList":[{"ExchangeSegment":"NSE_EQ","SecurityId":1}]}',
      '{"RequestCode":15.5}',
    ]
  ) {
    assert.equal(typeof decodeRequest(bad), "string", bad);
  }
});

function quoteOf(ltp: number) {
  return {
    ltp,
    lastQuantity: 65535,
    ltt: LTT,
    averagePrice: 1640.25,
    volume: 4_000_000_000,
    totalSellQuantity: 11,
    totalBuyQuantity: 12,
    open: 1630,
    close: 0,
    high: 1650.75,
    low: 1625.5,
  };
}

Deno.test("round trip: simulator encoders → decoder, one message of every kind", () => {
  const full: DhanFull = {
    ...quoteOf(1642.5),
    oi: 4_000_000_000,
    oiDayHigh: 1,
    oiDayLow: 2,
    depth: [1, 2, 3, 4, 5].map((i) => ({
      bidQuantity: i,
      askQuantity: 10 * i,
      bidOrders: i,
      askOrders: 65535,
      bidPrice: 1642.5 - i / 20,
      askPrice: 1642.5 + i / 20,
    })),
  };
  const frame = joinPackets([
    encodePrevClose(2, 7, 1600, 99),
    encodeOi(2, 7, 123),
    encodeTicker(2, 7, 1642.5, LTT),
    encodeQuote(2, 7, quoteOf(1642.5)),
    encodeFull(2, 7, full),
    encodeMarketStatus(2),
  ]);
  const ref = { exchange: "NFO", symbol: "Y" };
  const { r, stats, state } = decode(
    frame,
    new Map(),
    (k) => k === tokenKey(2, 7) ? ref : undefined,
  );
  assert.equal(stats.errors, 0);
  assert.deepEqual(r.ticks.map((t) => t.mode), [1, 2, 3]);
  const [, q, f] = r.ticks;
  assert.equal(q.oi, 123);
  assert.equal(q.close, 1600);
  assert.equal(q.change, 42.5);
  assert.equal(q.volume, 4_000_000_000);
  assert.equal(q.last_trade_quantity, 65535);
  assert.equal(f.oi, 4_000_000_000);
  assert.equal(state.get(tokenKey(2, 7))?.oi, 4_000_000_000);
  assert.deepEqual(f.depth?.buy[1], { price: 1642.4, quantity: 2, orders: 2 });
  assert.deepEqual(f.depth?.sell[4], { price: 1642.75, quantity: 50, orders: 65535 });
  assert.throws(() => encodeTicker(1, -1, 1, 0), RangeError);
  assert.throws(() => encodeOi(1, 1, 2 ** 32), RangeError);
  assert.throws(() => encodeQuote(1, 1, { ...quoteOf(1), lastQuantity: 70000 }), RangeError);
});

function assertSane(ticks: Tick[]): void {
  for (const t of ticks) {
    const parsed = parseTick(t);
    assert.notEqual(typeof parsed, "string", `invalid tick field ${parsed}`);
  }
}

Deno.test("fuzz: random bytes, truncations and bit flips never throw or yield bad ticks", () => {
  const rnd = prng(0xd4a9);
  const any = () => HDFC;
  const packet = (): Uint8Array => {
    const seg = [0, 1, 2, 3, 4, 5, 7, 8][Math.floor(rnd() * 8)];
    const id = Math.floor(rnd() * 2_000_000);
    const ltp = rnd() * 50_000;
    switch (Math.floor(rnd() * 6)) {
      case 0:
        return encodeTicker(seg, id, ltp, LTT);
      case 1:
        return encodeQuote(seg, id, quoteOf(ltp));
      case 2:
        return encodeFull(seg, id, {
          ...quoteOf(ltp),
          oi: 1,
          oiDayHigh: 1,
          oiDayLow: 1,
          depth: [],
        });
      case 3:
        return encodeOi(seg, id, 5);
      case 4:
        return encodePrevClose(seg, id, ltp, 0);
      default:
        return encodeDisconnect(805);
    }
  };
  const stats = createDecodeStats();
  const state: MergeState = new Map();
  let cases = 0;
  for (let i = 0; i < 3000; i++) {
    const len = Math.floor(rnd() * 400);
    const bytes = new Uint8Array(len);
    for (let j = 0; j < len; j++) bytes[j] = Math.floor(rnd() * 256);
    if (len >= 3 && rnd() < 0.5) {
      bytes[1] = len & 0xff; // plausible lengths more often
      bytes[2] = len >> 8;
    }
    assertSane(decodeFrame(bytes, any, NOW, state, stats).ticks);
    cases++;
  }
  for (let i = 0; i < 500; i++) {
    const parts = Array.from({ length: 1 + Math.floor(rnd() * 5) }, packet);
    const frame = joinPackets(parts);
    const whole = decodeFrame(frame, any, NOW, new Map(), createDecodeStats());
    assert.equal(whole.malformed, undefined);
    const boundaries = new Set<number>();
    for (let o = 0, k = 0; k < parts.length; k++) boundaries.add(o += parts[k].byteLength);
    for (let cut = 0; cut < frame.length; cut += 1 + Math.floor(rnd() * 9)) {
      // A cut on a packet boundary is a valid shorter message; any other cut is rejected whole.
      if (boundaries.has(cut)) continue;
      const s = createDecodeStats();
      const r = decodeFrame(frame.subarray(0, cut), any, NOW, new Map(), s);
      assert.deepEqual(r.ticks, []);
      assert.equal(r.disconnect, undefined);
      assert.equal(s.errors, 1);
      cases++;
    }
    const flipped = frame.slice();
    flipped[Math.floor(rnd() * flipped.length)] ^= 1 << Math.floor(rnd() * 8);
    const r = decodeFrame(flipped, any, NOW, new Map(), stats);
    assertSane(r.ticks);
    // A flip may turn one packet kind into another of the same length (prev close ↔ ticker).
    assert.ok(r.ticks.length <= parts.length);
    cases++;
  }
  assert.ok(cases > 5000, `only ${cases} cases`);
  assert.ok(stats.errors > 0);
});
