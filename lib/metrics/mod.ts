// Public surface of lib/metrics: the one Prometheus writer, and how producers (proxy, market data,
// pool and bus via the gateway) contribute to the single /metrics document.

import { PrometheusText } from "./prometheus.ts";

export {
  escapeLabelValue,
  type Labels,
  type MetricType,
  PrometheusText,
  type Sample,
} from "./prometheus.ts";

/** A producer of metrics: writes its families into the document being scraped. */
export type MetricsSource = (out: PrometheusText) => void;

/**
 * Renders one /metrics document from every source, in order. A family written by two sources
 * throws (see {@link PrometheusText.family}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const text = renderMetrics([(out) => out.one("x_total", "counter", "Things.", 3)]);
 * assert.equal(text, "# HELP x_total Things.\n# TYPE x_total counter\nx_total 3\n");
 * ```
 */
export function renderMetrics(sources: readonly MetricsSource[]): string {
  const out = new PrometheusText();
  for (const source of sources) source(out);
  return out.toString();
}
