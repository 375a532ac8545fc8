// The slice of the browser DOM the page uses, typed here, and small helpers over it: element
// lookup and creation, and text cells that touch the DOM only when their text changes.
//
// Why not `/// <reference lib="dom" />`: a lib reference is program-wide. In a `deno check` of the
// whole repository (or `deno test` of every test) it would replace Deno's own typings of the web
// globals (WebSocket options, streams) for every file and break code that is correct for Deno.
// fetch, WebSocket, localStorage, location and timers are typed by Deno's lib as they are.

/** The inline style properties the page writes (through CSSOM, which the page's CSP allows). */
export interface DomStyle {
  width: string;
  height: string;
  transform: string;
}

/** An element's class list. */
export interface DomClassList {
  add(...tokens: string[]): void;
  remove(...tokens: string[]): void;
  toggle(token: string, force?: boolean): boolean;
  contains(token: string): boolean;
}

/** An HTML element, as far as the page uses one. */
export interface DomElement extends EventTarget {
  textContent: string | null;
  className: string;
  readonly classList: DomClassList;
  readonly dataset: Record<string, string | undefined>;
  hidden: boolean;
  title: string;
  readonly style: DomStyle;
  readonly offsetTop: number;
  scrollTop: number;
  readonly clientWidth: number;
  readonly clientHeight: number;
  append(...nodes: (DomElement | string)[]): void;
  replaceChildren(...nodes: (DomElement | string)[]): void;
  remove(): void;
  closest(selector: string): DomElement | null;
  querySelector(selector: string): DomElement | null;
  setAttribute(name: string, value: string): void;
  focus(): void;
}

/** `<input>` and `<select>`. */
export interface DomInput extends DomElement {
  value: string;
}

/** `<button>`. */
export interface DomButton extends DomElement {
  type: string;
}

/** The browser globals the page needs beyond Deno's lib. */
interface BrowserGlobals {
  document: {
    getElementById(id: string): DomElement | null;
    createElement(tag: string): DomElement;
  };
  requestAnimationFrame(callback: (time: number) => void): number;
  ResizeObserver: new (callback: () => void) => { observe(target: DomElement): void };
}

// Read lazily: this module is also imported by Deno tests of the pure modules, where there is no
// document.
function browser(): BrowserGlobals {
  return globalThis as unknown as BrowserGlobals;
}

/** Runs `callback` before the next repaint. */
export function requestFrame(callback: (time: number) => void): void {
  browser().requestAnimationFrame(callback);
}

/** Calls `callback` whenever `el` changes size. */
export function onResize(el: DomElement, callback: () => void): void {
  new (browser().ResizeObserver)(callback).observe(el);
}

/** The element with `id`; throws when the page is missing it (a bug in index.html). */
export function byId<T extends DomElement = DomElement>(id: string): T {
  const el = browser().document.getElementById(id);
  if (!el) throw new Error(`dashboard: #${id} is missing from the page`);
  return el as T;
}

/** The element marked `data-part="<name>"` inside `root`; throws when it is missing. */
export function part<T extends DomElement = DomElement>(root: DomElement, name: string): T {
  const el = root.querySelector(`[data-part="${name}"]`);
  if (!el) throw new Error(`dashboard: part "${name}" is missing from the page`);
  return el as T;
}

/** Creates an element with optional class names and text. */
export function h<T extends DomElement = DomElement>(tag: string, className = "", text = ""): T {
  const el = browser().document.createElement(tag);
  if (className) el.className = className;
  if (text) el.textContent = text;
  return el as T;
}

/** A node whose text and class are cached, so unchanged values cost no DOM write. */
export class Cell {
  readonly el: DomElement;
  #text: string;
  #cls: string;

  constructor(el: DomElement) {
    this.el = el;
    this.#text = el.textContent ?? "";
    this.#cls = el.className;
  }

  /** Sets the text; returns true when it changed. */
  text(value: string): boolean {
    if (value === this.#text) return false;
    this.#text = value;
    this.el.textContent = value;
    return true;
  }

  /** Sets the whole class attribute when it differs. */
  cls(value: string): void {
    if (value === this.#cls) return;
    this.#cls = value;
    this.el.className = value;
  }
}
