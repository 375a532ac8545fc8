// Upstox V3 codec: golden frames assembled byte by byte from the schema's field numbers and wire
// types (brokers.md §5.3), round trips through the simulator's encoder, and fuzz.

import assert from "node:assert/strict";
import {
  createDecodeStats,
  decodeFeedFrame,
  decodeRequest,
  decodeTextReply,
  encodeFeedResponse,
  encodeRequest,
  type InstrumentRef,
  type PbQuote,
} from "./codec.ts";

// ---- protobuf wire format, spelled out for the golden frames ---------------------------------

const VARINT = 0;
const I64 = 1;
const LEN = 2;

function varint(n: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    out.push(b);
  } while (v !== 0n);
  return out;
}

function tag(field: number, wire: number): number[] {
  return varint((field << 3) | wire);
}

function double(field: number, x: number): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, x, true);
  return [...tag(field, I64), ...b];
}

function int(field: number, n: number): number[] {
  return [...tag(field, VARINT), ...varint(n)];
}

function len(field: number, body: number[]): number[] {
  return [...tag(field, LEN), ...varint(body.length), ...body];
}

function str(field: number, s: string): number[] {
  return len(field, [...new TextEncoder().encode(s)]);
}

// LTPC {1 ltp double, 2 ltt int64, 3 ltq int64, 4 cp double}
function ltpc(ltp: number, ltt: number, ltq: number, cp: number): number[] {
  return [...double(1, ltp), ...int(2, ltt), ...int(3, ltq), ...double(4, cp)];
}

// OHLC {1 interval, 2 open, 3 high, 4 low, 5 close, 6 vol, 7 ts}
function ohlc(
  interval: string,
  o: number,
  h: number,
  l: number,
  c: number,
  vol: number,
  ts: number,
) {
  return [
    ...str(1, interval),
    ...double(2, o),
    ...double(3, h),
    ...double(4, l),
    ...double(5, c),
    ...int(6, vol),
    ...int(7, ts),
  ];
}

// Quote {1 bidQ int64, 2 bidP double, 3 askQ int64, 4 askP double}
function quote(bidQ: number, bidP: number, askQ: number, askP: number): number[] {
  return [...int(1, bidQ), ...double(2, bidP), ...int(3, askQ), ...double(4, askP)];
}

// FeedResponse {1 type, 2 map<string, Feed> feeds, 3 currentTs}; a map entry is {1 key, 2 value}.
function response(type: number, feeds: [string, number[]][], currentTs: number): Uint8Array {
  const entries = feeds.flatMap(([key, feed]) => len(2, [...str(1, key), ...len(2, feed)]));
  return new Uint8Array([...int(1, type), ...entries, ...int(3, currentTs)]);
}

const RELIANCE = "NSE_EQ|INE002A01018";
const NIFTY_CE = "NSE_FO|43885";
const NIFTY = "NSE_INDEX|Nifty 50";
const REFS: Record<string, InstrumentRef> = {
  [RELIANCE]: { exchange: "NSE", symbol: "RELIANCE" },
  [NIFTY_CE]: { exchange: "NFO", symbol: "NIFTY28MAR2422000CE" },
  [NIFTY]: { exchange: "NSE_INDEX", symbol: "NIFTY" },
};
const lookup = (key: string) => REFS[key];
const LTT = 1_711_000_000_000;
const NOW = 1_711_000_000_500;

Deno.test("golden ltpc frame: last price, time in ms, quantity, previous close", () => {
  // Feed {1 ltpc, 4 requestMode = ltpc (0, not sent)}
  const bytes = response(1, [[RELIANCE, len(1, ltpc(2940.7, LTT, 25, 2925.4))]], LTT + 200);
  const stats = createDecodeStats();
  const f = decodeFeedFrame(bytes, lookup, NOW, stats);
  assert.ok(f.ok);
  assert.equal(f.type, "live_feed");
  assert.equal(f.ticks.length, 1);
  const t = f.ticks[0];
  assert.equal(t.mode, 1);
  assert.equal(t.exchange, "NSE");
  assert.equal(t.symbol, "RELIANCE");
  assert.equal(t.ltp, 2940.7);
  assert.equal(t.ltt, LTT);
  assert.equal(t.timestamp, LTT + 200, "timestamp is the frame's currentTs");
  assert.equal(t.last_trade_quantity, 25);
  assert.equal(t.close, 2925.4);
  assert.equal(t.change, 15.3);
  assert.equal(t.depth, null);
  assert.equal(stats.updates, 1);
  assert.equal(stats.ticks, 1);
  // The simulator's encoder writes the same bytes.
  assert.deepEqual(
    encodeFeedResponse({
      type: 1,
      feeds: { [RELIANCE]: { ltpc: { ltp: 2940.7, ltt: LTT, ltq: 25, cp: 2925.4 } } },
      currentTs: LTT + 200,
    }),
    bytes,
  );
});

