// Tests for the Noren codec: golden messages written by hand from brokers.md §6 and the Shoonya
// documentation (a snapshot followed by sparse updates), round trips through the simulator's
// encoders, and seeded fuzz with random and truncated input.

import assert from "node:assert/strict";
import { parseTick } from "../../lib/adapter/messages.ts";
import { SimMarket } from "../../lib/adapter/sim/market.ts";
import type { Tick } from "../../lib/types.ts";
import {
  changedFields,
  encodeFeed,
  encodeLogin,
  encodeLoginAck,
  encodeRequest,
  HEARTBEAT,
  NorenDecoder,
  parseClientMessage,
  quoteFields,
  type ScripFacts,
  snapshotFacts,
  streamFor,
} from "./codec.ts";
import { prng } from "../../lib/adapter/sim/mod.ts";

const NOW = 1_700_000_000_123;
type Ref = { exchange: string; symbol: string };
const NTPC: Ref = { exchange: "NSE", symbol: "NTPC" };

function only(d: { ticks?: Tick[] }): Tick {
  assert.equal(d.ticks?.length, 1, "one tick");
  const t = d.ticks![0];
  assert.equal(typeof parseTick(t), "object", `tick passes the worker-message codec`);
  return t;
}

Deno.test("login messages are the spec's bytes (§6.1)", () => {
  const f = { uid: "FA12345", actid: "FA12345", source: "API", token: "tok" };
  assert.equal(
    encodeLogin("a", f),
    '{"t":"a","uid":"FA12345","actid":"FA12345","source":"API","accesstoken":"tok"}',
  );
  assert.equal(
    encodeLogin("c", f),
    '{"t":"c","uid":"FA12345","actid":"FA12345","source":"API","susertoken":"tok"}',
  );
});

Deno.test("requests: touchline/depth subscribe and unsubscribe, heartbeat (§6.2)", () => {
  assert.equal(encodeRequest("t", ["NSE|22", "NFO|35003"]), '{"t":"t","k":"NSE|22#NFO|35003"}');
  assert.equal(encodeRequest("u", ["NSE|22"]), '{"t":"u","k":"NSE|22"}');
  assert.equal(encodeRequest("d", ["NSE|26000"]), '{"t":"d","k":"NSE|26000"}');
  assert.equal(encodeRequest("ud", ["NSE|22"]), '{"t":"ud","k":"NSE|22"}');
  assert.equal(HEARTBEAT, '{"t":"h"}');
  assert.deepEqual([1, 2, 3].map((m) => streamFor(m as 1 | 2 | 3)), ["t", "t", "d"]);
});

Deno.test("login acks: OK logs in, anything else is an auth failure carrying emsg", () => {
  const d = new NorenDecoder<Ref>();
  assert.deepEqual(d.decode('{"t":"ak","uid":"FA1","s":"OK"}', NOW), { loggedIn: true });
  assert.deepEqual(d.decode('{"t":"ck","uid":"FA1","s":"OK"}', NOW), { loggedIn: true });
  // Definedge's documentation spells it "Ok".
  assert.deepEqual(d.decode('{"t":"ck","s":"Ok"}', NOW), { loggedIn: true });
  const bad = d.decode('{"t":"ck","s":"NOT_OK","emsg":"Invalid Session Key"}', NOW);
  assert.equal(bad.authFailed, "login rejected (ck): Invalid Session Key");
  assert.match(d.decode('{"t":"ak"}', NOW).authFailed ?? "", /no status/);
  assert.equal(d.stats.loginAcks, 5);
  assert.equal(d.stats.errors, 0);
});

