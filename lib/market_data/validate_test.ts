// Tests for tick validation: rejected prices, depth without a price, jump and old-timestamp flags.

import assert from "node:assert/strict";
import { tick } from "./_test_utils.ts";
import { NO_FLAGS, priceProblem, validateTick } from "./validate.ts";

const LIMITS = { maxJumpPercent: 20, maxExchangeAgeMs: 60_000 };
const NOW = 1_000_000;
const none = () => null;

Deno.test("validateTick accepts a valid tick without flags", () => {
  const v = validateTick(tick({ ltp: 101.5, timestamp: NOW }), none, NOW, LIMITS);
  assert.equal(v.kind, "accept");
  if (v.kind !== "accept") return;
  assert.equal(v.flags, NO_FLAGS);
  assert.equal(v.exchangeTime, NOW);
});

Deno.test("validateTick rejects missing, non-numeric, NaN, infinite and non-positive prices", () => {
  const cases: [unknown, string][] = [
    [undefined, "missing_price"],
    [null, "missing_price"],
    ["101.5", "non_numeric_price"],
    [true, "non_numeric_price"],
    [NaN, "nan_price"],
    [Infinity, "infinite_price"],
    [-Infinity, "infinite_price"],
    [0, "non_positive_price"],
    [-3, "non_positive_price"],
  ];
  for (const [ltp, reason] of cases) {
    const raw = { ...tick({ timestamp: NOW }), ltp } as unknown;
    const v = validateTick(raw, none, NOW, LIMITS);
    assert.equal(v.kind, "reject", `ltp=${String(ltp)}`);
    if (v.kind === "reject") assert.equal(v.reason, reason, `ltp=${String(ltp)}`);
  }
  const { ltp: _drop, ...noLtp } = tick({ timestamp: NOW });
  const v = validateTick(noLtp, none, NOW, LIMITS);
  assert.equal(v.kind === "reject" && v.reason, "missing_price");
});

Deno.test("validateTick rejects missing instruments, bad modes and non-objects", () => {
  for (const raw of [null, 42, "x", { ...tick(), exchange: "" }, { ...tick(), symbol: 7 }]) {
    const v = validateTick(raw, none, NOW, LIMITS);
    assert.equal(v.kind === "reject" && v.reason, "missing_instrument");
  }
  const v = validateTick({ ...tick(), mode: 4 }, none, NOW, LIMITS);
  assert.equal(v.kind === "reject" && v.reason, "invalid_mode");
});

Deno.test("a Depth tick without a valid price but with levels is depth-only; without levels rejected", () => {
  const depth = { buy: [{ price: 99, quantity: 10, orders: 1 }], sell: [] };
  const v = validateTick(tick({ mode: 3, ltp: 0, depth, timestamp: NOW }), none, NOW, LIMITS);
  assert.equal(v.kind, "depth_only");
  const empty = validateTick(
    tick({ mode: 3, ltp: 0, depth: { buy: [], sell: [] }, timestamp: NOW }),
    none,
    NOW,
    LIMITS,
  );
  assert.equal(empty.kind, "reject");
  // Only Depth ticks get the exception.
  const quote = validateTick(tick({ mode: 2, ltp: 0, depth, timestamp: NOW }), none, NOW, LIMITS);
  assert.equal(quote.kind, "reject");
});

Deno.test("validateTick flags jumps beyond the bound, both directions, only with a previous price", () => {
  const up = validateTick(tick({ ltp: 125, timestamp: NOW }), () => 100, NOW, LIMITS);
  assert.deepEqual(up.kind === "accept" && up.flags, { jump: 25 });
  const down = validateTick(tick({ ltp: 70, timestamp: NOW }), () => 100, NOW, LIMITS);
  assert.deepEqual(down.kind === "accept" && down.flags, { jump: -30 });
  const within = validateTick(tick({ ltp: 119, timestamp: NOW }), () => 100, NOW, LIMITS);
  assert.equal(within.kind === "accept" && within.flags, NO_FLAGS);
  const first = validateTick(tick({ ltp: 5000, timestamp: NOW }), none, NOW, LIMITS);
  assert.equal(first.kind === "accept" && first.flags, NO_FLAGS);
});

Deno.test("validateTick flags an old exchange timestamp; a non-finite one means 'now'", () => {
  const old = validateTick(tick({ timestamp: NOW - 60_001 }), none, NOW, LIMITS);
  assert.deepEqual(old.kind === "accept" && old.flags, { staleExchangeTime: true });
  const edge = validateTick(tick({ timestamp: NOW - 60_000 }), none, NOW, LIMITS);
  assert.equal(edge.kind === "accept" && edge.flags, NO_FLAGS);
  const both = validateTick(tick({ ltp: 200, timestamp: 0 }), () => 100, NOW, LIMITS);
  assert.deepEqual(both.kind === "accept" && both.flags, { jump: 100, staleExchangeTime: true });
  const bad = validateTick({ ...tick(), timestamp: NaN }, none, NOW, LIMITS);
  assert.equal(bad.kind === "accept" && bad.exchangeTime, NOW);
});

Deno.test("priceProblem", () => {
  assert.equal(priceProblem(0.05), null);
  assert.equal(priceProblem(-0), "non_positive_price");
  assert.equal(priceProblem(Number.MAX_VALUE), null);
});
