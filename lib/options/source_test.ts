// The registry-backed quote source: one Depth key per instrument however often it is acquired,
// released on the last release, failures not counted, and a new key seeded from the cache.

import assert from "node:assert/strict";
import { SubscriptionRegistry, type Upstream } from "../subscriptions/mod.ts";
import { baseTick, type Mode, type Outcome, type Tick } from "../types.ts";
import { RegistryQuoteSource } from "./source.ts";

class Upstream1 implements Upstream {
  readonly live = new Set<string>();
  subscribe(
    exchange: string,
    symbol: string,
    mode: Mode,
    depth: number,
  ): Promise<Outcome<{ depth: number }>> {
    if (symbol === "BOGUS") {
      return Promise.resolve({ ok: false, code: "SYMBOL_NOT_FOUND", message: "Symbol not found" });
    }
    this.live.add(`${exchange}:${symbol}:${mode}`);
    return Promise.resolve({ ok: true, depth });
  }
  unsubscribe(exchange: string, symbol: string, mode: Mode): Promise<Outcome> {
    this.live.delete(`${exchange}:${symbol}:${mode}`);
    return Promise.resolve({ ok: true });
  }
}

Deno.test("RegistryQuoteSource: counted holds, failures not held, cache seeding, full release", async () => {
  const upstream = new Upstream1();
  const cached = new Map<string, Tick>([["A", baseTick("NFO", "A", 3, 12.5, null, 1)]]);
  const source = new RegistryQuoteSource(
    new SubscriptionRegistry(upstream),
    (_e, s) => cached.get(s) ?? null,
  );
  const a = { exchange: "NFO", symbol: "A" }, b = { exchange: "NFO", symbol: "B" };
  const bogus = { exchange: "NFO", symbol: "BOGUS" };
  const r = await source.acquire([a, b, bogus, a]);
  assert.deepEqual(r.map((x) => x.ok), [true, true, false, true]);
  assert.equal(r[2].ok === false && r[2].code, "SYMBOL_NOT_FOUND");
  assert.deepEqual([...upstream.live].sort(), ["NFO:A:3", "NFO:B:3"]);
  assert.equal(source.size, 2);
  assert.equal(source.latest("NFO", "A")?.ltp, 12.5, "seeded from the cache");
  assert.equal(source.latest("NFO", "B"), undefined);
  await source.release([a, b]);
  assert.deepEqual([...upstream.live], ["NFO:A:3"], "A is still held once");
  await source.release([a, bogus]);
  assert.deepEqual([...upstream.live], []);
  assert.equal(source.size, 0);
  assert.equal(source.latest("NFO", "A"), undefined, "nothing kept after the last release");
});
