// Tests for the Kite codec: golden frames written byte by byte from brokers.md §1, round trips,
// malformed frames and a seeded fuzz run.

import assert from "node:assert/strict";
import { parseTick } from "../../lib/adapter/messages.ts";
import { baseTick, type Tick } from "../../lib/types.ts";
import {
  chunkTokens,
  createDecodeStats,
  decodeFrame,
  decodeRequest,
  decodeTextMessage,
  encodeFrame,
  encodeHeartbeat,
  encodePacket,
  encodeSetMode,
  encodeSubscribe,
  encodeUnsubscribe,
  type KitePacket,
  packetKindFor,
  priceDivisor,
  segmentOf,
} from "./codec.ts";
import { prng } from "../../lib/adapter/sim/mod.ts";

const NOW = 1_700_000_000_123;
const REF = { exchange: "NSE", symbol: "RELIANCE" };
const any = () => REF;

/** Hex string (spaces and `|` ignored) → bytes. */
function hex(s: string): Uint8Array {
  const clean = s.replace(/[\s|]/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Big-endian hex of an unsigned 32-bit value, written without the codec. */
function u32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}
function u16(n: number): string {
  return n.toString(16).padStart(4, "0");
}

function decode(bytes: Uint8Array, lookup = any) {
  const stats = createDecodeStats();
  const ticks = decodeFrame(bytes, lookup, NOW, stats);
  return { ticks, stats };
}

Deno.test("worked example §1.9: one LTP packet, RELIANCE 2940.70", () => {
  const { ticks, stats } = decode(hex("00 01 | 00 08 | 00 0B 45 01 | 00 04 7C B6"));
  assert.equal(stats.errors, 0);
  assert.deepEqual(ticks, [baseTick("NSE", "RELIANCE", 1, 2940.7, null, NOW)]);
});

Deno.test("token arithmetic: segment, divisor, packet kind", () => {
  assert.equal(segmentOf(738561), 1);
  assert.equal(738561 >> 8, 2885);
  assert.equal(priceDivisor(738561), 100);
  assert.equal(priceDivisor((123 << 8) | 3), 1e7);
  assert.equal(priceDivisor((123 << 8) | 6), 1e4);
  assert.equal(priceDivisor((123 << 8) | 7), 100);
  assert.equal(packetKindFor(256265, "ltp"), "ltp");
  assert.equal(packetKindFor(256265, "quote"), "index_quote");
  assert.equal(packetKindFor(256265, "full"), "index_full");
  assert.equal(packetKindFor(738561, "full"), "full");
});

// A 44-byte quote: token 738561, ltp 2940.70, ltq 10, atp 2938.12, volume 123456, tbq 5000,
// tsq 4800, open 2930.00, high 2950.50, low 2921.00, close 2925.40.
const QUOTE_HEX = u32(738561) + u32(294070) + u32(10) + u32(293812) + u32(123456) + u32(5000) +
  u32(4800) + u32(293000) + u32(295050) + u32(292100) + u32(292540);

Deno.test("golden quote packet (44 bytes)", () => {
  const { ticks, stats } = decode(hex("0001" + u16(44) + QUOTE_HEX));
  assert.equal(stats.errors, 0);
  const t = ticks[0];
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
  assert.equal(t.timestamp, NOW);
});

Deno.test("golden full packet (184 bytes): ltt, OI at 48, exchange time, 5+5 depth", () => {
  let depth = "";
  for (let i = 0; i < 5; i++) depth += u32(100 + i) + u32(294065 - 5 * i) + u16(3 + i) + "0000";
  for (let i = 0; i < 5; i++) depth += u32(200 + i) + u32(294075 + 5 * i) + u16(7 + i) + "0000";
  // NFO token so OI is meaningful; ltt 1700000000, oi 1234500, oi high/low, exchange ts.
  const token = (46917 << 8) | 2;
  const body = u32(token) + QUOTE_HEX.slice(8) + u32(1_700_000_000) + u32(1_234_500) +
    u32(1_300_000) + u32(1_200_000) + u32(1_700_000_001) + depth;
  assert.equal(body.length / 2, 184);
  const { ticks, stats } = decode(hex("0001" + u16(184) + body));
  assert.equal(stats.errors, 0);
  const t = ticks[0];
  assert.equal(t.mode, 3);
  assert.equal(t.ltp, 2940.7);
  assert.equal(t.ltt, 1_700_000_000_000);
  assert.equal(t.timestamp, 1_700_000_001_000);
  // Reference bug: OI read from bytes 180–184 (inside the last depth entry). Ours reads 48–52.
  assert.equal(t.oi, 1_234_500);
  // Reference bug: price change read from bytes 44–48 (the trade time).
  assert.equal(t.change, 15.3);
  assert.deepEqual(t.depth?.buy[0], { price: 2940.65, quantity: 100, orders: 3 });
  assert.deepEqual(t.depth?.buy[4], { price: 2940.45, quantity: 104, orders: 7 });
  assert.deepEqual(t.depth?.sell[0], { price: 2940.75, quantity: 200, orders: 7 });
  assert.deepEqual(t.depth?.sell[4], { price: 2940.95, quantity: 204, orders: 11 });
  assert.equal(t.depth?.buy.length, 5);
  assert.equal(t.depth?.sell.length, 5);
});

Deno.test("golden index packets (28 and 32 bytes) carry OHLC in high/low/open/close order", () => {
  const token = 256265; // NIFTY 50, segment 9
  // ltp 22000.50 high 22100.00 low 21900.25 open 21950.00 close 21980.50, change raw 2000
  const q = u32(token) + u32(2200050) + u32(2210000) + u32(2190025) + u32(2195000) +
    u32(2198050) + u32(2000);
  const full = q + u32(1_700_000_002);
  const frame = hex("0002" + u16(28) + q + u16(32) + full);
  const lookup = () => ({ exchange: "NSE_INDEX", symbol: "NIFTY" });
  const { ticks, stats } = decode(frame, lookup);
  assert.equal(stats.errors, 0);
  assert.equal(ticks.length, 2);
  for (const t of ticks) {
    assert.equal(t.exchange, "NSE_INDEX");
    assert.equal(t.ltp, 22000.5);
    assert.equal(t.high, 22100);
    assert.equal(t.low, 21900.25);
    assert.equal(t.open, 21950);
    assert.equal(t.close, 21980.5);
    assert.equal(t.change, 20);
    assert.equal(t.volume, null);
    assert.equal(t.depth, null);
  }
  assert.equal(ticks[0].mode, 2);
  assert.equal(ticks[0].timestamp, NOW);
  assert.equal(ticks[1].mode, 3);
  assert.equal(ticks[1].timestamp, 1_700_000_002_000);
});

Deno.test("currency divisors: CDS ÷1e7, BCD ÷1e4", () => {
  const cds = (123 << 8) | 3;
  const bcd = (77 << 8) | 6;
  const frame = hex(
    "0002" + u16(8) + u32(cds) + u32(835012500) + u16(8) + u32(bcd) + u32(835013),
  );
  const { ticks } = decode(frame);
  assert.equal(ticks[0].ltp, 83.50125);
  assert.equal(ticks[1].ltp, 83.5013);
});

Deno.test("multi-packet frame: every kind, in order", () => {
  const frame = encodeFrame([
    encodePacket({ kind: "ltp", token: 738561, lastPrice: 294070 }),
    hex(QUOTE_HEX),
    encodePacket({ kind: "index_quote", token: 256265, lastPrice: 2200050, close: 2198050 }),
    encodePacket({ kind: "index_full", token: 260105, lastPrice: 4700000 }),
    encodePacket({ kind: "full", token: 408065, lastPrice: 150000 }),
  ]);
  const { ticks, stats } = decode(frame);
  assert.equal(stats.errors, 0);
  assert.deepEqual(ticks.map((t) => [t.mode, t.ltp]), [
    [1, 2940.7],
    [2, 2940.7],
    [2, 22000.5],
    [3, 47000],
    [3, 1500],
  ]);
});

Deno.test("heartbeat and empty frame", () => {
  const { ticks, stats } = decode(encodeHeartbeat());
  assert.deepEqual(ticks, []);
  assert.equal(stats.heartbeats, 1);
  assert.equal(stats.errors, 0);
  const empty = decode(hex("0000"));
  assert.deepEqual(empty.ticks, []);
  assert.equal(empty.stats.errors, 0);
});

Deno.test("malformed frames are rejected whole and counted", () => {
  const good = "00 08" + u32(738561) + u32(294070);
  const cases: [string, string, keyof ReturnType<typeof createDecodeStats>][] = [
    ["empty", "", "shortFrame"],
    ["count says 2, one packet", "0002" + good, "overrun"],
    ["length past the end", "0001 00 2c" + u32(738561) + u32(294070), "overrun"],
    ["trailing bytes", "0001" + good + "ff", "trailingBytes"],
    ["count 0 with bytes", "0000" + good, "trailingBytes"],
    ["half a length prefix", "0001 00", "overrun"],
  ];
  for (const [name, h, counter] of cases) {
    const { ticks, stats } = decode(hex(h));
    assert.deepEqual(ticks, [], name);
    assert.equal(stats[counter], 1, name);
    assert.equal(stats.errors, 1, name);
  }
});

Deno.test("unknown packet lengths and unknown tokens are skipped, neighbours kept", () => {
  const frame = hex(
    "0004" + u16(8) + u32(738561) + u32(294070) + u16(12) + u32(738561) + u32(1) + u32(2) +
      u16(8) + u32(999) + u32(5) + u16(0),
  );
  const stats = createDecodeStats();
  const ticks = decodeFrame(frame, (t) => t === 738561 ? REF : undefined, NOW, stats);
  assert.equal(ticks.length, 1);
  assert.equal(ticks[0].ltp, 2940.7);
  assert.equal(stats.unknownLength, 2);
  assert.equal(stats.unknownToken, 1);
  assert.equal(stats.errors, 2);
});

Deno.test("round trip: encode → decode for every kind and segment", () => {
  const depth = {
    buy: [1, 2, 3, 4, 5].map((i) => ({ quantity: i * 10, price: 100000 - i, orders: i })),
    sell: [1, 2, 3, 4, 5].map((i) => ({ quantity: i * 20, price: 100000 + i, orders: 65535 })),
  };
  const base: Omit<KitePacket, "kind" | "token"> = {
    lastPrice: 100000,
    lastQuantity: 7,
    averagePrice: 99950,
    volume: 4_000_000_000,
    buyQuantity: 11,
    sellQuantity: 12,
    open: 99000,
    high: 101000,
    low: 98000,
    close: 98500,
    priceChange: 1500,
    lastTradeTime: 1_700_000_100,
    oi: 3_000_000_000,
    oiDayHigh: 1,
    oiDayLow: 2,
    exchangeTimestamp: 1_700_000_101,
    depth,
  };
  for (const seg of [1, 2, 3, 4, 5, 6, 7, 8]) {
    const token = (4242 << 8) | seg;
    const div = priceDivisor(token);
    for (const kind of ["ltp", "quote", "full"] as const) {
      const { ticks, stats } = decode(encodeFrame([encodePacket({ ...base, kind, token })]));
      assert.equal(stats.errors, 0);
      const t = ticks[0];
      assert.equal(t.ltp, 100000 / div);
      if (kind === "ltp") continue;
      assert.equal(t.volume, 4_000_000_000);
      assert.equal(t.avg_trade_price, 99950 / div);
      assert.equal(t.open, 99000 / div);
      assert.equal(t.high, 101000 / div);
      assert.equal(t.low, 98000 / div);
      assert.equal(t.close, 98500 / div);
      assert.equal(t.change, 1500 / div);
      if (kind === "quote") continue;
      assert.equal(t.oi, 3_000_000_000);
      assert.equal(t.ltt, 1_700_000_100_000);
      assert.equal(t.timestamp, 1_700_000_101_000);
      assert.deepEqual(t.depth?.buy[2], { quantity: 30, price: 99997 / div, orders: 3 });
      assert.deepEqual(t.depth?.sell[4], { quantity: 100, price: 100005 / div, orders: 65535 });
    }
  }
  const idx = 256265;
  for (const kind of ["index_quote", "index_full"] as const) {
    const t = decode(encodeFrame([encodePacket({ ...base, kind, token: idx })])).ticks[0];
    assert.deepEqual([t.open, t.high, t.low, t.close], [990, 1010, 980, 985]);
    assert.equal(t.timestamp, kind === "index_full" ? 1_700_000_101_000 : NOW);
  }
});

Deno.test("encoder rejects values that do not fit the wire", () => {
  assert.throws(() => encodePacket({ kind: "ltp", token: 1, lastPrice: 1.5 }), RangeError);
  assert.throws(() => encodePacket({ kind: "ltp", token: 1, lastPrice: 2 ** 31 }), RangeError);
  assert.throws(() => encodePacket({ kind: "quote", token: 1, lastPrice: 1, volume: -1 }));
});

Deno.test("JSON requests: encode and server-side decode", () => {
  assert.equal(encodeSubscribe([408065, 884737]), '{"a":"subscribe","v":[408065,884737]}');
  assert.equal(encodeUnsubscribe([408065]), '{"a":"unsubscribe","v":[408065]}');
  assert.equal(encodeSetMode("full", [408065]), '{"a":"mode","v":["full",[408065]]}');
  assert.deepEqual(decodeRequest(encodeSetMode("ltp", [1, 2])), {
    a: "mode",
    mode: "ltp",
    tokens: [1, 2],
    ignored: 0,
  });
  assert.deepEqual(decodeRequest('{"a":"subscribe","v":[1,"2",3.5]}'), {
    a: "subscribe",
    tokens: [1],
    ignored: 2,
  });
  assert.equal(typeof decodeRequest("{"), "string");
  assert.equal(typeof decodeRequest('{"a":"mode","v":["deep",[1]]}'), "string");
  assert.equal(typeof decodeRequest('{"a":"nope"}'), "string");
  assert.deepEqual(chunkTokens(Array.from({ length: 401 }, (_, i) => i)).map((c) => c.length), [
    200,
    200,
    1,
  ]);
  assert.deepEqual(decodeTextMessage('{"type":"error","data":"x"}'), { type: "error", data: "x" });
  assert.equal(decodeTextMessage("[1]"), null);
  assert.equal(decodeTextMessage("nope"), null);
});

function assertSane(ticks: Tick[]): void {
  for (const t of ticks) {
    const parsed = parseTick(t);
    assert.notEqual(typeof parsed, "string", `invalid tick field ${parsed}`);
    for (const [k, v] of Object.entries(t)) {
      if (typeof v === "number") assert.ok(Number.isFinite(v), `${k} is ${v}`);
    }
  }
}

Deno.test("fuzz: random bytes, truncations and bit flips never throw or yield bad ticks", () => {
  const rnd = prng(0xc0ffee);
  const kinds = ["ltp", "quote", "full", "index_quote", "index_full"] as const;
  const validFrame = () => {
    const n = 1 + Math.floor(rnd() * 6);
    const packets = [];
    for (let i = 0; i < n; i++) {
      packets.push(encodePacket({
        kind: kinds[Math.floor(rnd() * kinds.length)],
        token: 1 + Math.floor(rnd() * 0xffffff),
        lastPrice: Math.floor(rnd() * 1e9),
        close: Math.floor(rnd() * 1e9),
      }));
    }
    return encodeFrame(packets);
  };
  const stats = createDecodeStats();
  let cases = 0;
  for (let i = 0; i < 3000; i++) {
    const len = Math.floor(rnd() * 400);
    const bytes = new Uint8Array(len);
    for (let j = 0; j < len; j++) bytes[j] = Math.floor(rnd() * 256);
    if (len >= 2 && rnd() < 0.5) bytes[0] = 0; // plausible small counts more often
    assertSane(decodeFrame(bytes, any, NOW, stats));
    cases++;
  }
  for (let i = 0; i < 500; i++) {
    const frame = validFrame();
    const full = decodeFrame(frame, any, NOW, createDecodeStats());
    for (let cut = 0; cut < frame.length; cut += 1 + Math.floor(rnd() * 7)) {
      const s = createDecodeStats();
      const ticks = decodeFrame(frame.subarray(0, cut), any, NOW, s);
      assertSane(ticks);
      // A truncated frame is never accepted (the 1-byte heartbeat aside).
      assert.equal(ticks.length, 0);
      if (cut !== 1) assert.equal(s.errors, 1);
      cases++;
    }
    const flipped = frame.slice();
    flipped[Math.floor(rnd() * flipped.length)] ^= 1 << Math.floor(rnd() * 8);
    const ticks = decodeFrame(flipped, any, NOW, stats);
    assertSane(ticks);
    assert.ok(ticks.length <= full.length);
    cases++;
  }
  assert.ok(cases > 5000, `only ${cases} cases`);
});
