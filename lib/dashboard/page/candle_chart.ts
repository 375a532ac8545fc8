// The selected instrument's candle chart: an interval switch, history backfilled from the gateway
// and the live bars of `subscribe_candles` (the forming one updating in place) in one series.

import {
  CandlestickSeries,
  HistogramSeries,
  type IChartApi,
  type ISeriesApi,
  type MouseEventParams,
  type Time,
} from "lightweight-charts";
import { type Candle, CANDLE_INTERVALS, type CandleInterval } from "../../candles/mod.ts";
import { ChartCandles } from "./chart_candles.ts";
import {
  CHART_COLORS,
  chartTime,
  createPanelChart,
  epochMs,
  EXCHANGE_ZONE,
  TimeLabels,
} from "./chart.ts";
import { Cell, type DomButton, type DomElement, h, part } from "./dom.ts";
import { formatPrice, formatQuantity } from "./format.ts";
import type { HistoryResult } from "./history.ts";
import type { CandleUpdate, Instrument, SubscribeEntryResult } from "./protocol.ts";

/** Bars are read in exchange time. */
const LABELS = new TimeLabels(EXCHANGE_ZONE);

/** Bars across the chart's width after a backfill (the rest are a scroll away). */
const BARS_SHOWN = 150;

/** The interval a fresh page starts with. */
export const DEFAULT_INTERVAL: CandleInterval = "1m";

/** What the chart needs from the page: the feed's candle requests and the history endpoint. */
export interface CandleChartDeps {
  /** Sends `subscribe_candles` (a no-op while the feed is down: {@link CandleChartView.restart}). */
  subscribe(item: Instrument, interval: CandleInterval): void;
  /** Sends `unsubscribe_candles` (a no-op while the feed is down). */
  unsubscribe(item: Instrument, interval: CandleInterval): void;
  /** Fetches the bars so far (never rejects). */
  history(item: Instrument, interval: CandleInterval, signal: AbortSignal): Promise<HistoryResult>;
}

/** Where the bars on screen came from. */
export type ChartSource = "idle" | "loading" | "history+live" | "live" | "history-failed";

/** What the chart shows, for the page's test hook and diagnostics. */
export interface ChartSnapshot {
  exchange: string | null;
  symbol: string | null;
  interval: CandleInterval;
  source: ChartSource;
  /** Bars that came from history (not since replaced by a live one). */
  historyBars: number;
  /** The candle series' data as the chart library holds it (time in epoch ms). */
  bars: { time: number; open: number; high: number; low: number; close: number }[];
}

/**
 * The chart panel. One candle subscription at a time: selecting another instrument or interval
 * unsubscribes the old series before subscribing the new one.
 */
export class CandleChartView {
  readonly #deps: CandleChartDeps;
  readonly #root: DomElement;
  readonly #title: Cell;
  readonly #legend: Cell;
  readonly #note: Cell;
  readonly #plot: DomElement;
  readonly #buttons = new Map<CandleInterval, DomButton>();
  #chart: IChartApi | null = null;
  #candles: ISeriesApi<"Candlestick"> | null = null;
  #volume: ISeriesApi<"Histogram"> | null = null;
  readonly #bars = new ChartCandles();
  #item: Instrument | null = null;
  #interval: CandleInterval = DEFAULT_INTERVAL;
  #source: ChartSource = "idle";
  /** The history failure shown with "history-failed". */
  #detail = "";
  #fetch: AbortController | null = null;
  #hovered: Candle | null = null;
  /** Why the gateway refused the live bars of the series shown, or "". */
  #refused = "";

  constructor(root: DomElement, deps: CandleChartDeps, interval = DEFAULT_INTERVAL) {
    this.#root = root;
    this.#deps = deps;
    this.#interval = interval;
    this.#title = new Cell(part(root, "title"));
    this.#legend = new Cell(part(root, "legend"));
    this.#note = new Cell(part(root, "note"));
    this.#plot = part(root, "plot");
    const switcher = part(root, "intervals");
    for (const iv of CANDLE_INTERVALS) {
      const b = h<DomButton>("button", "seg", iv);
      b.type = "button";
      b.dataset.interval = iv;
      b.addEventListener("click", () => this.setInterval(iv));
      this.#buttons.set(iv, b);
      switcher.append(b);
    }
    this.#markInterval();
    this.#show();
  }

