// Live candles over :8765 (issue 17): subscribe_candles / unsubscribe_candles on a real proxy on
// 127.0.0.1 with an in-memory upstream, ticks injected with chosen exchange times and a clock the
// test moves, so bar closes and flat bars are deterministic.

import assert from "node:assert/strict";
import { limitsSchema } from "../../lib/config/config.ts";
import { ApiKeyAuth, ProxyServer } from "../../lib/proxy/mod.ts";
import { SubscriptionRegistry } from "../../lib/subscriptions/registry.ts";
import type { Tick } from "../../lib/types.ts";
import { buildCandles, type CandleInterval } from "../../lib/candles/mod.ts";
import { startGateway, TEST_KEY, TestClient, until } from "../helpers/gateway.ts";
import { fakeFactory, makeTick } from "../helpers/fake_adapter.ts";
import { assertConsistent } from "../helpers/invariant.ts";
import { MemoryUpstream } from "./helpers.ts";
import { BusReader } from "../../lib/bus/mod.ts";

type Frame = Record<string, unknown>;

const ist = (hhmmss: string) => Date.parse(`2026-11-27T${hhmmss}+05:30`);

function trade(hhmmss: string, ltp: number, volume: number): Tick {
  const t = ist(hhmmss);
  return { ...makeTick("NSE", "RELIANCE", 2, ltp), ltt: t, timestamp: t, volume };
}

async function withProxy(
  fn: (ctx: {
    proxy: ProxyServer;
    upstream: MemoryUpstream;
    subscribes: () => number;
    setClock: (t: number) => void;
  }) => Promise<void>,
): Promise<void> {
  const upstream = new MemoryUpstream();
  let subscribes = 0;
  const counted = {
    subscribe: (...a: Parameters<MemoryUpstream["subscribe"]>) => {
      subscribes++;
      return upstream.subscribe(...a);
    },
    unsubscribe: (...a: Parameters<MemoryUpstream["unsubscribe"]>) => upstream.unsubscribe(...a),
  };
  let clock = ist("10:00:00");
  const proxy = await ProxyServer.start({ host: "127.0.0.1", port: 0 }, {
    registry: new SubscriptionRegistry(counted),
    auth: await ApiKeyAuth.create([TEST_KEY], { maxFailures: 10, windowMs: 60_000 }),
    limits: limitsSchema.parse({}),
    broker: "paper",
    userId: "local",
    supportedBrokers: ["paper"],
    feedStatus: () => [],
    candles: { formingMs: 20, clock: () => clock },
  });
  try {
    await fn({ proxy, upstream, subscribes: () => subscribes, setClock: (t) => clock = t });
  } finally {
    await proxy.close();
  }
}

const candles = (c: TestClient) => c.frames.filter((f) => f.type === "candle");
const closedAt = (c: TestClient, time: number) =>
  candles(c).filter((f) => (f.data as Frame).closed === true && (f.data as Frame).time === time);

async function client(port: number): Promise<TestClient> {
  const c = await TestClient.connect(port);
  await c.auth();
  return c;
}

const SUB = {
  action: "subscribe_candles",
  symbols: [{ symbol: "RELIANCE", exchange: "NSE" }],
  interval: "1m",
};

