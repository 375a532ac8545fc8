// Topic formatting and parsing, including every example of the reference implementation.

import assert from "node:assert/strict";
import type { Mode } from "../types.ts";
import { CANDLE_INTERVALS } from "../candles/mod.ts";
import {
  classifyTopic,
  formatCandleTopic,
  formatTopic,
  parseCandleTopic,
  parseTopic,
} from "./topic.ts";

Deno.test("parseTopic: reference examples", () => {
  assert.deepEqual(parseTopic("NSE_RELIANCE_QUOTE"), {
    exchange: "NSE",
    symbol: "RELIANCE",
    mode: 2,
  });
  assert.deepEqual(parseTopic("NFO_NIFTY28APR2425000CE_DEPTH"), {
    exchange: "NFO",
    symbol: "NIFTY28APR2425000CE",
    mode: 3,
  });
  assert.deepEqual(parseTopic("NSE_INDEX_NIFTY_LTP"), {
    exchange: "NSE_INDEX",
    symbol: "NIFTY",
    mode: 1,
  });
  assert.deepEqual(parseTopic("CRYPTO_SOL_INR_LTP"), {
    exchange: "CRYPTO",
    symbol: "SOL_INR",
    mode: 1,
  });
  assert.deepEqual(parseTopic("NSE_TCS:50_DEPTH"), { exchange: "NSE", symbol: "TCS:50", mode: 3 });
});

Deno.test("parseTopic: every two-segment exchange", () => {
  for (const exchange of ["NSE_INDEX", "BSE_INDEX", "MCX_INDEX", "GLOBAL_INDEX", "NSEIX_INDEX"]) {
    assert.deepEqual(parseTopic(`${exchange}_SOME_THING_QUOTE`), {
      exchange,
      symbol: "SOME_THING",
      mode: 2,
    });
  }
  // Not in the list: the second segment belongs to the symbol.
  assert.deepEqual(parseTopic("NFO_INDEX_X_LTP"), { exchange: "NFO", symbol: "INDEX_X", mode: 1 });
});

Deno.test("parseTopic: mode is case-insensitive", () => {
  assert.deepEqual(parseTopic("NSE_RELIANCE_ltp"), {
    exchange: "NSE",
    symbol: "RELIANCE",
    mode: 1,
  });
  assert.deepEqual(parseTopic("NSE_RELIANCE_Quote"), {
    exchange: "NSE",
    symbol: "RELIANCE",
    mode: 2,
  });
  assert.deepEqual(parseTopic("NSE_INDEX_NIFTY_depth")?.mode, 3);
});

Deno.test("parseTopic: malformed and unknown-mode topics are null", () => {
  for (
    const topic of [
      "",
      "NSE",
      "NSE_LTP",
      "NSE__LTP",
      "_RELIANCE_LTP",
      "NSE_INDEX_LTP", // two-segment exchange, empty symbol
      "NSE_RELIANCE_FULL",
      "NSE_RELIANCE_",
      "NSE_RELIANCE_5",
      "NSE_RELIANCE",
    ]
  ) {
    assert.equal(parseTopic(topic), null, topic);
    assert.equal(classifyTopic(topic), "invalid", topic);
  }
});

Deno.test("parseTopic / classifyTopic: control and order topics", () => {
  const cases: [string, "orders" | "control"][] = [
    ["CACHE_INVALIDATE_AUTH_u1", "control"],
    ["CACHE_INVALIDATE_FEED_u1", "control"],
    ["CACHE_INVALIDATE_ALL_LTP", "control"],
    ["ZERODHA_u1_orders", "orders"],
    ["ANALYZE_u1_orders", "orders"],
    ["deltaexchange_orders", "orders"],
    ["deltaexchange_positions", "control"],
    ["deltaexchange_margins", "control"],
  ];
  for (const [topic, kind] of cases) {
    assert.equal(parseTopic(topic), null, topic);
    assert.equal(classifyTopic(topic), kind, topic);
  }
  assert.equal(classifyTopic("NSE_RELIANCE_QUOTE"), "market");
  assert.equal(classifyTopic("NSE_INDEX_NIFTY_ltp"), "market");
});

