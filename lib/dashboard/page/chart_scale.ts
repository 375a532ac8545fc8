// Chart geometry for the throughput chart (pure): a rounded axis maximum and the polyline of a
// series in a pixel box over a time window.

/**
 * The smallest 1, 2 or 5 × 10ⁿ that is ≥ `v` (at least 1), so axis labels stay round.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(niceCeiling(730), 1000);
 * assert.equal(niceCeiling(1.2), 2);
 * ```
 */
export function niceCeiling(v: number): number {
  if (!Number.isFinite(v) || v <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** A pixel box: left, top, width, height. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * Maps (time, value) points into `box`: time `t0..t1` left to right, value `0..max` bottom to
 * top. Points before `t0` are dropped; values above `max` are clamped. Returns x, y pairs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(polyline([{ t: 5, v: 50 }], { x: 0, y: 0, w: 100, h: 100 }, 0, 10, 100), [50, 50]);
 * ```
 */
export function polyline(
  points: readonly { t: number; v: number }[],
  box: Box,
  t0: number,
  t1: number,
  max: number,
): number[] {
  const out: number[] = [];
  const span = Math.max(1, t1 - t0);
  for (const p of points) {
    if (p.t < t0) continue;
    const x = box.x + ((Math.min(p.t, t1) - t0) / span) * box.w;
    const v = Math.max(0, Math.min(max, p.v));
    const y = box.y + box.h - (v / max) * box.h;
    out.push(Math.round(x * 10) / 10, Math.round(y * 10) / 10);
  }
  return out;
}

/**
 * How much time the chart spans: the history there is, at least `minMs` (so a fresh gateway's
 * first seconds are not squeezed against the right edge of a five-minute axis), at most `windowMs`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(chartSpan(95_000, 100_000, 300_000), 60_000);
 * ```
 */
export function chartSpan(
  firstT: number | undefined,
  now: number,
  windowMs: number,
  minMs = 60_000,
): number {
  const history = firstT === undefined ? 0 : now - firstT;
  return Math.min(windowMs, Math.max(minMs, history));
}

/**
 * The axis label of a span: `-45 s`, `-2 min`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(spanLabel(120_000), "-2 min");
 * ```
 */
export function spanLabel(spanMs: number): string {
  return spanMs < 120_000
    ? `-${Math.round(spanMs / 1000)} s`
    : `-${Math.round(spanMs / 60_000)} min`;
}
