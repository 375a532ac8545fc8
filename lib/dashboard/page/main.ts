// Entry point of the dashboard page: asks for the API key once (kept in local storage), then runs
// the feed WebSocket, the one-second status poll and the views.

import { isCandleInterval } from "../../candles/mod.ts";
import type { DashboardStatus } from "../status_types.ts";
import { BudgetView } from "./budget_view.ts";
import { CandleChartView, DEFAULT_INTERVAL } from "./candle_chart.ts";
import { ThroughputChart } from "./chart.ts";
import { DepthView } from "./depth_view.ts";
import { byId, Cell, type DomInput, part } from "./dom.ts";
import { FeedClient, type FeedPhase, feedUrl } from "./feed.ts";
import { FrameScheduler } from "./frame.ts";
import { fetchHistory } from "./history.ts";
import { StatusView } from "./status_view.ts";
import { SubscriptionsView } from "./subscriptions_view.ts";
import {
  isMode,
  parseStoredWatchlist,
  parseSymbolList,
  type WatchItem,
  watchKey,
  Watchlist,
} from "./watchlist.ts";
import { WatchlistView } from "./watchlist_view.ts";

const KEY_STORAGE = "tickplex.dashboard.apiKey";
const WATCH_STORAGE = "tickplex.dashboard.watchlist";
const INTERVAL_STORAGE = "tickplex.dashboard.interval";
const STATUS_URL = "/api/v1/status";
const POLL_MS = 1000;

/** Local storage can be disabled or full; the page then simply does not remember. */
function load(name: string): string | null {
  try {
    return localStorage.getItem(name);
  } catch {
    return null;
  }
}

function save(name: string, value: string | null): void {
  try {
    if (value === null) localStorage.removeItem(name);
    else localStorage.setItem(name, value);
  } catch {
    // not remembered
  }
}

/** Polls the status endpoint once a second (never two requests at once). */
class StatusPoller {
  #key: string;
  #onStatus: (s: DashboardStatus) => void;
  #onDenied: (message: string) => void;
  #onTrouble: (message: string) => void;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;

  constructor(
    key: string,
    onStatus: (s: DashboardStatus) => void,
    onDenied: (message: string) => void,
    onTrouble: (message: string) => void,
  ) {
    this.#key = key;
    this.#onStatus = onStatus;
    this.#onDenied = onDenied;
    this.#onTrouble = onTrouble;
  }

  start(): void {
    void this.#poll();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
  }