Deno.test("candles: one upstream Quote key for every subscriber; closed bars once, forming bars, flat bars", async () => {
  await withProxy(async ({ proxy, upstream, subscribes, setClock }) => {
    const port = proxy.addr.port;
    const a = await client(port);
    const b = await client(port);
    const q = await client(port);
    const ack = await a.request(SUB, "subscribe_candles");
    assert.equal(ack.status, "success");
    assert.equal(ack.interval, "1m");
    assert.deepEqual((ack.subscriptions as Frame[]).map((s) => [s.symbol, s.status, s.interval]), [
      ["RELIANCE", "success", "1m"],
    ]);
    assert.ok(upstream.streaming.has("NSE:RELIANCE:2"), "candles hold a Quote subscription");
    await b.request({ ...SUB, interval: "5m" }, "subscribe_candles");
    await q.request({ action: "subscribe", symbol: "RELIANCE", exchange: "NSE" }, "subscribe");
    assert.equal(subscribes(), 1, "one upstream subscription for candles and quotes together");

    proxy.onTicks([trade("10:00:05", 100, 1_000), trade("10:00:30", 102, 1_200)]);
    const forming = await a.waitFor((f) => f.type === "candle");
    assert.deepEqual(forming, {
      type: "candle",
      symbol: "RELIANCE",
      exchange: "NSE",
      interval: "1m",
      data: {
        time: ist("10:00:00"),
        open: 100,
        high: 102,
        low: 100,
        close: 102,
        volume: 200,
        closed: false,
      },
    });
    proxy.onTicks([trade("10:00:50", 99, 1_250), trade("10:01:02", 101, 1_500)]);
    const closed = await a.waitFor((f) => (f.data as Frame | undefined)?.closed === true);
    assert.deepEqual(closed.data, {
      time: ist("10:00:00"),
      open: 100,
      high: 102,
      low: 99,
      close: 99,
      volume: 250,
      closed: true,
    });
    // The clock passes 10:03 (+ grace): the 10:01 bar closes, 10:02 is a flat bar.
    setClock(ist("10:03:05"));
    await a.waitFor((f) => (f.data as Frame | undefined)?.time === ist("10:02:00"));
    assert.deepEqual(closedAt(a, ist("10:01:00")).map((f) => f.data), [
      {
        time: ist("10:01:00"),
        open: 101,
        high: 101,
        low: 101,
        close: 101,
        volume: 250,
        closed: true,
      },
    ]);
    assert.deepEqual(closedAt(a, ist("10:02:00")).map((f) => f.data), [
      {
        time: ist("10:02:00"),
        open: 101,
        high: 101,
        low: 101,
        close: 101,
        volume: 0,
        closed: true,
      },
    ]);
    // Let a few more timer rounds pass: each closed bar was sent exactly once.
    await a.request({ action: "ping" }, "pong");
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(closedAt(a, ist("10:00:00")).length, 1);
    assert.equal(closedAt(a, ist("10:01:00")).length, 1);
    assert.ok(candles(a).every((f) => f.interval === "1m"));
    // The 5m subscriber sees its own interval only; its bar is still forming.
    await b.waitFor((f) => f.type === "candle");
    assert.ok(candles(b).every((f) => f.interval === "5m" && (f.data as Frame).closed === false));
    assert.equal((candles(b).at(-1)!.data as Frame).volume, 500);
    // A tick of the previous session is late for both series: dropped, counted, nothing sent.
    const before = candles(a).length;
    const stale = Date.parse("2026-11-26T15:00:00+05:30");
    proxy.onTicks([{ ...trade("10:03:00", 1, 9_999), ltt: stale, timestamp: stale }]);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, /^tickplex_candle_series 2$/m);
    assert.match(metrics, /^tickplex_candle_late_ticks_total 2$/m);
    await a.request({ action: "ping" }, "pong");
    assert.equal(candles(a).length, before);
    // The quote client got plain market_data, no candles.
    assert.equal(candles(q).length, 0);
    assert.ok(q.frames.some((f) => f.type === "market_data"));
  });
});

Deno.test("candles: a new subscriber gets the forming bar at once; the last unsubscribe releases upstream", async () => {
  await withProxy(async ({ proxy, upstream }) => {
    const port = proxy.addr.port;
    const a = await client(port);
    await a.request(SUB, "subscribe_candles");
    proxy.onTicks([trade("10:00:05", 100, 1_000), trade("10:00:06", 100.5, 1_010)]);
    await a.waitFor((f) => f.type === "candle");
    const b = await client(port);
    const from = b.frames.length;
    const ack = await b.request(SUB, "subscribe_candles");
    const bar = await b.waitFor((f) => f.type === "candle", 5000, from);
    assert.ok(b.frames.indexOf(ack) < b.frames.indexOf(bar));
    assert.equal((bar.data as Frame).close, 100.5);

    const listed = await b.request({ action: "get_subscriptions" }, "subscriptions");
    assert.deepEqual(listed.candles, [{ symbol: "RELIANCE", exchange: "NSE", interval: "1m" }]);
    assert.deepEqual(listed.subscriptions, [], "candles are not quote subscriptions");
    const un = await a.request(
      { action: "unsubscribe_candles", symbols: [{ symbol: "RELIANCE", exchange: "NSE" }] },
      "unsubscribe_candles",
    );
    assert.equal(un.status, "success");
    assert.deepEqual((un.successful as Frame[]).map((s) => s.intervals), [["1m"]]);
    assert.ok(upstream.streaming.has("NSE:RELIANCE:2"), "b still holds the candles");
    const again = await a.request(
      { ...SUB, action: "unsubscribe_candles" },
      "unsubscribe_candles",
    );
    assert.equal(again.status, "error");
    assert.equal((again.failed as Frame[])[0].code, "NOT_SUBSCRIBED");
    b.ws.close();
    await until(() => !upstream.streaming.has("NSE:RELIANCE:2"), 5000, "release on disconnect");
  });
});

