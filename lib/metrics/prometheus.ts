// The one Prometheus text-format (0.0.4) writer of the gateway: metric families with HELP and TYPE
// lines and correctly escaped label values. No registry, no globals: hot paths bump plain numbers
// and every producer writes its families into one document when /metrics is scraped.

/** Label name → value of one sample. */
export type Labels = Readonly<Record<string, string>>;

/** One sample: its labels (none for a plain metric) and its value. */
export type Sample = readonly [labels: Labels | undefined, value: number];

/** The metric types tickplex exposes. */
export type MetricType = "counter" | "gauge";

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Builds an exposition-format document.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PrometheusText } from "./prometheus.ts";
 * const text = new PrometheusText()
 *   .family("tickplex_mds_ticks_total", "counter", "Ticks accepted.", [[undefined, 42]])
 *   .toString();
 * assert.equal(
 *   text,
 *   "# HELP tickplex_mds_ticks_total Ticks accepted.\n# TYPE tickplex_mds_ticks_total counter\n" +
 *     "tickplex_mds_ticks_total 42\n",
 * );
 * ```
 */
export class PrometheusText {
  #lines: string[] = [];
  #names = new Set<string>();

  /**
   * Appends a metric family. A family with no samples still gets its HELP and TYPE lines, so a
   * scraper always sees the metric exist.
   */
  family(name: string, type: MetricType, help: string, samples: readonly Sample[]): this {
    if (!NAME.test(name)) throw new RangeError(`invalid metric name ${name}`);
    // Two producers of one name would be two sources of one fact; scrapers reject it too.
    if (this.#names.has(name)) throw new RangeError(`metric ${name} written twice`);
    this.#names.add(name);
    this.#lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      this.#lines.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
    }
    return this;
  }

  /** Appends a family with a single unlabelled sample. */
  one(name: string, type: MetricType, help: string, value: number): this {
    return this.family(name, type, help, [[undefined, value]]);
  }

  /** The document, newline-terminated. */
  toString(): string {
    return this.#lines.length === 0 ? "" : this.#lines.join("\n") + "\n";
  }
}

function escapeHelp(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/**
 * Escapes a label value per the text format: backslash, double quote and line feed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeLabelValue } from "./prometheus.ts";
 * assert.equal(escapeLabelValue('a"b'), 'a\\"b');
 * ```
 */
export function escapeLabelValue(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function formatLabels(labels: Labels | undefined): string {
  if (!labels) return "";
  const parts: string[] = [];
  for (const [k, v] of Object.entries(labels)) {
    if (!LABEL.test(k)) throw new RangeError(`invalid label name ${k}`);
    parts.push(`${k}="${escapeLabelValue(v)}"`);
  }
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}
