// Tests for the Groww instrument master: OpenAlgo symbols from a small realistic sample of
// Groww's instrument.csv, both ways, with NSE and BSE tokens kept apart.

import assert from "node:assert/strict";
import { loadGrowwMaster } from "./instruments.ts";

const SAMPLE = new URL("./testdata/instruments.csv", import.meta.url).pathname;

Deno.test("OpenAlgo symbols → Groww stream keys, and back", async () => {
  const m = await loadGrowwMaster(SAMPLE);
  const cases: [string, string, string][] = [
    ["NSE", "RELIANCE", "eq/nse/2885"],
    ["NSE", "SBIN", "eq/nse/3045"],
    ["BSE", "RELIANCE", "eq/bse/500325"],
    ["BSE", "SBIMF", "eq/bse/2885"],
    ["NSE_INDEX", "NIFTY", "indices/nse/NIFTY"],
    ["NSE_INDEX", "BANKNIFTY", "indices/nse/BANKNIFTY"],
    ["NSE_INDEX", "NIFTYNXT50", "indices/nse/NIFTYJR"],
    ["NSE_INDEX", "MIDCPNIFTY", "indices/nse/NIFTYMIDSELECT"],
    ["BSE_INDEX", "SENSEX", "indices/bse/1"],
    ["NFO", "NIFTY30DEC25FUT", "fo/nse/52215"],
    ["NFO", "BANKNIFTY24DEC2551000CE", "fo/nse/60123"],
    ["NFO", "BANKNIFTY24DEC2527000PE", "fo/nse/49445"],
    ["NFO", "IRFC31JUL25132.5PE", "fo/nse/73190"],
    ["BFO", "SENSEX16DEC2585000CE", "fo/bse/1124519"],
  ];
  for (const [exchange, symbol, token] of cases) {
    const r = m.resolve(exchange, symbol);
    assert.ok(r.ok, `${exchange}:${symbol}`);
    assert.equal(r.instrument.token, token, `${exchange}:${symbol}`);
    const back = m.byToken(token);
    assert.deepEqual([back?.exchange, back?.symbol], [exchange, symbol], token);
  }
  const nifty = m.byToken("indices/nse/NIFTY");
  assert.deepEqual(
    [nifty?.group, nifty?.feedExchange, nifty?.exchangeToken],
    ["indices", "nse", "NIFTY"],
  );
});

Deno.test("Groww's own trading symbols resolve as aliases; unknown symbols do not", async () => {
  const m = await loadGrowwMaster(SAMPLE);
  const r = m.resolve("NFO", "BANKNIFTY25DEC51000CE");
  assert.ok(r.ok);
  assert.equal(r.instrument.symbol, "BANKNIFTY24DEC2551000CE");
  assert.equal(m.resolve("NSE_INDEX", "NIFTYJR").ok, true);
  assert.deepEqual(m.resolve("NSE", "BOGUS"), {
    ok: false,
    code: "SYMBOL_NOT_FOUND",
    message: "Symbol not found: BOGUS on NSE",
  });
});

Deno.test("rows the feed cannot stream or read are skipped and counted", async () => {
  const m = await loadGrowwMaster(SAMPLE);
  // MCX (no commodity subjects), a row without a token, a future with an unreadable expiry.
  assert.equal(m.skipped, 3);
  assert.equal(m.size, 16);
  assert.equal(m.resolve("MCX", "CRUDEOIL18DEC25FUT").ok, false);
  assert.equal(m.resolve("NSE", "BROKENROW").ok, false);
});
