// The page's watchlist model (pure): which instruments the user watches and in which mode, input
// parsing, and the form it is kept in local storage.

/** Subscription mode: 1 LTP, 2 Quote, 3 Depth (as in the client protocol). */
export type Mode = 1 | 2 | 3;

/** Mode labels as the protocol acks them. */
export const MODE_LABEL: Readonly<Record<Mode, "LTP" | "Quote" | "Depth">> = {
  1: "LTP",
  2: "Quote",
  3: "Depth",
};

/** Exchanges offered in the add form (the protocol's list). */
export const EXCHANGES: readonly string[] = [
  "NSE",
  "BSE",
  "NFO",
  "BFO",
  "CDS",
  "BCD",
  "MCX",
  "NSE_INDEX",
  "BSE_INDEX",
];

/** Most instruments the watchlist holds (the gateway's default per-client limit). */
export const MAX_WATCHLIST = 5000;

/** One watched instrument. */
export interface WatchItem {
  exchange: string;
  symbol: string;
  mode: Mode;
}

/** The watchlist key of an instrument (one row per instrument, whatever its mode). */
export function watchKey(exchange: string, symbol: string): string {
  return `${exchange}|${symbol}`;
}

const SYMBOL_RE = /^[A-Z0-9][A-Z0-9&._-]{0,59}$/;

/**
 * Splits what the user typed into symbols: commas or whitespace separate, case is folded,
 * duplicates dropped; anything that cannot be a symbol is returned in `invalid`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseSymbolList("reliance, TCS tcs m&m"), { symbols: ["RELIANCE", "TCS", "M&M"], invalid: [] });
 * ```
 */
export function parseSymbolList(text: string): { symbols: string[]; invalid: string[] } {
  const symbols: string[] = [];
  const invalid: string[] = [];
  const seen = new Set<string>();
  for (const raw of text.split(/[\s,;]+/)) {
    if (raw === "") continue;
    const s = raw.toUpperCase();
    if (!SYMBOL_RE.test(s)) {
      invalid.push(raw);
      continue;
    }
    if (seen.has(s)) continue;
    seen.add(s);
    symbols.push(s);
  }
  return { symbols, invalid };
}

/** True for 1, 2 and 3. */
export function isMode(v: unknown): v is Mode {
  return v === 1 || v === 2 || v === 3;
}

/**
 * Reads a stored watchlist; anything malformed is skipped, never thrown (storage is user-editable).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseStoredWatchlist('[{"exchange":"NSE","symbol":"TCS","mode":2}]'), [{ exchange: "NSE", symbol: "TCS", mode: 2 }]);
 * ```
 */
export function parseStoredWatchlist(text: string | null): WatchItem[] {
  if (!text) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  const out: WatchItem[] = [];
  const seen = new Set<string>();
  for (const e of raw) {
    if (typeof e !== "object" || e === null) continue;
    const { exchange, symbol, mode } = e as Record<string, unknown>;
    if (typeof exchange !== "string" || !EXCHANGES.includes(exchange)) continue;
    if (typeof symbol !== "string" || !SYMBOL_RE.test(symbol) || !isMode(mode)) continue;
    const key = watchKey(exchange, symbol);
    if (seen.has(key) || out.length >= MAX_WATCHLIST) continue;
    seen.add(key);
    out.push({ exchange, symbol, mode });
  }
  return out;
}

/** What an {@link Watchlist.add} changed. */
export interface WatchlistChange {
  /** New instruments. */
  added: WatchItem[];
  /** Instruments already watched in another mode, now in the new one. */
  remoded: { item: WatchItem; from: Mode }[];
  /** Entries refused because the watchlist is full. */
  refused: WatchItem[];
}

/**
 * The watched instruments in the order they were added.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const w = new Watchlist();
 * assert.equal(w.add([{ exchange: "NSE", symbol: "TCS", mode: 2 }]).added.length, 1);
 * assert.equal(w.add([{ exchange: "NSE", symbol: "TCS", mode: 3 }]).remoded[0].from, 2);
 * ```
 */
export class Watchlist {
  #items = new Map<string, WatchItem>();

  constructor(items: WatchItem[] = []) {
    this.add(items);
  }

  get size(): number {
    return this.#items.size;
  }

  /** The items in insertion order. */
  items(): WatchItem[] {
    return [...this.#items.values()];
  }

  get(key: string): WatchItem | undefined {
    return this.#items.get(key);
  }

  /** Adds instruments, or moves already watched ones to the given mode. */
  add(list: readonly WatchItem[]): WatchlistChange {
    const change: WatchlistChange = { added: [], remoded: [], refused: [] };
    for (const e of list) {
      const key = watchKey(e.exchange, e.symbol);
      const held = this.#items.get(key);
      if (held) {
        if (held.mode !== e.mode) {
          const item = { ...held, mode: e.mode };
          this.#items.set(key, item);
          change.remoded.push({ item, from: held.mode });
        }
        continue;
      }
      if (this.#items.size >= MAX_WATCHLIST) {
        change.refused.push(e);
        continue;
      }
      const item = { exchange: e.exchange, symbol: e.symbol, mode: e.mode };
      this.#items.set(key, item);
      change.added.push(item);
    }
    return change;
  }

  /** Removes an instrument; returns what was removed. */
  remove(key: string): WatchItem | null {
    const item = this.#items.get(key);
    if (!item) return null;
    this.#items.delete(key);
    return item;
  }

  /** The form kept in local storage. */
  serialize(): string {
    return JSON.stringify(this.items());
  }
}
