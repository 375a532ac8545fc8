// Candle rules on hand-built tick sequences: session alignment, cumulative-volume deltas, empty
// intervals, ticks exactly on a boundary, late and out-of-order ticks, session days.

import assert from "node:assert/strict";
import type { Tick } from "../types.ts";
import { type Candle, CandleBook, type CandleInterval, CandleSeries } from "./mod.ts";

/** Epoch ms of an IST wall-clock time on 2026-11-30 (or another day). */
function ist(hhmmss: string, date = "2026-11-30"): number {
  return Date.parse(`${date}T${hhmmss}+05:30`);
}

function tick(
  exchange: string,
  ltt: number | null,
  ltp: number,
  volume: number | null,
  timestamp = ltt ?? 0,
): Tick {
  return {
    exchange,
    symbol: "X",
    mode: 2,
    ltp,
    ltt,
    timestamp,
    open: null,
    high: null,
    low: null,
    close: null,
    volume,
    last_trade_quantity: null,
    avg_trade_price: null,
    total_buy_quantity: null,
    total_sell_quantity: null,
    oi: null,
    change: null,
    change_percent: null,
    depth: null,
  };
}

function bar(time: number, o: number, h: number, l: number, c: number, v: number): Candle {
  return { time, open: o, high: h, low: l, close: c, volume: v, closed: true };
}

function harness(exchange: string, interval: CandleInterval, graceMs = 0) {
  const series = new CandleSeries(exchange, "X", interval, { graceMs });
  const closed: Candle[] = [];
  const sink = (c: Candle) => closed.push(c);
  return {
    series,
    closed,
    t: (ltt: number | null, ltp: number, volume: number | null, timestamp?: number) =>
      series.onTick(tick(exchange, ltt, ltp, volume, timestamp), sink),
    advance: (now: number) => series.advance(now, sink),
  };
}

Deno.test("NSE 5m bars sit on a 09:15 grid; MCX and CDS on 09:00", () => {
  const nse = harness("NSE", "5m");
  nse.t(ist("09:17:30"), 100, 10);
  assert.equal(nse.series.forming()?.time, ist("09:15:00"));
  nse.t(ist("09:22:00"), 101, 20);
  assert.equal(nse.series.forming()?.time, ist("09:20:00"));
  for (const ex of ["MCX", "CDS", "BCD"]) {
    const h = harness(ex, "15m");
    h.t(ist("09:14:59"), 5, 1);
    assert.equal(h.series.forming()?.time, ist("09:00:00"), ex);
  }
  const idx = harness("NSE_INDEX", "15m");
  idx.t(ist("09:29:59"), 5, null);
  assert.equal(idx.series.forming()?.time, ist("09:15:00"));
  const hour = harness("NFO", "1h");
  hour.t(ist("15:20:00"), 5, 1);
  assert.equal(hour.series.forming()?.time, ist("15:15:00"));
});

Deno.test("pre-open and post-close trades are clamped into the first and last bars", () => {
  const h = harness("NSE", "1m");
  h.t(ist("09:07:30"), 100, 1000); // pre-open equilibrium
  assert.equal(h.series.forming()?.time, ist("09:15:00"));
  const d = harness("NSE", "1d");
  d.t(ist("09:07:30"), 100, 1000);
  d.t(ist("15:45:00"), 104, 5000);
  assert.deepEqual(d.series.forming(), {
    time: ist("09:15:00"),
    open: 100,
    high: 104,
    low: 100,
    close: 104,
    volume: 4000,
    closed: false,
  });
});

Deno.test("volume is the change in cumulative volume, the first bar from the first seen", () => {
  const h = harness("NSE", "1m");
  h.t(ist("09:20:05"), 100, 50_000); // first seen: base, not counted
  h.t(ist("09:20:30"), 102, 50_300);
  h.t(ist("09:20:59"), 99, 50_400);
  h.t(ist("09:21:10"), 101, 51_000); // closes 09:20, volume 51_000 - 50_400 goes to 09:21
  h.t(ist("09:21:20"), 101, 50_900); // a cumulative lower than seen is ignored
  h.t(ist("09:22:00"), 103, 51_100);
  assert.deepEqual(h.closed, [
    bar(ist("09:20:00"), 100, 102, 99, 99, 400),
    bar(ist("09:21:00"), 101, 101, 101, 101, 600),
  ]);
  assert.equal(h.series.forming()?.volume, 100);
});

