import assert from "node:assert/strict";
import { TickMarkType } from "lightweight-charts";
import { chartTime, EXCHANGE_ZONE, perSecond, TimeLabels } from "./chart.ts";

Deno.test("chart: throughput samples become one strictly ascending point per second", () => {
  const s = (t: number, ticks: number) => ({ t, ticks_in: ticks, frames_out: 0 });
  // The library rejects repeated or backward times; two polls in one second keep the later.
  const points = perSecond(
    [s(1_000, 1), s(1_999, 2), s(2_100, 3), s(1_500, 9), s(4_000, 4)],
    (x) => x.ticks_in,
  );
  assert.deepEqual(points, [{ time: 1, value: 2 }, { time: 2, value: 3 }, { time: 4, value: 4 }]);
});

Deno.test("chart: exchange-time labels are IST whatever the browser's zone", () => {
  const ist = new TimeLabels(EXCHANGE_ZONE);
  const t = Date.parse("2026-11-27T15:29:59+05:30");
  assert.equal(ist.axis(chartTime(t), TickMarkType.TimeWithSeconds), "15:29:59");
  assert.equal(ist.axis(chartTime(t), TickMarkType.DayOfMonth), "27 Nov");
  assert.match(ist.full(t), /27 Nov 26.*15:29:59/);
  const utc = new TimeLabels("UTC");
  assert.equal(utc.axis(chartTime(t), TickMarkType.Time), "09:59");
});