  /** The interval shown. */
  get interval(): CandleInterval {
    return this.#interval;
  }

  /** Charts `item` (null: nothing selected). */
  show(item: Instrument | null): void {
    if (sameItem(item, this.#item)) return;
    this.#release();
    this.#item = item;
    this.#open();
  }

  /** Switches the interval of the instrument shown. */
  setInterval(interval: CandleInterval): void {
    if (interval === this.#interval) return;
    this.#release();
    this.#interval = interval;
    this.#markInterval();
    this.#open();
  }

  /**
   * Starts the series again from history (the feed reconnected: its subscriptions are gone and
   * bars were missed while it was down).
   */
  restart(): void {
    this.#fetch?.abort();
    this.#open();
  }

  /** A `candle` frame; bars of any other series (one just released) are ignored. */
  onCandle(c: CandleUpdate): void {
    const item = this.#item;
    if (!item || c.exchange !== item.exchange || c.symbol !== item.symbol) return;
    if (c.interval !== this.#interval) return;
    const change = this.#bars.live(c.bar);
    if (change === "ignored") return;
    if (change === "rebuilt") this.#setData();
    else {
      this.#candles?.update(candlePoint(c.bar));
      this.#volume?.update(volumePoint(c.bar));
    }
    if (this.#source === "idle") this.#setSource("live", "");
    this.#showLegend();
  }

  /** The reply to a `subscribe_candles`: a refused instrument is said on the chart. */
  onSubscribed(interval: string, entries: readonly SubscribeEntryResult[]): void {
    const item = this.#item;
    if (!item || interval !== this.#interval) return;
    const e = entries.find((x) => x.exchange === item.exchange && x.symbol === item.symbol);
    if (!e || e.ok) return;
    this.#refused = e.message || "refused";
    this.#setSource(this.#source);
  }

  /** What is on the chart (the page exposes it to its browser tests). */
  snapshot(): ChartSnapshot {
    // The library holds UTC seconds (chartTime); the snapshot speaks epoch ms like the protocol.
    const data = this.#candles?.data() ?? [];
    return {
      exchange: this.#item?.exchange ?? null,
      symbol: this.#item?.symbol ?? null,
      interval: this.#interval,
      source: this.#source,
      historyBars: this.#bars.historyCount,
      bars: data.map((d) => {
        const o = d as { time: number; open: number; high: number; low: number; close: number };
        return { time: o.time * 1000, open: o.open, high: o.high, low: o.low, close: o.close };
      }),
    };
  }

  #open(): void {
    this.#bars.clear();
    this.#refused = "";
    this.#hovered = null;
    this.#show();
    const item = this.#item;
    if (!item) return;
    this.#ensureChart();
    this.#setData();
    this.#setSource("loading", "");
    const interval = this.#interval;
    this.#deps.subscribe(item, interval);
    const ctl = new AbortController();
    this.#fetch = ctl;
    void this.#deps.history(item, interval, ctl.signal).then((r) => {
      if (ctl.signal.aborted || this.#fetch !== ctl) return;
      this.#fetch = null;
      this.#applyHistory(r);
    });
  }

  #release(): void {
    this.#fetch?.abort();
    this.#fetch = null;
    if (this.#item) this.#deps.unsubscribe(this.#item, this.#interval);
  }

  #applyHistory(r: HistoryResult): void {
    switch (r.kind) {
      case "bars":
        this.#bars.history(r.bars);
        this.#setData();
        this.#fit();
        if (r.bars.length > 0) this.#setSource("history+live", "");
        else this.#setSource("live", "no history in this range");
        break;
      case "unavailable":
        this.#setSource(
          "live",
          r.noEndpoint ? "this gateway serves no history" : "no history for this instrument",
        );
        break;
      case "failed":
        this.#setSource("history-failed", r.message);
        break;
    }
    this.#showLegend();
  }

  #setSource(source: ChartSource, detail = this.#detail): void {
    this.#source = source;
    this.#detail = detail;
    this.#root.dataset.source = source;
    const text: Record<ChartSource, string> = {
      idle: "",
      loading: "Loading history…",
      "history+live": "History + live",
      live: `Live bars only${detail ? ` (${detail})` : ""}`,
      "history-failed": `History failed (${detail}); live bars only`,
    };
    if (!this.#refused) this.#note.text(text[source]);
    else {
      const history = source === "history+live" ? "; history shown" : "";
      this.#note.text(`No live bars: ${this.#refused}${history}`);
    }
  }

  #ensureChart(): void {
    if (this.#chart) return;
    const chart = createPanelChart(this.#plot, LABELS, {
      rightPriceScale: {
        borderColor: CHART_COLORS.border,
        scaleMargins: { top: 0.08, bottom: 0.22 },
      },
    });
    this.#candles = chart.addSeries(CandlestickSeries, {
      upColor: CHART_COLORS.up,
      downColor: CHART_COLORS.down,
      wickUpColor: CHART_COLORS.up,
      wickDownColor: CHART_COLORS.down,
      borderVisible: false,
    });
    this.#volume = chart.addSeries(HistogramSeries, {
      priceScaleId: "volume",
      priceFormat: { type: "volume" },
      lastValueVisible: false,
      priceLineVisible: false,
    });
    chart.priceScale("volume").applyOptions({ scaleMargins: { top: 0.82, bottom: 0 } });
    chart.subscribeCrosshairMove((p: MouseEventParams) => {
      const d = this.#candles ? p.seriesData.get(this.#candles) : undefined;
      this.#hovered = d && p.time !== undefined
        ? this.#bars.bars().find((b) => chartTime(b.time) === p.time) ?? null
        : null;
      this.#showLegend();
    });
    this.#chart = chart;
    this.#markInterval();
  }

  /** Shows the newest bars across the width (at most {@link BARS_SHOWN}, never a few huge ones). */
  #fit(): void {
    const n = this.#bars.bars().length;
    const ts = this.#chart?.timeScale();
    if (!ts || n < 20) return;
    ts.setVisibleLogicalRange({ from: Math.max(0, n - BARS_SHOWN), to: n + 2 });
  }

  #setData(): void {
    const bars = this.#bars.bars();
    this.#candles?.setData(bars.map(candlePoint));
    this.#volume?.setData(bars.map(volumePoint));
  }

  #show(): void {
    const item = this.#item;
    this.#title.text(item ? `${item.symbol} · ${item.exchange} · ${this.#interval}` : "Chart");
    this.#plot.hidden = item === null;
    if (!item) {
      this.#setSource("idle");
      this.#note.text("Select a watchlist row to chart it.");
    }
    this.#showLegend();
  }

  #showLegend(): void {
    const bar = this.#hovered ?? this.#bars.last();
    const ex = this.#item?.exchange ?? "NSE";
    if (!bar || !this.#item) {
      this.#legend.text("");
      return;
    }
    this.#legend.text(
      `${LABELS.bar(bar.time, this.#interval)}  O ${formatPrice(bar.open, ex)}  H ${
        formatPrice(bar.high, ex)
      }  ` +
        `L ${formatPrice(bar.low, ex)}  C ${formatPrice(bar.close, ex)}  ` +
        `V ${formatQuantity(bar.volume)}${bar.closed ? "" : "  (forming)"}`,
    );
  }

  #markInterval(): void {
    // Crosshair and axis at the detail of the bars: no seconds on minute bars, no time on days.
    this.#chart?.applyOptions({
      localization: { timeFormatter: (t: Time) => LABELS.bar(epochMs(t), this.#interval) },
      timeScale: { secondsVisible: this.#interval === "1s", timeVisible: this.#interval !== "1d" },
    });
    for (const [iv, b] of this.#buttons) {
      b.classList.toggle("on", iv === this.#interval);
      b.setAttribute("aria-pressed", String(iv === this.#interval));
    }
    this.#show();
  }
}

function sameItem(a: Instrument | null, b: Instrument | null): boolean {
  return a === b ||
    (a !== null && b !== null && a.exchange === b.exchange && a.symbol === b.symbol);
}

function candlePoint(b: Candle) {
  return { time: chartTime(b.time), open: b.open, high: b.high, low: b.low, close: b.close };
}

function volumePoint(b: Candle) {
  return {
    time: chartTime(b.time),
    value: b.volume,
    color: b.close >= b.open ? "rgba(34,197,94,0.35)" : "rgba(239,68,68,0.35)",
  };
}
