// Micro-benchmark of candle maintenance on the tick path: 3000 symbols × 3 intervals (1m, 5m, 15m)
// in one CandleBook, one tick folded into its symbol's three series per step.
// Run: deno bench -P=test bench/candles_bench.ts  (figures are per batch of BATCH ticks)

import { type Candle, CandleBook, type CandleInterval } from "../lib/candles/mod.ts";
import type { Tick } from "../lib/types.ts";

const SYMBOLS = 3_000;
const INTERVALS: CandleInterval[] = ["1m", "5m", "15m"];
const BATCH = 3_000;
const DAY_SESSION_MS = 375 * 60_000;
let OPEN = Date.parse("2026-11-30T09:15:00+05:30");

const book = new CandleBook();
for (let i = 0; i < SYMBOLS; i++) {
  for (const interval of INTERVALS) book.open(i % 2 ? "NSE" : "NFO", `SYM${i}`, interval);
}
const ticks: Tick[] = Array.from({ length: BATCH }, (_, i) => ({
  exchange: i % 2 ? "NSE" : "NFO",
  symbol: `SYM${(i * 7) % SYMBOLS}`,
  mode: 2,
  ltp: 100 + (i % 17),
  ltt: 0,
  timestamp: 0,
  open: null,
  high: null,
  low: null,
  close: null,
  volume: 0,
  last_trade_quantity: null,
  avg_trade_price: null,
  total_buy_quantity: null,
  total_sell_quantity: null,
  oi: null,
  change: null,
  change_percent: null,
  depth: null,
}));
let closed = 0;
let changed = 0;
const sink = (_c: Candle) => closed++;
const onChange = () => changed++;
// Exchange time advances 10 ms per tick, so bars keep closing (1m every 6000 ticks) as in a live feed.
let clock = OPEN;
let cum = 0;

Deno.bench(
  `CandleBook.onTick, ${SYMBOLS} symbols × ${INTERVALS.length} intervals, ${BATCH} ticks`,
  () => {
    for (const t of ticks) {
      clock += 10;
      cum += 3;
      // Past 15:30 IST trading goes on the next day: a new session, cumulative volume restarts.
      if (clock >= OPEN + DAY_SESSION_MS) {
        OPEN += 86_400_000;
        clock = OPEN;
        cum = 0;
      }
      t.ltt = clock;
      t.timestamp = clock;
      t.volume = cum;
      book.onTick(t, sink, onChange);
    }
  },
);

Deno.bench(`CandleBook.advance over ${SYMBOLS * INTERVALS.length} series`, () => {
  book.advance(clock, sink);
});

globalThis.addEventListener("unload", () => {
  if (closed < 0 || changed < 0) console.log(closed, changed);
});
