// The candles query parser at the trust boundary: random, truncated and hostile query strings
// never throw; each is either a well-formed query within the bar cap or INVALID_PARAMETERS.

import assert from "node:assert/strict";
import { maxBarsIn, parseCandlesQuery } from "../../lib/history/mod.ts";
import { CANDLE_INTERVALS } from "../../lib/candles/mod.ts";
import { prng } from "../../lib/adapter/sim/market.ts";

const GOOD = "exchange=NSE&symbol=RELIANCE&interval=5m&from=2026-11-30T09:15&to=2026-11-30T15:30";
const PIECES = [
  "exchange=",
  "NSE",
  "nse_index",
  "symbol=",
  "M%26M",
  "%00",
  "interval=",
  "1m",
  "1d",
  "7m",
  "from=",
  "to=",
  "1796010300000",
  "2026-11-30",
  "2026-11-30T09:15:00Z",
  "99999999999999999",
  "-5",
  "&",
  "=",
  "format=csv",
  "%ZZ",
  "😀",
];

Deno.test("candles query: random and truncated input is parsed or refused, never thrown", () => {
  const rand = prng(17);
  const now = Date.parse("2026-11-30T10:00:00Z");
  let accepted = 0;
  for (let i = 0; i < 5000; i++) {
    let text: string;
    if (i % 3 === 0) text = GOOD.slice(0, Math.floor(rand() * GOOD.length));
    else if (i % 3 === 1) {
      text = Array.from(
        { length: 1 + Math.floor(rand() * 12) },
        () => PIECES[Math.floor(rand() * PIECES.length)],
      ).join("");
    } else {
      text = String.fromCharCode(
        ...Array.from({ length: Math.floor(rand() * 80) }, () => Math.floor(rand() * 0x3000)),
      );
    }
    let params: URLSearchParams;
    try {
      params = new URLSearchParams(text);
    } catch {
      continue;
    }
    const q = parseCandlesQuery(params, rand() < 0.5 ? "text/csv" : null, { now, maxBars: 5000 });
    if ("code" in q) {
      assert.equal(q.code, "INVALID_PARAMETERS");
      assert.ok(q.message.length > 0);
      continue;
    }
    accepted++;
    assert.ok(CANDLE_INTERVALS.includes(q.interval));
    assert.ok(q.to > q.from && Number.isFinite(q.from) && Number.isFinite(q.to));
    assert.ok(maxBarsIn(q.exchange, q.interval, q.from, q.to) <= 5000);
    assert.match(q.exchange, /^[A-Z][A-Z0-9_]*$/);
  }
  assert.ok(accepted > 50, `${accepted} accepted`);
});
