// The dashboard's charts, drawn with TradingView Lightweight Charts (bundled into the page): one
// theme and one exchange-time axis for both, the throughput lines and the candle chart.

import {
  type ChartOptions,
  ColorType,
  createChart,
  type DeepPartial,
  type IChartApi,
  LineSeries,
  TickMarkType,
  type Time,
  type UTCTimestamp,
} from "lightweight-charts";
import type { CandleInterval } from "../../candles/mod.ts";
import type { ThroughputSample } from "../status_types.ts";
import type { DomElement } from "./dom.ts";
import { formatRate } from "./format.ts";

/** Colours of the page (style.css uses the same ones). */
export const CHART_COLORS = {
  text: "#8b95a7",
  grid: "rgba(255,255,255,0.06)",
  border: "#243044",
  up: "#22c55e",
  down: "#ef4444",
  ticks: "#4aa3ff",
  frames: "#f5a524",
} as const;

/** Exchange time: Indian exchanges keep IST (no daylight saving). The candle chart's axis. */
export const EXCHANGE_ZONE = "Asia/Kolkata";

/** Time labels of a chart in one time zone (undefined: the browser's, as the event log uses). */
export class TimeLabels {
  readonly #axis: Record<
    "s" | "m" | "day" | "month" | "year" | "full" | "minute" | "date",
    Intl.DateTimeFormat
  >;

  constructor(zone: string | undefined) {
    const fmt = (o: Intl.DateTimeFormatOptions) =>
      new Intl.DateTimeFormat("en-IN", { timeZone: zone, hourCycle: "h23", ...o });
    this.#axis = {
      s: fmt({ hour: "2-digit", minute: "2-digit", second: "2-digit" }),
      m: fmt({ hour: "2-digit", minute: "2-digit" }),
      day: fmt({ day: "numeric", month: "short" }),
      month: fmt({ month: "short" }),
      year: fmt({ year: "numeric" }),
      full: fmt({
        day: "numeric",
        month: "short",
        year: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
      }),
      minute: fmt({
        day: "numeric",
        month: "short",
        year: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
      }),
      date: fmt({ weekday: "short", day: "numeric", month: "short", year: "numeric" }),
    };
  }

  /**
   * Axis label of a time at the detail the library asks for.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { TickMarkType } from "lightweight-charts";
   * const ist = new TimeLabels(EXCHANGE_ZONE);
   * const t = chartTime(Date.parse("2026-11-30T09:15:05+05:30"));
   * assert.equal(ist.axis(t, TickMarkType.TimeWithSeconds), "09:15:05");
   * assert.equal(ist.axis(t, TickMarkType.Time), "09:15");
   * ```
   */
  axis(time: Time, type: TickMarkType): string {
    const d = new Date(epochMs(time));
    const f = this.#axis;
    switch (type) {
      case TickMarkType.Year:
        return f.year.format(d);
      case TickMarkType.Month:
        return f.month.format(d);
      case TickMarkType.DayOfMonth:
        return f.day.format(d);
      case TickMarkType.Time:
        return f.m.format(d);
      default:
        return f.s.format(d);
    }
  }

  /** A time in full (the crosshair label and the legend): `30 Nov 26, 09:15:05`. */
  full(epoch: number): string {
    return this.#axis.full.format(new Date(epoch));
  }

  /**
   * A bar's start at the detail its interval has: seconds for `1s`, the date alone for `1d`, else
   * to the minute.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * const ist = new TimeLabels(EXCHANGE_ZONE);
   * const t = Date.parse("2026-11-27T09:15:00+05:30");
   * assert.match(ist.bar(t, "5m"), /27 Nov 26.*09:15$/);
   * assert.match(ist.bar(t, "1d"), /^Fri, 27 Nov,? 2026$/);
   * ```
   */
  bar(epoch: number, interval: CandleInterval): string {
    const f = interval === "1s"
      ? this.#axis.full
      : interval === "1d"
      ? this.#axis.date
      : this.#axis.minute;
    return f.format(new Date(epoch));
  }
}

/** Epoch ms → the library's time (whole UTC seconds). */
export function chartTime(epochMs: number): UTCTimestamp {
  return Math.floor(epochMs / 1000) as UTCTimestamp;
}

/** The library's time → epoch ms (the page only gives it UTC seconds). */
export function epochMs(time: Time): number {
  return typeof time === "number" ? time * 1000 : 0;
}

/**
 * A chart in `container`, sized to it, in the page's theme, with time labels from `labels`. The
 * library's own
 * attribution logo is off: it injects an inline style sheet the page's CSP forbids; the page shows
 * the attribution text and link instead (index.html).
 */
export function createPanelChart(
  container: DomElement,
  labels: TimeLabels,
  options: DeepPartial<ChartOptions> = {},
): IChartApi {
  // The library's typings name the DOM's HTMLElement, which Deno's lib does not have (dom.ts).
  return createChart(container as unknown as Parameters<typeof createChart>[0], {
    autoSize: true,
    layout: {
      background: { type: ColorType.Solid, color: "transparent" },
      textColor: CHART_COLORS.text,
      fontSize: 11,
      fontFamily: "system-ui, sans-serif",
      attributionLogo: false,
    },
    grid: { vertLines: { color: CHART_COLORS.grid }, horzLines: { color: CHART_COLORS.grid } },
    rightPriceScale: { borderColor: CHART_COLORS.border },
    timeScale: {
      borderColor: CHART_COLORS.border,
      timeVisible: true,
      secondsVisible: true,
      tickMarkFormatter: (time: Time, type: TickMarkType) => labels.axis(time, type),
    },
    localization: { timeFormatter: (time: Time) => labels.full(epochMs(time)) },
    ...options,
  });
}

/** One point per whole second (the library's time unit); the last sample of a second wins. */
export function perSecond(
  samples: readonly ThroughputSample[],
  pick: (s: ThroughputSample) => number,
): { time: UTCTimestamp; value: number }[] {
  const out: { time: UTCTimestamp; value: number }[] = [];
  for (const s of samples) {
    const time = chartTime(s.t);
    const last = out.at(-1);
    if (last && time < last.time) continue;
    if (last && time === last.time) last.value = pick(s);
    else out.push({ time, value: pick(s) });
  }
  return out;
}

/** The throughput chart: ticks/s in and frames/s out over the status history. */
export class ThroughputChart {
  readonly #chart: IChartApi;
  readonly #ticks;
  readonly #frames;

  constructor(container: DomElement) {
    // Gateway activity, read beside the event log: the browser's time zone, as the log shows.
    this.#chart = createPanelChart(container, new TimeLabels(undefined), {
      handleScroll: false,
      handleScale: false,
      crosshair: { horzLine: { visible: false } },
    });
    const common = {
      lineWidth: 2 as const,
      priceLineVisible: false,
      priceFormat: { type: "custom" as const, formatter: (v: number) => `${formatRate(v)}/s` },
    };
    this.#ticks = this.#chart.addSeries(LineSeries, { ...common, color: CHART_COLORS.ticks });
    this.#frames = this.#chart.addSeries(LineSeries, { ...common, color: CHART_COLORS.frames });
  }

  /** Shows the samples (oldest first), fitted to the width. */
  show(samples: readonly ThroughputSample[]): void {
    this.#ticks.setData(perSecond(samples, (s) => s.ticks_in));
    this.#frames.setData(perSecond(samples, (s) => s.frames_out));
    this.#chart.timeScale().fitContent();
  }
}
