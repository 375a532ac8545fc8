// A stand-in for the browser DOM, so the page's views run in Deno (their JSDoc examples, tests):
// elements keep text, classes, children and attributes, and `[data-part="…"]` lookups find or
// create the part. Not part of the bundle (main.ts does not import it).

import type { DomClassList, DomElement } from "./dom.ts";

/** A fake element: a {@link DomElement} whose children and attributes can be inspected. */
export interface FakeElement extends DomElement {
  readonly tagName: string;
  readonly children: FakeElement[];
  readonly attributes: Map<string, string>;
  parent: FakeElement | null;
  value: string;
  type: string;
}

/** Options of {@link installFakeDom}. */
export interface FakeDomOptions {
  /** Size every element reports (a scroller's viewport). Default 800 × 600. */
  clientWidth?: number;
  clientHeight?: number;
}

/** Creates a detached fake element. */
export function fakeElement(tag = "div", size: FakeDomOptions = {}): FakeElement {
  const classes = new Set<string>();
  const children: FakeElement[] = [];
  const attributes = new Map<string, string>();
  const parts = new Map<string, FakeElement>();
  const classList: DomClassList = {
    add: (...t) => t.forEach((c) => classes.add(c)),
    remove: (...t) => t.forEach((c) => classes.delete(c)),
    toggle: (t, force) => {
      const on = force ?? !classes.has(t);
      if (on) classes.add(t);
      else classes.delete(t);
      return on;
    },
    contains: (t) => classes.has(t),
  };
  const el: FakeElement = Object.assign(new EventTarget(), {
    tagName: tag.toUpperCase(),
    textContent: "" as string | null,
    classList,
    dataset: {} as Record<string, string | undefined>,
    hidden: false,
    title: "",
    style: { width: "", height: "", transform: "" },
    offsetTop: 0,
    scrollTop: 0,
    clientWidth: size.clientWidth ?? 800,
    clientHeight: size.clientHeight ?? 600,
    value: "",
    type: "",
    children,
    attributes,
    parent: null as FakeElement | null,
    append(...nodes: (DomElement | string)[]) {
      for (const n of nodes) {
        if (typeof n === "string") el.textContent = (el.textContent ?? "") + n;
        else {
          const child = n as FakeElement;
          child.parent?.children.splice(child.parent.children.indexOf(child), 1);
          child.parent = el;
          children.push(child);
        }
      }
    },
    replaceChildren(...nodes: (DomElement | string)[]) {
      for (const c of children) c.parent = null;
      children.length = 0;
      el.textContent = "";
      el.append(...nodes);
    },
    remove() {
      el.parent?.children.splice(el.parent.children.indexOf(el), 1);
      el.parent = null;
    },
    closest: (): DomElement | null => null,
    querySelector(selector: string): DomElement | null {
      let p = parts.get(selector);
      if (p === undefined) {
        p = fakeElement("div", size);
        parts.set(selector, p);
        p.parent = el;
        children.push(p);
      }
      return p;
    },
    setAttribute: (name: string, value: string) => void attributes.set(name, value),
    focus: () => {},
  }) as unknown as FakeElement;
  Object.defineProperty(el, "className", {
    get: () => [...classes].join(" "),
    set: (v: string) => {
      classes.clear();
      for (const c of v.split(/\s+/)) if (c) classes.add(c);
    },
  });
  return el;
}

/**
 * Puts `document`, `requestAnimationFrame` (a frame every 16 ms), `ResizeObserver` and
 * `devicePixelRatio` on `globalThis`. Returns the element lookup by id (created on first use).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { byId, h } from "./dom.ts";
 * const elements = installFakeDom();
 * const list = byId("watch-rows");
 * list.append(h("div", "row", "TCS"));
 * assert.equal(elements.get("watch-rows")?.children[0].textContent, "TCS");
 * ```
 */
export function installFakeDom(options: FakeDomOptions = {}): Map<string, FakeElement> {
  const byId = new Map<string, FakeElement>();
  Object.assign(globalThis, {
    document: {
      getElementById(id: string): FakeElement {
        let el = byId.get(id);
        if (el === undefined) {
          el = fakeElement("div", options);
          byId.set(id, el);
        }
        return el;
      },
      createElement: (tag: string) => fakeElement(tag, options),
    },
    requestAnimationFrame: (cb: (t: number) => void) => setTimeout(() => cb(performance.now()), 16),
    ResizeObserver: class {
      constructor(_callback: () => void) {}
      observe(_target: DomElement): void {}
    },
    devicePixelRatio: 1,
  });
  return byId;
}

/** The text of `el` and of everything inside it, depth first. */
export function allText(el: FakeElement): string {
  return [el.textContent ?? "", ...el.children.map(allText)].join(" ").replace(/\s+/g, " ").trim();
}
