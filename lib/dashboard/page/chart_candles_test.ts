import assert from "node:assert/strict";
import { ChartCandles } from "./chart_candles.ts";
import type { Candle } from "../../candles/mod.ts";

const bar = (time: number, close: number, closed = true): Candle => ({
  time,
  open: close,
  high: close,
  low: close,
  close,
  volume: 1,
  closed,
});

Deno.test("bars: live updates replace the forming bar and append the next", () => {
  const s = new ChartCandles();
  assert.equal(s.live(bar(0, 1, false)), "appended");
  assert.equal(s.live(bar(0, 2, false)), "replaced-last");
  assert.equal(s.live(bar(0, 3, true)), "replaced-last");
  assert.equal(s.live(bar(60_000, 4, false)), "appended");
  assert.deepEqual(s.bars().map((b) => [b.time, b.close, b.closed]), [[0, 3, true], [
    60_000,
    4,
    false,
  ]]);
});

Deno.test("bars: history then live, and live then history, meet without a seam", () => {
  const hist = [bar(0, 1), bar(60_000, 2), bar(120_000, 3, false)];
  const a = new ChartCandles();
  a.history(hist);
  assert.equal(a.historyCount, 3);
  assert.equal(a.live(bar(120_000, 3.5, true)), "replaced-last");
  assert.equal(a.live(bar(180_000, 4, false)), "appended");
  const b = new ChartCandles();
  b.live(bar(120_000, 3.5, true));
  b.live(bar(180_000, 4, false));
  b.history(hist);
  assert.equal(b.historyCount, 2, "the live bar of 120000 replaced the history one");
  for (const s of [a, b]) {
    assert.deepEqual(s.bars().map((x) => [x.time, x.close]), [
      [0, 1],
      [60_000, 2],
      [120_000, 3.5],
      [180_000, 4],
    ]);
    const times = s.bars().map((x) => x.time);
    assert.deepEqual(times, [...new Set(times)].sort((x, y) => x - y), "ascending, unique");
  }
});

Deno.test("bars: a late live bar is placed by time; the oldest are trimmed", () => {
  const s = new ChartCandles(3);
  s.live(bar(0, 1));
  s.live(bar(120_000, 3));
  assert.equal(s.live(bar(60_000, 2)), "rebuilt");
  assert.deepEqual(s.bars().map((b) => b.time), [0, 60_000, 120_000]);
  assert.equal(s.live(bar(180_000, 4)), "appended");
  assert.deepEqual(s.bars().map((b) => b.time), [60_000, 120_000, 180_000]);
  assert.equal(s.live(bar(0, 1)), "ignored", "older than everything kept when full");
  assert.equal(s.live(bar(60_000, 2.5)), "rebuilt");
  assert.equal(s.bars()[0].close, 2.5);
  s.clear();
  assert.equal(s.bars().length, 0);
});
