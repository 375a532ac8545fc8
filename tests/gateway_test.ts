// The client protocol end to end over real sockets on 127.0.0.1, with an in-process fake broker so
// every upstream call can be counted: the reference's test cases 1–14 adapted to the fixed protocol.

import assert from "node:assert/strict";
import { RawClient, startGateway, TEST_KEY, TestClient, until } from "./helpers/gateway.ts";
import { fakeFactory, makeTick } from "./helpers/fake_adapter.ts";
import { assertConsistent } from "./helpers/invariant.ts";
import type { Gateway } from "../lib/gateway.ts";

const KNOWN = new Set([
  "NSE:RELIANCE",
  "NSE:TCS",
  "NSE:INFY",
  "NSE:SBIN",
  "NSE:ITC",
  "NSE_INDEX:NIFTY",
]);

async function withGateway(
  fn: (ctx: { gw: Gateway; links: ReturnType<typeof fakeFactory>["links"] }) => Promise<void>,
  config: Record<string, unknown> = {},
): Promise<void> {
  const f = fakeFactory(KNOWN);
  const gw = await startGateway(config, { linkFactory: f.factory });
  try {
    await fn({ gw, links: f.links });
    // Whatever the test did to the gateway, registry, pool and the fake broker still agree.
    const broker = {
      streamed: () => f.links.filter((l) => !l.terminated).reduce((n, l) => n + l.streams.size, 0),
    };
    const agrees = () => {
      try {
        assertConsistent(gw, broker);
        return true;
      } catch {
        return false;
      }
    };
    await until(agrees, 3000, "in-flight releases to settle").catch(() => {});
    assertConsistent(gw, broker);
  } finally {
    await gw.stop();
  }
}

const calls = (link: { calls: { type: string }[] }, type: string) =>
  link.calls.filter((c) => c.type === type).length;

Deno.test("auth: grace close 4401; ping and get_supported_brokers before auth; others refused", async () => {
  await withGateway(async ({ gw }) => {
    const c = await TestClient.connect(gw);
    const pong = await c.request({ action: "ping", timestamp: 123, _pingId: "x" }, "pong");
    assert.equal(pong.client_timestamp, 123);
    assert.equal(pong._pingId, "x");
    assert.ok(Number.isInteger(pong.server_timestamp));
    const brokers = await c.request({ action: "get_supported_brokers" }, "supported_brokers");
    assert.ok((brokers.brokers as string[]).includes("paper"));
    assert.equal(brokers.count, (brokers.brokers as string[]).length);
    for (
      const [action, type] of [["subscribe", "subscribe"], ["get_subscriptions", "subscriptions"], [
        "unsubscribe_all",
        "unsubscribe",
      ], ["get_broker_info", "broker_info"]]
    ) {
      const r = await c.request({ action, symbol: "TCS", exchange: "NSE" }, type);
      assert.equal(r.code, "NOT_AUTHENTICATED");
      assert.equal(r.message, "You must authenticate first");
    }
    const closed = await c.waitClose(3000);
    assert.equal(closed.code, 4401);
    assert.equal(closed.reason, "auth timeout");
  }, { limits: { authGraceMs: 400 } });
});

Deno.test("auth: both request shapes succeed with the exact frame; bad keys keep the socket open", async () => {
  await withGateway(async ({ gw }) => {
    const c = await TestClient.connect(gw);
    const missing = await c.request({ action: "authenticate" }, "auth");
    assert.deepEqual([missing.status, missing.code, missing.message], [
      "error",
      "AUTHENTICATION_ERROR",
      "API key is required",
    ]);
    const wrong = await c.request(
      { action: "authenticate", api_key: "wrong-wrong-wrong-wrong" },
      "auth",
    );
    assert.deepEqual([wrong.code, wrong.message], ["AUTHENTICATION_ERROR", "Invalid API key"]);
    const ok = await c.request({ type: "auth", apikey: TEST_KEY }, "auth");
    const { request_id: _, ...rest } = ok;
    assert.deepEqual(rest, {
      type: "auth",
      status: "success",
      message: "Authentication successful",
      broker: "paper",
      user_id: "local",
      supported_features: { ltp: true, quote: true, depth: true, batch: true },
    });
    const c2 = await TestClient.connect(gw);
    assert.equal(
      (await c2.request({ action: "authenticate", api_key: TEST_KEY }, "auth")).status,
      "success",
    );
    await c.close();
    await c2.close();
  });
});

