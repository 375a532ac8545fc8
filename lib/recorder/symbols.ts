// The recorder's symbol set: `EXCHANGE:SYMBOL[:MODE]` entries or raw topic prefixes, turned into
// zeromq subscription prefixes plus an exact matcher (a prefix alone would also let
// `NSE_RELIANCE_X_LTP` through for `NSE:RELIANCE`). Pure functions.

import type { BusEnvelope } from "../bus/mod.ts";
import { formatTopic } from "../bus/mod.ts";
import { instrumentKey, type Mode } from "../types.ts";
import { parseMode } from "../mode.ts";

/** One entry of the symbol set. */
export type SymbolSelector =
  | { kind: "instrument"; exchange: string; symbol: string; mode: Mode | null }
  | { kind: "prefix"; prefix: string };

/** A parsed symbol set: what to subscribe to on the bus and how to check a message. */
export interface SymbolSet {
  selectors: SymbolSelector[];
  /** zeromq subscription prefixes; empty means everything. */
  prefixes: string[];
  /** True when the message belongs to the set. */
  matches(topic: string, envelope: BusEnvelope): boolean;
}

/**
 * Parses a comma-separated symbol set. `EXCHANGE:SYMBOL` selects every mode of an instrument,
 * `EXCHANGE:SYMBOL:MODE` one mode (LTP, Quote, Depth or 1–3), and an entry without `:` is a raw
 * topic prefix (`NSE_` = everything on NSE). An empty string selects everything. Throws a
 * RangeError naming the bad entry.
 *
 * @example
 * ```ts
 * const set = parseSymbolSet("NSE:RELIANCE,NSE_INDEX:NIFTY:LTP");
 * set.prefixes; // ["NSE_RELIANCE_", "NSE_INDEX_NIFTY_LTP"]
 * ```
 */
export function parseSymbolSet(text: string): SymbolSet {
  const selectors = text.split(",").map((s) => s.trim()).filter((s) => s !== "").map(
    parseSelector,
  );
  return symbolSet(selectors);
}

function parseSelector(entry: string): SymbolSelector {
  const parts = entry.split(":");
  if (parts.length === 1) {
    if (!/^[A-Za-z0-9_\-&.]+$/.test(entry)) {
      throw new RangeError(`symbols: "${entry}" is not a topic prefix`);
    }
    return { kind: "prefix", prefix: entry };
  }
  if (parts.length > 3) {
    throw new RangeError(`symbols: "${entry}" should be EXCHANGE:SYMBOL or EXCHANGE:SYMBOL:MODE`);
  }
  const exchange = parts[0].trim().toUpperCase();
  const symbol = parts[1].trim();
  let mode: Mode | null = null;
  if (parts.length === 3) {
    const m = parseMode(parts[2]);
    if (typeof m === "string") throw new RangeError(`symbols: "${entry}": ${m}`);
    mode = m;
  }
  try {
    formatTopic(exchange, symbol, mode ?? 1);
  } catch (error) {
    throw new RangeError(`symbols: "${entry}": ${(error as Error).message}`);
  }
  return { kind: "instrument", exchange, symbol, mode };
}

/**
 * Builds the set from selectors (no selectors: everything).
 *
 * @example
 * ```ts
 * symbolSet([{ kind: "prefix", prefix: "NSE_" }]).prefixes; // ["NSE_"]
 * ```
 */
export function symbolSet(selectors: SymbolSelector[]): SymbolSet {
  const prefixes = selectors.map((s) =>
    s.kind === "prefix"
      ? s.prefix
      : s.mode === null
      ? `${s.exchange}_${s.symbol}_`
      : formatTopic(s.exchange, s.symbol, s.mode)
  );
  const instruments = new Map<string, Set<Mode> | null>();
  const rawPrefixes: string[] = [];
  for (const s of selectors) {
    if (s.kind === "prefix") {
      rawPrefixes.push(s.prefix);
      continue;
    }
    const key = instrumentKey(s.exchange, s.symbol);
    const prev = instruments.get(key);
    if (s.mode === null || prev === null) instruments.set(key, null);
    else instruments.set(key, new Set([...(prev ?? []), s.mode]));
  }
  const MODE_NUMBER = { LTP: 1, QUOTE: 2, DEPTH: 3 } as const;
  return {
    selectors,
    prefixes: [...new Set(prefixes)],
    matches(topic, envelope) {
      if (selectors.length === 0) return true;
      for (const p of rawPrefixes) if (topic.startsWith(p)) return true;
      const modes = instruments.get(instrumentKey(envelope.exchange, envelope.symbol));
      if (modes === undefined) return false;
      return modes === null || modes.has(MODE_NUMBER[envelope.mode]);
    },
  };
}
