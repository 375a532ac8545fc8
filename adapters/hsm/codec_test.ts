// HSM codec: golden bytes written by hand from brokers.md §10.8 (Kotak, decoded by Kotak's own
// Python decoder when the spec was written) and from the §4 tables (Fyers), round trips through
// the simulator's encoders, and fuzz (random, truncated, update before snapshot, sentinels).

import assert from "node:assert/strict";
import type { Wanted } from "../../lib/adapter/mod.ts";
import { prng } from "../../lib/adapter/sim/mod.ts";
import type { Mode, Tick } from "../../lib/types.ts";
import {
  encodeAck,
  encodeChannelMode,
  encodeChannels,
  encodeConnectReply,
  encodeDataFrame,
  encodeFyersAuth,
  encodeFyersPing,
  encodeKotakConnect,
  encodeSnapshotItem,
  encodeStatusReply,
  encodeThrottle,
  encodeTopics,
  encodeUpdateItem,
  FYERS_HSM,
  FYERS_LAYOUT,
  type HsmConfig,
  HsmDecoder,
  KOTAK_HSM,
  KOTAK_LAYOUT,
  parseChannelMask,
  parseRequest,
  parseTopicList,
  REQ,
  SENTINEL,
} from "./codec.ts";
import { hsmDialect } from "./dialect.ts";
import type { HsmInstrument } from "./ticks.ts";

/** `00 0A ff` → bytes; `"text"` → its ASCII bytes. */
function bytes(...parts: (string | number[])[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (Array.isArray(p)) out.push(...p);
    else out.push(...new TextEncoder().encode(p));
  }
  return Uint8Array.from(out);
}

function hex(s: string): number[] {
  return s.trim().split(/\s+/).filter((x) => x !== "" && x !== "|").map((x) => parseInt(x, 16));
}

function int32(n: number): number[] {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n);
  return [...b];
}

const TCS: HsmInstrument = {
  token: "nse_cm|11536",
  exchange: "NSE",
  symbol: "TCS",
  index: false,
  hasOi: false,
};

/** A dialect over `config` streaming `instruments` at `mode`, with its ticks collected. */
function harness(config: HsmConfig, instruments: HsmInstrument[], mode: Mode) {
  const byToken = new Map(instruments.map((i) => [i.token, i]));
  const d = hsmDialect<HsmInstrument>({
    config,
    endpoint: () => ({ url: "ws://127.0.0.1:1/" }),
    login: () => [],
    channels: { first: 1, last: 1, perChannel: 5000 },
    maxTopicsPerRequest: 100,
  }, { connection: 0, lookup: (t) => byToken.get(String(t)) });
  d.login?.();
  const wanted: Wanted<HsmInstrument>[] = instruments.map((instrument) => ({
    instrument,
    mode,
    depth: 5,
  }));
  d.subscribe(wanted, mode);
  return {
    d,
    wanted,
    feed(frame: Uint8Array, now = 1): Tick[] {
      return d.decode(frame, now).ticks ?? [];
    },
  };
}

// ---- Kotak: brokers.md §10.8 worked bytes ----------------------------------------------------

const KOTAK_CONNECT = hex(
  "00 17 01 03 01 00 03 4A 57 54 02 00 03 53 49 44 03 00 06 4A 53 5F 41 50 49",
);
const KOTAK_SUBSCRIBE = hex(
  "00 1B 04 02 01 00 12 00 01 0F 73 66 7C 6E 73 65 5F 63 6D 7C 31 31 35 33 36 02 00 01 01",
);

