// The quote messages between the main isolate and adapter workers: valid ones parse, and random,
// truncated or hostile ones are refused or counted, never thrown.

import assert from "node:assert/strict";
import { baseTick } from "../types.ts";
import { prng } from "./sim/mod.ts";
import { parseFromWorker, parseToWorker } from "./messages.ts";

const TICK = baseTick("NSE", "TCS", 2, 3512.4, null, 1_700_000_000_000);

Deno.test("quote messages: valid requests and answers parse; bad ticks are counted", () => {
  const req = parseToWorker({
    type: "quote",
    id: 7,
    mode: 2,
    items: [{ exchange: "NSE", symbol: "TCS" }],
    check: true,
  });
  assert.equal(typeof req === "string" ? req : req.type, "quote");
  assert.match(String(parseToWorker({ type: "quote", id: 7, mode: 4, items: [] })), /mode/);
  const ok = parseFromWorker({
    type: "quotes",
    id: 7,
    ticks: [TICK, { ...TICK, ltp: "x" }],
    missing: [{ exchange: "NSE", symbol: "NOPE" }],
  });
  assert.ok(ok.ok);
  assert.equal(ok.rejectedTicks, 1);
  assert.equal(ok.firstTickError, "ltp");
  assert.deepEqual(ok.message, {
    type: "quotes",
    id: 7,
    ticks: [TICK],
    missing: [{ exchange: "NSE", symbol: "NOPE" }],
  });
  const failed = parseFromWorker({
    type: "quote_failed",
    id: 8,
    code: "RATE_LIMITED",
    message: "Too many requests",
    retryAfterMs: 1000,
  });
  assert.ok(failed.ok && failed.message.type === "quote_failed");
  assert.equal(parseFromWorker({ type: "quotes", id: "7", ticks: [], missing: [] }).ok, false);
  assert.equal(parseFromWorker({ type: "quotes", id: 7, ticks: {}, missing: [] }).ok, false);
  assert.equal(
    parseFromWorker({ type: "quote_failed", id: 8, code: "TEAPOT", message: "" }).ok,
    false,
  );
});

Deno.test("quote messages: random and truncated values never throw", () => {
  const rnd = prng(11);
  const junk = (): unknown => {
    const r = rnd();
    if (r < 0.15) return null;
    if (r < 0.3) return Math.floor(rnd() * 1e6) - 5e5;
    if (r < 0.45) return "x".repeat(Math.floor(rnd() * 80));
    if (r < 0.55) return [junk(), junk()];
    if (r < 0.65) return { exchange: junk(), symbol: junk() };
    if (r < 0.75) return { ...TICK, ltp: junk() };
    if (r < 0.85) return NaN;
    return {};
  };
  const text = JSON.stringify({
    type: "quotes",
    id: 1,
    ticks: [TICK, TICK],
    missing: [{ exchange: "NSE", symbol: "A" }],
  });
  let parsed = 0;
  for (let n = 0; n < 3000; n++) {
    const msg: Record<string, unknown> = {
      type: ["quotes", "quote_failed", "quote"][n % 3],
      id: rnd() < 0.8 ? n : junk(),
      ticks: rnd() < 0.7 ? [TICK, junk(), junk()] : junk(),
      missing: rnd() < 0.7 ? [junk()] : junk(),
      code: rnd() < 0.5 ? "RATE_LIMITED" : junk(),
      message: rnd() < 0.5 ? "m" : junk(),
      retryAfterMs: junk(),
      mode: junk(),
      items: [junk()],
    };
    const a = parseFromWorker(msg);
    const b = parseToWorker(msg);
    if (a.ok) parsed++;
    assert.ok(typeof b === "string" || b.type === "quote");
    // Truncations of a valid answer: refused whole (not JSON), never half-parsed.
    const cut = text.slice(0, Math.floor(rnd() * text.length));
    let v: unknown = cut;
    try {
      v = JSON.parse(cut);
    } catch {
      // a truncated text stays a string
    }
    const c = parseFromWorker(v);
    if (c.ok && c.message.type === "quotes") assert.equal(c.message.ticks.length, 2);
  }
  assert.ok(parsed > 0, "some random messages are valid");
});
