// The depth ladder of the selected instrument: bids and asks best first with quantity bars, the
// spread and total quantities. Rows are built once per level count and then only updated.

import { Cell, type DomButton, type DomElement, h, part } from "./dom.ts";
import { formatPrice, formatQuantity } from "./format.ts";
import type { DepthLevel, TickView } from "./protocol.ts";
import type { WatchItem } from "./watchlist.ts";

interface LadderRow {
  bidOrders: Cell;
  bidQty: Cell;
  bidBar: DomElement;
  bid: Cell;
  ask: Cell;
  askBar: DomElement;
  askQty: Cell;
  askOrders: Cell;
}

/**
 * The depth panel.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { byId, part } from "./dom.ts";
 * import { installFakeDom } from "./fake_dom.ts";
 * installFakeDom(); // in the page: the real document
 * const root = byId("depth");
 * const switched: string[] = [];
 * const depth = new DepthView(root, (item) => switched.push(item.symbol));
 * const item = { exchange: "NSE", symbol: "TCS", mode: 3 as const };
 * depth.show(item);
 * depth.update(item, {
 *   ltp: 3500, change: null, changePercent: null, volume: null,
 *   depth: {
 *     buy: [{ price: 3499.9, quantity: 120, orders: 3 }],
 *     sell: [{ price: 3500.1, quantity: 80, orders: 2 }],
 *   },
 * });
 * assert.equal(part(root, "title").textContent, "Depth · TCS (NSE)");
 * assert.match(part(root, "summary").textContent ?? "", /^Spread 0\.20 · Buy qty 120 · Sell qty 80$/);
 * depth.show({ ...item, mode: 2 }); // a Quote row offers to switch to Depth
 * assert.equal(part(root, "hint-text").textContent, "TCS is watched in Quote mode.");
 * ```
 */
export class DepthView {
  #title: Cell;
  #hint: DomElement;
  #hintText: Cell;
  #switch: DomButton;
  #body: DomElement;
  #table: DomElement;
  #summary: Cell;
  #rows: LadderRow[] = [];
  #item: WatchItem | null = null;

  /** `root` holds the parts `title`, `hint`, `hint-text`, `switch`, `ladder`, `rows`, `summary`. */
  constructor(root: DomElement, onSwitchToDepth: (item: WatchItem) => void) {
    this.#title = new Cell(part(root, "title"));
    this.#hint = part(root, "hint");
    this.#hintText = new Cell(part(root, "hint-text"));
    this.#switch = part<DomButton>(root, "switch");
    this.#table = part(root, "ladder");
    this.#body = part<DomElement>(root, "rows");
    this.#summary = new Cell(part(root, "summary"));
    this.#switch.addEventListener("click", () => {
      if (this.#item) onSwitchToDepth(this.#item);
    });
  }

  /** Shows the panel for `item` (null: nothing selected). */
  show(item: WatchItem | null, data: TickView | null = null): void {
    this.#item = item;
    if (!item) {
      this.#title.text("Depth");
      this.#message("Select a row of the watchlist to see its depth ladder.", false);
      return;
    }
    this.#title.text(`Depth · ${item.symbol} (${item.exchange})`);
    if (item.mode !== 3) {
      this.#message(
        `${item.symbol} is watched in ${item.mode === 1 ? "LTP" : "Quote"} mode.`,
        true,
      );
      return;
    }
    this.#message("Waiting for depth…", false);
    if (data) this.update(item, data);
  }

  /** Renders the ladder when `item` is the one shown. */
  update(item: WatchItem, data: TickView): void {
    const cur = this.#item;
    if (!cur || cur.exchange !== item.exchange || cur.symbol !== item.symbol || cur.mode !== 3) {
      return;
    }
    const depth = data.depth;
    if (!depth || (depth.buy.length === 0 && depth.sell.length === 0)) {
      this.#message("No depth for this instrument (indices have none).", false);
      return;
    }
    this.#hint.hidden = true;
    this.#table.hidden = false;
    const n = Math.max(depth.buy.length, depth.sell.length);
    if (this.#rows.length !== n) this.#build(n);
    let maxQty = 1, buyTotal = 0, sellTotal = 0;
    for (const l of depth.buy) {
      maxQty = Math.max(maxQty, l.quantity);
      buyTotal += l.quantity;
    }
    for (const l of depth.sell) {
      maxQty = Math.max(maxQty, l.quantity);
      sellTotal += l.quantity;
    }
    const ex = item.exchange;
    for (let i = 0; i < n; i++) {
      const r = this.#rows[i];
      setSide(depth.buy[i], r.bidOrders, r.bidQty, r.bid, r.bidBar, maxQty, ex);
      setSide(depth.sell[i], r.askOrders, r.askQty, r.ask, r.askBar, maxQty, ex);
    }
    const bestBid = depth.buy[0]?.price, bestAsk = depth.sell[0]?.price;
    const spread = bestBid !== undefined && bestAsk !== undefined
      ? formatPrice(bestAsk - bestBid, ex)
      : "—";
    this.#summary.text(
      `Spread ${spread} · Buy qty ${formatQuantity(buyTotal)} · Sell qty ${
        formatQuantity(sellTotal)
      }`,
    );
  }

  #message(text: string, offerSwitch: boolean): void {
    this.#hintText.text(text);
    this.#switch.hidden = !offerSwitch;
    this.#hint.hidden = false;
    this.#table.hidden = true;
    this.#summary.text("");
  }

  #build(n: number): void {
    this.#body.replaceChildren();
    this.#rows = [];
    for (let i = 0; i < n; i++) {
      const tr = h("tr");
      const bidOrders = h("td", "num dim");
      const bidQty = h("td", "num qty bid-side");
      const bidBar = h("span", "qty-bar bid-bar");
      const bidQtyText = h("span", "qty-text");
      bidQty.append(bidBar, bidQtyText);
      const bid = h("td", "num price bid");
      const ask = h("td", "num price ask");
      const askQty = h("td", "num qty ask-side");
      const askBar = h("span", "qty-bar ask-bar");
      const askQtyText = h("span", "qty-text");
      askQty.append(askBar, askQtyText);
      const askOrders = h("td", "num dim");
      tr.append(bidOrders, bidQty, bid, ask, askQty, askOrders);
      this.#body.append(tr);
      this.#rows.push({
        bidOrders: new Cell(bidOrders),
        bidQty: new Cell(bidQtyText),
        bidBar,
        bid: new Cell(bid),
        ask: new Cell(ask),
        askBar,
        askQty: new Cell(askQtyText),
        askOrders: new Cell(askOrders),
      });
    }
  }
}

function setSide(
  level: DepthLevel | undefined,
  orders: Cell,
  qty: Cell,
  price: Cell,
  bar: DomElement,
  maxQty: number,
  exchange: string,
): void {
  orders.text(level?.orders != null ? formatQuantity(level.orders) : "");
  qty.text(level ? formatQuantity(level.quantity) : "");
  price.text(level ? formatPrice(level.price, exchange) : "");
  // CSSOM writes are allowed under the page's style-src CSP (inline style attributes are not).
  const width = level ? `${Math.round((level.quantity / maxQty) * 100)}%` : "0%";
  if (bar.style.width !== width) bar.style.width = width;
}