Deno.test("auth: repeated failures from one address are rate limited; valid keys still work", async () => {
  await withGateway(async ({ gw }) => {
    const c = await TestClient.connect(gw);
    const codes: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      codes.push(
        (await c.request({ action: "authenticate", api_key: `bad-key-${i}-xxxxxxxxxxxx` }, "auth"))
          .code,
      );
    }
    assert.deepEqual(codes, [
      "AUTHENTICATION_ERROR",
      "AUTHENTICATION_ERROR",
      "AUTHENTICATION_ERROR",
      "RATE_LIMITED",
      "RATE_LIMITED",
    ]);
    assert.equal((await c.auth()).status, "success");
    await c.close();
  }, { limits: { authFailuresPerMinute: 3 } });
});

Deno.test("modes over the wire: accepted forms acked with labels, rejected forms with INVALID_MODE", async () => {
  await withGateway(async ({ gw }) => {
    const c = await TestClient.connect(gw);
    await c.auth();
    for (
      const [mode, label] of [[1, "LTP"], ["quote", "Quote"], [" Depth ", "Depth"], [
        "LTP",
        "LTP",
      ]] as const
    ) {
      const r = await c.request(
        { action: "subscribe", symbol: "TCS", exchange: "NSE", mode },
        "subscribe",
      );
      assert.equal((r.subscriptions as { mode: string }[])[0].mode, label);
    }
    for (const bad of [0, 4, "1", "", true, null, [2]]) {
      const r = await c.request(
        { action: "subscribe", symbol: "TCS", exchange: "NSE", mode: bad },
        "subscribe",
      );
      assert.equal(r.code, "INVALID_MODE", `mode ${JSON.stringify(bad)}`);
      assert.match(r.message as string, /expected|must be int or str/);
    }
    c.send('{"action":"subscribe","symbol":"TCS","exchange":"NSE","mode":2.0,"request_id":"f"}');
    const f = await c.waitFor((x) => x.request_id === "f");
    assert.equal(f.code, "INVALID_MODE");
    await c.close();
  });
});

Deno.test("subscribe: single and array forms, per-entry errors with codes, partial and error status", async () => {
  await withGateway(async ({ gw, links }) => {
    const c = await TestClient.connect(gw);
    await c.auth();
    const single = await c.request({
      action: "subscribe",
      symbol: "RELIANCE",
      exchange: "NSE",
      mode: 2,
      depth: 5,
    }, "subscribe");
    assert.equal(single.status, "success");
    assert.deepEqual(single.subscriptions, [{
      symbol: "RELIANCE",
      exchange: "NSE",
      status: "success",
      mode: "Quote",
      depth: 5,
      broker: "paper",
    }]);
    const mixed = await c.request({
      action: "subscribe",
      symbols: [{ symbol: "TCS", exchange: "NSE" }, { symbol: "BOGUS", exchange: "NSE" }, {
        exchange: "NSE",
      }],
      mode: "LTP",
    }, "subscribe");
    assert.equal(mixed.status, "partial");
    const subs = mixed.subscriptions as Record<string, unknown>[];
    assert.equal(subs[0].status, "success");
    assert.deepEqual(subs[1], {
      symbol: "BOGUS",
      exchange: "NSE",
      status: "error",
      code: "SYMBOL_NOT_FOUND",
      message: "Symbol not found: BOGUS on NSE",
      broker: "paper",
    });
    assert.equal(subs[2].code, "INVALID_PARAMETERS");
    const allBad = await c.request({
      action: "subscribe",
      symbols: [{ symbol: "NOPE", exchange: "NSE" }],
    }, "subscribe");
    assert.equal(allBad.status, "error");
    const empty = await c.request({ action: "subscribe", symbols: [] }, "subscribe");
    assert.deepEqual([empty.status, empty.code, empty.message], [
      "error",
      "INVALID_PARAMETERS",
      "At least one symbol must be specified",
    ]);
    // Idempotent: subscribing the same key again does not call the broker.
    const before = calls(links[0], "subscribe");
    await c.request(
      { action: "subscribe", symbol: "RELIANCE", exchange: "NSE", mode: 2 },
      "subscribe",
    );
    assert.equal(calls(links[0], "subscribe"), before);
    const list = await c.request({ action: "get_subscriptions" }, "subscriptions");
    assert.equal(list.count, 2);
    await c.close();
  });
});