Deno.test("golden touchline snapshot then sparse updates (Shoonya docs, NTPC-EQ)", () => {
  const d = new NorenDecoder<Ref>();
  d.watch("NSE|11630", NTPC, "t");
  const snap = only(d.decode(
    '{"t":"tk","e":"NSE","tk":"11630","ts":"NTPC-EQ","pp":"2","ls":"1","ti":"0.05",' +
      '"lp":"118.55","h":"118.65","l":"118.10","ap":"118.39","v":"162220",' +
      '"bp1":"118.45","sp1":"118.50","bq1":"26","sq1":"6325"}',
    NOW,
  ));
  assert.deepEqual(snap, {
    exchange: "NSE",
    symbol: "NTPC",
    mode: 2,
    ltp: 118.55,
    ltt: null,
    timestamp: NOW,
    open: null,
    high: 118.65,
    low: 118.1,
    close: null,
    volume: 162220,
    last_trade_quantity: null,
    avg_trade_price: 118.39,
    total_buy_quantity: null,
    total_sell_quantity: null,
    oi: null,
    change: null,
    change_percent: null,
    depth: null,
  });
  const u1 = only(d.decode(
    '{"t":"tf","e":"NSE","tk":"11630","lp":"118.45","ap":"118.40","v":"166637",' +
      '"sp1":"118.55","bq1":"3135","sq1":"30"}',
    NOW + 1000,
  ));
  assert.equal(u1.ltp, 118.45);
  assert.equal(u1.avg_trade_price, 118.4);
  assert.equal(u1.volume, 166637);
  assert.equal(u1.high, 118.65, "a field the update omitted keeps its value");
  assert.equal(u1.low, 118.1);
  assert.equal(u1.timestamp, NOW + 1000, "no feed time: receive time");
  const u2 = only(d.decode('{"t":"tf","e":"NSE","tk":"11630","lp":"118.60"}', NOW + 2000));
  assert.equal(u2.ltp, 118.6);
  assert.equal(u2.volume, 166637);
  assert.equal(u2.avg_trade_price, 118.4);
  assert.equal(u2.open, null, "never sent stays null, not 0");
  // bp1 was only in the snapshot and is still known.
  const bp1 = d.state("NSE|11630")!.values;
  assert.ok(bp1.includes(118.45));
  assert.equal(d.stats.errors, 0);
  assert.equal(d.stats.ticks, 3);
});

const DEPTH_SNAPSHOT = '{"t":"dk","e":"NFO","tk":"35003","ts":"NIFTY28MAR24F","pp":"2",' +
  '"ls":"50","ti":"0.05","lp":"22150.05","pc":"0.73","c":"21989.40","o":"22001.00",' +
  '"h":"22180.00","l":"21990.10","v":"1234500","ap":"22101.32","ltt":"10:15:30","ltq":"50",' +
  '"tbq":"700000","tsq":"650000","oi":"12000000","poi":"11800000","toi":"12000000",' +
  '"bp1":"22150.00","bq1":"100","bo1":"2","bp2":"22149.95","bq2":"250","bo2":"4",' +
  '"bp3":"22149.90","bq3":"50","bo3":"1","bp4":"22149.85","bq4":"75","bo4":"3",' +
  '"bp5":"22149.80","bq5":"400","bo5":"6","sp1":"22150.10","sq1":"150","so1":"3",' +
  '"sp2":"22150.15","sq2":"50","so2":"1","sp3":"22150.20","sq3":"200","so3":"5",' +
  '"sp4":"22150.25","sq4":"100","so4":"2","sp5":"22150.30","sq5":"300","so5":"7",' +
  '"uc":"24188.30","lc":"19790.50","52h":"22500.00","52l":"17500.00","ft":"1700041530"}';

Deno.test("golden depth snapshot then a sparse depth update (§6.3)", () => {
  const d = new NorenDecoder<Ref>();
  const fut = { exchange: "NFO", symbol: "NIFTY28MAR24FUT" };
  d.watch("NFO|35003", fut, "d");
  const t = only(d.decode(DEPTH_SNAPSHOT, NOW));
  assert.equal(t.mode, 3);
  assert.equal(t.ltp, 22150.05);
  assert.equal(t.close, 21989.4);
  assert.equal(t.change, 160.65);
  assert.ok(Math.abs(t.change_percent! - 0.7306) < 1e-3);
  assert.equal(t.oi, 12000000);
  assert.equal(t.total_buy_quantity, 700000);
  assert.equal(t.last_trade_quantity, 50);
  // ft 1700041530 = 2023-11-15 09:45:30 UTC = 15:15:30 IST; ltt 10:15:30 IST that day.
  assert.equal(t.timestamp, 1_700_041_530_000);
  assert.equal(t.ltt, Date.UTC(2023, 10, 15, 4, 45, 30));
  assert.deepEqual(t.depth!.buy[0], { price: 22150, quantity: 100, orders: 2 });
  assert.deepEqual(t.depth!.sell[4], { price: 22150.3, quantity: 300, orders: 7 });
  const u = only(d.decode(
    '{"t":"df","e":"NFO","tk":"35003","bq1":"120","so5":"9","lp":"22150.10","v":"1234550"}',
    NOW + 5,
  ));
  assert.equal(u.ltp, 22150.1);
  assert.equal(u.timestamp, NOW + 5, "an update without ft is stamped on receipt");
  assert.deepEqual(u.depth!.buy[0], { price: 22150, quantity: 120, orders: 2 });
  assert.deepEqual(u.depth!.buy[1], { price: 22149.95, quantity: 250, orders: 4 });
  assert.deepEqual(u.depth!.sell[4], { price: 22150.3, quantity: 300, orders: 9 });
  assert.equal(u.oi, 12000000);
  assert.equal(u.ltt, t.ltt);
  assert.equal(d.stats.errors, 0);
});

