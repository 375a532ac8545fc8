// The watchlist. Ticks are buffered (newest per instrument) and applied in the next animation
// frame to the rows on screen only (a virtual list: rows off screen do not exist in the DOM); only
// cells whose text changed are touched, and a price move flashes its cell with a CSS animation
// (no timers per tick).

import { Cell, type DomButton, type DomElement, h } from "./dom.ts";
import { formatChange, formatPercent, formatPrice, formatQuantity } from "./format.ts";
import type { FrameScheduler } from "./frame.ts";
import type { MarketTick, TickView } from "./protocol.ts";
import { VirtualList } from "./virtual_list.ts";
import { MODE_LABEL, type WatchItem, watchKey } from "./watchlist.ts";

/** Row height in CSS pixels; style.css gives `#watch-rows .list-row` the same. */
const ROW_HEIGHT = 40;

/** What the page knows about one watched instrument. */
interface Entry {
  item: WatchItem;
  /** Latest data at the watched mode. */
  data: TickView | null;
  /** Why the gateway refused it, or "". */
  error: string;
}

/** A row element and its cells; shows one entry at a time. */
interface Slot {
  el: DomElement;
  key: string;
  sym: Cell;
  sub: Cell;
  mode: Cell;
  ltp: Cell;
  change: Cell;
  pct: Cell;
  volume: Cell;
  remove: DomButton;
  /** LTP on screen in this slot (for the flash direction). */
  shownLtp: number | null;
  /** Alternates the flash animation name so a new flash restarts it. */
  flip: boolean;
}

/** Callbacks of the watchlist. */
export interface WatchlistViewHandlers {
  onRemove(key: string): void;
  onSelect(key: string): void;
}

/**
 * The watchlist rows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { byId } from "./dom.ts";
 * import { allText, installFakeDom } from "./fake_dom.ts";
 * import { FrameScheduler } from "./frame.ts";
 * const elements = installFakeDom(); // in the page: the real document
 * const view = new WatchlistView(byId("watch-rows"), byId("watch-scroll"), new FrameScheduler(), {
 *   onRemove: () => {},
 *   onSelect: () => {},
 * });
 * view.add([{ exchange: "NSE", symbol: "TCS", mode: 2 }]);
 * // In the page: feed handlers' onTicks = (ticks) => view.push(ticks)
 * view.push([{
 *   exchange: "NSE", symbol: "TCS", mode: 2,
 *   data: { ltp: 3500.5, change: 12.5, changePercent: 0.36, volume: 120_000, depth: null },
 * }]);
 * await new Promise((r) => setTimeout(r, 50)); // applied once per animation frame
 * const text = allText(elements.get("watch-rows")!);
 * assert.match(text, /TCS/);
 * assert.match(text, /3,500\.50/);
 * assert.equal(view.size, 1);
 * ```
 */
export class WatchlistView {
  #frames: FrameScheduler;
  #entries = new Map<string, Entry>();
  #keys: string[] = [];
  #list: VirtualList<Slot>;
  #bySlotEl = new WeakMap<DomElement, Slot>();
  #pending = new Map<string, MarketTick>();
  #selected: string | null = null;
  #render = () => this.#flush();
  /** Called with the selected instrument's latest data whenever it changes (the depth ladder). */
  onSelectedData: ((item: WatchItem, data: TickView) => void) | null = null;