Deno.test("candles: bad requests get the protocol's codes, per entry where they are per entry", async () => {
  await withProxy(async ({ proxy }) => {
    const port = proxy.addr.port;
    const anon = await TestClient.connect(port);
    const denied = await anon.request(SUB, "subscribe_candles");
    assert.equal(denied.code, "NOT_AUTHENTICATED");
    const a = await client(port);
    const bad = await a.request({ ...SUB, interval: "2m" }, "subscribe_candles");
    assert.deepEqual([bad.status, bad.code], ["error", "INVALID_PARAMETERS"]);
    assert.match(bad.message as string, /1s, 1m, 3m, 5m, 15m, 30m, 1h, 1d/);
    const none = await a.request(
      { action: "subscribe_candles", interval: "1m" },
      "subscribe_candles",
    );
    assert.equal(none.code, "INVALID_PARAMETERS");
    const mixed = await a.request({
      action: "subscribe_candles",
      interval: "15m",
      symbols: [{ symbol: "RELIANCE", exchange: "NSE" }, { symbol: "", exchange: "NSE" }],
    }, "subscribe_candles");
    assert.equal(mixed.status, "partial");
    assert.deepEqual((mixed.subscriptions as Frame[]).map((s) => s.code ?? s.status), [
      "success",
      "INVALID_PARAMETERS",
    ]);
  });
});

/** A seeded trading morning: a random walk with quiet gaps, out-of-order, late and repeated ticks. */
function morning(seed: number): Tick[] {
  let x = seed;
  const r = () => {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    return x / 2_147_483_648;
  };
  const ticks: Tick[] = [];
  let t = ist("09:14:50");
  let price = 2_500;
  let volume = 10_000;
  while (t < ist("11:00:00")) {
    t += r() < 0.02 ? 180_000 : Math.floor(r() * 4_000); // now and then a quiet three minutes
    price = Math.round((price + (r() - 0.5) * 4) * 20) / 20;
    volume += Math.floor(r() * 50);
    const at = r() < 0.05 ? t - Math.floor(r() * 90_000) : t; // a tick from up to 90 s ago
    ticks.push({ ...makeTick("NSE", "RELIANCE", 2, price), ltt: at, timestamp: at, volume });
    if (r() < 0.03) ticks.push({ ...ticks[ticks.length - 1] }); // a repeat
  }
  return ticks;
}

Deno.test("candles: live bars over :8765 equal the bars built from the same ticks afterwards", async () => {
  await withProxy(async ({ proxy, setClock }) => {
    setClock(ist("09:00:00"));
    const a = await client(proxy.addr.port);
    const intervals: CandleInterval[] = ["1m", "5m", "1h"];
    for (const interval of intervals) await a.request({ ...SUB, interval }, "subscribe_candles");
    const ticks = morning(42);
    for (let i = 0; i < ticks.length; i += 50) {
      proxy.onTicks(ticks.slice(i, i + 50));
      await new Promise((r) => setTimeout(r, 0));
    }
    const end = ist("16:00:00");
    setClock(end);
    for (const interval of intervals) {
      const built = buildCandles(ticks, "NSE", "RELIANCE", interval, { until: end });
      assert.ok(built.dropped > 0, "the sequence has late ticks");
      const last = built.closed.at(-1)!;
      await a.waitFor((f) =>
        f.type === "candle" && f.interval === interval && (f.data as Frame).time === last.time &&
        (f.data as Frame).closed === true
      );
      const live = candles(a)
        .filter((f) => f.interval === interval && (f.data as Frame).closed === true)
        .map((f) => f.data);
      assert.deepEqual(live, built.closed, `${interval} bars`);
    }
    assert.equal(
      candles(a).filter((f) => f.interval === "1m" && (f.data as Frame).closed).length,
      375,
      "09:15–15:30 in 1m bars, quiet minutes as flat bars",
    );
  });
});

Deno.test("candles in the whole gateway: the pool streams the Quote key, bars flow, disconnect releases", async () => {
  const f = fakeFactory(new Set(["NSE:RELIANCE"]));
  const gw = await startGateway({}, { linkFactory: f.factory });
  try {
    const a = await TestClient.connect(gw);
    await a.auth();
    const ack = await a.request(SUB, "subscribe_candles");
    assert.equal(ack.status, "success");
    assert.deepEqual(
      gw.pool.streams().map((s) => [s.exchange, s.symbol, s.mode]),
      [["NSE", "RELIANCE", 2]],
    );
    assertConsistent(gw);
    const link = f.links.find((l) => l.streams.has("NSE:RELIANCE"))!;
    link.emit([trade("10:00:05", 100, 1_000), trade("10:00:20", 101, 1_100)]);
    link.emit([trade("10:01:00", 102, 1_300)]);
    const closed = await a.waitFor((f) => (f.data as Frame | undefined)?.closed === true);
    assert.deepEqual(closed.data, {
      time: ist("10:00:00"),
      open: 100,
      high: 101,
      low: 100,
      close: 101,
      volume: 100,
      closed: true,
    });
    a.ws.close();
    await until(() => gw.pool.streams().length === 0, 5000, "the candle key released");
    assertConsistent(gw);
  } finally {
    await gw.stop();
  }
});