  async #poll(): Promise<void> {
    try {
      const res = await fetch(STATUS_URL, {
        headers: { authorization: `Bearer ${this.#key}` },
        cache: "no-store",
        signal: AbortSignal.timeout(5000),
      });
      if (this.#stopped) return;
      const body: unknown = await res.json().catch(() => null);
      if (res.status === 401) {
        this.stop();
        this.#onDenied(messageOf(body) || "Invalid API key");
        return;
      }
      if (!res.ok) this.#onTrouble(messageOf(body) || `status request failed (HTTP ${res.status})`);
      else if (isStatus(body)) this.#onStatus(body);
      else this.#onTrouble("unexpected status document");
    } catch {
      this.#onTrouble("gateway unreachable");
    }
    if (!this.#stopped) this.#timer = setTimeout(() => void this.#poll(), POLL_MS);
  }
}

function messageOf(body: unknown): string {
  const m = (body as { message?: unknown } | null)?.message;
  return typeof m === "string" ? m : "";
}

function isStatus(v: unknown): v is DashboardStatus {
  const s = v as Partial<DashboardStatus> | null;
  return typeof s === "object" && s !== null && Array.isArray(s.connections) &&
    Array.isArray(s.subscriptions) && typeof s.gate === "object" && s.gate !== null &&
    typeof s.throughput === "object" && Array.isArray(s.events);
}

function main(): void {
  const frames = new FrameScheduler();
  const watchlist = new Watchlist(parseStoredWatchlist(load(WATCH_STORAGE)));
  const throughput = byId("throughput");
  const statusView = new StatusView(
    byId("feed"),
    throughput,
    byId("gate-pill"),
    new ThroughputChart(part(throughput, "chart")),
  );
  const budgetView = new BudgetView(byId("budget"));
  const subsView = new SubscriptionsView(byId("subscriptions"), frames);
  const depthView = new DepthView(byId("depth"), (item) => addItems([{ ...item, mode: 3 }]));
  const connPill = new Cell(byId("conn-pill"));
  const connText = new Cell(byId("conn-text"));
  const statusNote = new Cell(byId("status-note"));
  const watchCount = new Cell(byId("watch-count"));
  const addMessage = new Cell(byId("add-message"));
  const login = byId("login");
  const loginForm = byId("login-form");
  const keyInput = byId<DomInput>("key-input");
  const loginError = new Cell(byId("login-error"));
  let selected: string | null = null;
  let feed: FeedClient | null = null;
  let poller: StatusPoller | null = null;
  let apiKey = "";
  // A gateway without the history endpoint answers 404 once; the page then stops asking (each
  // failed request is a console line in the browser) until it is reloaded.
  let historyAbsent = false;

  const storedInterval = load(INTERVAL_STORAGE);
  const chart = new CandleChartView(byId("chart"), {
    subscribe: (item, interval) => {
      save(INTERVAL_STORAGE, interval);
      feed?.subscribeCandles(item, interval);
    },
    unsubscribe: (item, interval) => feed?.unsubscribeCandles(item, interval),
    history: async (item, interval, signal) => {
      if (historyAbsent) return { kind: "unavailable", noEndpoint: true };
      const r = await fetchHistory(apiKey, item, interval, Date.now(), signal);
      if (r.kind === "unavailable" && r.noEndpoint) historyAbsent = true;
      return r;
    },
  }, isCandleInterval(storedInterval) ? storedInterval : DEFAULT_INTERVAL);
  // Read by the browser tests (tests/dashboard): what the chart library holds, not pixels.
  (globalThis as { tickplex?: unknown }).tickplex = { chart: () => chart.snapshot() };

  const view = new WatchlistView(
    byId("watch-rows"),
    byId("watch-scroll"),
    frames,
    { onRemove: removeItem, onSelect: selectItem },
  );
  view.onSelectedData = (item, data) => depthView.update(item, data);
  view.add(watchlist.items());
  depthView.show(null);
  updateCount();

  function updateCount(): void {
    const n = watchlist.size;
    watchCount.text(`${n} instrument${n === 1 ? "" : "s"}`);
    save(WATCH_STORAGE, watchlist.serialize());
  }

  function addItems(items: WatchItem[]): void {
    const change = watchlist.add(items);
    view.add(change.added);
    for (const { item, from } of change.remoded) {
      feed?.unsubscribe([{ ...item, mode: from }]);
      view.setMode(item);
    }
    const toSubscribe = [...change.added, ...change.remoded.map((r) => r.item)];
    feed?.subscribe(toSubscribe);
    if (
      selected !== null &&
      change.remoded.some((r) => watchKey(r.item.exchange, r.item.symbol) === selected)
    ) {
      depthView.show(watchlist.get(selected) ?? null, null);
    }
    if (change.refused.length > 0) {
      addMessage.text(`Watchlist full: ${change.refused.length} not added.`);
    }
    updateCount();
  }

  function removeItem(key: string): void {
    const item = watchlist.remove(key);
    if (!item) return;
    view.remove(key);
    feed?.unsubscribe([item]);
    if (selected === key) selectItem(null);
    updateCount();
  }

  function selectItem(key: string | null): void {
    selected = key;
    view.select(key);
    depthView.show(key ? watchlist.get(key) ?? null : null, key ? view.latest(key) : null);
    chart.show(key ? watchlist.get(key) ?? null : null);
  }

  const showPhase = (phase: FeedPhase, detail: string) => {
    const text: Record<FeedPhase, string> = {
      connecting: "Connecting…",
      authenticating: "Authenticating…",
      live: `Live${detail ? ` · ${detail}` : ""}`,
      offline: `Offline — ${detail}`,
      stopped: "Not connected",
    };
    connText.text(text[phase]);
    connPill.cls(`pill pill-${phase}`);
  };

  function connect(key: string): void {
    disconnect();
    apiKey = key;
    feed = new FeedClient(feedUrl(), key, () => watchlist.items(), {
      onPhase: showPhase,
      onAuth: (ok, _broker, message) => {
        if (!ok) askForKey(message || "Invalid API key");
      },
      onTicks: (ticks) => view.push(ticks),
      onSubscribed: (entries) => {
        for (const e of entries) {
          view.setError(watchKey(e.exchange, e.symbol), e.ok ? "" : e.message);
        }
      },
      onError: (_code, message) => addMessage.text(message),
      onLive: () => chart.restart(),
      onCandle: (c) => chart.onCandle(c),
      onCandlesSubscribed: (interval, entries) => chart.onSubscribed(interval, entries),
    });
    feed.start();
    poller = new StatusPoller(
      key,
      (s) => {
        statusNote.text("");
        statusView.render(s);
        budgetView.render(s.budget);
        subsView.render(s.subscriptions);
      },
      (message) => askForKey(message),
      (message) => statusNote.text(`Status: ${message}`),
    );
    poller.start();
  }

  function disconnect(): void {
    feed?.stop();
    poller?.stop();
    feed = null;
    poller = null;
  }

  function askForKey(error: string): void {
    disconnect();
    save(KEY_STORAGE, null);
    loginError.text(error);
    login.hidden = false;
    keyInput.value = "";
    keyInput.focus();
  }

  loginForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const key = keyInput.value.trim();
    if (key === "") {
      loginError.text("Enter the gateway's API key.");
      return;
    }
    save(KEY_STORAGE, key);
    keyInput.value = "";
    loginError.text("");
    login.hidden = true;
    connect(key);
  });

  byId("change-key").addEventListener("click", () => askForKey(""));

  byId("add-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const symbolInput = byId<DomInput>("add-symbol");
    const exchange = byId<DomInput>("add-exchange").value;
    const mode = Number(byId<DomInput>("add-mode").value);
    const { symbols, invalid } = parseSymbolList(symbolInput.value);
    if (!isMode(mode)) return;
    addMessage.text(invalid.length > 0 ? `Not a symbol: ${invalid.join(", ")}` : "");
    if (symbols.length === 0) {
      if (invalid.length === 0) addMessage.text("Type one or more symbols, e.g. RELIANCE, TCS.");
      return;
    }
    addItems(symbols.map((symbol) => ({ exchange, symbol, mode })));
    symbolInput.value = "";
    symbolInput.focus();
  });

  const stored = load(KEY_STORAGE);
  if (stored) {
    login.hidden = true;
    connect(stored);
  } else askForKey("");
}

main();
