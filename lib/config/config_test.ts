// Tests for the configuration's documentation: every client limit says what it bounds, and no
// field's comment names a unit other than the one its name carries (authGraceMs was once
// documented as seconds while the code used milliseconds).

import assert from "node:assert/strict";
import { limitsSchema } from "./config.ts";

const SOURCE = await Deno.readTextFile(new URL("./config.ts", import.meta.url));

/** Every `/** … *\/ name:` pair in config.ts: the field name and its comment text. */
function documentedFields(source: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const re = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*\n\s*(\w+):/g;
  for (const m of source.matchAll(re)) {
    const doc = m[1].replace(/^\s*\*\s?/gm, "").replace(/\s+/g, " ").trim();
    const list = out.get(m[2]) ?? [];
    list.push(doc);
    out.set(m[2], list);
  }
  return out;
}

/** The unit a field's name promises, and words its comment must then not use. */
function contradiction(name: string, doc: string): string | null {
  const words = doc.toLowerCase();
  const seconds = /(?<!milli)seconds?\b/.test(words);
  const millis = /\bmilliseconds?\b|\bms\b/.test(words);
  const minutes = /\bminutes?\b/.test(words) && !/per minute/.test(words);
  if (name.endsWith("Ms") && (seconds || minutes)) return "named Ms, documented in (milli)?seconds";
  if (/[a-z]S$/.test(name) && millis) return "named S (seconds), documented in milliseconds";
  if (name.endsWith("Bytes") && /\b(kb|kib|mb|mib|kilobytes?|megabytes?)\b/.test(words)) {
    return "named Bytes, documented in larger units";
  }
  return null;
}

Deno.test("every client limit is documented", () => {
  const docs = documentedFields(SOURCE);
  const missing = Object.keys(limitsSchema.shape).filter((k) => !docs.has(k));
  assert.deepEqual(missing, [], `limits without a comment: ${missing.join(", ")}`);
});

Deno.test("no config comment names a unit other than its field's", () => {
  const wrong: string[] = [];
  for (const [name, docs] of documentedFields(SOURCE)) {
    for (const doc of docs) {
      const why = contradiction(name, doc);
      if (why) wrong.push(`${name}: ${why}: "${doc}"`);
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("the unit check itself catches a seconds comment on an Ms field", () => {
  assert.ok(contradiction("authGraceMs", "Seconds a new client has to authenticate"));
  assert.ok(contradiction("idleTimeoutS", "Ping after this many ms idle"));
  assert.equal(contradiction("authGraceMs", "Milliseconds a new client has"), null);
  assert.equal(contradiction("authFailuresPerMinute", "Failures per minute"), null);
});
