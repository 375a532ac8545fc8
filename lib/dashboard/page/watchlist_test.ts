import assert from "node:assert/strict";
import { MAX_WATCHLIST, parseStoredWatchlist, parseSymbolList, Watchlist } from "./watchlist.ts";

Deno.test("watchlist: symbol input is split, folded and checked", () => {
  assert.deepEqual(parseSymbolList(" reliance, TCS\ttcs m&m BAJAJ-AUTO "), {
    symbols: ["RELIANCE", "TCS", "M&M", "BAJAJ-AUTO"],
    invalid: [],
  });
  assert.deepEqual(parseSymbolList("NIFTY <script> -X"), {
    symbols: ["NIFTY"],
    invalid: ["<script>", "-X"],
  });
  assert.deepEqual(parseSymbolList(""), { symbols: [], invalid: [] });
});

Deno.test("watchlist: add, change mode, remove, round-trip through storage", () => {
  const w = new Watchlist();
  const a = w.add([
    { exchange: "NSE", symbol: "TCS", mode: 2 },
    { exchange: "NSE", symbol: "INFY", mode: 1 },
  ]);
  assert.equal(a.added.length, 2);
  const b = w.add([{ exchange: "NSE", symbol: "TCS", mode: 3 }, {
    exchange: "NSE",
    symbol: "INFY",
    mode: 1,
  }]);
  assert.deepEqual(b, {
    added: [],
    remoded: [{ item: { exchange: "NSE", symbol: "TCS", mode: 3 }, from: 2 }],
    refused: [],
  });
  assert.deepEqual(w.remove("NSE|INFY"), { exchange: "NSE", symbol: "INFY", mode: 1 });
  assert.equal(w.remove("NSE|INFY"), null);
  const again = new Watchlist(parseStoredWatchlist(w.serialize()));
  assert.deepEqual(again.items(), [{ exchange: "NSE", symbol: "TCS", mode: 3 }]);
});

Deno.test("watchlist: malformed storage is skipped, the size is bounded", () => {
  assert.deepEqual(parseStoredWatchlist("not json"), []);
  assert.deepEqual(parseStoredWatchlist('{"a":1}'), []);
  assert.deepEqual(
    parseStoredWatchlist(JSON.stringify([
      { exchange: "NSE", symbol: "TCS", mode: 2 },
      { exchange: "NSE", symbol: "TCS", mode: 3 },
      { exchange: "XXX", symbol: "TCS", mode: 2 },
      { exchange: "NSE", symbol: "TCS2", mode: 4 },
      null,
    ])),
    [{ exchange: "NSE", symbol: "TCS", mode: 2 }],
  );
  const many = Array.from({ length: MAX_WATCHLIST + 5 }, (_, i) => ({
    exchange: "NSE",
    symbol: `S${i}`,
    mode: 1 as const,
  }));
  const w = new Watchlist();
  assert.equal(w.add(many).refused.length, 5);
  assert.equal(w.size, MAX_WATCHLIST);
});