Deno.test("formatTopic: builds EXCHANGE_SYMBOL_MODE", () => {
  assert.equal(formatTopic("NSE", "RELIANCE", 2), "NSE_RELIANCE_QUOTE");
  assert.equal(formatTopic("NSE_INDEX", "NIFTY", 1), "NSE_INDEX_NIFTY_LTP");
  assert.equal(formatTopic("NSE", "TCS:50", 3), "NSE_TCS:50_DEPTH");
});

Deno.test("formatTopic → parseTopic round trip", () => {
  const instruments: [string, string][] = [
    ["NSE", "RELIANCE"],
    ["NSE", "TCS:50"],
    ["NSE_INDEX", "NIFTY"],
    ["BSE_INDEX", "SENSEX"],
    ["NSEIX_INDEX", "GIFTNIFTY"],
    ["GLOBAL_INDEX", "DJI"],
    ["CRYPTO", "SOL_INR"],
    ["NFO", "NIFTY28APR2425000CE"],
    ["MCX", "CRUDEOIL_FUT"],
  ];
  for (const [exchange, symbol] of instruments) {
    for (const mode of [1, 2, 3] as Mode[]) {
      assert.deepEqual(parseTopic(formatTopic(exchange, symbol, mode)), { exchange, symbol, mode });
    }
  }
});

Deno.test("formatTopic: refuses instruments that would not parse back", () => {
  assert.throws(() => formatTopic("", "X", 1), RangeError);
  assert.throws(() => formatTopic("NSE", "", 1), RangeError);
  assert.throws(() => formatTopic("NSE_FO", "X", 1), RangeError); // unknown two-segment exchange
  assert.throws(() => formatTopic("NSE", "INDEX_NIFTY", 1), RangeError); // reads as NSE_INDEX
  assert.throws(() => formatTopic("NSE", "INDEX", 1), RangeError);
  assert.throws(() => formatTopic("NSE", "X", 4 as Mode), RangeError);
  assert.equal(formatTopic("NFO", "INDEX_X", 1), "NFO_INDEX_X_LTP");
});

Deno.test("candle topics: every interval round-trips, never parses as a tick topic, and bad instruments are refused", () => {
  for (const interval of CANDLE_INTERVALS) {
    for (
      const [exchange, symbol] of [["NSE", "RELIANCE"], ["NSE_INDEX", "NIFTY"], [
        "CRYPTO",
        "SOL_INR",
      ]]
    ) {
      const topic = formatCandleTopic(exchange, symbol, interval);
      assert.equal(topic, `${exchange}_${symbol}_CANDLE_${interval.toUpperCase()}`);
      assert.deepEqual(parseCandleTopic(topic), { exchange, symbol, interval });
      assert.equal(parseTopic(topic), null, `${topic} is no tick topic`);
    }
  }
  assert.equal(formatCandleTopic("NSE", "RELIANCE", "1m"), "NSE_RELIANCE_CANDLE_1M");
  assert.deepEqual(parseCandleTopic("NSE_RELIANCE_CANDLE_1m"), {
    exchange: "NSE",
    symbol: "RELIANCE",
    interval: "1m",
  });
  // A tick topic of a symbol that ends in CANDLE stays a tick topic.
  assert.equal(parseCandleTopic("NSE_FOO_CANDLE_LTP"), null);
  assert.deepEqual(parseTopic("NSE_FOO_CANDLE_LTP"), {
    exchange: "NSE",
    symbol: "FOO_CANDLE",
    mode: 1,
  });
  for (
    const t of ["CANDLE_1M", "NSE_CANDLE_1M", "NSE_X_CANDLE_2M", "NSE_X_CANDLES_1M", "_X_CANDLE_1M"]
  ) {
    assert.equal(parseCandleTopic(t), null, t);
  }
  assert.throws(() => formatCandleTopic("NSE", "INDEX_X", "1m"), RangeError);
  assert.throws(() => formatCandleTopic("", "X", "1m"), RangeError);
});