Deno.test("an update's zero price keeps the cached price; zero volume does not", () => {
  const d = new NorenDecoder<Ref>();
  d.watch("NSE|11630", NTPC, "t");
  d.decode('{"t":"tk","e":"NSE","tk":"11630","lp":"118.55","o":"117.00","v":"10"}', NOW);
  const t = only(d.decode('{"t":"tf","e":"NSE","tk":"11630","lp":"0","o":"0.00","v":"0"}', NOW));
  assert.equal(t.ltp, 118.55);
  assert.equal(t.open, 117);
  assert.equal(t.volume, 0);
});

Deno.test("stream mismatch, update before snapshot and unknown scrips yield nothing", () => {
  const d = new NorenDecoder<Ref>();
  d.watch("NSE|11630", NTPC, "d");
  assert.equal(d.decode('{"t":"tk","e":"NSE","tk":"11630","lp":"1"}', NOW).ticks, undefined);
  assert.equal(d.stats.staleStream, 1);
  assert.equal(d.decode('{"t":"df","e":"NSE","tk":"11630","lp":"1"}', NOW).ticks, undefined);
  assert.equal(d.stats.updateBeforeSnapshot, 1);
  assert.equal(d.decode('{"t":"tk","e":"NSE","tk":"999","lp":"1"}', NOW).ticks, undefined);
  assert.equal(d.stats.unknownToken, 1);
  assert.equal(d.stats.errors, 0, "none of these is malformed");
});

Deno.test("unwatch forgets the scrip's state: a resubscription starts from its snapshot", () => {
  const d = new NorenDecoder<Ref>();
  d.watch("NSE|11630", NTPC, "t");
  d.decode('{"t":"tk","e":"NSE","tk":"11630","lp":"118.55","v":"10","o":"117.00"}', NOW);
  d.unwatch("NSE|11630", "d");
  assert.notEqual(d.state("NSE|11630"), null, "unwatching the other stream changes nothing");
  d.unwatch("NSE|11630", "t");
  assert.equal(d.size, 0);
  assert.equal(d.decode('{"t":"tf","e":"NSE","tk":"11630","lp":"119"}', NOW).ticks, undefined);
  d.watch("NSE|11630", NTPC, "t");
  assert.equal(d.decode('{"t":"tf","e":"NSE","tk":"11630","lp":"119"}', NOW).ticks, undefined);
  const t = only(d.decode('{"t":"tk","e":"NSE","tk":"11630","lp":"119.00"}', NOW));
  assert.equal(t.volume, null, "nothing of the old subscription leaks into the new one");
  assert.equal(t.open, null);
  d.reset();
  assert.equal(d.size, 0);
});

Deno.test("a bad field value is skipped and reported; the rest of the message counts", () => {
  const d = new NorenDecoder<Ref>();
  d.watch("NSE|11630", NTPC, "t");
  d.decode('{"t":"tk","e":"NSE","tk":"11630","lp":"118.55","v":"10"}', NOW);
  const r = d.decode('{"t":"tf","e":"NSE","tk":"11630","lp":"abc","v":"11","h":null}', NOW);
  assert.equal(r.malformed, "bad field value");
  const t = only(r);
  assert.equal(t.ltp, 118.55);
  assert.equal(t.volume, 11);
  assert.equal(d.stats.badField, 2);
  // An empty string carries no value (it is not 0).
  const e = only(d.decode('{"t":"tf","e":"NSE","tk":"11630","v":""}', NOW));
  assert.equal(e.volume, 11);
});