function fullFeedBytes(levels: number): number[] {
  const book = Array.from(
    { length: levels },
    (_, i) => len(1, quote(100 + i, 102.5 - i * 0.05, 200 + i, 102.55 + i * 0.05)),
  ).flat();
  // MarketFullFeed {1 ltpc, 2 marketLevel, 4 marketOHLC, 5 atp, 6 vtt, 7 oi, 8 iv, 9 tbq, 10 tsq}
  const marketFF = [
    ...len(1, ltpc(102.5, LTT, 75, 98.2)),
    ...len(2, book),
    // The running minute candle comes first on purpose: the day candle is found by interval.
    ...len(
      4,
      [
        ...len(1, ohlc("I1", 102.1, 102.6, 102.0, 102.5, 1500, LTT - 60_000)),
        ...len(1, ohlc("1d", 99.0, 104.0, 97.5, 102.5, 1_234_500, LTT - 3_600_000)),
      ],
    ),
    ...double(5, 101.37),
    ...int(6, 1_234_500),
    ...double(7, 5_678_925),
    ...double(8, 0.1432),
    ...double(9, 456_000),
    ...double(10, 389_250),
  ];
  // Feed {2 fullFeed {1 marketFF}, 4 requestMode}
  return [...len(2, len(1, marketFF)), ...int(4, levels === 30 ? 3 : 1)];
}

Deno.test("golden full frame: day candle by interval, close = cp, book with null order counts", () => {
  const bytes = response(0, [[NIFTY_CE, fullFeedBytes(5)]], LTT + 1);
  const stats = createDecodeStats();
  const f = decodeFeedFrame(bytes, lookup, NOW, stats);
  assert.ok(f.ok);
  assert.equal(f.type, "initial_feed");
  const t = f.ticks[0];
  assert.equal(t.mode, 3);
  assert.equal(t.symbol, "NIFTY28MAR2422000CE");
  assert.equal(t.ltp, 102.5);
  assert.equal(t.open, 99.0);
  assert.equal(t.high, 104.0);
  assert.equal(t.low, 97.5);
  assert.equal(t.close, 98.2, "close is the previous close, not the day candle's running close");
  assert.equal(t.change, 4.3);
  assert.equal(t.volume, 1_234_500);
  assert.equal(t.last_trade_quantity, 75);
  assert.equal(t.avg_trade_price, 101.37);
  assert.equal(t.total_buy_quantity, 456_000);
  assert.equal(t.total_sell_quantity, 389_250);
  assert.equal(t.oi, 5_678_925);
  assert.equal(t.depth?.buy.length, 5);
  assert.deepEqual(t.depth?.buy[0], { price: 102.5, quantity: 100, orders: null });
  assert.deepEqual(t.depth?.sell[4], { price: 102.75, quantity: 204, orders: null });
  assert.equal(stats.snapshots, 1);
});

Deno.test("golden full_d30 frame: 30 levels per side", () => {
  const f = decodeFeedFrame(
    response(1, [[NIFTY_CE, fullFeedBytes(30)]], LTT),
    lookup,
    NOW,
    createDecodeStats(),
  );
  assert.ok(f.ok);
  const d = f.ticks[0].depth;
  assert.equal(d?.buy.length, 30);
  assert.equal(d?.sell.length, 30);
  assert.deepEqual(d?.buy[29], { price: 101.05, quantity: 129, orders: null });
});

