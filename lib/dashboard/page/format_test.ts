import assert from "node:assert/strict";
import {
  formatAge,
  formatChange,
  formatPercent,
  formatPrice,
  formatQuantity,
  formatRate,
} from "./format.ts";

Deno.test("format: prices, changes and percentages", () => {
  assert.equal(formatPrice(123456.5), "1,23,456.50");
  assert.equal(formatPrice(83.12345, "CDS"), "83.1235");
  assert.equal(formatPrice(null), "—");
  assert.equal(formatPrice(Number.NaN), "—");
  assert.equal(formatChange(15.3), "+15.30");
  assert.equal(formatChange(-2.05), "-2.05");
  assert.equal(formatChange(0), "0.00");
  assert.equal(formatChange(null), "—");
  assert.equal(formatPercent(0.52), "+0.52%");
  assert.equal(formatPercent(-1.234), "-1.23%");
  assert.equal(formatPercent(-0.001), "0.00%");
  assert.equal(formatPercent(undefined), "—");
});

Deno.test("format: quantities, rates and ages", () => {
  assert.equal(formatQuantity(1234567), "12,34,567");
  assert.equal(formatQuantity(null), "—");
  assert.deepEqual([0, 8.54, 950.4, 12345, 250_000, 1_234_567].map(formatRate), [
    "0",
    "8.5",
    "950",
    "12.3k",
    "250k",
    "1.2M",
  ]);
  assert.deepEqual([null, 350, 4200, 185_000, 7_800_000].map(formatAge), [
    "—",
    "350 ms",
    "4.2 s",
    "3 m 05 s",
    "2 h 10 m",
  ]);
});
