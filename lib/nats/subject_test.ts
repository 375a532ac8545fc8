// Subject escaping round-trips every string, never yields a token NATS would read differently, and
// the decoders (subject tokens, control messages, envelopes) never throw on random or cut input.

import assert from "node:assert/strict";
import { escapeToken, parseTickSubject, tickSubject, unescapeToken } from "./subject.ts";
import { decodeControl, renewRequestSchema, subscribeRequestSchema } from "./protocol.ts";

function randomString(max: number): string {
  const n = 1 + Math.floor(Math.random() * max);
  let s = "";
  for (let i = 0; i < n; i++) {
    const r = Math.random();
    // Mostly the characters that matter, some ASCII, some beyond the BMP.
    s += r < 0.3
      ? ".*> %\t\n"[Math.floor(Math.random() * 7)]
      : r < 0.9
      ? String.fromCharCode(0x21 + Math.floor(Math.random() * 94))
      : String.fromCodePoint(0x80 + Math.floor(Math.random() * 0x1ff00));
  }
  return s;
}

Deno.test("escapeToken: round-trips, one token, no wildcard or whitespace", () => {
  for (let i = 0; i < 5000; i++) {
    const s = randomString(20);
    if (!s.isWellFormed()) continue; // A lone surrogate has no UTF-8 form.
    const t = escapeToken(s);
    assert.match(t, /^[\x21-\x7e]+$/);
    assert.ok(!/[.*>]/.test(t), `${JSON.stringify(s)} → ${t}`);
    assert.equal(unescapeToken(t), s);
  }
  assert.throws(() => escapeToken(""), RangeError);
});

Deno.test("tick subjects: symbols with separators stay one instrument", () => {
  for (const symbol of ["M&M", "BAJAJ-AUTO", "NIFTY 50", "A.B", "X*", "Y>", "50%"]) {
    const subject = tickSubject("tickplex", "NSE", symbol, 3);
    assert.equal(subject.split(".").length, 5, subject);
    assert.deepEqual(parseTickSubject("tickplex", subject), { exchange: "NSE", symbol, mode: 3 });
  }
});

Deno.test("unescapeToken and parseTickSubject: never throw, refuse non-canonical forms", () => {
  assert.equal(unescapeToken("%41"), null, "a plain byte escaped is not canonical");
  assert.equal(unescapeToken("%4"), null);
  assert.equal(unescapeToken("%FF"), null, "invalid UTF-8");
  assert.equal(unescapeToken("a b"), null);
  for (let i = 0; i < 5000; i++) {
    const s = randomString(30);
    unescapeToken(s);
    parseTickSubject("tickplex", `tickplex.v1.${s}`);
  }
});

Deno.test("control decoders: random and truncated input is refused, never thrown", () => {
  const good = new TextEncoder().encode(JSON.stringify({
    v: 1,
    edge: "e1",
    leaseMs: 15000,
    exchange: "NSE",
    symbol: "TCS",
    mode: 2,
    depth: 5,
  }));
  assert.equal(decodeControl(subscribeRequestSchema, good).ok, true);
  for (let cut = 0; cut < good.length; cut++) {
    assert.equal(decodeControl(subscribeRequestSchema, good.subarray(0, cut)).ok, false);
  }
  for (let i = 0; i < 2000; i++) {
    const bytes = crypto.getRandomValues(new Uint8Array(Math.floor(Math.random() * 64)));
    assert.equal(decodeControl(renewRequestSchema, bytes).ok, false);
  }
  const bad = JSON.stringify({ v: 1, edge: "e1", leaseMs: 15000, keys: [{ mode: 4 }] });
  assert.equal(decodeControl(renewRequestSchema, new TextEncoder().encode(bad)).ok, false);
});
