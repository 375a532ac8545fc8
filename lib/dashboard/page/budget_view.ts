// The subscription budget as a bar: streaming slots in use per class, the part reserved for
// trading, and who holds what (per API key), rendered from the status document's `budget`.

import type { BudgetReport } from "../../budget/mod.ts";
import { Cell, type DomElement, h, part } from "./dom.ts";
import { formatQuantity, formatRate } from "./format.ts";

/** Classes in bar order (most important first, from the left). */
const CLASSES = ["trading", "monitoring", "display", "capture"] as const;

/**
 * The budget panel.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { byId, part } from "./dom.ts";
 * import { installFakeDom } from "./fake_dom.ts";
 * installFakeDom(); // in the page: the real document
 * const view = new BudgetView(byId("budget"));
 * const cls = (slots: number) => ({ slots, refused_total: 0, route: "stream" as const });
 * view.render({
 *   capacity: 100, reserved: 25, reserve_setting: "25%", used: 40, free: 60,
 *   classes: { trading: cls(10), monitoring: cls(0), display: cls(30), capture: cls(0) },
 *   keys: [{ name: "algo", class: "trading", kind: "api_key", held: 10, quota: null }],
 *   preempt_display: true, preempted_total: 0,
 *   poll: { keys: 200, requests_per_second: 0.5, interval_ms: 1000 },
 * });
 * assert.equal(part(byId("budget"), "summary").textContent, "40 / 100 slots · 25 reserved for trading");
 * assert.equal(part(byId("budget"), "keys").textContent, "algo (trading) 10");
 * view.render(undefined); // a gateway without a budget
 * assert.equal(byId("budget").hidden, true);
 * ```
 */
export class BudgetView {
  #root: DomElement;
  #summary: Cell;
  #poll: Cell;
  #keys: Cell;
  #segments = new Map<string, DomElement>();
  #reserve: DomElement;

  /** `root` holds the parts `summary`, `bar`, `poll` and `keys`. */
  constructor(root: DomElement) {
    this.#root = root;
    this.#summary = new Cell(part(root, "summary"));
    this.#poll = new Cell(part(root, "poll"));
    this.#keys = new Cell(part(root, "keys"));
    const bar = part(root, "bar");
    for (const c of CLASSES) {
      const seg = h("div", `budget-seg budget-${c}`);
      this.#segments.set(c, seg);
      bar.append(seg);
    }
    this.#reserve = h("div", "budget-reserve");
    bar.append(this.#reserve);
  }

  /** Shows `budget`; hides the panel when the gateway sent none. */
  render(budget: BudgetReport | undefined): void {
    this.#root.hidden = budget === undefined;
    if (!budget) return;
    const cap = Math.max(1, budget.capacity);
    const pct = (n: number) => `${(Math.min(1, n / cap) * 100).toFixed(2)}%`;
    for (const c of CLASSES) {
      const seg = this.#segments.get(c)!;
      const slots = budget.classes[c].slots;
      const width = pct(slots);
      if (seg.style.width !== width) seg.style.width = width;
      seg.title = `${c}: ${formatQuantity(slots)} slots`;
    }
    const reserve = pct(budget.reserved);
    if (this.#reserve.style.width !== reserve) this.#reserve.style.width = reserve;
    this.#reserve.title = `${formatQuantity(budget.reserved)} slots reserved for trading`;
    this.#summary.text(
      `${formatQuantity(budget.used)} / ${formatQuantity(budget.capacity)} slots · ` +
        `${formatQuantity(budget.reserved)} reserved for trading`,
    );
    this.#poll.text(
      `polled ${formatQuantity(budget.poll.keys)} · ${
        formatRate(budget.poll.requests_per_second)
      }` +
        ` req/s` + (budget.preempt_display ? ` · pre-empted ${budget.preempted_total}` : ""),
    );
    this.#keys.text(
      budget.keys.map((k) =>
        `${k.name} (${k.class}) ${formatQuantity(k.held)}${k.quota !== null ? `/${k.quota}` : ""}`
      ).join(" · "),
    );
  }
}