/** The 25 scrip fields of the §10.8 snapshot; f4, f5, f21, f23, f24 as the spec gives them. */
const KOTAK_SNAPSHOT_FIELDS = [
  "00 00 00 00", // 0 ftm0
  "00 00 00 00", // 1 dtm1
  "65 F3 A2 B0", // 2 fdtm 1710465712
  "65 F3 A2 AE", // 3 ltt 1710465710
  "00 12 D6 87", // 4 v 1234567
  "00 04 7C B6", // 5 ltp 294070
  "00 00 00 0A", // 6 ltq 10
  "00 07 A1 20", // 7 tbq 500000
  "00 09 27 C0", // 8 tsq 600000
  "00 04 7C A2", // 9 bp 294050
  "00 04 7C B6", // 10 sp 294070
  "00 00 00 19", // 11 bq 25
  "00 00 00 28", // 12 bs 40
  "00 04 71 A2", // 13 ap 291234
  "00 04 65 00", // 14 lo 288000
  "00 04 80 58", // 15 h 295000
  "00 03 F8 31", // 16 lcl 260145
  "00 04 DA 03", // 17 ucl 317955
  "00 06 68 A0", // 18 yh 420000
  "00 03 D0 90", // 19 yl 250000
  "00 04 6A DC", // 20 op 289500
  "00 04 69 1A", // 21 c 289050
  "80 00 00 00", // 22 oi: none for an equity
  "00 00 00 01", // 23 mul
  "00 00 00 02", // 24 prec
].flatMap(hex);

const KOTAK_SNAPSHOT = bytes(
  hex("00 97 06 | 00 01 | 00 92 | 53 | 00 00 00 01 | 0F"),
  "sf|nse_cm|11536",
  hex("19"),
  KOTAK_SNAPSHOT_FIELDS,
  hex("03 | 34 05"),
  "11536",
  hex("35 06"),
  "nse_cm",
  hex("36 06"),
  "TCS-EQ",
);

const KOTAK_UPDATE = bytes(hex(
  "00 23 06 00 01 00 1E 55 00 00 00 01 06 80 00 00 00 80 00 00 00 80 00 00 00 80 00 00 00" +
    " 00 12 D6 EB 00 04 7C C0",
));

Deno.test("kotak requests are byte-identical to §10.8", () => {
  assert.deepEqual([...encodeKotakConnect("JWT", "SID")], KOTAK_CONNECT);
  assert.deepEqual([...encodeTopics(REQ.SUBSCRIBE, ["sf|nse_cm|11536"], 1)], KOTAK_SUBSCRIBE);
  assert.deepEqual([...encodeAck(5)], hex("00 09 03 01 01 00 04 00 00 00 05"));
  assert.deepEqual([...encodeThrottle(0)], hex("00 09 02 01 01 00 04 00 00 00 00"));
  assert.deepEqual(
    [...encodeConnectReply(true, 5)],
    hex("00 0D 01 02 01 00 01 4B 02 00 04 00 00 00 05"),
  );
  assert.deepEqual([...encodeStatusReply(REQ.SUBSCRIBE, true)], hex("00 06 04 01 01 00 01 4B"));
});

Deno.test("kotak §10.8 snapshot and update decode to the official values", () => {
  assert.equal(KOTAK_SNAPSHOT.byteLength, 153);
  const h = harness(KOTAK_HSM, [TCS], 2);
  assert.deepEqual(h.d.decode(bytes(hex("00 06 01 01 01 00 01 4B")), 0), { loggedIn: true });
  const [t] = h.feed(KOTAK_SNAPSHOT, 99);
  assert.deepEqual(t, {
    exchange: "NSE",
    symbol: "TCS",
    mode: 2,
    ltp: 2940.7,
    ltt: 1710465710_000,
    timestamp: 1710465712_000,
    open: 2895,
    high: 2950,
    low: 2880,
    close: 2890.5,
    volume: 1234567,
    last_trade_quantity: 10,
    avg_trade_price: 2912.34,
    total_buy_quantity: 500000,
    total_sell_quantity: 600000,
    oi: null,
    change: 50.2,
    change_percent: (5020 * 100) / 289050,
    depth: null,
  });
  const [u] = h.feed(KOTAK_UPDATE);
  assert.equal(u.ltp, 2940.8);
  assert.equal(u.volume, 1234667);
  // The four sentinels left fields 0–3 as they were (the ltt is not a date in 2038).
  assert.equal(u.ltt, 1710465710_000);
  assert.equal(u.close, 2890.5);
  assert.equal(u.change, 50.3);
});