Deno.test("index depth has an empty book; currency changes round at pp 4", () => {
  const d = new NorenDecoder<Ref>();
  d.watch("NSE|26000", { exchange: "NSE_INDEX", symbol: "NIFTY" }, "d");
  const t = only(d.decode(
    '{"t":"dk","e":"NSE","tk":"26000","lp":"22000.10","c":"21900.05","o":"21950.00"}',
    NOW,
  ));
  assert.deepEqual(t.depth, { buy: [], sell: [] });
  assert.equal(t.change, 100.05);
  d.watch("CDS|1", { exchange: "CDS", symbol: "USDINR28MAR24FUT" }, "t");
  const c = only(d.decode('{"t":"tk","e":"CDS","tk":"1","lp":"83.2150","c":"83.1025"}', NOW));
  assert.equal(c.change, 0.1125);
});

Deno.test("acks of unsubscribe, heartbeats and order messages carry nothing", () => {
  const d = new NorenDecoder<Ref>();
  for (const m of ['{"t":"uk","k":"NSE|22"}', '{"t":"udk"}', '{"t":"h"}', '{"t":"om"}']) {
    assert.deepEqual(d.decode(m, NOW), {});
  }
  assert.equal(d.stats.ignored, 4);
  assert.equal(d.stats.errors, 0);
});

Deno.test("malformed messages are counted by kind and never throw", () => {
  const d = new NorenDecoder<Ref>();
  assert.equal(d.decode("{", NOW).malformed, "bad JSON");
  assert.equal(d.decode("[1,2]", NOW).malformed, "message without type");
  assert.equal(d.decode("null", NOW).malformed, "message without type");
  assert.equal(d.decode('{"t":5}', NOW).malformed, "message without type");
  assert.equal(d.decode('{"t":"zz"}', NOW).malformed, "unknown message type");
  assert.equal(d.decode('{"t":"tf","e":"NSE"}', NOW).malformed, "feed message without scrip");
  assert.equal(d.decode(new Uint8Array([1, 2]), NOW).malformed, "binary frame");
  const s = d.stats;
  assert.deepEqual(
    [s.badJson, s.noType, s.unknownType, s.noScrip, s.binary, s.errors],
    [1, 3, 1, 1, 1, 7],
  );
});

const FACTS: ScripFacts = {
  tradingSymbol: "RELIANCE-EQ",
  lotSize: 1,
  tickSize: 0.05,
  pp: 2,
  index: false,
  hasOi: false,
};

Deno.test("round trip: simulator snapshots and sparse updates decode to the quote", () => {
  const market = new SimMarket(7, () => NOW);
  const ref = { exchange: "NSE", symbol: "RELIANCE" };
  for (const stream of ["t", "d"] as const) {
    const d = new NorenDecoder<Ref>();
    d.watch("NSE|2885", ref, stream);
    let q = market.quote(`2885${stream}`, { price: 2940.7 });
    let sent = quoteFields(q, stream, FACTS, NOW);
    const snap = encodeFeed(stream === "t" ? "tk" : "dk", "NSE", "2885", {
      ...snapshotFacts(FACTS),
      ...sent,
    });
    check(only(d.decode(snap, NOW)), q, stream);
    for (let i = 0; i < 50; i++) {
      q = market.step(`2885${stream}`);
      const next = quoteFields(q, stream, FACTS, NOW + i * 1000);
      const diff = changedFields(sent, next);
      sent = next;
      const r = d.decode(encodeFeed(stream === "t" ? "tf" : "df", "NSE", "2885", diff), NOW);
      check(only(r), q, stream);
    }
    assert.equal(d.stats.errors, 0);
  }

  function check(t: Tick, q: ReturnType<SimMarket["quote"]>, stream: "t" | "d"): void {
    assert.equal(t.ltp, q.ltp);
    assert.equal(t.open, q.open);
    assert.equal(t.high, q.high);
    assert.equal(t.low, q.low);
    assert.equal(t.close, q.close);
    assert.equal(t.volume, q.volume);
    assert.equal(t.avg_trade_price, Math.round(q.averagePrice * 100) / 100);
    assert.equal(t.change, Math.round((q.ltp - q.close) * 100) / 100);
    if (stream === "d") {
      assert.equal(t.mode, 3);
      assert.equal(t.last_trade_quantity, q.lastQuantity);
      assert.equal(t.total_buy_quantity, q.totalBuyQuantity);
      assert.equal(t.ltt, q.ltt);
      assert.deepEqual(t.depth!.buy, q.bids);
      assert.deepEqual(t.depth!.sell, q.asks);
    } else {
      assert.equal(t.mode, 2);
      assert.equal(t.depth, null);
      assert.equal(t.ltt, null, "the touchline carries no last trade time");
    }
  }
});