  constructor(
    body: DomElement,
    scroller: DomElement,
    frames: FrameScheduler,
    handlers: WatchlistViewHandlers,
  ) {
    this.#frames = frames;
    this.#list = new VirtualList<Slot>({
      scroller,
      body,
      rowHeight: ROW_HEIGHT,
      frames,
      create: () => this.#makeSlot(),
      element: (s) => s.el,
      bind: (s, key) => this.#bind(s, key),
    });
    body.addEventListener("click", (e) => {
      const target = e.target as DomElement;
      const el = target.closest(".list-row");
      const slot = el ? this.#bySlotEl.get(el) : undefined;
      if (!slot || !this.#entries.has(slot.key)) return;
      if (target.closest("button[data-action=remove]")) handlers.onRemove(slot.key);
      else handlers.onSelect(slot.key);
    });
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Adds rows for new instruments, at the end. */
  add(items: readonly WatchItem[]): void {
    for (const item of items) {
      const key = watchKey(item.exchange, item.symbol);
      if (this.#entries.has(key)) continue;
      this.#entries.set(key, { item, data: null, error: "" });
      this.#keys.push(key);
    }
    this.#list.setKeys(this.#keys);
  }

  /** Removes an instrument's row. */
  remove(key: string): void {
    if (!this.#entries.delete(key)) return;
    this.#keys = this.#keys.filter((k) => k !== key);
    this.#list.setKeys(this.#keys);
    if (this.#selected === key) this.select(null);
  }

  /** Shows a new mode for a row; its figures wait for ticks at that mode. */
  setMode(item: WatchItem): void {
    const key = watchKey(item.exchange, item.symbol);
    const e = this.#entries.get(key);
    if (!e) return;
    e.item = item;
    e.data = null;
    e.error = "";
    const slot = this.#list.slotOf(key);
    if (slot) this.#bind(slot, key);
  }

  /** Marks a row as refused by the gateway (`message`), or clears the mark (`""`). */
  setError(key: string, message: string): void {
    const e = this.#entries.get(key);
    if (!e || e.error === message) return;
    e.error = message;
    const slot = this.#list.slotOf(key);
    if (slot) this.#paintMeta(slot, e);
  }

  /** Highlights the selected row (null: none) and scrolls it into view. */
  select(key: string | null): void {
    if (this.#selected === key) return;
    const before = this.#selected ? this.#list.slotOf(this.#selected) : undefined;
    before?.el.classList.remove("selected");
    this.#selected = key;
    if (!key) return;
    this.#list.slotOf(key)?.el.classList.add("selected");
    this.#list.scrollTo(key);
    const e = this.#entries.get(key);
    if (e?.data) this.onSelectedData?.(e.item, e.data);
  }

  /** The latest data of a row, if any. */
  latest(key: string): TickView | null {
    return this.#entries.get(key)?.data ?? null;
  }

  /** Buffers ticks; the next animation frame shows the newest of each instrument. */
  push(ticks: readonly MarketTick[]): void {
    for (const t of ticks) this.#pending.set(`${watchKey(t.exchange, t.symbol)}|${t.mode}`, t);
    this.#frames.request(this.#render);
  }

  #flush(): void {
    for (const t of this.#pending.values()) {
      const key = watchKey(t.exchange, t.symbol);
      const e = this.#entries.get(key);
      // A tick at another mode is a leftover from before a mode change: its fields differ.
      if (!e || e.item.mode !== t.mode) continue;
      e.data = t.data;
      if (e.error) this.setError(key, "");
      const slot = this.#list.slotOf(key);
      if (slot) this.#paint(slot, e.item.exchange, t.data, true);
      if (key === this.#selected) this.onSelectedData?.(e.item, t.data);
    }
    this.#pending.clear();
  }

  #bind(slot: Slot, key: string): void {
    const e = this.#entries.get(key)!;
    slot.key = key;
    slot.el.dataset.key = key;
    slot.el.classList.toggle("selected", key === this.#selected);
    slot.sym.text(e.item.symbol);
    slot.mode.text(MODE_LABEL[e.item.mode]);
    slot.remove.title = `Remove ${e.item.symbol}`;
    slot.remove.setAttribute("aria-label", `Remove ${e.item.symbol}`);
    this.#paintMeta(slot, e);
    slot.shownLtp = null;
    slot.ltp.cls("num ltp");
    if (e.data) this.#paint(slot, e.item.exchange, e.data, false);
    else {
      slot.ltp.text(e.error ? "—" : "…");
      slot.change.text("");
      slot.pct.text("");
      slot.volume.text("");
    }
  }

  #paintMeta(slot: Slot, e: Entry): void {
    const ex = e.item.exchange;
    slot.sub.text(e.error ? `${ex} · ${e.error}` : ex);
    slot.sub.cls(e.error ? "sub err" : "sub");
    slot.sub.el.title = e.error;
    slot.el.classList.toggle("refused", e.error !== "");
    if (e.error && !e.data) slot.ltp.text("—");
  }

  #paint(slot: Slot, exchange: string, d: TickView, flash: boolean): void {
    if (slot.ltp.text(formatPrice(d.ltp, exchange)) && flash && slot.shownLtp !== null) {
      if (d.ltp !== slot.shownLtp) {
        slot.flip = !slot.flip;
        const dir = d.ltp > slot.shownLtp ? "up" : "down";
        slot.ltp.cls(`num ltp ${dir} flash-${dir}-${slot.flip ? "a" : "b"}`);
      }
    }
    slot.shownLtp = d.ltp;
    slot.change.text(formatChange(d.change, exchange));
    slot.pct.text(formatPercent(d.changePercent));
    const sign = d.change === null || d.change === 0 ? "" : d.change > 0 ? " pos" : " neg";
    slot.change.cls(`num${sign}`);
    slot.pct.cls(`num${sign}`);
    slot.volume.text(formatQuantity(d.volume));
  }

  #makeSlot(): Slot {
    const el = h("div", "list-row");
    el.setAttribute("role", "row");
    const cell = (cls: string) => {
      const c = h("div", cls);
      c.setAttribute("role", "cell");
      return c;
    };
    const symbol = cell("symbol");
    const sym = h("div", "sym");
    const sub = h("div", "sub");
    symbol.append(sym, sub);
    const mode = cell("mode");
    const ltp = cell("num ltp");
    const change = cell("num");
    const pct = cell("num");
    const volume = cell("num");
    const actions = cell("actions");
    const remove = h<DomButton>("button", "icon-button", "✕");
    remove.type = "button";
    remove.dataset.action = "remove";
    actions.append(remove);
    el.append(symbol, mode, ltp, change, pct, volume, actions);
    const slot: Slot = {
      el,
      key: "",
      sym: new Cell(sym),
      sub: new Cell(sub),
      mode: new Cell(mode),
      ltp: new Cell(ltp),
      change: new Cell(change),
      pct: new Cell(pct),
      volume: new Cell(volume),
      remove,
      shownLtp: null,
      flip: false,
    };
    this.#bySlotEl.set(el, slot);
    return slot;
  }
}
