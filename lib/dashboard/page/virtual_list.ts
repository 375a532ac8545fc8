// A list of fixed-height rows of which only those on screen (plus a small margin) exist in the DOM.
// Row elements are pooled and rebound as the list scrolls, so a 1000-row list costs the browser
// what its ~20 visible rows cost: style, layout and paint never see the rest.

import { type DomElement, onResize } from "./dom.ts";
import type { FrameScheduler } from "./frame.ts";

/** What a {@link VirtualList} needs from its owner. */
export interface VirtualListOptions<S> {
  /** The element that scrolls. It must be positioned (the rows' offsets are measured in it). */
  scroller: DomElement;
  /** The rows' container inside the scroller; it is given the height of all rows. */
  body: DomElement;
  /** Row height in CSS pixels (style.css gives the rows the same). */
  rowHeight: number;
  /** Rows kept bound beyond each edge of the viewport. Default 5. */
  overscan?: number;
  frames: FrameScheduler;
  /** A new, empty row (a slot); the list appends `element(slot)` to `body`. */
  create(): S;
  element(slot: S): DomElement;
  /** Fills `slot` with the row of `key` (it showed another row, or none, before). */
  bind(slot: S, key: string): void;
}

/**
 * The virtual list.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { h } from "./dom.ts";
 * import { fakeElement, installFakeDom } from "./fake_dom.ts";
 * import { FrameScheduler } from "./frame.ts";
 * installFakeDom(); // in the page: the real document
 * const scroller = fakeElement("div", { clientHeight: 260 }); // ten rows of 26 px on screen
 * const body = fakeElement();
 * const list = new VirtualList({
 *   scroller, body, rowHeight: 26, frames: new FrameScheduler(),
 *   create: () => ({ el: h("div", "list-row") }),
 *   element: (slot) => slot.el,
 *   bind: (slot, key) => slot.el.textContent = key,
 * });
 * list.setKeys(Array.from({ length: 1000 }, (_, i) => `NSE|PAPER${i}`));
 * await new Promise((r) => setTimeout(r, 50)); // the DOM follows in the next frame
 * assert.equal(list.slotOf("NSE|PAPER0")?.el.textContent, "NSE|PAPER0"); // on screen: bound
 * assert.equal(list.slotOf("NSE|PAPER999"), undefined); // off screen: no element at all
 * assert.ok(body.children.length < 30, `${body.children.length} row elements for 1000 rows`);
 * ```
 */
export class VirtualList<S> {
  #o: VirtualListOptions<S>;
  #overscan: number;
  #keys: string[] = [];
  #index = new Map<string, number>();
  #bound = new Map<string, S>();
  #position = new Map<S, number>();
  #free: S[] = [];
  #height = -1;
  #render = () => this.#layout();

  constructor(options: VirtualListOptions<S>) {
    this.#o = options;
    this.#overscan = options.overscan ?? 5;
    options.scroller.addEventListener("scroll", () => this.refresh(), { passive: true });
    onResize(options.scroller, () => this.refresh());
  }

  /** Number of rows. */
  get length(): number {
    return this.#keys.length;
  }

  /** Sets the rows, in order; the DOM follows in the next frame. */
  setKeys(keys: readonly string[]): void {
    this.#keys = keys.slice();
    this.#index.clear();
    for (let i = 0; i < this.#keys.length; i++) this.#index.set(this.#keys[i], i);
    this.refresh();
  }

  /** The slot showing `key`, when its row is in the DOM. */
  slotOf(key: string): S | undefined {
    return this.#bound.get(key);
  }

  /** Every bound slot with its key. */
  bound(): IterableIterator<[string, S]> {
    return this.#bound.entries();
  }

  /** Re-renders in the next frame (after a scroll, a resize or a change of rows). */
  refresh(): void {
    this.#o.frames.request(this.#render);
  }

  /** Scrolls so that row `key` is visible. */
  scrollTo(key: string): void {
    const i = this.#index.get(key);
    if (i === undefined) return;
    const sc = this.#o.scroller;
    const top = this.#o.body.offsetTop + i * this.#o.rowHeight;
    if (top < sc.scrollTop || top + this.#o.rowHeight > sc.scrollTop + sc.clientHeight) {
      sc.scrollTop = top - sc.clientHeight / 2;
    }
  }

  #layout(): void {
    const { scroller: sc, body, rowHeight: h } = this.#o;
    const n = this.#keys.length;
    if (this.#height !== n * h) {
      this.#height = n * h;
      body.style.height = `${this.#height}px`;
    }
    const top = body.offsetTop;
    const from = Math.max(0, Math.floor((sc.scrollTop - top) / h) - this.#overscan);
    const to = Math.min(
      n - 1,
      Math.ceil((sc.scrollTop + sc.clientHeight - top) / h) + this.#overscan,
    );
    for (const [key, slot] of this.#bound) {
      const i = this.#index.get(key);
      if (i !== undefined && i >= from && i <= to) continue;
      this.#bound.delete(key);
      this.#o.element(slot).hidden = true;
      this.#free.push(slot);
    }
    for (let i = from; i <= to; i++) {
      const key = this.#keys[i];
      let slot = this.#bound.get(key);
      if (!slot) {
        slot = this.#free.pop();
        if (!slot) {
          slot = this.#o.create();
          body.append(this.#o.element(slot));
        }
        this.#o.element(slot).hidden = false;
        this.#o.bind(slot, key);
        this.#bound.set(key, slot);
      }
      if (this.#position.get(slot) !== i) {
        this.#position.set(slot, i);
        // CSSOM writes are allowed under the page's style-src CSP (style attributes are not).
        this.#o.element(slot).style.transform = `translateY(${i * h}px)`;
      }
    }
  }
}