Deno.test("two clients on one key: one upstream subscribe; last leave (or abrupt disconnect) releases once", async () => {
  await withGateway(async ({ gw, links }) => {
    const a = await TestClient.connect(gw), b = await TestClient.connect(gw);
    await a.auth();
    await b.auth();
    await Promise.all([
      a.request({ action: "subscribe", symbol: "INFY", exchange: "NSE", mode: 2 }, "subscribe"),
      b.request({ action: "subscribe", symbol: "INFY", exchange: "NSE", mode: 2 }, "subscribe"),
    ]);
    assert.equal(calls(links[0], "subscribe"), 1);
    const ua = await a.request(
      { action: "unsubscribe", symbol: "INFY", exchange: "NSE", mode: 2 },
      "unsubscribe",
    );
    assert.equal(ua.status, "success");
    assert.equal(calls(links[0], "unsubscribe"), 0);
    assert.deepEqual(gw.registry.list().map((r) => r.consumers), [1]);
    // Unsubscribing a key the client does not hold is reported, not a silent success.
    const again = await a.request({
      action: "unsubscribe",
      symbol: "INFY",
      exchange: "NSE",
      mode: 2,
    }, "unsubscribe");
    assert.equal(again.status, "error");
    assert.equal((again.failed as Record<string, unknown>[])[0].code, "NOT_SUBSCRIBED");
    // b vanishes without unsubscribing.
    b.ws.close();
    await until(
      () => calls(links[0], "unsubscribe") === 1,
      3000,
      "upstream unsubscribe after disconnect",
    );
    assert.equal(links[0].streams.size, 0);
    assert.deepEqual(gw.registry.list(), []);
    await a.close();
  });
});

Deno.test("mode hierarchy: covered LTP under Depth, lean LTP payload, downgrade, failed downgrade", async () => {
  await withGateway(async ({ gw, links }) => {
    const a = await TestClient.connect(gw), b = await TestClient.connect(gw);
    await a.auth();
    await b.auth();
    await a.request({ action: "subscribe", symbol: "SBIN", exchange: "NSE", mode: 3 }, "subscribe");
    const upstreamBefore = links[0].calls.length;
    await b.request({ action: "subscribe", symbol: "SBIN", exchange: "NSE", mode: 1 }, "subscribe");
    assert.equal(links[0].calls.length, upstreamBefore, "LTP under Depth needs no broker call");
    links[0].emit([makeTick("NSE", "SBIN", 3, 812.5)]);
    const ta = await a.waitFor((f) => f.type === "market_data");
    const tb = await b.waitFor((f) => f.type === "market_data");
    assert.deepEqual(Object.keys(ta), ["type", "symbol", "exchange", "mode", "data", "broker"]);
    assert.equal(ta.mode, 3);
    assert.equal(tb.mode, 1);
    assert.deepEqual(Object.keys(tb.data as object).sort(), [
      "exchange",
      "ltp",
      "ltt",
      "symbol",
      "timestamp",
    ]);
    assert.ok((ta.data as { depth: { buy: unknown[] } }).depth.buy.length > 0);
    // A leaves: the stream is downgraded to LTP.
    await a.request({ action: "unsubscribe", symbol: "SBIN", exchange: "NSE" }, "unsubscribe");
    assert.equal(links[0].streams.get("NSE:SBIN"), 1);
    // Upgrade again, then make the downgrade fail.
    await a.request({ action: "subscribe", symbol: "SBIN", exchange: "NSE", mode: 3 }, "subscribe");
    assert.equal(links[0].streams.get("NSE:SBIN"), 3);
    assert.equal(gw.pool.status()[0].symbols, 1, "upgrade stays on the same connection");
    links[0].failNext.add("set_mode");
    const r = await a.request(
      { action: "unsubscribe", symbol: "SBIN", exchange: "NSE", mode: 3 },
      "unsubscribe",
    );
    assert.equal(r.status, "error");
    assert.equal((r.failed as Record<string, unknown>[])[0].code, "DOWNGRADE_FAILED");
    assert.equal(links[0].streams.get("NSE:SBIN"), 3, "broker still streams Depth");
    assert.deepEqual(gw.pool.streams()[0].modes, [1, 3], "pool tracking agrees with the broker");
    await a.close();
    await b.close();
  });
});

