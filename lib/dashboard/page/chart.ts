// The throughput chart: ticks/s in and frames/s out over the last minutes, drawn on a canvas
// sized for the device pixel ratio. Redrawn once per status poll.

import type { ThroughputSample } from "../status_types.ts";
import { formatRate } from "./format.ts";
import { type Canvas2D, type DomCanvas, pixelRatio } from "./dom.ts";
import { type Box, chartSpan, niceCeiling, polyline, spanLabel } from "./chart_scale.ts";

/** Line colours; the legend in index.html uses the same ones (style.css). */
const TICKS_COLOR = "#4aa3ff";
const FRAMES_COLOR = "#f5a524";
const GRID_COLOR = "rgba(255,255,255,0.08)";
const LABEL_COLOR = "#8b95a7";

/**
 * Draws `samples` into `canvas`, the newest at the right edge (`now`), spanning the history
 * there is (at least a minute, at most `windowMs`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Canvas2D, DomCanvas } from "./dom.ts";
 * // A canvas that records the lines drawn (the page passes its <canvas>).
 * const points: [number, number][] = [];
 * const ctx = new Proxy({}, {
 *   get: (_t, name) => name === "lineTo" ? (x: number, y: number) => points.push([x, y]) : () => {},
 *   set: () => true,
 * }) as Canvas2D;
 * const canvas = { clientWidth: 600, clientHeight: 100, width: 0, height: 0, getContext: () => ctx } as unknown as DomCanvas;
 * const now = 1_700_000_000_000;
 * const samples = [0, 1, 2].map((i) => ({ t: now - (2 - i) * 1000, ticks_in: 100 * i, frames_out: 10 }));
 * // In the page: drawThroughput(canvas, status.throughput.samples, status.server_time, 300_000)
 * drawThroughput(canvas, samples, now, 300_000);
 * assert.equal(canvas.width, 600, "sized to the element (device pixel ratio 1 here)");
 * assert.ok(points.length >= 4, "two series, each a line through the samples");
 * ```
 */
export function drawThroughput(
  canvas: DomCanvas,
  samples: readonly ThroughputSample[],
  now: number,
  windowMs: number,
): void {
  const dpr = pixelRatio();
  const cssW = canvas.clientWidth, cssH = canvas.clientHeight;
  if (cssW === 0 || cssH === 0) return;
  const w = Math.round(cssW * dpr), hgt = Math.round(cssH * dpr);
  if (canvas.width !== w || canvas.height !== hgt) {
    canvas.width = w;
    canvas.height = hgt;
  }
  const ctx = canvas.getContext("2d");
  if (!ctx) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, cssW, cssH);

  let peak = 0;
  for (const s of samples) peak = Math.max(peak, s.ticks_in, s.frames_out);
  const max = niceCeiling(peak * 1.1);
  const box: Box = { x: 44, y: 8, w: cssW - 52, h: cssH - 26 };
  const span = chartSpan(samples[0]?.t, now, windowMs);
  const t0 = now - span;

  ctx.font = "11px system-ui, sans-serif";
  ctx.textBaseline = "middle";
  ctx.lineWidth = 1;
  for (const f of [0, 0.5, 1]) {
    const y = Math.round(box.y + box.h - f * box.h) + 0.5;
    ctx.strokeStyle = GRID_COLOR;
    ctx.beginPath();
    ctx.moveTo(box.x, y);
    ctx.lineTo(box.x + box.w, y);
    ctx.stroke();
    ctx.fillStyle = LABEL_COLOR;
    ctx.textAlign = "right";
    ctx.fillText(`${formatRate(max * f)}/s`, box.x - 6, y);
  }
  ctx.textAlign = "left";
  ctx.textBaseline = "alphabetic";
  ctx.fillText(spanLabel(span), box.x, cssH - 4);
  ctx.textAlign = "right";
  ctx.fillText("now", box.x + box.w, cssH - 4);

  const series = (pick: (s: ThroughputSample) => number) =>
    polyline(samples.map((s) => ({ t: s.t, v: pick(s) })), box, t0, now, max);
  drawLine(ctx, series((s) => s.ticks_in), TICKS_COLOR, box, true);
  drawLine(ctx, series((s) => s.frames_out), FRAMES_COLOR, box, false);
}

function drawLine(
  ctx: Canvas2D,
  pts: number[],
  color: string,
  box: Box,
  fill: boolean,
): void {
  if (pts.length < 4) return;
  ctx.beginPath();
  ctx.moveTo(pts[0], pts[1]);
  for (let i = 2; i < pts.length; i += 2) ctx.lineTo(pts[i], pts[i + 1]);
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.5;
  ctx.lineJoin = "round";
  ctx.stroke();
  if (!fill) return;
  ctx.lineTo(pts[pts.length - 2], box.y + box.h);
  ctx.lineTo(pts[0], box.y + box.h);
  ctx.closePath();
  ctx.globalAlpha = 0.15;
  ctx.fillStyle = color;
  ctx.fill();
  ctx.globalAlpha = 1;
}
