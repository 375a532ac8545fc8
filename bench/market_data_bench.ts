// Micro-benchmarks of the MarketDataService hot path: onTicks (validate, cache, ring buffer,
// dispatch) per tick batch with 1, 10 and 100 subscribers, and the ring-buffer append alone.
// Run: deno bench -P=test bench/market_data_bench.ts  (divide batch figures by BATCH for per tick)

import { MarketDataService, RecentTicks, RingBuffer } from "../lib/market_data/mod.ts";
import type { Tick } from "../lib/types.ts";

const BATCH = 100;
const SYMBOLS = 100;
const NOW = 1_700_000_000_000;

function makeTick(i: number, mode: 1 | 2 | 3): Tick {
  return {
    exchange: "NSE",
    symbol: `SYM${i % SYMBOLS}`,
    mode,
    ltp: 100 + (i % 7) * 0.05,
    ltt: NOW,
    timestamp: NOW,
    open: 99,
    high: 101,
    low: 98,
    close: 99.5,
    volume: 10_000 + i,
    last_trade_quantity: 5,
    avg_trade_price: 100,
    total_buy_quantity: 500,
    total_sell_quantity: 400,
    oi: null,
    change: 0.5,
    change_percent: 0.5,
    depth: mode === 3
      ? {
        buy: [{ price: 99.95, quantity: 10, orders: 2 }],
        sell: [{ price: 100.05, quantity: 12, orders: 3 }],
      }
      : null,
  };
}

const ltpBatch = Array.from({ length: BATCH }, (_, i) => makeTick(i, 1));
const quoteBatch = Array.from({ length: BATCH }, (_, i) => makeTick(i, 2));

const registry = {
  acquire: () => Promise.resolve({ ok: true as const }),
  release: () => Promise.resolve({ ok: true as const }),
};
const feed = {
  status: () => [{
    index: 0,
    state: "connected" as const,
    symbols: SYMBOLS,
    capacity: 3000,
    restarts: 0,
    reconnects: 0,
    lastTickAt: NOW,
    ticks: 0,
  }],
};

let sink = 0;

/**
 * A service with `n` subscribers. `spread`: each CRITICAL/HIGH subscriber filters on one symbol
 * (so a tick reaches ~n/SYMBOLS of them); otherwise all see every tick (worst case fan-out).
 */
async function serviceWith(
  n: number,
  options: { wildcard: boolean; mixed?: boolean },
): Promise<MarketDataService> {
  const svc = new MarketDataService({ registry, feed, clock: () => NOW });
  for (let i = 0; i < n; i++) {
    const priority = options.mixed
      ? (["CRITICAL", "HIGH", "NORMAL", "LOW"] as const)[i % 4]
      : (i % 2 === 0 ? "CRITICAL" : "HIGH");
    await svc.subscribe({
      priority,
      kind: "ltp",
      name: `bench-${i}`,
      symbols: options.wildcard ? undefined : [{ exchange: "NSE", symbol: `SYM${i % SYMBOLS}` }],
      callback: (u) => {
        sink += u.data.ltp;
      },
    });
  }
  return svc;
}

const cases: [string, MarketDataService][] = [];
for (const n of [0, 1, 10, 100]) {
  cases.push([`${n} subscribers (all see every tick)`, await serviceWith(n, { wildcard: true })]);
}
cases.push([
  "100 subscribers, one symbol each",
  await serviceWith(100, { wildcard: false }),
]);
cases.push([
  "100 subscribers, every tick, 25 per priority",
  await serviceWith(100, { wildcard: true, mixed: true }),
]);

for (const [name, svc] of cases) {
  Deno.bench({
    name: `onTicks LTP ×${BATCH}: ${name}`,
    group: "onTicks",
    baseline: name.startsWith("0 "),
    fn: () => svc.onTicks(ltpBatch),
  });
}

const quoteSvc = await serviceWith(10, { wildcard: true });
Deno.bench({
  name: `onTicks Quote ×${BATCH}: 10 subscribers (ltp kind)`,
  group: "onTicks",
  fn: () => quoteSvc.onTicks(quoteBatch),
});

const ring = new RingBuffer<number>(1_000);
let n = 0;
Deno.bench({
  name: "RingBuffer.push (full, capacity 1000)",
  group: "ring",
  fn: () => void ring.push(n++),
});

const recent = new RecentTicks({ size: 1_000, maxAgeMs: 600_000 });
let seq = 0;
Deno.bench({
  name: "RecentTicks.push (100 instruments, full rings)",
  group: "ring",
  fn: () => {
    const tick = ltpBatch[seq % BATCH];
    recent.push({ seq: ++seq, tick, flags: {}, receivedAt: NOW }, NOW);
  },
});

globalThis.addEventListener("unload", () => {
  if (sink === -1) console.log(sink);
});
