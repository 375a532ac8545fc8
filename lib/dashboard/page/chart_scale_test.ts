import assert from "node:assert/strict";
import { chartSpan, niceCeiling, polyline, spanLabel } from "./chart_scale.ts";

Deno.test("chart: axis maximum is 1, 2 or 5 × 10ⁿ", () => {
  assert.deepEqual([0, 0.5, 1.2, 7, 10, 11, 730, 2001, 49_000].map(niceCeiling), [
    1,
    1,
    2,
    10,
    10,
    20,
    1000,
    5000,
    50_000,
  ]);
});

Deno.test("chart: points map into the box, old ones drop, big ones clamp", () => {
  const box = { x: 10, y: 0, w: 100, h: 50 };
  assert.deepEqual(
    polyline(
      [{ t: -5, v: 1 }, { t: 0, v: 0 }, { t: 5, v: 50 }, { t: 10, v: 500 }],
      box,
      0,
      10,
      100,
    ),
    [10, 50, 60, 25, 110, 0],
  );
});

Deno.test("chart: the span grows with the history, between a minute and the window", () => {
  assert.equal(chartSpan(undefined, 1000, 300_000), 60_000);
  assert.equal(chartSpan(0, 90_000, 300_000), 90_000);
  assert.equal(chartSpan(0, 900_000, 300_000), 300_000);
  assert.deepEqual([60_000, 90_000, 300_000].map(spanLabel), ["-60 s", "-90 s", "-5 min"]);
});
