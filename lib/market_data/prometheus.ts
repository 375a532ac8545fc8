// A minimal Prometheus text-format (0.0.4) writer: metric families with HELP and TYPE lines and
// correctly escaped label values. No registry, no globals — callers build the text on demand.

/** Label name → value of one sample. */
export type Labels = Readonly<Record<string, string>>;

/** One sample: its labels (none for a plain metric) and its value. */
export type Sample = readonly [labels: Labels | undefined, value: number];

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
 *   "# HELP tickplex_mds_ticks_total Ticks accepted.\n" +
 *     "# TYPE tickplex_mds_ticks_total counter\ntickplex_mds_ticks_total 42\n",
 * );
 * ```
 */
export class PrometheusText {
  #lines: string[] = [];

  /**
   * Appends a metric family. A family with no samples still gets its HELP and TYPE lines, so a
   * scraper always sees the metric exist.
   */
  family(name: string, type: "counter" | "gauge", help: string, samples: readonly Sample[]): this {
    if (!NAME.test(name)) throw new RangeError(`invalid metric name ${name}`);
    this.#lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      this.#lines.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
    }
    return this;
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