Deno.test("index full feed: OHLC from the day candle, no quantities, OI or book", () => {
  // Feed {2 fullFeed {2 indexFF {1 ltpc, 2 marketOHLC}}}
  const indexFF = [
    ...len(1, ltpc(22_150.35, LTT, 0, 22_010.1)),
    ...len(2, len(1, ohlc("1d", 22_020, 22_180.5, 21_990.25, 22_150.35, 0, LTT - 3_600_000))),
  ];
  const f = decodeFeedFrame(
    response(1, [[NIFTY, [...len(2, len(2, indexFF)), ...int(4, 1)]]], LTT),
    lookup,
    NOW,
    createDecodeStats(),
  );
  assert.ok(f.ok);
  const t = f.ticks[0];
  assert.equal(t.exchange, "NSE_INDEX");
  assert.equal(t.open, 22_020);
  assert.equal(t.high, 22_180.5);
  assert.equal(t.close, 22_010.1);
  assert.equal(t.change, 140.25);
  assert.equal(t.volume, null);
  assert.equal(t.last_trade_quantity, null);
  assert.equal(t.oi, null);
  assert.equal(t.depth, null);
});

Deno.test("equity full feed: no OI (null, not the wire's default 0)", () => {
  const bytes = encodeFeedResponse({
    type: 1,
    feeds: {
      [RELIANCE]: {
        fullFeed: {
          marketFF: { ltpc: { ltp: 2940.7, ltt: LTT, ltq: 1, cp: 2925.4 }, vtt: 10, atp: 2931 },
        },
      },
    },
  });
  const f = decodeFeedFrame(bytes, lookup, NOW, createDecodeStats());
  assert.ok(f.ok);
  assert.equal(f.ticks[0].oi, null);
  assert.equal(f.ticks[0].timestamp, NOW, "no currentTs: receive time");
  assert.equal(f.ticks[0].open, null, "no day candle: no OHLC");
});

Deno.test("market_info frame: segment status, no ticks", () => {
  // MarketInfo {1 map<string, MarketStatus>}; FeedResponse {1 type = 2, 4 marketInfo}
  const entry = (seg: string, status: number) => len(1, [...str(1, seg), ...int(2, status)]);
  const bytes = new Uint8Array([
    ...int(1, 2),
    ...int(3, LTT),
    ...len(4, [...entry("NSE_EQ", 2), ...entry("MCX_FO", 3)]),
  ]);
  const stats = createDecodeStats();
  const f = decodeFeedFrame(bytes, lookup, NOW, stats);
  assert.ok(f.ok);
  assert.equal(f.type, "market_info");
  assert.deepEqual(f.segmentStatus, { NSE_EQ: "NORMAL_OPEN", MCX_FO: "NORMAL_CLOSE" });
  assert.deepEqual(f.ticks, []);
  assert.equal(stats.marketInfo, 1);
});

Deno.test("feeds for keys nobody wants and empty feeds are counted, not emitted", () => {
  const bytes = response(1, [
    ["NSE_EQ|INE000000000", len(1, ltpc(1, LTT, 1, 1))],
    [RELIANCE, int(4, 0)],
    [NIFTY_CE, len(1, ltpc(5, LTT, 1, 4))],
  ], LTT);
  const stats = createDecodeStats();
  const f = decodeFeedFrame(bytes, lookup, NOW, stats);
  assert.ok(f.ok);
  assert.equal(f.ticks.length, 1);
  assert.equal(stats.unknownKey, 1);
  assert.equal(stats.emptyFeed, 1);
  assert.equal(stats.errors, 1);
});

Deno.test("a frame of an unknown type or with a non-finite price is rejected", () => {
  const stats = createDecodeStats();
  assert.deepEqual(decodeFeedFrame(new Uint8Array(int(1, 7)), lookup, NOW, stats), {
    ok: false,
    reason: "bad_type",
  });
  const nan = response(1, [[RELIANCE, len(1, ltpc(NaN, LTT, 1, 1))]], LTT);
  const f = decodeFeedFrame(nan, lookup, NOW, stats);
  assert.ok(f.ok);
  assert.equal(f.ticks.length, 0);
  assert.equal(stats.badType, 1);
  assert.equal(stats.badValue, 1);
});

