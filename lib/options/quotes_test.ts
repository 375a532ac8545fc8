// The chain's quotes over a stream-or-poll feed: one Depth key per instrument however often it is
// acquired, released on the last release, failures not counted, a new key seeded from the cache.

import assert from "node:assert/strict";
import { SubscriptionRegistry, type Upstream } from "../subscriptions/mod.ts";
import { baseTick, type Mode, type Outcome, type Tick } from "../types.ts";
import { FeedChainQuotes } from "./quotes.ts";
import { RegistryQuoteSource } from "../poll/mod.ts";

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

Deno.test("FeedChainQuotes over a registry feed: one Depth key per instrument, failures not held, cache seeding, full release", async () => {
  const upstream = new Upstream1();
  const cached = new Map<string, Tick>([["A", baseTick("NFO", "A", 3, 12.5, null, 1)]]);
  const registry = new SubscriptionRegistry(upstream);
  const feed = new RegistryQuoteSource(registry, registry).open("option_chain", {
    route: "stream",
  });
  const quotes = new FeedChainQuotes(feed, (_e, s) => cached.get(s) ?? null);
  const a = { exchange: "NFO", symbol: "A" }, b = { exchange: "NFO", symbol: "B" };
  const bogus = { exchange: "NFO", symbol: "BOGUS" };
  const r = await quotes.acquire([a, b, bogus, a]);
  assert.deepEqual(r.map((x) => x.ok), [true, true, false, true]);
  assert.equal(r[2].ok === false && r[2].code, "SYMBOL_NOT_FOUND");
  assert.deepEqual([...upstream.live].sort(), ["NFO:A:3", "NFO:B:3"]);
  assert.equal(quotes.size, 2);
  assert.equal(quotes.latest("NFO", "A")?.ltp, 12.5, "seeded from the cache");
  assert.equal(quotes.latest("NFO", "B"), undefined);
  // A delivered tick replaces the seed.
  (feed as unknown as { deliver(t: Tick): void }).deliver(baseTick("NFO", "A", 3, 13, null, 2));
  assert.equal(quotes.latest("NFO", "A")?.ltp, 13);
  await quotes.release([a, b]);
  assert.deepEqual([...upstream.live], ["NFO:A:3"], "A is still held once");
  await quotes.release([a, bogus]);
  assert.deepEqual([...upstream.live], []);
  assert.equal(quotes.size, 0);
  assert.equal(quotes.latest("NFO", "A"), undefined, "nothing kept after the last release");
});

Deno.test("FeedChainQuotes: the feed holds each instrument once, failures are not counted, the last release drops it", async () => {
  const held = new Map<string, number>();
  const feed = {
    add(items: readonly { symbol: string }[], mode: Mode): Promise<Outcome[]> {
      assert.equal(mode, 3, "Depth, for the best bid and ask");
      return Promise.resolve(items.map((i) => {
        if (i.symbol === "BOGUS") {
          return { ok: false as const, code: "SYMBOL_NOT_FOUND" as const, message: "no" };
        }
        held.set(i.symbol, (held.get(i.symbol) ?? 0) + 1);
        return { ok: true as const };
      }));
    },
    remove(items: readonly { symbol: string }[]): Promise<void> {
      for (const i of items) held.delete(i.symbol);
      return Promise.resolve();
    },
    latest: (_e: string, s: string) => held.has(s) ? baseTick("NFO", s, 3, 1, null, 0) : undefined,
  };
  const quotes = new FeedChainQuotes(feed);
  const a = { exchange: "NFO", symbol: "A" }, bogus = { exchange: "NFO", symbol: "BOGUS" };
  const r = await quotes.acquire([a, bogus, a, bogus]);
  assert.deepEqual(r.map((x) => x.ok), [true, false, true, false]);
  assert.deepEqual([...held], [["A", 1]], "added once");
  assert.equal(quotes.size, 1);
  assert.equal(quotes.latest("NFO", "BOGUS"), undefined);
  await quotes.acquire([a]);
  await quotes.release([a, a]);
  assert.deepEqual([...held], [["A", 1]]);
  assert.equal(quotes.latest("NFO", "A")?.ltp, 1);
  await quotes.release([a, bogus]);
  assert.deepEqual([...held], []);
  assert.equal(quotes.size, 0);
});
