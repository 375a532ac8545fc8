import assert from "node:assert/strict";
import { authFrame, parseServerMessage, subscribeFrame, unsubscribeFrame } from "./protocol.ts";

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
