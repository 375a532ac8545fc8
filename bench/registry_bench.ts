// Micro-benchmark of the per-tick registry lookups of the gateway's tick path: the proxy fan-out
// (`consumersOf`) and the bus publish (`modesWithConsumers`), over 1000 subscribed instruments.
// Run: deno bench -P=test bench/registry_bench.ts  (figures are per batch of BATCH ticks)

import { type Consumer, SubscriptionRegistry } from "../lib/subscriptions/mod.ts";
import type { Mode } from "../lib/types.ts";

const SYMBOLS = 1_000;
const BATCH = 1_000;

const upstream = {
  subscribe: () => Promise.resolve({ ok: true as const, depth: 5 }),
  unsubscribe: () => Promise.resolve({ ok: true as const }),
};
const registry = new SubscriptionRegistry(upstream);
const client: Consumer = { id: "bench" };
for (let i = 0; i < SYMBOLS; i++) {
  await registry.acquire(client, i % 2 ? "NSE" : "NFO", `SYM${i}`, ((i % 3) + 1) as Mode, 5);
}
const ticks = Array.from(
  { length: BATCH },
  (_, i) => ({ exchange: i % 2 ? "NSE" : "NFO", symbol: `SYM${(i * 7) % SYMBOLS}` }),
);
let sink = 0;

Deno.bench(`consumersOf + modesWithConsumers, ${BATCH} ticks`, () => {
  for (const t of ticks) {
    const m = registry.consumersOf(t.exchange, t.symbol);
    if (m) sink += m.size;
    sink += registry.modesWithConsumers(t.exchange, t.symbol).length;
  }
});

globalThis.addEventListener("unload", () => {
  if (sink < 0) console.log(sink);
});