Deno.test("ticks without volume (indices) give volume 0", () => {
  const h = harness("NSE_INDEX", "1m");
  h.t(ist("09:20:05"), 100, null);
  h.t(ist("09:21:05"), 101, null);
  assert.deepEqual(h.closed, [bar(ist("09:20:00"), 100, 100, 100, 100, 0)]);
});

Deno.test("a tick exactly on a boundary opens the next bar", () => {
  const h = harness("NSE", "1m");
  h.t(ist("09:15:00"), 100, 10);
  assert.equal(h.series.forming()?.time, ist("09:15:00"));
  h.t(ist("09:15:59.999"), 101, 11);
  h.t(ist("09:16:00"), 102, 12);
  assert.deepEqual(h.closed, [bar(ist("09:15:00"), 100, 101, 100, 101, 1)]);
  assert.equal(h.series.forming()?.time, ist("09:16:00"));
  assert.equal(h.series.forming()?.open, 102);
});

Deno.test("empty intervals between trades become flat bars at the last close", () => {
  const h = harness("NSE", "1m");
  h.t(ist("09:20:10"), 100, 10);
  h.t(ist("09:20:50"), 98, 15);
  h.t(ist("09:23:05"), 97, 18);
  assert.deepEqual(h.closed, [
    bar(ist("09:20:00"), 100, 100, 98, 98, 5),
    bar(ist("09:21:00"), 98, 98, 98, 98, 0),
    bar(ist("09:22:00"), 98, 98, 98, 98, 0),
  ]);
});

Deno.test("the clock closes the forming bar after the grace and emits flat bars once", () => {
  const h = harness("NSE", "1m", 2_000);
  h.advance(ist("09:30:00")); // nothing seen: nothing to emit
  assert.equal(h.closed.length, 0);
  h.t(ist("09:20:10"), 100, 10);
  h.t(ist("09:20:20"), 101, 12);
  h.advance(ist("09:21:01"));
  assert.equal(h.closed.length, 0, "still within the grace");
  h.advance(ist("09:21:02"));
  assert.deepEqual(h.closed, [bar(ist("09:20:00"), 100, 101, 100, 101, 2)]);
  h.advance(ist("09:21:02")); // same clock again: no duplicate
  h.advance(ist("09:22:30"));
  assert.deepEqual(h.closed.slice(1), [bar(ist("09:21:00"), 101, 101, 101, 101, 0)]);
  h.advance(ist("09:23:02"));
  assert.deepEqual(h.closed.slice(2), [bar(ist("09:22:00"), 101, 101, 101, 101, 0)]);
  h.advance(ist("09:25:02"));
  h.t(ist("09:25:10"), 103, 20); // the 09:24 bar was already emitted flat by the clock
  h.t(ist("09:26:00"), 104, 21);
  assert.deepEqual(h.closed.map((c) => c.time), [
    ist("09:20:00"),
    ist("09:21:00"),
    ist("09:22:00"),
    ist("09:23:00"),
    ist("09:24:00"),
    ist("09:25:00"),
  ]);
  assert.deepEqual(h.closed[5], bar(ist("09:25:00"), 103, 103, 103, 103, 8));
});

Deno.test("flat bars stop at the session close and never cross the night", () => {
  const h = harness("NSE", "15m");
  h.t(ist("15:01:00"), 100, 10);
  h.advance(ist("09:30:00", "2026-12-01"));
  assert.deepEqual(h.closed, [
    bar(ist("15:00:00"), 100, 100, 100, 100, 0),
    bar(ist("15:15:00"), 100, 100, 100, 100, 0),
  ]);
  // The next session starts fresh: cumulative volume restarts and no bars fill the night.
  h.t(ist("09:31:00", "2026-12-01"), 90, 500);
  h.t(ist("09:40:00", "2026-12-01"), 91, 800);
  h.t(ist("09:45:00", "2026-12-01"), 92, 900);
  assert.deepEqual(h.closed.slice(2), [bar(ist("09:30:00", "2026-12-01"), 90, 91, 90, 91, 300)]);
});

