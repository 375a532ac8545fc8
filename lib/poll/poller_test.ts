// The poller against a fake quote fetcher: batching to the broker's size, spacing under its rate,
// refcounted keys, the stream-reuse predicate, 429 back-off with Retry-After, and no quote API.

import assert from "node:assert/strict";
import type { QuoteResult } from "../adapter/mod.ts";
import { baseTick, type Mode } from "../types.ts";
import { Poller, type QuoteFetcher } from "./poller.ts";

interface Call {
  at: number;
  mode: Mode;
  symbols: string[];
}

function fakeFetcher(
  opts: { batch?: number; rps?: number; answer?: (call: Call) => QuoteResult | null } = {},
): QuoteFetcher & { calls: Call[] } {
  const calls: Call[] = [];
  const batch = opts.batch ?? 3;
  return {
    calls,
    capabilities: {
      broker: "fake",
      depthLevels: { "*": [5] },
      quotes: {
        maxInstruments: { 1: batch * 2, 2: batch, 3: batch },
        requestsPerSecond: opts.rps ?? 40,
      },
    },
    quote(mode, items, check) {
      if (check) return Promise.resolve({ ok: true, ticks: [], missing: [] });
      const call = { at: performance.now(), mode, symbols: items.map((i) => i.symbol) };
      calls.push(call);
      const custom = opts.answer?.(call);
      if (custom) return Promise.resolve(custom);
      return Promise.resolve({
        ok: true,
        ticks: items.map((i) => baseTick(i.exchange, i.symbol, mode, 100, null, 0)),
        missing: [],
      });
    },
  };
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

Deno.test("poller: batches to the broker's size per mode and spaces requests by its rate", async () => {
  const f = fakeFetcher({ batch: 3, rps: 40 });
  const poller = new Poller(f, { intervalMs: 50 });
  const seen: string[] = [];
  poller.onticks = (ticks) => seen.push(...ticks.map((t) => `${t.symbol}:${t.mode}`));
  for (let i = 0; i < 7; i++) await poller.subscribe("NSE", `Q${i}`, 2, 5);
  for (let i = 0; i < 4; i++) await poller.subscribe("NSE", `L${i}`, 1, 0);
  poller.start();
  try {
    await until(() => f.calls.length >= 12, "three cycles");
    // Per cycle: quote keys in batches of 3 (3+3+1), LTP keys in one batch of 6 (4).
    const first = f.calls.slice(0, 4).map((c) => `${c.mode}:${c.symbols.length}`).sort();
    assert.deepEqual(first, ["1:4", "2:1", "2:3", "2:3"]);
    // Never two request starts closer than 1000/rps ms (counted from the answer, plus 5 %).
    for (let i = 1; i < f.calls.length; i++) {
      const gap = f.calls[i].at - f.calls[i - 1].at;
      assert.ok(gap >= 1000 / 40, `requests ${i - 1} and ${i} only ${gap.toFixed(1)} ms apart`);
    }
    assert.ok(seen.includes("Q6:2") && seen.includes("L3:1"));
    const s = poller.stats();
    assert.equal(s.keys, 11);
    assert.equal(s.polled, 11);
    assert.equal(s.rateLimit, 40);
    assert.ok(s.requests >= 12);
  } finally {
    await poller.stop();
  }
});

Deno.test("poller: keys are refcounted per mode and fetched at the highest mode held", async () => {
  const f = fakeFetcher();
  const poller = new Poller(f, { intervalMs: 20 });
  await poller.subscribe("NSE", "A", 1, 0);
  await poller.subscribe("NSE", "A", 1, 0);
  await poller.subscribe("NSE", "A", 3, 20);
  assert.deepEqual(poller.keys(), [{ exchange: "NSE", symbol: "A", mode: 3 }]);
  await poller.unsubscribe("NSE", "A", 3);
  assert.deepEqual(poller.keys(), [{ exchange: "NSE", symbol: "A", mode: 1 }]);
  await poller.unsubscribe("NSE", "A", 1);
  assert.equal(poller.keys().length, 1, "one LTP holder is left");
  await poller.unsubscribe("NSE", "A", 1);
  assert.equal(poller.keys().length, 0);
  const r = await poller.unsubscribe("NSE", "A", 1);
  assert.equal(r.ok ? "ok" : r.code, "NOT_SUBSCRIBED");
  // Depth is capped at what the broker's quotes carry.
  const d = await poller.subscribe("NSE", "B", 3, 20);
  assert.equal(d.ok && d.depth, 5);
});

Deno.test("poller: an instrument the stream carries at the polled mode is not fetched", async () => {
  const f = fakeFetcher();
  const streamed = new Set(["S"]);
  const poller = new Poller(f, {
    intervalMs: 20,
    streamed: (_e, symbol, mode) => streamed.has(symbol) && mode <= 2,
  });
  await poller.subscribe("NSE", "S", 2, 5);
  await poller.subscribe("NSE", "P", 2, 5);
  poller.start();
  try {
    await until(() => f.calls.length >= 3, "polls");
    assert.ok(f.calls.every((c) => !c.symbols.includes("S")));
    assert.equal(poller.stats().reused, 1);
    // The stream stops carrying S: it is polled again.
    streamed.clear();
    const n = f.calls.length;
    await until(() => f.calls.slice(n).some((c) => c.symbols.includes("S")), "S polled");
    // A higher poll mode than the stream carries is polled even while streamed.
    streamed.add("S");
    await poller.subscribe("NSE", "S", 3, 5);
    const m = f.calls.length;
    await until(() => f.calls.slice(m).some((c) => c.mode === 3), "S polled at depth");
  } finally {
    await poller.stop();
  }
});

Deno.test("poller: on 429 it backs off for Retry-After (or doubling), counts it, then resumes", async () => {
  let limited = 2;
  const f = fakeFetcher({
    rps: 100,
    answer: () =>
      limited-- > 0
        ? { ok: false, code: "RATE_LIMITED", message: "Too many requests", retryAfterMs: 150 }
        : null,
  });
  const poller = new Poller(f, { intervalMs: 10 });
  let ticks = 0;
  poller.onticks = (t) => ticks += t.length;
  await poller.subscribe("NSE", "A", 1, 0);
  poller.start();
  try {
    await until(() => ticks > 0, "recovery");
    const [a, b, c] = f.calls;
    assert.ok(b.at - a.at >= 150, `second call ${b.at - a.at} ms after a 429`);
    assert.ok(c.at - b.at >= 150);
    const s = poller.stats();
    assert.equal(s.rateLimited, 2);
    assert.equal(s.errors, 2);
    assert.match(s.lastError ?? "", /RATE_LIMITED/);
  } finally {
    await poller.stop();
  }
  // Without Retry-After the wait doubles from the base.
  let left = 2;
  const g = fakeFetcher({
    rps: 100,
    answer: () => left-- > 0 ? { ok: false, code: "RATE_LIMITED", message: "429" } : null,
  });
  const p2 = new Poller(g, { intervalMs: 10, backoffBaseMs: 60 });
  await p2.subscribe("NSE", "A", 1, 0);
  p2.start();
  try {
    await until(() => g.calls.length >= 3, "three calls");
    assert.ok(g.calls[1].at - g.calls[0].at >= 60);
    assert.ok(g.calls[2].at - g.calls[1].at >= 120);
  } finally {
    await p2.stop();
  }
});

Deno.test("poller: a broker without a quote API refuses poll subscriptions with a clear error", async () => {
  const poller = new Poller({
    capabilities: { broker: "streamonly", depthLevels: { "*": [5] } },
    quote: () => Promise.reject(new Error("never called")),
  }, { intervalMs: 1000 });
  assert.equal(poller.available, false);
  const r = await poller.subscribe("NSE", "A", 1, 0);
  assert.ok(!r.ok);
  assert.equal(r.code, "INVALID_ACTION");
  assert.match(r.message, /no REST quote API.*"stream"/);
  poller.start();
  await poller.stop();
});

Deno.test("poller: ticks of keys released while their call was out are dropped", async () => {
  const gate = Promise.withResolvers<void>();
  let waiting = 0;
  const base = fakeFetcher();
  const f: QuoteFetcher = {
    capabilities: base.capabilities,
    quote: async (mode, items, check) => {
      if (check) return await base.quote(mode, items, check);
      waiting++;
      await gate.promise;
      return await base.quote(mode, items);
    },
  };
  const poller = new Poller(f, { intervalMs: 10 });
  const seen: string[] = [];
  poller.onticks = (t) => seen.push(...t.map((x) => x.symbol));
  await poller.subscribe("NSE", "A", 1, 0);
  await poller.subscribe("NSE", "B", 1, 0);
  poller.start();
  await until(() => waiting === 1, "call out"); // the call is waiting at the gate
  await poller.unsubscribe("NSE", "A", 1);
  gate.resolve();
  await until(() => seen.length > 0, "answer");
  await poller.stop();
  assert.ok(!seen.includes("A"));
  assert.ok(seen.includes("B"));
});

Deno.test("poller: a cycle's calls are spread over the interval when the rate allows", async () => {
  const f = fakeFetcher({ batch: 2, rps: 1000 });
  const poller = new Poller(f, { intervalMs: 300 });
  for (let i = 0; i < 6; i++) await poller.subscribe("NSE", `S${i}`, 2, 5);
  poller.start();
  try {
    await until(() => f.calls.length >= 6, "two cycles");
    // Three calls per 300 ms cycle: each at least 100 ms after the one before.
    for (let i = 1; i < f.calls.length; i++) {
      const gap = f.calls[i].at - f.calls[i - 1].at;
      assert.ok(gap >= 100, `calls ${i - 1} and ${i} only ${gap.toFixed(1)} ms apart`);
    }
  } finally {
    await poller.stop();
  }
});
