// Reading a subscription mode from outside input: the one parser shared by the client protocol,
// the capture API and the recorder's command line, so every surface accepts the same forms.

import type { Mode } from "./types.ts";

/**
 * A mode value written with a fraction or exponent (`2.0`), which JSON.parse would hide: the
 * client protocol's parser wraps it so {@link parseMode} can refuse it as a float.
 */
export class NonIntegerNumber {
  constructor(readonly source: string) {}
}

const MODE_NAMES: Readonly<Record<string, Mode>> = { ltp: 1, quote: 2, depth: 3 };
const ACCEPTED_MODES = "expected 1 (LTP), 2 (Quote), or 3 (Depth), as an integer or by name";

/**
 * Normalises a mode: the integers 1/2/3 or `LTP`/`Quote`/`Depth` in any case, trimmed. Returns the
 * mode or an error message naming the bad value and the accepted ones.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseMode } from "./mode.ts";
 * assert.equal(parseMode(" Quote "), 2);
 * assert.equal(parseMode(4), "Invalid mode 4; expected 1 (LTP), 2 (Quote), or 3 (Depth)");
 * assert.match(parseMode(null) as string, /^Invalid mode null; expected 1 \(LTP\)/);
 * ```
 */
export function parseMode(v: unknown): Mode | string {
  if (typeof v === "number") {
    if (v === 1 || v === 2 || v === 3) return v;
    if (Number.isInteger(v)) return `Invalid mode ${v}; expected 1 (LTP), 2 (Quote), or 3 (Depth)`;
    return `Mode must be int or str, got float (${v}); ${ACCEPTED_MODES}`;
  }
  if (typeof v === "string") {
    const m = MODE_NAMES[v.trim().toLowerCase()];
    if (m) return m;
    return `Invalid mode '${
      v.slice(0, 40)
    }'; expected 'LTP', 'Quote', or 'Depth' (case-insensitive)`;
  }
  if (v instanceof NonIntegerNumber) {
    return `Mode must be int or str, got float (${v.source.slice(0, 40)}); ${ACCEPTED_MODES}`;
  }
  if (v === null) return `Invalid mode null; ${ACCEPTED_MODES}`;
  return `Mode must be int or str, got ${typeName(v)}; ${ACCEPTED_MODES}`;
}

function typeName(v: unknown): string {
  if (typeof v === "boolean") return `bool (${v})`;
  if (Array.isArray(v)) return "array";
  return typeof v;
}