Deno.test("round trip: every encoded feed decodes to the values it was built from", () => {
  const levels: PbQuote[] = Array.from({ length: 30 }, (_, i) => ({
    bidQ: 10 * (i + 1),
    bidP: 500 - i * 0.05,
    askQ: 11 * (i + 1),
    askP: 500.05 + i * 0.05,
  }));
  const bytes = encodeFeedResponse({
    type: 1,
    currentTs: LTT,
    feeds: {
      [NIFTY_CE]: {
        fullFeed: {
          marketFF: {
            ltpc: { ltp: 500, ltt: LTT, ltq: 3, cp: 480 },
            marketLevel: { bidAskQuote: levels },
            marketOHLC: {
              ohlc: [{ interval: "1d", open: 490, high: 505, low: 470, close: 500, vol: 9 }],
            },
            atp: 495.5,
            vtt: 2 ** 40,
            oi: 12_345,
            tbq: 1,
            tsq: 2,
          },
        },
        requestMode: 3,
      },
    },
  });
  const f = decodeFeedFrame(bytes, lookup, NOW, createDecodeStats());
  assert.ok(f.ok);
  const t = f.ticks[0];
  assert.equal(t.volume, 2 ** 40, "int64 beyond 32 bits survives");
  assert.deepEqual(
    t.depth?.buy.map((l) => [l.price, l.quantity]),
    levels.map((l) => [l.bidP, l.bidQ]),
  );
  assert.deepEqual(
    t.depth?.sell.map((l) => [l.price, l.quantity]),
    levels.map((l) => [l.askP, l.askQ]),
  );
});

Deno.test("fuzz: random and truncated frames never throw and are counted", () => {
  let seed = 42;
  const rand = () => {
    seed = (seed * 1_103_515_245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const stats = createDecodeStats();
  const valid = [
    response(1, [[RELIANCE, len(1, ltpc(2940.7, LTT, 25, 2925.4))]], LTT),
    response(0, [[NIFTY_CE, fullFeedBytes(30)]], LTT),
  ];
  let rejected = 0;
  for (let i = 0; i < 3000; i++) {
    const n = Math.floor(rand() * 300);
    const bytes = new Uint8Array(n);
    for (let k = 0; k < n; k++) bytes[k] = Math.floor(rand() * 256);
    if (!decodeFeedFrame(bytes, lookup, NOW, stats).ok) rejected++;
  }
  for (const v of valid) {
    for (let cut = 0; cut < v.length; cut++) {
      if (!decodeFeedFrame(v.subarray(0, cut), lookup, NOW, stats).ok) rejected++;
    }
    // Flipped bytes
    for (let i = 0; i < 500; i++) {
      const b = v.slice();
      b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      if (!decodeFeedFrame(b, lookup, NOW, stats).ok) rejected++;
    }
  }
  assert.ok(rejected > 1000, `rejected ${rejected}`);
  assert.equal(stats.notProtobuf + stats.badType, rejected);
  assert.ok(stats.errors >= rejected);
});

Deno.test("requests are JSON in binary frames; the simulator refuses text frames and bad shapes", () => {
  const bytes = encodeRequest({
    guid: "g-1",
    method: "change_mode",
    data: { mode: "full_d30", instrumentKeys: [NIFTY_CE] },
  });
  assert.deepEqual(decodeRequest(bytes), {
    ok: true,
    request: {
      guid: "g-1",
      method: "change_mode",
      data: { mode: "full_d30", instrumentKeys: [NIFTY_CE] },
    },
  });
  assert.equal(decodeRequest(new TextDecoder().decode(bytes)).ok, false);
  const bad = new TextEncoder().encode(
    '{"guid":"g","method":"sub","data":{"mode":"ltp","instrumentKeys":["x"]}}',
  );
  assert.equal(decodeRequest(bad).ok, false);
  assert.equal(decodeRequest(new Uint8Array([0xff, 0xfe])).ok, false);
});

Deno.test("text replies: failures are recognised, other text is not a reply", () => {
  assert.deepEqual(decodeTextReply('{"status":"failed","method":"unsub","error":"bad key"}'), {
    ok: true,
    failed: true,
    text: 'unsub failed: "bad key"',
  });
  assert.equal(decodeTextReply("not json").ok, false);
  assert.equal(decodeTextReply("[1,2]").ok, false);
});
