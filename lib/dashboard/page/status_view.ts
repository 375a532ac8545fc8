// Feed status, safety gate, recent events and throughput, rendered from one status document per
// poll. Connection cards are keyed by index and updated in place.

import type { ConnectionReport } from "../../feed_state.ts";
import type { DashboardStatus, StatusEvent, ThroughputSample } from "../status_types.ts";
import { Cell, type DomElement, h, part } from "./dom.ts";
import { formatAge, formatClock, formatQuantity, formatRate } from "./format.ts";

/** Events listed, newest first. */
const EVENTS_SHOWN = 8;

interface ConnCard {
  root: DomElement;
  state: Cell;
  fill: DomElement;
  symbols: Cell;
  restarts: Cell;
  reconnects: Cell;
  age: Cell;
  detail: Cell;
}

/** Draws the throughput history (oldest sample first). */
export interface ThroughputPlot {
  show(samples: readonly ThroughputSample[]): void;
}

/**
 * The feed, gate and throughput panels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { byId, part } from "./dom.ts";
 * import { installFakeDom } from "./fake_dom.ts";
 * import type { DashboardStatus } from "../status_types.ts";
 * installFakeDom(); // in the page: the real document
 * const view = new StatusView(byId("feed"), byId("throughput"), byId("gate-pill"));
 * // In the page: view.render(await (await fetch("/api/v1/status", { headers })).json());
 * const now = 1_700_000_000_000;
 * const status: DashboardStatus = {
 *   broker: "paper", user_id: "local", server_time: now, feed_state: "connected",
 *   connections: [{ index: 0, state: "connected", symbols: 2, capacity: 1000, restarts: 0,
 *     reconnects: 0, last_tick_at: now, last_tick_age_ms: 0, ticks: 10, detail: null }],
 *   gate: { safe: true, reason: "", data_fresh: true, paused_since: null, pauses: 0 },
 *   events: [], clients: 1, subscriptions: [],
 *   throughput: { interval_ms: 1000, window_ms: 300_000, samples: [] },
 *   totals: { ticks_in: 10, frames_out: 12, ticks_out: 10 },
 * };
 * view.render(status);
 * assert.equal(part(byId("feed"), "broker").textContent, "paper");
 * assert.equal(part(byId("feed"), "feed-state").textContent, "connected");
 * ```
 */
export class StatusView {
  #broker: Cell;
  #feedState: Cell;
  #conns: DomElement;
  #cards = new Map<number, ConnCard>();
  #gate: Cell;
  #gateReason: Cell;
  #gateMeta: Cell;
  #pill: Cell;
  #pillText: Cell;
  #events: DomElement;
  #lastEvent = "";
  #plot: ThroughputPlot | null;
  #ticksIn: Cell;
  #framesOut: Cell;
  #clients: Cell;
  #totals: Cell;

  /**
   * `feed` holds the feed parts, `throughput` the figures, `pill` the header gate badge; `plot`
   * draws the throughput history (the page's {@link ThroughputChart}; none in Deno tests).
   */
  constructor(
    feed: DomElement,
    throughput: DomElement,
    pill: DomElement,
    plot: ThroughputPlot | null = null,
  ) {
    this.#broker = new Cell(part(feed, "broker"));
    this.#feedState = new Cell(part(feed, "feed-state"));
    this.#conns = part(feed, "connections");
    this.#gate = new Cell(part(feed, "gate-state"));
    this.#gateReason = new Cell(part(feed, "gate-reason"));
    this.#gateMeta = new Cell(part(feed, "gate-meta"));
    this.#events = part(feed, "events");
    this.#pill = new Cell(pill);
    this.#pillText = new Cell(part(pill, "text"));
    this.#plot = plot;
    this.#ticksIn = new Cell(part(throughput, "ticks-in"));
    this.#framesOut = new Cell(part(throughput, "frames-out"));
    this.#clients = new Cell(part(throughput, "clients"));
    this.#totals = new Cell(part(throughput, "totals"));
  }