Deno.test("capacity 2x2 over the wire: 5th symbol gets MAX_CAPACITY_REACHED with the numbers", async () => {
  await withGateway(async ({ gw, links }) => {
    const c = await TestClient.connect(gw);
    await c.auth();
    for (const s of ["RELIANCE", "TCS"]) {
      await c.request({ action: "subscribe", symbol: s, exchange: "NSE" }, "subscribe");
    }
    assert.equal(links.length, 1);
    await c.request({ action: "subscribe", symbol: "INFY", exchange: "NSE" }, "subscribe");
    assert.equal(links.length, 2);
    await c.request({ action: "subscribe", symbol: "SBIN", exchange: "NSE" }, "subscribe");
    const r = await c.request({ action: "subscribe", symbol: "ITC", exchange: "NSE" }, "subscribe");
    const e = (r.subscriptions as Record<string, unknown>[])[0];
    assert.equal(e.code, "MAX_CAPACITY_REACHED");
    assert.equal(
      e.message,
      "Maximum capacity reached: 2 connections × 2 symbols = 4 symbols. Currently subscribed to 4 symbols.",
    );
    await c.close();
  }, { broker: { name: "paper", maxSymbolsPerConnection: 2, maxConnections: 2 } });
});

Deno.test("delivery: one frame per tick per key, nothing for keys not held, unsubscribe mode applies to arrays", async () => {
  await withGateway(async ({ gw, links }) => {
    const a = await TestClient.connect(gw), b = await TestClient.connect(gw);
    await a.auth();
    await b.auth();
    await a.request({
      action: "subscribe",
      symbols: [{ symbol: "TCS", exchange: "NSE" }, { symbol: "INFY", exchange: "NSE" }],
      mode: 1,
    }, "subscribe");
    await a.request({ action: "subscribe", symbol: "TCS", exchange: "NSE", mode: 2 }, "subscribe");
    await b.request({ action: "subscribe", symbol: "INFY", exchange: "NSE", mode: 1 }, "subscribe");
    const start = a.frames.length;
    const startB = b.frames.length;
    links[0].emit([makeTick("NSE", "TCS", 2, 3500), makeTick("NSE", "RELIANCE", 2)]);
    // A later tick both clients hold is the barrier: each client gets its frames in order, so
    // everything the first batch caused arrives before it.
    links[0].emit([makeTick("NSE", "INFY", 1, 1234)]);
    const isBarrier = (f: Record<string, unknown>) =>
      f.type === "market_data" && f.symbol === "INFY" && (f.data as { ltp: number }).ltp === 1234;
    const barrierA = a.frames.indexOf(await a.waitFor(isBarrier, 5000, start));
    const barrierB = b.frames.indexOf(await b.waitFor(isBarrier, 5000, startB));
    const got = a.frames.slice(start, barrierA).filter((f) => f.type === "market_data");
    assert.deepEqual(got.map((f) => `${f.symbol}:${f.mode}`).sort(), ["TCS:1", "TCS:2"]);
    assert.equal(
      b.frames.slice(startB, barrierB).filter((f) => f.type === "market_data").length,
      0,
    );
    // Top-level mode applies to every entry of the array (the reference leaked these).
    const u = await a.request({
      action: "unsubscribe",
      mode: 1,
      symbols: [{ symbol: "TCS", exchange: "NSE" }, { symbol: "INFY", exchange: "NSE" }],
    }, "unsubscribe");
    assert.equal(u.status, "success");
    assert.deepEqual(
      (await a.request({ action: "get_subscriptions" }, "subscriptions")).subscriptions,
      [
        { symbol: "TCS", exchange: "NSE", mode: "Quote", depth: 5 },
      ],
    );
    // unsubscribe_all only touches the caller and answers with type "unsubscribe".
    const all = await a.request({ action: "unsubscribe_all" }, "unsubscribe");
    assert.equal(all.status, "success");
    assert.deepEqual(gw.registry.list().map((r) => `${r.symbol}:${r.mode}:${r.consumers}`), [
      "INFY:1:1",
    ]);
    await a.close();
    await b.close();
  });
});

