// Tests for the live cache: which tick modes refresh which entries, timestamps, depth without a
// price, multi-get, freshness and idle expiry.

import assert from "node:assert/strict";
import { tick } from "./_test_utils.ts";
import { TickCache } from "./cache.ts";
import { NO_FLAGS } from "./validate.ts";

const depth = {
  buy: [{ price: 99.5, quantity: 10, orders: 2 }],
  sell: [{ price: 100.5, quantity: 7, orders: null }],
};

Deno.test("an LTP tick fills only the LTP entry, with exchange and receive time", () => {
  const c = new TickCache();
  c.update(tick({ ltp: 101, timestamp: 900 }), NO_FLAGS, 900, 1_000);
  assert.deepEqual(c.getLtp("NSE", "RELIANCE"), {
    data: { symbol: "RELIANCE", exchange: "NSE", ltp: 101, ltt: null, timestamp: 900 },
    exchangeTime: 900,
    receivedAt: 1_000,
    flags: {},
  });
  assert.equal(c.getQuote("NSE", "RELIANCE"), null);
  assert.equal(c.getDepth("NSE", "RELIANCE"), null);
});

Deno.test("Quote and Depth ticks refresh the LTP; Depth ticks refresh the quote too", () => {
  const c = new TickCache();
  c.update(tick({ ltp: 100 }), NO_FLAGS, 1, 1);
  c.update(tick({ mode: 2, ltp: 102, open: 99, volume: 5_000 }), NO_FLAGS, 2, 2);
  assert.equal(c.getLtp("NSE", "RELIANCE")?.data.ltp, 102);
  assert.equal(c.getQuote("NSE", "RELIANCE")?.data.open, 99);
  c.update(tick({ mode: 3, ltp: 103, open: 98, depth }), { jump: 21 }, 3, 3);
  assert.equal(c.getLtp("NSE", "RELIANCE")?.data.ltp, 103);
  assert.deepEqual(c.getLtp("NSE", "RELIANCE")?.flags, { jump: 21 });
  assert.equal(c.getQuote("NSE", "RELIANCE")?.data.open, 98);
  const d = c.getDepth("NSE", "RELIANCE");
  assert.deepEqual(d?.data.depth, depth);
  assert.equal(d?.data.ltp, 103);
  assert.equal(d?.receivedAt, 3);
  // An LTP-only projection never leaks the richer fields.
  assert.equal("open" in (c.getLtp("NSE", "RELIANCE")?.data ?? {}), false);
});

Deno.test("a depth-only update caches depth with a null LTP and leaves the LTP alone", () => {
  const c = new TickCache();
  c.update(tick({ ltp: 100 }), NO_FLAGS, 1, 1);
  c.updateDepthOnly(tick({ mode: 3, ltp: 0, depth }), 2, 2);
  assert.equal(c.getLtp("NSE", "RELIANCE")?.data.ltp, 100);
  assert.equal(c.getDepth("NSE", "RELIANCE")?.data.ltp, null);
  assert.deepEqual(c.getDepth("NSE", "RELIANCE")?.data.depth, depth);
  assert.equal(c.lastLtp("NSE", "RELIANCE"), 100);
});

Deno.test("getMany keeps the order asked, null where nothing is cached; hits and misses count", () => {
  const c = new TickCache();
  c.update(tick({ symbol: "A", ltp: 1 }), NO_FLAGS, 1, 1);
  c.update(tick({ symbol: "B", ltp: 2, mode: 2 }), NO_FLAGS, 1, 1);
  const many = c.getMany([
    { exchange: "NSE", symbol: "B" },
    { exchange: "NSE", symbol: "X" },
    { exchange: "NSE", symbol: "A" },
  ]);
  assert.equal(many[0]?.ltp?.data.ltp, 2);
  assert.equal(many[0]?.quote?.data.ltp, 2);
  assert.equal(many[1], null);
  assert.equal(many[2]?.ltp?.data.ltp, 1);
  assert.equal(many[2]?.quote, null);
  assert.equal(c.hits, 2);
  assert.equal(c.misses, 1);
  // lastLtp is internal bookkeeping, not a read.
  c.lastLtp("NSE", "A");
  assert.equal(c.hits, 2);
});

Deno.test("isFresh uses the receive time; sweep removes idle entries", () => {
  const c = new TickCache();
  c.update(tick({ symbol: "A" }), NO_FLAGS, 0, 1_000);
  c.update(tick({ symbol: "B" }), NO_FLAGS, 0, 5_000);
  assert.equal(c.isFresh("NSE", "A", 30_000, 31_000), true);
  assert.equal(c.isFresh("NSE", "A", 30_000, 31_001), false);
  assert.equal(c.isFresh("NSE", "Z", 30_000, 0), false);
  assert.equal(c.sweep(3_601_001, 3_600_000), 1);
  assert.equal(c.size, 1);
  assert.equal(c.getLtp("NSE", "A"), null);
  assert.equal(c.expired, 1);
});

Deno.test("latestTick returns the newest tick rich enough for a mode, without counting a read", () => {
  const c = new TickCache();
  assert.equal(c.latestTick("NSE", "RELIANCE", 1), null);
  const quote = tick({ mode: 2, ltp: 102, volume: 5_000 });
  c.update(quote, NO_FLAGS, 1, 1);
  const ltp = tick({ ltp: 103 });
  c.update(ltp, NO_FLAGS, 2, 2);
  assert.equal(c.latestTick("NSE", "RELIANCE", 1), ltp);
  assert.equal(c.latestTick("NSE", "RELIANCE", 2), quote);
  assert.equal(c.latestTick("NSE", "RELIANCE", 3), null);
  c.updateDepthOnly(tick({ mode: 3, ltp: 0, depth }), 3, 3);
  assert.equal(c.latestTick("NSE", "RELIANCE", 3), null, "a depth without a price is no snapshot");
  assert.equal(c.hits + c.misses, 0);
});