Deno.test("kotak snapshot trailer strings and scale come from the item", () => {
  const dec = new HsmDecoder(KOTAK_HSM);
  const m = dec.decode(KOTAK_SNAPSHOT);
  assert.ok(m.type === "data");
  const t = m.changed[0];
  assert.equal(t.key, "nse_cm|11536");
  assert.equal(t.kind, "sf");
  assert.deepEqual([t.exchange, t.token, t.tradingSymbol], ["nse_cm", "11536", "TCS-EQ"]);
  assert.equal(t.divisor, 100);
});

Deno.test("kotak ack-every-N: msgNum follows the type byte and every N-th frame is acked", () => {
  const h = harness(KOTAK_HSM, [TCS], 2);
  h.d.decode(encodeConnectReply(true, 2), 0);
  const item = encodeSnapshotItem(KOTAK_HSM, {
    topicId: 1,
    name: "sf|nse_cm|11536",
    values: [0, 0, 0, 0, 5, 294070],
    exchange: "nse_cm",
    token: "11536",
    tradingSymbol: "TCS-EQ",
  });
  const first = h.d.decode(encodeDataFrame(41, [item]), 0);
  assert.equal(first.reply, undefined);
  assert.equal(first.ticks?.length, 1);
  const second = h.d.decode(encodeDataFrame(42, [item]), 0);
  assert.deepEqual(second.reply, [encodeAck(42)]);
  // Without the msgNum the frame is misframed: counted, nothing decoded.
  const bad = h.d.decode(encodeDataFrame(null, [item]), 0);
  assert.equal(typeof bad.malformed, "string");
});

Deno.test("kotak connect N → auth failed; subscribe N → a warning", () => {
  const h = harness(KOTAK_HSM, [TCS], 2);
  assert.match(h.d.decode(encodeConnectReply(false), 0).authFailed ?? "", /rejected/);
  assert.equal(h.d.decode(encodeStatusReply(REQ.SUBSCRIBE, false), 0).log?.level, "warning");
});

// ---- Fyers: built from the §4 tables byte by byte ---------------------------------------------

const SBIN: HsmInstrument = {
  token: "nse_cm|3045",
  exchange: "NSE",
  symbol: "SBIN",
  index: false,
  hasOi: false,
};
const NIFTY: HsmInstrument = {
  token: "nse_cm|Nifty 50",
  exchange: "NSE_INDEX",
  symbol: "NIFTY",
  index: true,
  hasOi: false,
};
const NIFTY_FUT: HsmInstrument = {
  token: "nse_fo|35001",
  exchange: "NFO",
  symbol: "NIFTY28MAR24FUT",
  index: false,
  hasOi: true,
};

/** sf fields by §4.3 order: ltp … prev close. */
const FYERS_SF = [
  59500, // 0 ltp
  8_000_000, // 1 vol_traded_today
  1710465710, // 2 last_traded_time
  1710465712, // 3 exch_feed_time
  120, // 4 bid_size
  80, // 5 ask_size
  59495, // 6 bid_price
  59500, // 7 ask_price
  15, // 8 last_traded_qty
  300000, // 9 tot_buy_qty
  310000, // 10 tot_sell_qty
  59233, // 11 avg_trade_price
  SENTINEL, // 12 OI (equity)
  58800, // 13 low
  59700, // 14 high
  62900, // 15 Yhigh
  50000, // 16 Ylow
  53500, // 17 lower_ckt
  65400, // 18 upper_ckt
  59000, // 19 open
  58850, // 20 prev_close
];