Deno.test("batched frames: opt-in clients get market_data_batch, conflated per key", async () => {
  await withGateway(async ({ gw, links }) => {
    const c = await TestClient.connect(gw);
    await c.auth(TEST_KEY, { batch: true });
    const plain = await TestClient.connect(gw);
    await plain.auth();
    await c.request({
      action: "subscribe",
      symbols: [{ symbol: "TCS", exchange: "NSE" }, { symbol: "INFY", exchange: "NSE" }],
      mode: 1,
    }, "subscribe");
    await plain.request(
      { action: "subscribe", symbol: "TCS", exchange: "NSE", mode: 1 },
      "subscribe",
    );
    links[0].emit([
      makeTick("NSE", "TCS", 1, 1),
      makeTick("NSE", "TCS", 1, 2),
      makeTick("NSE", "INFY", 1, 3),
    ]);
    const batch = await c.waitFor((f) => f.type === "market_data_batch");
    const ticks = batch.ticks as Record<string, unknown>[];
    assert.deepEqual(ticks.map((t) => [t.symbol, (t.data as { ltp: number }).ltp]), [["TCS", 2], [
      "INFY",
      3,
    ]]);
    assert.deepEqual(Object.keys(ticks[0]), ["symbol", "exchange", "mode", "data", "broker"]);
    await plain.waitFor((f) => f.type === "market_data" && (f.data as { ltp: number }).ltp === 2);
    assert.equal(
      plain.frames.filter((f) => f.type === "market_data").length,
      2,
      "plain clients get every tick",
    );
    await c.close();
    await plain.close();
  });
});