Deno.test("candles on the bus: each closed bar of the candle feed's series once, under its own topic", async () => {
  const f = fakeFactory(new Set(["NSE:RELIANCE"]));
  const gw = await startGateway({}, { linkFactory: f.factory });
  const reader = BusReader.connect({ address: gw.bus.endpoint, topics: ["NSE_RELIANCE_"] });
  const events = reader[Symbol.asyncIterator]();
  try {
    const a = await TestClient.connect(gw);
    const b = await TestClient.connect(gw);
    await a.auth();
    await b.auth();
    await a.request(SUB, "subscribe_candles");
    await b.request(SUB, "subscribe_candles"); // the same series: its bars still go out once
    await b.request({ ...SUB, interval: "5m" }, "subscribe_candles");
    const link = f.links.find((l) => l.streams.has("NSE:RELIANCE"))!;
    // Slow joiner: ticks of the forming bar until the reader sees one (no bar closes meanwhile).
    const deadline = Date.now() + 10_000;
    let joined = false;
    while (!joined && Date.now() < deadline) {
      link.emit([trade("10:00:05", 100, 1_000)]);
      const next = await Promise.race([
        events.next(),
        new Promise<null>((r) => setTimeout(() => r(null), 50)),
      ]);
      // A pending next() that lost the race still resolves later: keep reading from the iterator.
      if (next !== null && !next.done && next.value.kind === "tick") joined = true;
    }
    assert.ok(joined, "the reader joined the bus");
    link.emit([trade("10:00:20", 101, 1_100)]);
    link.emit([trade("10:01:00", 102, 1_300), trade("10:05:10", 104, 1_600)]);
    const bars = new Map<string, { seq: number; time: number; volume: number }[]>();
    const count = (topic: string) => bars.get(topic)?.length ?? 0;
    // 10:00..10:04 at 1m (10:01..10:04 from trades and flat fill), 10:00 at 5m.
    while (count("NSE_RELIANCE_CANDLE_1M") < 5 || count("NSE_RELIANCE_CANDLE_5M") < 1) {
      const next = await Promise.race([
        events.next(),
        new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 10_000)),
      ]);
      assert.ok(next !== "timeout" && !next.done, "closed bars arrive");
      const e = next.value;
      if (e.kind !== "candle") continue;
      const list = bars.get(e.topic) ?? [];
      list.push({
        seq: e.envelope.seq,
        time: e.envelope.data.time,
        volume: e.envelope.data.volume,
      });
      bars.set(e.topic, list);
      assert.equal(e.envelope.interval, e.topic.endsWith("5M") ? "5m" : "1m");
    }
    const oneMinute = bars.get("NSE_RELIANCE_CANDLE_1M")!;
    assert.deepEqual(oneMinute.slice(0, 5), [
      { seq: 0, time: ist("10:00:00"), volume: 100 },
      { seq: 1, time: ist("10:01:00"), volume: 200 },
      { seq: 2, time: ist("10:02:00"), volume: 0 },
      { seq: 3, time: ist("10:03:00"), volume: 0 },
      { seq: 4, time: ist("10:04:00"), volume: 0 },
    ], "once each, in order, though two clients watch the series");
    assert.deepEqual(bars.get("NSE_RELIANCE_CANDLE_5M")![0], {
      seq: 0,
      time: ist("10:00:00"),
      volume: 300,
    });
    assert.deepEqual([...bars.keys()].sort(), ["NSE_RELIANCE_CANDLE_1M", "NSE_RELIANCE_CANDLE_5M"]);
    // The clock's flat bars may follow; every bar is still there exactly once.
    for (const list of bars.values()) {
      const times = list.map((x) => x.time);
      assert.equal(new Set(times).size, times.length, "no bar twice");
      assert.deepEqual(list.map((x) => x.seq), list.map((_, i) => i), "no gaps");
    }
    assert.equal(reader.invalid, 0);
    a.ws.close();
    b.ws.close();
  } finally {
    reader.close();
    await gw.stop();
  }
});