const FYERS_SNAPSHOT = bytes(
  hex("00 00 06 | 00 00 00 07 | 00 01 | 53 | 00 01 | 0E"),
  "sf|nse_cm|3045",
  hex("15"),
  FYERS_SF.flatMap(int32),
  hex("00 00 | 00 01 | 02 | 06"),
  "nse_cm",
  hex("04"),
  "3045",
  hex("07"),
  "SBIN-EQ",
);
new DataView(FYERS_SNAPSHOT.buffer).setUint16(0, FYERS_SNAPSHOT.byteLength - 2);

Deno.test("fyers requests are laid out as §4.2 says", () => {
  assert.deepEqual(
    [...encodeFyersAuth("abc")],
    [...hex("00 19 01 04 01 00 03"), ...bytes("abc"), ...hex("02 00 01 50 03 00 01 01 04 00 06")]
      .concat([...bytes("JS_API")]),
  );
  assert.deepEqual([...encodeFyersPing()], hex("00 01 0B"));
  // Full mode on channel 11: f1 = 8-byte mask (1 << 11 in the low word), f2 = 'F'.
  assert.deepEqual(
    [...encodeChannelMode([11], "full")],
    hex("00 11 0C 02 01 00 08 00 00 00 00 00 00 08 00 02 00 01 46"),
  );
  assert.deepEqual(
    [...encodeChannels(REQ.RESUME, [11])],
    hex("00 0D 08 01 01 00 08 00 00 00 00 00 00 08 00"),
  );
});

Deno.test("fyers snapshot (83) with msgNum, fixed trailer, then update (85) and lite (76)", () => {
  const h = harness(FYERS_HSM, [SBIN], 2);
  const login = h.d.decode(encodeConnectReply(true, 1), 0);
  assert.equal(login.loggedIn, true);
  const snap = h.d.decode(FYERS_SNAPSHOT, 5);
  assert.deepEqual(snap.reply, [encodeAck(7)]);
  const [t] = snap.ticks!;
  assert.equal(t.ltp, 595);
  assert.equal(t.volume, 8_000_000);
  assert.equal(t.ltt, 1710465710_000);
  assert.equal(t.timestamp, 1710465712_000);
  assert.equal(t.last_trade_quantity, 15);
  assert.equal(t.total_buy_quantity, 300000);
  assert.equal(t.total_sell_quantity, 310000);
  assert.equal(t.avg_trade_price, 592.33);
  assert.equal(t.open, 590);
  assert.equal(t.high, 597);
  assert.equal(t.low, 588);
  assert.equal(t.close, 588.5);
  assert.equal(t.change, 6.5);
  assert.equal(t.oi, null);
  // 85: topic 1, two fields (ltp, volume).
  const upd = bytes(hex("00 00 06 00 00 00 08 00 01 55 00 01 02"), int32(59525), int32(8_000_100));
  new DataView(upd.buffer).setUint16(0, upd.byteLength - 2);
  const [u] = h.feed(upd);
  assert.equal(u.ltp, 595.25);
  assert.equal(u.volume, 8_000_100);
  assert.equal(u.close, 588.5);
  // 76: topic 1, hfid = 1 value (ltp).
  const lite = bytes(hex("00 00 06 00 00 00 09 00 01 4C 00 01"), int32(59530));
  new DataView(lite.buffer).setUint16(0, lite.byteLength - 2);
  const [l] = h.feed(lite);
  assert.equal(l.ltp, 595.3);
  assert.equal(l.volume, 8_000_100);
});

Deno.test("fyers index: if topic by name, close = field 1, no volume, Depth acked without a book", () => {
  const h = harness(FYERS_HSM, [NIFTY], 3);
  h.d.decode(encodeConnectReply(true, 0), 0);
  const frame = bytes(
    hex("00 00 06 00 01 53 00 02 12"),
    "if|nse_cm|Nifty 50",
    hex("06"),
    [2251055, 2240010, 1710465712, 2260000, 2235000, 2241000].flatMap(int32),
    hex("00 00 00 01 02 06"),
    "nse_cm",
    hex("08"),
    "Nifty 50",
    hex("08"),
    "Nifty 50",
  );
  new DataView(frame.buffer).setUint16(0, frame.byteLength - 2);
  const [t] = h.feed(frame);
  assert.equal(t.mode, 3);
  assert.equal(t.ltp, 22510.55);
  assert.equal(t.close, 22400.1);
  assert.equal(t.high, 22600);
  assert.equal(t.low, 22350);
  assert.equal(t.open, 22410);
  assert.equal(t.volume, null);
  assert.equal(t.ltt, null);
  assert.equal(t.timestamp, 1710465712_000);
  assert.equal(t.depth, null);
});