Deno.test("a tick older than the forming bar is dropped and counted, closed bars never change", () => {
  const h = harness("NSE", "1m");
  h.t(ist("09:20:10"), 100, 10);
  h.t(ist("09:21:10"), 101, 20);
  assert.equal(h.t(ist("09:20:50"), 150, 15), false);
  assert.equal(h.series.late, 1);
  h.t(ist("09:22:00"), 102, 25);
  assert.deepEqual(h.closed, [
    bar(ist("09:20:00"), 100, 100, 100, 100, 0),
    bar(ist("09:21:00"), 101, 101, 101, 101, 10),
  ]);
  // A bar closed by the clock is closed for late ticks too.
  const c = harness("NSE", "1m");
  c.t(ist("09:20:10"), 100, 10);
  c.advance(ist("09:21:00"));
  assert.equal(c.t(ist("09:20:59"), 99, 11), false);
  assert.equal(c.series.late, 1);
  assert.equal(c.closed.length, 1);
  // A tick from an earlier session day is late as well.
  assert.equal(c.t(ist("09:20:59", "2026-11-29"), 99, 11), false);
  assert.equal(c.series.late, 2);
});

Deno.test("a repeat of the last trade is counted apart from late ticks", () => {
  const h = harness("NSE", "1m");
  h.t(ist("09:20:10"), 100, 10);
  h.advance(ist("09:21:00"));
  h.t(ist("09:20:10"), 100, 10, ist("09:21:03")); // a quote refresh carrying the old trade
  assert.equal(h.series.repeats, 1);
  assert.equal(h.series.late, 0);
  h.t(ist("09:20:10"), 100, 12, ist("09:21:04")); // same time and price, more volume: a late trade
  assert.equal(h.series.late, 1);
});

Deno.test("out-of-order ticks inside the forming bar move high/low, not the close", () => {
  const h = harness("NSE", "1m");
  h.t(ist("09:20:30"), 100, 10);
  h.t(ist("09:20:10"), 90, 8); // earlier exchange time, arrives later
  assert.deepEqual(h.series.forming(), {
    time: ist("09:20:00"),
    open: 100,
    high: 100,
    low: 90,
    close: 100,
    volume: 0,
    closed: false,
  });
});

Deno.test("exchange time is ltt, else the packet timestamp", () => {
  const h = harness("NSE", "1s");
  h.t(null, 100, 1, ist("09:20:10.200"));
  h.t(ist("09:20:10.900"), 101, 2, ist("09:20:11.900"));
  assert.equal(h.series.forming()?.time, ist("09:20:10"));
  assert.equal(h.series.forming()?.close, 101);
});

Deno.test("the book reference-counts series and fans a tick out to each interval", () => {
  const book = new CandleBook({ graceMs: 0 });
  book.open("NSE", "X", "1m");
  book.open("NSE", "X", "5m");
  book.open("NSE", "X", "1m");
  const closed: [CandleInterval, Candle][] = [];
  const changed: CandleInterval[] = [];
  const sink = (c: Candle, s: CandleSeries) => closed.push([s.interval, c]);
  book.onTick(tick("NSE", ist("09:20:10"), 100, 10), sink, (s) => changed.push(s.interval));
  assert.deepEqual(changed, ["1m", "5m"]);
  book.onTick(tick("NSE", ist("09:21:10"), 101, 20), sink);
  assert.deepEqual(closed.map(([i]) => i), ["1m"]);
  assert.equal(book.close("NSE", "X", "1m"), false);
  assert.equal(book.close("NSE", "X", "1m"), true);
  assert.equal(book.get("NSE", "X", "1m"), undefined);
  book.advance(ist("09:25:00"), sink);
  assert.deepEqual(closed.map(([i]) => i), ["1m", "5m"]);
  assert.equal(book.size, 1);
});

Deno.test("a tick without a positive finite price is dropped and counted", () => {
  const h = harness("NFO", "1m");
  h.t(ist("09:20:10"), 0, 10);
  h.t(ist("09:20:11"), NaN, 10);
  h.t(ist("09:20:12"), Infinity, 10);
  assert.equal(h.series.forming(), null);
  assert.equal(h.series.invalid, 3);
  h.t(ist("09:20:13"), 5, 10);
  h.t(ist("09:20:14"), 0, 12);
  assert.equal(h.series.forming()?.low, 5);
});
