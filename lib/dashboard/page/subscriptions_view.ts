// The subscription list: every (exchange, symbol, mode) key of the gateway's registry with its
// consumer count, in a virtual list (only rows on screen exist in the DOM); a poll rewrites only
// the visible cells whose text changed.

import type { SubscriptionView } from "../status_types.ts";
import { Cell, type DomElement, type DomInput, h, part } from "./dom.ts";
import type { FrameScheduler } from "./frame.ts";
import { formatQuantity } from "./format.ts";
import { VirtualList } from "./virtual_list.ts";
import { MODE_LABEL } from "./watchlist.ts";

/** Row height in CSS pixels; style.css gives `.subs-list .list-row` the same. */
const ROW_HEIGHT = 26;

interface Slot {
  el: DomElement;
  exchange: Cell;
  symbol: Cell;
  mode: Cell;
  depth: Cell;
  consumers: Cell;
  connection: Cell;
}

/**
 * The subscriptions panel.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { byId, part } from "./dom.ts";
 * import { installFakeDom } from "./fake_dom.ts";
 * import { FrameScheduler } from "./frame.ts";
 * installFakeDom(); // in the page: the real document
 * const root = byId("subscriptions");
 * const subs = new SubscriptionsView(root, new FrameScheduler());
 * subs.render([ // status.subscriptions of GET /api/v1/status
 *   { exchange: "NSE", symbol: "TCS", mode: 1, depth: 5, consumers: 2, connection: 1 },
 *   { exchange: "NSE", symbol: "TCS", mode: 2, depth: 5, consumers: 1, connection: 1 },
 * ]);
 * assert.equal(
 *   part(root, "summary").textContent,
 *   "2 keys · 1 instrument · 3 consumer subscriptions",
 * );
 * ```
 */
export class SubscriptionsView {
  #summary: Cell;
  #filter: DomInput;
  #rows = new Map<string, SubscriptionView>();
  #order: string[] = [];
  #shown = "";
  #list: VirtualList<Slot>;

  /** `root` holds the parts `scroll`, `rows`, `summary` and `filter`. */
  constructor(root: DomElement, frames: FrameScheduler) {
    this.#summary = new Cell(part(root, "summary"));
    this.#filter = part<DomInput>(root, "filter");
    this.#list = new VirtualList<Slot>({
      scroller: part(root, "scroll"),
      body: part(root, "rows"),
      rowHeight: ROW_HEIGHT,
      frames,
      create: makeSlot,
      element: (s) => s.el,
      bind: (s, key) => this.#fill(s, key),
    });
    this.#filter.addEventListener("input", () => this.#applyOrder());
  }

  /** Shows the registry listing (sorted by the server). */
  render(list: readonly SubscriptionView[]): void {
    this.#rows.clear();
    const order: string[] = [];
    const instruments = new Set<string>();
    let consumers = 0;
    for (const s of list) {
      const key = `${s.exchange}|${s.symbol}|${s.mode}`;
      this.#rows.set(key, s);
      order.push(key);
      consumers += s.consumers;
      instruments.add(`${s.exchange}|${s.symbol}`);
    }
    this.#order = order;
    this.#applyOrder();
    for (const [key, slot] of this.#list.bound()) this.#fill(slot, key);
    this.#summary.text(
      `${count(list.length, "key")} · ${count(instruments.size, "instrument")} · ` +
        count(consumers, "consumer subscription"),
    );
  }

  /** Gives the list the keys that pass the filter, when that set changed. */
  #applyOrder(): void {
    const q = this.#filter.value.trim().toUpperCase();
    const keys = q === ""
      ? this.#order
      : this.#order.filter((k) => k.replaceAll("|", " ").toUpperCase().includes(q));
    const shown = keys.join("\n");
    if (shown === this.#shown) return;
    this.#shown = shown;
    this.#list.setKeys(keys);
  }

  #fill(slot: Slot, key: string): void {
    const s = this.#rows.get(key);
    if (!s) return;
    slot.el.dataset.key = key;
    slot.exchange.text(s.exchange);
    slot.symbol.text(s.symbol);
    slot.mode.text(MODE_LABEL[s.mode]);
    slot.depth.text(s.mode === 3 ? String(s.depth) : "");
    slot.consumers.text(String(s.consumers));
    slot.consumers.cls(s.consumers > 1 ? "num consumers shared" : "num consumers");
    slot.connection.text(s.connection === null ? "—" : String(s.connection));
  }
}

function count(n: number, noun: string): string {
  return `${formatQuantity(n)} ${noun}${n === 1 ? "" : "s"}`;
}

function makeSlot(): Slot {
  const el = h("div", "list-row");
  el.setAttribute("role", "row");
  const cell = (cls: string) => {
    const c = h("div", cls);
    c.setAttribute("role", "cell");
    el.append(c);
    return new Cell(c);
  };
  return {
    el,
    exchange: cell(""),
    symbol: cell("sym"),
    mode: cell(""),
    depth: cell("num"),
    consumers: cell("num consumers"),
    connection: cell("num"),
  };
}