Deno.test("fyers depth: sf + dp merged into one Depth tick per frame", () => {
  const h = harness(FYERS_HSM, [NIFTY_FUT], 3);
  h.d.decode(encodeConnectReply(true, 0), 0);
  const sf = FYERS_SF.slice();
  sf[12] = 1_234_500; // OI of a future
  const dp = [
    ...[2251000, 2250995, 2250990, 2250985, 2250980], // bid prices
    ...[2251005, 2251010, 2251015, 2251020, 2251025], // ask prices
    ...[50, 100, 150, 200, 250], // bid qty
    ...[75, 125, 175, 225, 275], // ask qty
    ...[1, 2, 3, 4, 5], // bid orders
    ...[6, 7, 8, 9, 10], // ask orders
  ];
  const frame = encodeDataFrame(null, [
    encodeSnapshotItem(FYERS_HSM, {
      topicId: 1,
      name: "sf|nse_fo|35001",
      values: sf,
      exchange: "nse_fo",
      token: "35001",
      tradingSymbol: "NIFTY24MARFUT",
    }),
    encodeSnapshotItem(FYERS_HSM, {
      topicId: 2,
      name: "dp|nse_fo|35001",
      values: dp,
      exchange: "nse_fo",
      token: "35001",
      tradingSymbol: "NIFTY24MARFUT",
    }),
  ]);
  const ticks = h.feed(frame);
  assert.equal(ticks.length, 1);
  const [t] = ticks;
  assert.equal(t.mode, 3);
  assert.equal(t.oi, 1_234_500);
  assert.deepEqual(t.depth?.buy[0], { price: 22510, quantity: 50, orders: 1 });
  assert.deepEqual(t.depth?.sell[4], { price: 22510.25, quantity: 275, orders: 10 });
  assert.equal(t.depth?.buy.length, 5);
});

Deno.test("fyers streamDataConfig replaces the field order", () => {
  const d = new HsmDecoder(FYERS_HSM);
  d.setLayout({ sf: ["c", "ltp"], if: FYERS_LAYOUT.if, dp: FYERS_LAYOUT.dp });
  d.decode(encodeConnectReply(true, 0));
  const m = d.decode(encodeDataFrame(null, [
    encodeSnapshotItem(FYERS_HSM, {
      topicId: 3,
      name: "sf|nse_cm|1",
      values: [100, 200],
      exchange: "nse_cm",
      token: "1",
      tradingSymbol: "X",
    }),
  ]));
  assert.ok(m.type === "data");
  assert.equal(m.changed[0].layout.ltp, 1);
  assert.equal(m.changed[0].layout.close, 0);
});

// ---- round trips ------------------------------------------------------------------------------

Deno.test("requests round-trip through the simulator's parser", () => {
  const topics = ["sf|nse_cm|11536", "if|nse_cm|Nifty Bank", "dp|nse_fo|35001"];
  for (const type of [REQ.SUBSCRIBE, REQ.UNSUBSCRIBE] as const) {
    const r = parseRequest(encodeTopics(type, topics, 7));
    assert.ok(typeof r !== "string");
    assert.equal(r.type, type);
    assert.deepEqual(parseTopicList(r.fields.get(1)!), topics);
    assert.deepEqual([...r.fields.get(2)!], [7]);
  }
  const c = parseRequest(encodeKotakConnect("tok", "sid"));
  assert.ok(typeof c !== "string");
  assert.deepEqual(
    [1, 2, 3].map((i) => new TextDecoder().decode(c.fields.get(i))),
    ["tok", "sid", "JS_API"],
  );
  const m = parseRequest(encodeChannelMode([2, 11, 31], "lite"));
  assert.ok(typeof m !== "string");
  assert.deepEqual(parseChannelMask(m.fields.get(1)!), [2, 11, 31]);
  const p = parseRequest(encodeFyersPing());
  assert.ok(typeof p !== "string" && p.type === REQ.PING);
});

