import assert from "node:assert/strict";
import {
  authFrame,
  parseServerMessage,
  subscribeCandlesFrame,
  subscribeFrame,
  unsubscribeCandlesFrame,
  unsubscribeFrame,
} from "./protocol.ts";
import { parseHistory } from "./history.ts";

Deno.test("page protocol: requests", () => {
  assert.deepEqual(JSON.parse(authFrame("k")), {
    action: "authenticate",
    api_key: "k",
    batch: true,
  });
  const items = [{ exchange: "NSE", symbol: "TCS", mode: 3 as const }];
  assert.deepEqual(JSON.parse(subscribeFrame(items)), {
    action: "subscribe",
    symbols: [{ symbol: "TCS", exchange: "NSE", mode: 3 }],
    depth: 5,
  });
  assert.deepEqual(JSON.parse(unsubscribeFrame(items)), {
    action: "unsubscribe",
    symbols: [{ symbol: "TCS", exchange: "NSE", mode: 3 }],
  });
});

Deno.test("page protocol: batches, single ticks and depth are read", () => {
  const batch = parseServerMessage(JSON.stringify({
    type: "market_data_batch",
    ticks: [
      {
        symbol: "TCS",
        exchange: "NSE",
        mode: 3,
        broker: "paper",
        data: {
          ltp: 3500.5,
          change: -2,
          change_percent: -0.06,
          volume: 1200,
          depth: {
            buy: [{ price: 3500.45, quantity: 10, orders: 2 }],
            sell: [{ price: 3500.55, quantity: 7, orders: null }, { price: "x" }],
          },
        },
      },
      { symbol: "NIFTY", exchange: "NSE_INDEX", mode: 1, data: { ltp: 22000, ltt: null } },
      { symbol: "BAD", exchange: "NSE", mode: 2, data: { ltp: null } },
    ],
  }));
  assert.deepEqual(batch, {
    kind: "ticks",
    ticks: [
      {
        exchange: "NSE",
        symbol: "TCS",
        mode: 3,
        data: {
          ltp: 3500.5,
          change: -2,
          changePercent: -0.06,
          volume: 1200,
          depth: {
            buy: [{ price: 3500.45, quantity: 10, orders: 2 }],
            sell: [{ price: 3500.55, quantity: 7, orders: null }],
          },
        },
      },
      {
        exchange: "NSE_INDEX",
        symbol: "NIFTY",
        mode: 1,
        data: { ltp: 22000, change: null, changePercent: null, volume: null, depth: null },
      },
    ],
  });
  const one = parseServerMessage(
    '{"type":"market_data","symbol":"A","exchange":"NSE","mode":2,"data":{"ltp":1}}',
  );
  assert.equal(one.kind === "ticks" && one.ticks[0].data.ltp, 1);
});

Deno.test("page protocol: replies and errors", () => {
  assert.deepEqual(
    parseServerMessage(
      '{"type":"auth","status":"error","code":"AUTHENTICATION_ERROR","message":"Invalid API key"}',
    ),
    {
      kind: "auth",
      ok: false,
      broker: "",
      message: "Invalid API key",
      code: "AUTHENTICATION_ERROR",
    },
  );
  const sub = parseServerMessage(JSON.stringify({
    type: "subscribe",
    status: "partial",
    message: "Subscription processing complete",
    subscriptions: [
      { symbol: "TCS", exchange: "NSE", status: "success", mode: "Quote" },
      {
        symbol: "BOGUS",
        exchange: "NSE",
        status: "error",
        message: "Symbol not found: BOGUS on NSE",
      },
    ],
  }));
  assert.deepEqual(sub, {
    kind: "subscribe",
    message: "Subscription processing complete",
    entries: [
      { exchange: "NSE", symbol: "TCS", ok: true, message: "" },
      { exchange: "NSE", symbol: "BOGUS", ok: false, message: "Symbol not found: BOGUS on NSE" },
    ],
  });
  assert.deepEqual(
    parseServerMessage('{"type":"error","status":"error","code":"X","message":"m"}'),
    {
      kind: "error",
      code: "X",
      message: "m",
    },
  );
  assert.deepEqual(parseServerMessage("[1]"), { kind: "other" });
  assert.deepEqual(parseServerMessage("{"), { kind: "other" });
});

