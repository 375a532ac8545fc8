// Number and time formatting for the dashboard page (pure; Indian digit grouping for quantities).

const DASH = "—";

const priceFormats = new Map<number, Intl.NumberFormat>();
const grouping = new Intl.NumberFormat("en-IN", { maximumFractionDigits: 0 });

/** Decimals a price is shown with: currency derivatives quote to 4 places, the rest to 2. */
export function priceDecimals(exchange: string): number {
  return exchange === "CDS" || exchange === "BCD" ? 4 : 2;
}

/**
 * A price with fixed decimals and Indian grouping; `—` when absent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(formatPrice(123456.5, "NSE"), "1,23,456.50");
 * ```
 */
export function formatPrice(value: number | null | undefined, exchange = "NSE"): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  const d = priceDecimals(exchange);
  let f = priceFormats.get(d);
  if (!f) {
    f = new Intl.NumberFormat("en-IN", { minimumFractionDigits: d, maximumFractionDigits: d });
    priceFormats.set(d, f);
  }
  return f.format(value);
}

/**
 * A signed change with the price's decimals: `+15.30`, `-2.05`, `0.00`; `—` when absent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(formatChange(15.3), "+15.30");
 * ```
 */
export function formatChange(value: number | null | undefined, exchange = "NSE"): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  const text = formatPrice(Math.abs(value), exchange);
  return value > 0 ? `+${text}` : value < 0 ? `-${text}` : text;
}

/**
 * A signed percentage with two decimals: `+0.52%`; `—` when absent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(formatPercent(-1.234), "-1.23%");
 * ```
 */
export function formatPercent(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  const text = Math.abs(value).toFixed(2);
  if (text === "0.00") return "0.00%";
  return `${value > 0 ? "+" : "-"}${text}%`;
}

/**
 * A whole quantity with Indian grouping: `12,34,567`; `—` when absent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(formatQuantity(1234567), "12,34,567");
 * ```
 */
export function formatQuantity(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  return grouping.format(value);
}

/**
 * A rate for the throughput figures: `0`, `8.5`, `950`, `12.3k`, `1.2M`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(formatRate(12345), "12.3k");
 * ```
 */
export function formatRate(value: number): string {
  if (!Number.isFinite(value) || value <= 0) return "0";
  if (value < 10) return String(Math.round(value * 10) / 10);
  if (value < 1000) return String(Math.round(value));
  if (value < 1_000_000) return `${trim1(value / 1000)}k`;
  return `${trim1(value / 1_000_000)}M`;
}

function trim1(v: number): string {
  return v >= 100 ? String(Math.round(v)) : (Math.round(v * 10) / 10).toString();
}

/**
 * An age in milliseconds: `350 ms`, `4.2 s`, `3 m 05 s`, `2 h 10 m`; `—` when absent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(formatAge(4200), "4.2 s");
 * ```
 */
export function formatAge(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return DASH;
  const v = Math.max(0, ms);
  if (v < 1000) return `${Math.round(v)} ms`;
  if (v < 60_000) return `${(Math.floor(v / 100) / 10).toFixed(1)} s`;
  const s = Math.floor(v / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, "0")} s`;
  const m = Math.floor(s / 60);
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} m`;
}

/**
 * Local wall-clock time `HH:MM:SS` of an epoch-ms instant.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(formatClock(new Date(2024, 5, 3, 14, 5, 9).getTime()), "14:05:09"); // local time
 * ```
 */
export function formatClock(epochMs: number): string {
  const d = new Date(epochMs);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