Deno.test("values round-trip: prices signed, counts unsigned, sentinel = null", () => {
  for (const config of [FYERS_HSM, KOTAK_HSM]) {
    const layout = config.layout.sf;
    const values = layout.map((name, i) =>
      name === "ltp"
        ? -150
        : name === "v"
        ? 3_000_000_000
        : name === "mul"
        ? 1
        : name === "prec"
        ? 2
        : i % 3 === 0
        ? null
        : i
    );
    const d = new HsmDecoder(config);
    d.decode(encodeConnectReply(true, 0));
    const m = d.decode(encodeDataFrame(null, [
      encodeSnapshotItem(config, {
        topicId: 9,
        name: "sf|mcx_fo|1",
        values,
        exchange: "mcx_fo",
        token: "1",
        tradingSymbol: "CRUDE",
      }),
    ]));
    assert.ok(m.type === "data", config.name);
    const h = harness(config, [{ ...TCS, token: "mcx_fo|1", hasOi: true }], 2);
    const [t] = h.feed(
      encodeDataFrame(null, [
        encodeSnapshotItem(config, {
          topicId: 9,
          name: "sf|mcx_fo|1",
          values,
          exchange: "mcx_fo",
          token: "1",
          tradingSymbol: "CRUDE",
        }),
      ]),
    );
    assert.equal(t.ltp, -1.5, config.name);
    assert.equal(t.volume, 3_000_000_000, config.name);
  }
});

// ---- fuzz ---------------------------------------------------------------------------------------

Deno.test("fuzz: random bytes never throw and are counted", () => {
  const rand = prng(7);
  for (const config of [FYERS_HSM, KOTAK_HSM]) {
    const h = harness(config, [TCS, SBIN, NIFTY], 3);
    h.d.decode(encodeConnectReply(true, 3), 0);
    for (let i = 0; i < 5000; i++) {
      const b = new Uint8Array(Math.floor(rand() * 200));
      for (let k = 0; k < b.length; k++) b[k] = Math.floor(rand() * 256);
      // Half of them look like data frames, to reach the item parser.
      if (b.length > 3 && i % 2 === 0) b[2] = REQ.DATA;
      h.d.decode(b, 0);
    }
    assert.ok(h.d.decoder.stats.errors > 1000, `${config.name}: ${h.d.decoder.stats.errors}`);
  }
});

Deno.test("fuzz: every truncation of a valid frame is rejected whole", () => {
  for (
    const [config, frame] of [[KOTAK_HSM, KOTAK_SNAPSHOT], [FYERS_HSM, FYERS_SNAPSHOT]] as const
  ) {
    for (let cut = 0; cut < frame.byteLength; cut++) {
      const h = harness(config, [TCS, SBIN], 2);
      h.d.decode(encodeConnectReply(true, config === FYERS_HSM ? 1 : 0), 0);
      const d = h.d.decode(frame.subarray(0, cut), 0);
      assert.equal(d.ticks, undefined, `${config.name} cut ${cut}`);
      assert.equal(typeof d.malformed, "string", `${config.name} cut ${cut}`);
      assert.equal(h.d.decoder.topicCount, 0);
    }
  }
});