const CANDLE = {
  type: "candle",
  symbol: "TCS",
  exchange: "NSE",
  interval: "1m",
  data: { time: 1796032740000, open: 10, high: 12, low: 9.5, close: 11, volume: 40, closed: false },
};

Deno.test("page protocol: candle requests and frames", () => {
  const tcs = { exchange: "NSE", symbol: "TCS" };
  assert.deepEqual(JSON.parse(subscribeCandlesFrame(tcs, "5m")), {
    action: "subscribe_candles",
    symbols: [{ symbol: "TCS", exchange: "NSE" }],
    interval: "5m",
  });
  assert.deepEqual(JSON.parse(unsubscribeCandlesFrame(tcs, "5m")), {
    action: "unsubscribe_candles",
    symbols: [{ symbol: "TCS", exchange: "NSE" }],
    interval: "5m",
  });
  assert.deepEqual(parseServerMessage(JSON.stringify(CANDLE)), {
    kind: "candle",
    candle: {
      exchange: "NSE",
      symbol: "TCS",
      interval: "1m",
      bar: {
        time: 1796032740000,
        open: 10,
        high: 12,
        low: 9.5,
        close: 11,
        volume: 40,
        closed: false,
      },
    },
  });
  const closed = parseServerMessage(
    JSON.stringify({ ...CANDLE, data: { ...CANDLE.data, closed: true } }),
  );
  assert.equal(closed.kind === "candle" && closed.candle.bar.closed, true);
  // Bars a chart cannot draw, and unknown intervals, are not candles.
  for (
    const bad of [
      { ...CANDLE, interval: "2m" },
      { ...CANDLE, symbol: "" },
      { ...CANDLE, data: { ...CANDLE.data, high: 9 } },
      { ...CANDLE, data: { ...CANDLE.data, close: 13 } },
      { ...CANDLE, data: { ...CANDLE.data, time: 1.5 } },
      { ...CANDLE, data: { ...CANDLE.data, open: "10" } },
      { ...CANDLE, data: null },
    ]
  ) {
    assert.deepEqual(
      parseServerMessage(JSON.stringify(bad)),
      { kind: "other" },
      JSON.stringify(bad),
    );
  }
  const reply = parseServerMessage(JSON.stringify({
    type: "subscribe_candles",
    status: "partial",
    interval: "1m",
    subscriptions: [
      { symbol: "TCS", exchange: "NSE", status: "success" },
      { symbol: "BOGUS", exchange: "NSE", status: "error", message: "Symbol not found" },
    ],
  }));
  assert.deepEqual(reply, {
    kind: "subscribe_candles",
    interval: "1m",
    entries: [
      { exchange: "NSE", symbol: "TCS", ok: true, message: "" },
      { exchange: "NSE", symbol: "BOGUS", ok: false, message: "Symbol not found" },
    ],
  });
});

/** A small deterministic PRNG, so a failing fuzz case can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

Deno.test("page protocol: random and truncated candle frames and history bodies never throw", () => {
  const next = rng(17);
  const text = JSON.stringify(CANDLE);
  const history = JSON.stringify({
    status: "success",
    data: { candles: [CANDLE.data, CANDLE.data] },
  });
  let candles = 0;
  for (let i = 0; i < 2000; i++) {
    for (const whole of [text, history]) {
      const cut = whole.slice(0, Math.floor(next() * whole.length));
      const chars = [...whole];
      for (let k = 0; k < 3; k++) {
        chars[Math.floor(next() * chars.length)] = String.fromCharCode(
          32 + Math.floor(next() * 95),
        );
      }
      for (const input of [cut, chars.join("")]) {
        const m = parseServerMessage(input);
        if (m.kind === "candle") {
          candles++;
          const b = m.candle.bar;
          assert.ok(b.low <= Math.min(b.open, b.close) && b.high >= Math.max(b.open, b.close));
        }
        let body: unknown = null;
        try {
          body = JSON.parse(input);
        } catch { /* the page reads a body that is not JSON as null */ }
        const h = parseHistory(body);
        if (h.kind === "bars") {
          assert.equal(
            h.bars.length + h.skipped,
            (body as { data: { candles: unknown[] } }).data.candles.length,
          );
        }
      }
    }
  }
  assert.ok(candles > 0, "some mutated frames are still valid candles");
});
