// What the subscription budget adds to a subscribe: acquire + release through the registry with
// and without a ledger, for a key already streamed (the lock-free fast path) and a new one.
// Run: deno bench -P=test bench/budget_bench.ts

import { type Consumer, SubscriptionRegistry } from "../lib/subscriptions/mod.ts";
import { BudgetLedger } from "../lib/budget/mod.ts";

const upstream = {
  subscribe: () => Promise.resolve({ ok: true as const, depth: 5 }),
  unsubscribe: () => Promise.resolve({ ok: true as const }),
};
const ROUNDS = 1_000;

function registries() {
  const ledger = new BudgetLedger({
    capacity: 10_000,
    reserveTrading: "25%",
    preemptDisplay: true,
  });
  return {
    plain: new SubscriptionRegistry(upstream),
    budget: new SubscriptionRegistry(upstream, ledger),
  };
}

const holder = { name: "wall", consumerClass: "display" as const, kind: "api_key" as const };
const owner: Consumer = { id: "owner", holder };
const viewer: Consumer = { id: "viewer", holder };

for (const [name, registry] of Object.entries(registries())) {
  await registry.acquire(owner, "NSE", "SHARED", 1, 5);
  Deno.bench(`shared key, acquire + release x${ROUNDS} (${name})`, {
    group: "shared",
    baseline: name === "plain",
  }, async () => {
    for (let i = 0; i < ROUNDS; i++) {
      await registry.acquire(viewer, "NSE", "SHARED", 1, 5);
      await registry.release(viewer, "NSE", "SHARED", 1);
    }
  });
  Deno.bench(`new key, acquire + release x${ROUNDS} (${name})`, {
    group: "new",
    baseline: name === "plain",
  }, async () => {
    for (let i = 0; i < ROUNDS; i++) {
      await registry.acquire(viewer, "NSE", `K${i}`, 1, 5);
      await registry.release(viewer, "NSE", `K${i}`, 1);
    }
  });
}