  /** Shows one status document. */
  render(s: DashboardStatus): void {
    this.#broker.text(s.broker);
    this.#feedState.text(s.feed_state.replace("_", " "));
    this.#feedState.cls(`state state-${s.feed_state}`);
    this.#renderConnections(s.connections);

    const safe = s.gate.safe;
    this.#gate.text(safe ? "SAFE" : "PAUSED");
    this.#gate.cls(`gate ${safe ? "gate-safe" : "gate-paused"}`);
    this.#gateReason.text(
      safe
        ? (s.gate.data_fresh
          ? "Data fresh; trade management may act."
          : "Safe: nothing subscribed or no data yet.")
        : s.gate.reason,
    );
    this.#gateMeta.text(
      safe
        ? `${s.gate.pauses} pause${s.gate.pauses === 1 ? "" : "s"} since start`
        : `paused for ${
          formatAge(s.gate.paused_since === null ? null : s.server_time - s.gate.paused_since)
        }`,
    );
    this.#pill.cls(`pill ${safe ? "pill-safe" : "pill-paused"}`);
    this.#pillText.text(safe ? "Trading safe" : "Trading paused");
    this.#renderEvents(s.events);

    const last = s.throughput.samples.at(-1);
    this.#ticksIn.text(`${formatRate(last?.ticks_in ?? 0)}/s`);
    this.#framesOut.text(`${formatRate(last?.frames_out ?? 0)}/s`);
    this.#clients.text(String(s.clients));
    this.#totals.text(
      `${formatQuantity(s.totals.ticks_in)} ticks in · ${
        formatQuantity(s.totals.frames_out)
      } frames out`,
    );
    this.#plot?.show(s.throughput.samples);
  }

  #renderConnections(conns: readonly ConnectionReport[]): void {
    const seen = new Set<number>();
    for (const c of conns) {
      seen.add(c.index);
      let card = this.#cards.get(c.index);
      if (!card) {
        card = makeCard(c.index);
        this.#cards.set(c.index, card);
        this.#conns.append(card.root);
      }
      card.state.text(c.state.replace("_", " "));
      card.state.cls(`state state-${c.state}`);
      const used = c.capacity > 0 ? Math.min(1, c.symbols / c.capacity) : 0;
      const width = `${(used * 100).toFixed(1)}%`;
      if (card.fill.style.width !== width) card.fill.style.width = width;
      card.fill.classList.toggle("bar-high", used >= 0.9);
      card.symbols.text(`${formatQuantity(c.symbols)} / ${formatQuantity(c.capacity)} symbols`);
      card.restarts.text(`restarts ${c.restarts}`);
      card.reconnects.text(`reconnects ${c.reconnects}`);
      card.age.text(`last tick ${formatAge(c.last_tick_age_ms)}`);
      card.detail.text(c.state === "connected" ? "" : c.detail ?? "");
    }
    for (const [i, card] of this.#cards) {
      if (seen.has(i)) continue;
      card.root.remove();
      this.#cards.delete(i);
    }
  }

  #renderEvents(events: readonly StatusEvent[]): void {
    const newest = events.at(-1);
    const mark = newest ? `${events.length}|${newest.at}|${newest.text}` : "";
    if (mark === this.#lastEvent) return;
    this.#lastEvent = mark;
    const items = events.slice(-EVENTS_SHOWN).reverse().map((e) => {
      const li = h("li", `event event-${e.level}`);
      li.append(h("time", "", formatClock(e.at)), h("span", "", e.text));
      return li;
    });
    if (items.length === 0) items.push(h("li", "event dim", "No events yet."));
    this.#events.replaceChildren(...items);
  }
}

function makeCard(index: number): ConnCard {
  const root = h("div", "conn");
  root.dataset.index = String(index);
  const head = h("div", "conn-head");
  const state = h("span", "state");
  head.append(h("span", "conn-name", `Connection ${index + 1}`), state);
  const bar = h("div", "bar");
  const fill = h("div", "bar-fill");
  bar.append(fill);
  const meta = h("div", "conn-meta");
  const symbols = h("span"), restarts = h("span"), reconnects = h("span"), age = h("span");
  meta.append(symbols, restarts, reconnects, age);
  const detail = h("div", "conn-detail");
  root.append(head, bar, meta, detail);
  return {
    root,
    state: new Cell(state),
    fill,
    symbols: new Cell(symbols),
    restarts: new Cell(restarts),
    reconnects: new Cell(reconnects),
    age: new Cell(age),
    detail: new Cell(detail),
  };
}