Deno.test("client messages parse back (simulator side)", () => {
  const f = { uid: "U1", actid: "A1", source: "API", token: "T" };
  assert.deepEqual(parseClientMessage(encodeLogin("a", f)), {
    kind: "login",
    variant: "a",
    uid: "U1",
    actid: "A1",
    source: "API",
    token: "T",
  });
  assert.equal((parseClientMessage(encodeLogin("c", f)) as { variant: string }).variant, "c");
  assert.deepEqual(parseClientMessage(encodeRequest("ud", ["NSE|22", "BSE|1"])), {
    kind: "request",
    t: "ud",
    keys: ["NSE|22", "BSE|1"],
  });
  assert.deepEqual(parseClientMessage(HEARTBEAT), { kind: "heartbeat" });
  assert.equal(typeof parseClientMessage('{"t":"t","k":""}'), "string");
  assert.equal(typeof parseClientMessage('{"t":"t","k":"NSE22"}'), "string");
  assert.equal(typeof parseClientMessage('{"t":"a","uid":"U1"}'), "string");
  assert.equal(typeof parseClientMessage('{"t":"x"}'), "string");
  assert.equal(
    encodeLoginAck("c", "U1", "Invalid Session Key"),
    '{"t":"ck","uid":"U1","s":"NOT_OK","emsg":"Invalid Session Key"}',
  );
});

Deno.test("fuzz: truncated, random and mutated input never throws; every bad case is counted", () => {
  const rand = prng(42);
  const d = new NorenDecoder<Ref>();
  d.watch("NFO|35003", { exchange: "NFO", symbol: "NIFTY28MAR24FUT" }, "d");
  // Every proper prefix of a valid message is bad JSON.
  for (let n = 0; n < DEPTH_SNAPSHOT.length; n++) {
    const r = d.decode(DEPTH_SNAPSHOT.slice(0, n), NOW);
    assert.equal(r.ticks, undefined);
  }
  assert.equal(d.stats.badJson, DEPTH_SNAPSHOT.length);
  const alphabet = '{}[]":,tkfde0123456789.-NSEOK|#abcnull truefalse\\';
  for (let i = 0; i < 5000; i++) {
    const len = Math.floor(rand() * 80);
    let s = "";
    for (let j = 0; j < len; j++) s += alphabet[Math.floor(rand() * alphabet.length)];
    const r = d.decode(s, NOW);
    for (const t of r.ticks ?? []) assert.equal(typeof parseTick(t), "object");
  }
  // Mutate values of a valid message: ticks stay well-formed or the field is reported.
  const keys = ["lp", "v", "bp1", "sq3", "oi", "ltt", "ft", "c", "pp"];
  const junk: unknown[] = ["", "x", "1e400", null, [], {}, true, -5, "NaN", "  7 "];
  for (let i = 0; i < 2000; i++) {
    const m = JSON.parse(DEPTH_SNAPSHOT);
    m.t = rand() < 0.5 ? "dk" : "df";
    m[keys[Math.floor(rand() * keys.length)]] = junk[Math.floor(rand() * junk.length)];
    const r = d.decode(JSON.stringify(m), NOW);
    for (const t of r.ticks ?? []) assert.equal(typeof parseTick(t), "object");
  }
  const bytes = new Uint8Array(64);
  for (let i = 0; i < 200; i++) {
    for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand() * 256);
    assert.equal(
      d.decode(bytes.subarray(0, Math.floor(rand() * 64)), NOW).malformed,
      "binary frame",
    );
  }
  assert.ok(d.stats.errors >= DEPTH_SNAPSHOT.length + 200);
  assert.equal(d.stats.messages, DEPTH_SNAPSHOT.length + 5000 + 2000 + 200);
});