Deno.test("broker info reports the real adapter state; /health and /metrics answer on the same port", async () => {
  await withGateway(async ({ gw, links }) => {
    const c = await TestClient.connect(gw);
    await c.auth();
    const info = await c.request({ action: "get_broker_info" }, "broker_info");
    assert.deepEqual([info.broker, info.adapter_status, info.user_id], [
      "paper",
      "connected",
      "local",
    ]);
    links[0].onmessage?.({ type: "status", state: "stalled" });
    const stalled = await c.request({ action: "get_broker_info" }, "broker_info");
    assert.equal(stalled.adapter_status, "stalled");
    const base = `http://127.0.0.1:${gw.proxy.addr.port}`;
    const health = await (await fetch(`${base}/health`)).json();
    assert.equal(health.feed_state, "stalled");
    assert.equal(health.clients, 1);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^tickplex_clients 1$/m);
    assert.match(metrics, /^# TYPE tickplex_ticks_in_total counter$/m);
    const denied = await fetch(`${base}/api/v1/subscriptions`);
    assert.equal(denied.status, 401);
    await denied.body?.cancel();
    const subs = await fetch(`${base}/api/v1/subscriptions`, {
      headers: { authorization: `Bearer ${TEST_KEY}` },
    });
    assert.deepEqual(await subs.json(), { subscriptions: [], polled: [] });
    const missing = await fetch(`${base}/nope`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    await c.close();
  });
});

Deno.test("a client that never reads is conflated then closed 1008; others keep receiving", async () => {
  await withGateway(async ({ gw, links }) => {
    const port = gw.proxy.addr.port;
    const raw = await RawClient.connect(port);
    await raw.sendText(JSON.stringify({ action: "authenticate", api_key: TEST_KEY }));
    await raw.sendText(
      JSON.stringify({
        action: "subscribe",
        symbols: [{ symbol: "TCS", exchange: "NSE" }, { symbol: "INFY", exchange: "NSE" }],
        mode: 3,
      }),
    );
    const good = await TestClient.connect(gw);
    await good.auth();
    await good.request(
      { action: "subscribe", symbol: "TCS", exchange: "NSE", mode: 3 },
      "subscribe",
    );
    await until(() => gw.registry.list().some((r) => r.consumers === 2), 3000, "both subscribed");
    let sent = 0;
    const started = Date.now();
    // Pump ticks (with a 2 KB depth payload) until the silent client is closed; bounded.
    const bigDepth = Array.from(
      { length: 20 },
      (_, i) => ({ price: 100 + i, quantity: 1000 + i, orders: i }),
    );
    while (gw.proxy.counters.slowConsumersClosed === 0 && Date.now() - started < 60_000) {
      const batch = Array.from(
        { length: 200 },
        (_, i) => ({
          ...makeTick("NSE", i % 2 ? "TCS" : "INFY", 3, 100 + sent + i),
          depth: { buy: bigDepth, sell: bigDepth },
        }),
      );
      sent += batch.length;
      links[0].emit(batch);
      await new Promise((r) => setTimeout(r, 1));
    }
    assert.equal(gw.proxy.counters.slowConsumersClosed, 1, "the silent client must be closed");
    // The reading client got the newest TCS tick promptly.
    const last = 100 + sent - 1;
    await good.waitFor(
      (f) => f.type === "market_data" && (f.data as { ltp: number }).ltp >= last - 200,
      5000,
    );
    assert.equal(good.closeEvent, null);
    raw.close();
    await good.close();
    // The reading client shares this process with the gateway and the pump, so it lags too; a
    // wide staleness bound keeps the verdict for the one that never reads.
  }, { limits: { sendHighWaterBytes: 65536, slowConsumerMs: 300, maxStalenessMs: 3000 } });
});

Deno.test("oversized frames close 1009; binary frames and garbage get errors and keep the socket", async () => {
  await withGateway(async ({ gw }) => {
    const c = await TestClient.connect(gw);
    c.ws.send(new Uint8Array([1, 2, 3]));
    const bin = await c.waitFor((f) => f.code === "INVALID_MESSAGE");
    assert.match(bin.message as string, /Binary/);
    c.send("{nope");
    assert.equal(
      (await c.waitFor((f) => f.code === "INVALID_JSON")).message,
      "Invalid JSON message",
    );
    c.send("[]");
    await c.waitFor((f) =>
      f.code === "INVALID_MESSAGE" && f.message === "Message must be a JSON object"
    );
    const big = await TestClient.connect(gw);
    big.send(JSON.stringify({ action: "ping", pad: "x".repeat(16 * 1024 * 1024) }));
    const closed = await big.waitClose(10_000);
    assert.equal(closed.code, 1009);
    assert.equal(c.closeEvent, null);
    assert.equal((await c.request({ action: "ping" }, "pong")).status, "success");
    await c.close();
  });
});

Deno.test("flooding: excess messages are rate limited, sustained flooding closes 1008", async () => {
  await withGateway(async ({ gw }) => {
    const c = await TestClient.connect(gw);
    await c.auth();
    const other = await TestClient.connect(gw);
    await other.auth();
    for (let i = 0; i < 3000; i++) c.send('{"action":"ping"}');
    await c.waitFor((f) => f.code === "RATE_LIMITED", 5000);
    await c.waitClose(5000);
    // The server closes with 1008; a client still writing may only see the TCP close.
    assert.equal(gw.proxy.counters.floodersClosed, 1);
    assert.equal((await other.request({ action: "ping" }, "pong")).status, "success");
    await other.close();
  }, { limits: { messagesPerSecond: 100, messageBurst: 200, floodCloseAfter: 1000 } });
});

Deno.test("protocol fuzz over the wire: garbage never crashes the server; other clients keep receiving", async () => {
  await withGateway(async ({ gw, links }) => {
    const watcher = await TestClient.connect(gw);
    await watcher.auth();
    await watcher.request(
      { action: "subscribe", symbol: "TCS", exchange: "NSE", mode: 1 },
      "subscribe",
    );
    const fuzzers = await Promise.all([1, 2, 3].map(() => TestClient.connect(gw)));
    await fuzzers[0].auth();
    let seed = 99;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const pieces = [
      '{"action":"subscribe"',
      '"symbols":[',
      '{"symbol":"TCS","exchange":"NSE"}',
      '"mode":',
      "9",
      '"x"',
      "null",
      "]",
      "}",
      ",",
      '"depth":-1',
      '"action":"unsubscribe"',
      '"unsubscribe_all"',
      "\u0000",
      "💥",
    ];
    let sentFrames = 0;
    for (let round = 0; round < 10; round++) {
      for (const f of fuzzers) {
        for (let i = 0; i < 100; i++) {
          let s = "";
          const n = 1 + Math.floor(rnd() * 8);
          for (let j = 0; j < n; j++) s += pieces[Math.floor(rnd() * pieces.length)];
          f.send(s);
          sentFrames++;
        }
      }
      links[0].emit([makeTick("NSE", "TCS", 1, 1000 + round)]);
      await new Promise((r) => setTimeout(r, 5));
    }
    await watcher.waitFor(
      (f) => f.type === "market_data" && (f.data as { ltp: number }).ltp === 1009,
      5000,
    );
    for (const f of fuzzers) {
      assert.equal((await f.request({ action: "ping" }, "pong", 10_000)).status, "success");
      assert.equal(f.closeEvent, null);
    }
    const errors = fuzzers.flatMap((f) => f.frames).filter((f) => f.status === "error");
    assert.ok(errors.length > 100 && errors.length <= sentFrames);
    assert.ok(errors.every((e) => typeof e.code === "string" && typeof e.type === "string"));
    for (const f of fuzzers) await f.close();
    await watcher.close();
  }, { limits: { messagesPerSecond: 100_000, messageBurst: 100_000 } });
});

Deno.test("OpenAlgo SDK wire compatibility: per-instrument subscribes with integer mode and depth", async () => {
  await withGateway(async ({ gw, links }) => {
    // Exactly what openalgo's FeedAPI sends: auth by action, then one message per instrument.
    const sdk = await TestClient.connect(gw, "/ws");
    sdk.send({ action: "authenticate", api_key: TEST_KEY });
    const auth = await sdk.waitFor((f) => f.type === "auth");
    assert.equal(auth.status, "success");
    for (
      const [symbol, exchange, mode] of [["RELIANCE", "NSE", 1], ["TCS", "NSE", 2], [
        "NIFTY",
        "NSE_INDEX",
        3,
      ]] as const
    ) {
      sdk.send({ action: "subscribe", symbol, exchange, mode, depth: 5 });
      const ack = await sdk.waitFor((f) =>
        f.type === "subscribe" && (f.subscriptions as { symbol: string }[])[0].symbol === symbol
      );
      assert.equal(ack.status, "success");
      assert.equal(ack.message, "Subscription processing complete");
    }
    links[0].emit([
      makeTick("NSE", "RELIANCE", 1, 2940.7),
      makeTick("NSE", "TCS", 2, 3500),
      makeTick("NSE_INDEX", "NIFTY", 3, 24000),
    ]);
    const ltp = await sdk.waitFor((f) => f.type === "market_data" && f.symbol === "RELIANCE");
    assert.deepEqual(ltp.data, {
      symbol: "RELIANCE",
      exchange: "NSE",
      ltp: 2940.7,
      ltt: (ltp.data as { ltt: number }).ltt,
      timestamp: (ltp.data as { timestamp: number }).timestamp,
    });
    const quote = await sdk.waitFor((f) => f.type === "market_data" && f.symbol === "TCS");
    for (
      const k of [
        "open",
        "high",
        "low",
        "close",
        "volume",
        "last_trade_quantity",
        "avg_trade_price",
        "change",
        "change_percent",
        "total_buy_quantity",
        "total_sell_quantity",
        "oi",
      ]
    ) {
      assert.ok(k in (quote.data as object), `quote field ${k}`);
    }
    const depth = await sdk.waitFor((f) => f.type === "market_data" && f.symbol === "NIFTY");
    assert.equal(depth.mode, 3);
    assert.ok(Array.isArray((depth.data as { depth: { sell: unknown[] } }).depth.sell));
    sdk.send({ action: "unsubscribe", symbol: "TCS", exchange: "NSE", mode: 2 });
    const un = await sdk.waitFor((f) => f.type === "unsubscribe");
    assert.equal(un.status, "success");
    await sdk.close();
  });
});

Deno.test("keepalive: idle clients are pinged; one that never answers is closed, one that answers stays", async () => {
  await withGateway(async ({ gw }) => {
    const good = await TestClient.connect(gw);
    await good.auth();
    const raw = await RawClient.connect(gw.proxy.addr.port);
    await raw.sendText(JSON.stringify({ action: "authenticate", api_key: TEST_KEY }));
    // The raw client never reads, so it never answers the server's ping: the server must hang up.
    await until(() => gw.proxy.clientCount === 1, 15_000, "unanswered client dropped");
    // The good client went idle before the raw one, so its ping was due first: had it not
    // answered, it would have been dropped first.
    assert.equal(good.closeEvent, null, "a client that answers pings stays connected");
    assert.equal((await good.request({ action: "ping" }, "pong")).status, "success");
    raw.close();
    await good.close();
  }, { limits: { idleTimeoutS: 1 } });
});
