// Tests for the Groww codec: golden payloads written byte by byte from brokers.md §11.4/§11.6,
// the per-subject merge of partial messages (§11.9), round trips through the encoders the
// simulator uses, and a seeded fuzz run that must never throw.

import assert from "node:assert/strict";
import { parseTick } from "../../lib/adapter/messages.ts";
import { baseTick, type Tick } from "../../lib/types.ts";
import {
  createDecodeStats,
  decodeMessage,
  decodePayload,
  encodeBook,
  encodeIndex,
  encodePrice,
  FeedCache,
  type InstrumentRef,
  parseSubject,
  streamKey,
  subjectOf,
} from "./codec.ts";

const NOW = 1_700_000_000_123;
const TS = 1_760_000_000_000;
const RELIANCE: InstrumentRef = { exchange: "NSE", symbol: "RELIANCE" };
const NIFTY: InstrumentRef = { exchange: "NSE_INDEX", symbol: "NIFTY" };
const KEYS: Record<string, InstrumentRef> = {
  "eq/nse/2885": RELIANCE,
  "indices/nse/NIFTY": NIFTY,
  "eq/bse/2885": { exchange: "BSE", symbol: "BSEONLY" },
};
const lookup = (key: string) => KEYS[key];

/** Hex string (spaces and `|` ignored) → bytes. */
function hex(s: string): Uint8Array {
  const clean = s.replace(/[\s|]/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** A double as 8 little-endian bytes in hex, written without the codec. */
function f64(n: number): string {
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, n, true);
  return [...new Uint8Array(v.buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A varint in hex (protobuf base-128, little-endian groups). */
function varint(n: number): string {
  const out: string[] = [];
  do {
    const b = n & 0x7f;
    n >>>= 7;
    out.push((n > 0 ? b | 0x80 : b).toString(16).padStart(2, "0"));
  } while (n > 0);
  return out.join(" ");
}

/** A length-delimited field: tag byte, varint length, body. */
function ld(tag: number, bodyHex: string): string {
  const len = bodyHex.replace(/[\s|]/g, "").length / 2;
  return `${tag.toString(16).padStart(2, "0")} ${varint(len)} ${bodyHex}`;
}

/** A double field: tag varint (field << 3 | 1; two bytes from field 16 on) then the value. */
function dbl(field: number, n: number): string {
  return `${varint((field << 3) | 1)} ${f64(n)}`;
}

const LTP_GOLDEN = "0A 08 52 45 4C 49 41 4E 43 45 | 18 01 | 22 1B | 09 00 00 00 CC 82 9C 79 42 |" +
  " 31 00 00 00 00 87 D6 32 41 | 69 66 66 66 66 66 F9 A6 40";
const DEPTH_GOLDEN = "18 01 | 2A 39 | 09 00 00 00 CC 82 9C 79 42 |" +
  " 12 16 08 01 12 12 09 CD CC CC CC 4C F9 A6 40 11 00 00 00 00 00 00 59 40 |" +
  " 1A 16 08 01 12 12 09 00 00 00 00 80 F9 A6 40 11 00 00 00 00 00 00 69 40";

function run(cache: FeedCache, subject: string, bytes: Uint8Array, stats = createDecodeStats()) {
  const r = decodeMessage(subject, bytes, lookup, cache, NOW, stats);
  if (r.tick !== null) assert.equal(typeof parseTick(r.tick), "object", "tick passes parseTick");
  return { ...r, stats };
}

function quote(fields: Partial<Tick>, mode: 2 | 3 = 2): Tick {
  return { ...baseTick("NSE", "RELIANCE", mode, 0, null, NOW), ...fields };
}

Deno.test("worked example §11.6: LTP payload on /ld/eq/nse/price.2885", () => {
  const bytes = hex(LTP_GOLDEN);
  assert.equal(bytes.length, 41);
  const { tick, stats } = run(new FeedCache(), "/ld/eq/nse/price.2885", bytes);
  assert.equal(stats.errors, 0);
  assert.deepEqual(
    tick,
    quote({ ltp: 2940.7, ltt: TS, timestamp: TS, volume: 1234567 }),
  );
});

Deno.test("the encoder the simulator uses writes the §11.6 LTP bytes exactly", () => {
  const bytes = encodePrice({ tsInMillis: TS, volume: 1234567, ltp: 2940.7 }, {
    symbol: "RELIANCE",
    exchange: 1,
    segment: 0,
  });
  assert.deepEqual(bytes, hex(LTP_GOLDEN));
});

Deno.test("worked example §11.6: depth payload; the map key is a level, never an order count", () => {
  const cache = new FeedCache();
  cache.setDepth("eq/nse/2885", true);
  // A book before any price: nothing to publish yet (no LTP), but the book is kept.
  const first = run(cache, "/ld/eq/nse/book.2885", hex(DEPTH_GOLDEN));
  assert.equal(first.tick, null);
  assert.equal(first.stats.noTick, 1);
  const { tick } = run(cache, "/ld/eq/nse/price.2885", hex(LTP_GOLDEN));
  assert.deepEqual(tick?.depth, {
    buy: [{ price: 2940.65, quantity: 100, orders: null }],
    sell: [{ price: 2940.75, quantity: 200, orders: null }],
  });
  assert.equal(tick?.mode, 3);
  assert.deepEqual(
    encodeBook({
      tsInMillis: TS,
      buy: [{ price: 2940.65, qty: 100 }],
      sell: [{ price: 2940.75, qty: 200 }],
    }, { exchange: 1 }),
    hex(DEPTH_GOLDEN),
  );
});

Deno.test("field mapping §11.9.7: every StocksLivePriceProto number lands where it belongs", () => {
  const payload = ld(
    0x22,
    [
      dbl(1, TS),
      dbl(2, 100.5), // open
      dbl(3, 110.25), // high
      dbl(4, 99.75), // low
      dbl(5, 101), // close
      dbl(6, 5000.4), // volume (rounded)
      dbl(7, 512345.5), // value: not in the tick
      dbl(8, 700.6), // bidQty → total_buy_quantity
      dbl(9, 800), // offerQty → total_sell_quantity
      dbl(10, 104.12), // avgPrice
      dbl(11, 120), // circuits and trade ranges: not in the tick
      dbl(12, 90),
      dbl(13, 105.05), // ltp
      dbl(14, 4200), // openInterest
      dbl(15, 95),
      dbl(16, 115),
    ].join(" "),
  );
  const { tick } = run(new FeedCache(), "/ld/eq/nse/price.2885", hex(payload));
  assert.deepEqual(
    tick,
    quote({
      ltp: 105.05,
      ltt: TS,
      timestamp: TS,
      open: 100.5,
      high: 110.25,
      low: 99.75,
      close: 101,
      volume: 5000,
      avg_trade_price: 104.12,
      total_buy_quantity: 701,
      total_sell_quantity: 800,
      oi: 4200,
    }),
  );
});

Deno.test("partial updates merge per subject: absent fields keep their last value", () => {
  const cache = new FeedCache();
  const subject = "/ld/eq/nse/price.2885";
  const full = ld(
    0x22,
    [dbl(1, TS), dbl(2, 100), dbl(3, 110), dbl(4, 95), dbl(5, 99), dbl(6, 1000), dbl(13, 105)]
      .join(" "),
  );
  run(cache, subject, hex(full));
  // Only ltp and timestamp changed.
  const a = run(cache, subject, hex(ld(0x22, `${dbl(1, TS + 1000)} ${dbl(13, 106.5)}`)));
  assert.deepEqual(
    a.tick,
    quote({
      ltp: 106.5,
      ltt: TS + 1000,
      timestamp: TS + 1000,
      open: 100,
      high: 110,
      low: 95,
      close: 99,
      volume: 1000,
    }),
  );
  // Only volume changed (no timestamp): ltp and ltt kept, packet time = receive time.
  const b = run(cache, subject, hex(ld(0x22, dbl(6, 1500))));
  assert.equal(b.tick?.ltp, 106.5);
  assert.equal(b.tick?.ltt, TS + 1000);
  assert.equal(b.tick?.timestamp, NOW);
  assert.equal(b.tick?.volume, 1500);
  assert.equal(b.tick?.open, 100);
  // NSE and BSE share token numbers; their states stay apart.
  const bse = run(cache, "/ld/eq/bse/price.2885", hex(ld(0x22, dbl(13, 7))));
  assert.deepEqual(bse.tick?.exchange, "BSE");
  assert.equal(bse.tick?.open, null, "fields never sent are null, not 0");
  assert.equal(run(cache, subject, hex(ld(0x22, dbl(6, 1600)))).tick?.ltp, 106.5);
  // A new connection starts from fresh snapshots.
  cache.clear();
  const c = run(cache, subject, hex(ld(0x22, dbl(6, 1700))));
  assert.equal(c.tick, null, "no last price on this connection yet");
});

Deno.test("depth: sorted by price whatever the map order, one-side updates keep the other side", () => {
  const cache = new FeedCache();
  cache.setDepth("eq/nse/2885", true);
  run(cache, "/ld/eq/nse/price.2885", hex(ld(0x22, dbl(13, 100))));
  // A map entry: tag 0x12 (buyBook) or 0x1A (sellBook), {1: level varint, 2: BookProto}.
  const entry = (tag: number, level: number, price: number, q: number) =>
    ld(
      tag,
      `08 ${level.toString(16).padStart(2, "0")} ${ld(0x12, `${dbl(1, price)} ${dbl(2, q)}`)}`,
    );
  // Levels arrive out of order, keys disagree with price order, one level empty.
  const book = ld(
    0x2a,
    [
      dbl(1, TS + 5),
      entry(0x12, 2, 99.9, 20.4),
      entry(0x12, 1, 99.95, 10),
      entry(0x12, 3, 99.8, 30),
      entry(0x12, 4, 0, 0),
      entry(0x1a, 2, 100.1, 5),
      entry(0x1a, 1, 100.05, 7),
    ].join(" "),
  );
  const { tick } = run(cache, "/ld/eq/nse/book.2885", hex(book));
  assert.deepEqual(tick?.depth, {
    buy: [
      { price: 99.95, quantity: 10, orders: null },
      { price: 99.9, quantity: 20, orders: null },
      { price: 99.8, quantity: 30, orders: null },
    ],
    sell: [
      { price: 100.05, quantity: 7, orders: null },
      { price: 100.1, quantity: 5, orders: null },
    ],
  });
  assert.equal(tick?.timestamp, TS + 5);
  assert.equal(tick?.mode, 3);
  // Only the sell side changed: the buy side is kept.
  const upd = run(
    cache,
    "/ld/eq/nse/book.2885",
    encodeBook({ sell: [{ price: 100.2, qty: 9 }] }),
  );
  assert.equal(upd.tick?.depth?.buy.length, 3);
  assert.deepEqual(upd.tick?.depth?.sell, [{ price: 100.2, quantity: 9, orders: null }]);
  // Price updates of a Depth instrument carry the book too.
  assert.equal(
    run(cache, "/ld/eq/nse/price.2885", encodePrice({ ltp: 101 })).tick?.depth?.buy[0]
      .price,
    99.95,
  );
  // Leaving Depth drops the book: price ticks are Quote again, late books make no tick.
  cache.setDepth("eq/nse/2885", false);
  assert.equal(run(cache, "/ld/eq/nse/price.2885", encodePrice({ ltp: 102 })).tick?.mode, 2);
  assert.equal(
    run(cache, "/ld/eq/nse/book.2885", encodeBook({ buy: [{ price: 1, qty: 1 }] })).tick,
    null,
  );
});

Deno.test("indices: value → ltp on NSE_INDEX; Depth gets a Depth tick without levels", () => {
  const cache = new FeedCache();
  const bytes = hex(ld(0x32, `${dbl(1, TS)} ${dbl(2, 25012.35)}`));
  const { tick } = run(cache, "/ld/indices/nse/price.NIFTY", bytes);
  assert.deepEqual(tick, baseTick("NSE_INDEX", "NIFTY", 2, 25012.35, TS, TS));
  cache.setDepth("indices/nse/NIFTY", true);
  const d = run(cache, "/ld/indices/nse/price.NIFTY", hex(ld(0x32, dbl(2, 25013))));
  assert.deepEqual(d.tick, baseTick("NSE_INDEX", "NIFTY", 3, 25013, TS, NOW));
});

Deno.test("subjects: format and parse agree; other subjects are rejected", () => {
  for (const group of ["eq", "fo", "indices"] as const) {
    for (const kind of ["price", "price_detailed", "book"] as const) {
      const s = { group, exchange: "bse" as const, kind, token: "12345" };
      assert.deepEqual(parseSubject(subjectOf(s)), s);
    }
  }
  for (
    const bad of [
      "",
      "/ld/eq/nse/price.",
      "/ld/eq/nse/price.*",
      "/ld/eq/nse/price.>",
      "/ld/eq/mcx/price.1",
      "/ld/comm/mcx/price.1",
      "/ld/eq/nse/tick.2885",
      "/ld/eq/nse/price.28.85",
      "stocks/order/updates.apex.abc",
    ]
  ) {
    assert.equal(parseSubject(bad), null, bad);
  }
  assert.equal(streamKey("fo", "nse", "35001"), "fo/nse/35001");
});

Deno.test("unknown instruments, bad subjects, bad numbers and empty payloads are counted", () => {
  const cache = new FeedCache();
  const stats = createDecodeStats();
  assert.equal(run(cache, "/ld/eq/nse/price.9999", hex(LTP_GOLDEN), stats).tick, null);
  assert.equal(stats.unknownInstrument, 1);
  assert.equal(run(cache, "nonsense", hex(LTP_GOLDEN), stats).malformed, "bad_subject");
  assert.equal(
    run(cache, "/ld/eq/nse/price.2885", hex(ld(0x22, dbl(13, NaN))), stats).malformed,
    "bad_value",
  );
  assert.equal(
    run(cache, "/ld/eq/nse/price.2885", hex(ld(0x22, dbl(13, -5))), stats).malformed,
    "bad_value",
  );
  assert.equal(
    run(cache, "/ld/eq/nse/price.2885", hex("22 1B 09 00 00"), stats).malformed,
    "undecodable",
  );
  assert.equal(run(cache, "/ld/eq/nse/price.2885", hex("0A 01 41"), stats).tick, null);
  assert.equal(stats.empty, 1);
  assert.deepEqual(
    { errors: stats.errors, badSubject: stats.badSubject, badValue: stats.badValue },
    { errors: 4, badSubject: 1, badValue: 2 },
  );
  assert.equal(stats.undecodable, 1);
  assert.equal(stats.ticks, 0);
});

Deno.test("round trips through the simulator's encoders", () => {
  const price = {
    tsInMillis: TS,
    open: 1,
    high: 2,
    low: 0.5,
    close: 1.5,
    volume: 10,
    bidQty: 3,
    offerQty: 4,
    avgPrice: 1.25,
    ltp: 1.75,
    openInterest: 9,
  };
  assert.deepEqual(decodePayload(encodePrice(price)), { kind: "price", fields: price });
  assert.deepEqual(decodePayload(encodePrice({ ltp: 5, volume: 0 })), {
    kind: "price",
    fields: { ltp: 5 },
  }, "zeros are not transmitted");
  assert.deepEqual(decodePayload(encodeIndex({ tsInMillis: TS, value: 3 })), {
    kind: "index",
    tsInMillis: TS,
    value: 3,
  });
  const levels = [1, 2, 3, 4, 5].map((i) => ({ price: 100 - i, qty: i * 10 }));
  assert.deepEqual(decodePayload(encodeBook({ tsInMillis: TS, buy: levels, sell: levels })), {
    kind: "book",
    tsInMillis: TS,
    buy: levels.map((l, i) => ({ level: i + 1, ...l })),
    sell: levels.map((l, i) => ({ level: i + 1, ...l })),
  });
});

/** mulberry32 */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("fuzz: random, truncated and bit-flipped payloads never throw and are counted", () => {
  const rand = prng(15);
  const cache = new FeedCache();
  cache.setDepth("eq/nse/2885", true);
  const stats = createDecodeStats();
  const valid = [
    hex(LTP_GOLDEN),
    hex(DEPTH_GOLDEN),
    encodeIndex({ tsInMillis: TS, value: 25000 }),
    encodeBook({ buy: [{ price: 1, qty: 2 }], sell: [{ price: 3, qty: 4 }] }),
  ];
  const subjects = ["/ld/eq/nse/price.2885", "/ld/eq/nse/book.2885", "/ld/indices/nse/price.NIFTY"];
  let cases = 0;
  for (let i = 0; i < 5000; i++) {
    let bytes: Uint8Array;
    const base = valid[i % valid.length];
    switch (i % 3) {
      case 0: // random bytes
        bytes = new Uint8Array(Math.floor(rand() * 80));
        for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand() * 256);
        break;
      case 1: // truncated
        bytes = base.slice(0, Math.floor(rand() * base.length));
        break;
      default: // one byte flipped
        bytes = base.slice();
        bytes[Math.floor(rand() * bytes.length)] ^= 1 << Math.floor(rand() * 8);
    }
    const subject = rand() < 0.05 ? String.fromCharCode(...bytes.slice(0, 12)) : subjects[i % 3];
    const r = decodeMessage(subject, bytes, lookup, cache, NOW, stats);
    cases++;
    if (r.tick !== null) {
      assert.equal(typeof parseTick(r.tick), "object", "every tick is well formed");
      assert.ok(Number.isFinite(r.tick.ltp) && r.tick.ltp >= 0);
    }
  }
  assert.equal(stats.messages, cases);
  assert.ok(stats.errors > 100, `malformed inputs counted (${stats.errors})`);
  assert.equal(
    stats.errors,
    stats.undecodable + stats.badValue + stats.badSubject,
    "errors is the sum of its parts",
  );
});
