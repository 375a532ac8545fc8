// Micro-benchmark of a poll cycle for 3000 Quote keys on the main isolate: the poller's batching
// (six calls of 500, as Kite's /quote takes), and decoding one Kite /quote answer of 500 full
// quotes (the worker's share, six times per cycle). The broker's 1 request/s sets the cycle's
// length (about 6.5 s); these figures are the CPU it costs.
// Run: deno bench -P=test bench/poll_bench.ts

import { decodeKiteQuotes, formatKiteTime, type QuoteTarget } from "../adapters/zerodha/rest.ts";
import { Poller, type QuoteFetcher } from "../lib/poll/mod.ts";
import { baseTick, type Mode, type Tick } from "../lib/types.ts";

const KEYS = 3000;
const BATCH = 500;

/** A fetcher that answers at once with prepared ticks: what remains is the poller's own work. */
function instantFetcher(): QuoteFetcher {
  return {
    capabilities: {
      broker: "bench",
      depthLevels: { "*": [5] },
      quotes: { maxInstruments: { 1: 1000, 2: BATCH, 3: BATCH }, requestsPerSecond: 1e9 },
    },
    quote: (mode: Mode, items, check) =>
      Promise.resolve({
        ok: true,
        ticks: check ? [] : items.map((i) => baseTick(i.exchange, i.symbol, mode, 100, null, 0)),
        missing: [],
      }),
  };
}

Deno.bench(`poller: one cycle of ${KEYS} Quote keys in batches of ${BATCH}`, async (b) => {
  const poller = new Poller(instantFetcher(), { intervalMs: 0, safetyMargin: 0 });
  for (let i = 0; i < KEYS; i++) await poller.subscribe("NSE", `SYM${i}`, 2, 5);
  let got = 0;
  const done = Promise.withResolvers<void>();
  poller.onticks = (ticks: Tick[]) => {
    got += ticks.length;
    if (got >= KEYS) done.resolve();
  };
  b.start();
  poller.start();
  await done.promise;
  b.end();
  await poller.stop();
});

const targets = new Map<string, QuoteTarget>();
const data: Record<string, unknown> = {};
for (let i = 0; i < BATCH; i++) {
  const key = `NSE:SYM${i}`;
  targets.set(key, { exchange: "NSE", symbol: `SYM${i}`, index: false });
  const level = (k: number) => ({ price: 100 + k * 0.05, quantity: 10 * k, orders: k });
  data[key] = {
    instrument_token: ((1000 + i) << 8) | 1,
    timestamp: formatKiteTime(1_700_000_000_000),
    last_trade_time: formatKiteTime(1_700_000_000_000),
    last_price: 100.05,
    last_quantity: 5,
    buy_quantity: 1000,
    sell_quantity: 2000,
    volume: 123456,
    average_price: 100.01,
    oi: 0,
    oi_day_high: 0,
    oi_day_low: 0,
    net_change: 0,
    lower_circuit_limit: 90,
    upper_circuit_limit: 110,
    ohlc: { open: 99, high: 101, low: 98.5, close: 99.5 },
    depth: { buy: [1, 2, 3, 4, 5].map(level), sell: [1, 2, 3, 4, 5].map(level) },
  };
}
const body = JSON.stringify({ status: "success", data });
let sink = 0;

Deno.bench(`Kite /quote answer: JSON.parse + decode of ${BATCH} full quotes`, () => {
  const d = decodeKiteQuotes(JSON.parse(body), 2, targets, 0);
  sink += d.ticks.length;
});

globalThis.addEventListener("unload", () => {
  if (sink < 0) console.log(sink);
});