Deno.test("fuzz: an update before its snapshot is ignored and counted", () => {
  const h = harness(KOTAK_HSM, [TCS], 2);
  h.d.decode(encodeConnectReply(true, 0), 0);
  assert.deepEqual(h.feed(KOTAK_UPDATE), []);
  assert.equal(h.d.decoder.stats.unknownTopic, 1);
  assert.equal(h.d.decoder.stats.errors, 0);
  assert.equal(h.feed(KOTAK_SNAPSHOT).length, 1);
  assert.equal(h.feed(KOTAK_UPDATE)[0].volume, 1234667);
  // A Fyers lite item for an unknown topic cannot be framed: the frame is rejected.
  const f = harness(FYERS_HSM, [SBIN], 2);
  f.d.decode(encodeConnectReply(true, 0), 0);
  const lite = encodeDataFrame(null, [
    encodeUpdateItem(FYERS_HSM, { topicId: 4, values: [1] }, true),
  ]);
  assert.equal(f.d.decode(lite, 0).malformed, "unknownTopic");
});

Deno.test("fuzz: sentinels in every field give nulls, never 2^31 or dates in 2038", () => {
  for (const config of [FYERS_HSM, KOTAK_HSM]) {
    const n = config.layout.sf.length;
    const h = harness(config, [{ ...TCS, hasOi: true }], 3);
    h.d.decode(encodeConnectReply(true, 0), 0);
    const all = new Array(n).fill(null);
    const snap = (values: (number | null)[]) =>
      encodeDataFrame(null, [
        encodeSnapshotItem(config, {
          topicId: 1,
          name: "sf|nse_cm|11536",
          values,
          exchange: "nse_cm",
          token: "11536",
          tradingSymbol: "TCS-EQ",
        }),
        encodeSnapshotItem(config, {
          topicId: 2,
          name: "dp|nse_cm|11536",
          values: new Array(config.layout.dp.length).fill(null),
          exchange: "nse_cm",
          token: "11536",
          tradingSymbol: "TCS-EQ",
        }),
      ]);
    // No LTP → no tick at all.
    assert.deepEqual(h.feed(snap(all)), [], config.name);
    // An update bringing only the LTP: every other field stays null.
    const ltpAt = config.layout.sf.indexOf("ltp");
    const values = new Array(ltpAt + 1).fill(null);
    values[ltpAt] = 12345;
    const [t] = h.feed(
      encodeDataFrame(null, [encodeUpdateItem(config, { topicId: 1, values })]),
      77,
    );
    assert.equal(t.ltp, 123.45, config.name);
    assert.equal(t.timestamp, 77);
    for (const k of ["ltt", "open", "high", "low", "close", "volume", "oi", "change"] as const) {
      assert.equal(t[k], null, `${config.name} ${k}`);
    }
    assert.deepEqual(t.depth, { buy: [], sell: [] }, config.name);
  }
});

Deno.test("fuzz: a truncated field list leaves the missing fields null (Kotak scale defaults)", () => {
  const h = harness(KOTAK_HSM, [TCS], 2);
  h.d.decode(encodeConnectReply(true, 0), 0);
  const frame = encodeDataFrame(null, [
    encodeSnapshotItem(KOTAK_HSM, {
      topicId: 5,
      name: "sf|nse_cm|11536",
      values: [0, 0, 1710465712, 1710465710, 77, 294070],
      exchange: "nse_cm",
      token: "11536",
      tradingSymbol: "TCS-EQ",
    }),
  ]);
  const [t] = h.feed(frame);
  assert.equal(t.ltp, 2940.7);
  assert.equal(t.volume, 77);
  assert.equal(t.close, null);
  assert.equal(t.avg_trade_price, null);
  assert.equal(KOTAK_LAYOUT.sf.length, 25);
});

Deno.test("unsubscribed tokens produce no tick", () => {
  const h = harness(KOTAK_HSM, [TCS], 2);
  h.d.decode(encodeConnectReply(true, 0), 0);
  h.d.unsubscribe(h.wanted, 2);
  assert.deepEqual(h.feed(KOTAK_SNAPSHOT), []);
});
