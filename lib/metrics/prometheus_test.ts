// The Prometheus writer: escaping, refused names, and a family written twice.

import assert from "node:assert/strict";
import { escapeLabelValue, PrometheusText } from "./prometheus.ts";

Deno.test("PrometheusText escapes and rejects bad names", () => {
  assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  const t = new PrometheusText().family("x_total", "counter", "line1\nline2", [[{ a: "1" }, NaN]])
    .toString();
  assert.equal(t, '# HELP x_total line1\\nline2\n# TYPE x_total counter\nx_total{a="1"} NaN\n');
  assert.throws(() => new PrometheusText().family("bad-name", "gauge", "h", []), RangeError);
  assert.throws(
    () => new PrometheusText().family("ok", "gauge", "h", [[{ "bad-label": "x" }, 1]]),
    RangeError,
  );
});

Deno.test("a family written twice is refused: one producer per metric", () => {
  const p = new PrometheusText().one("x_total", "counter", "Things.", 1);
  assert.throws(() => p.one("x_total", "counter", "Things again.", 2), /written twice/);
});
