// Kotak scrip masters with the live header (testdata: the verbatim live nse_fo sample row and
// rows in the same layout) map to OpenAlgo symbols and HSM topic tokens.

import assert from "node:assert/strict";
import { type KotakInstrument, loadKotakInstruments } from "./instruments.ts";

const file = (name: string) => new URL(`./testdata/${name}`, import.meta.url).pathname;

async function master() {
  return await loadKotakInstruments([file("nse_cm.csv"), file("nse_fo.csv"), file("mcx_fo.csv")]);
}

function get(m: Awaited<ReturnType<typeof master>>, exchange: string, symbol: string) {
  const r = m.resolve(exchange, symbol);
  assert.ok(r.ok, `${exchange}:${symbol}`);
  return r.instrument as KotakInstrument;
}

Deno.test("kotak master: cash rows by pSymbol, EQ before BE, trading symbol as alias", async () => {
  const m = await master();
  const tcs = get(m, "NSE", "TCS");
  assert.equal(tcs.token, "nse_cm|11536");
  assert.equal(tcs.hasOi, false);
  assert.equal(get(m, "NSE", "TCS-EQ"), tcs);
  assert.equal(get(m, "NSE", "RENUKA").token, "nse_cm|21808");
  assert.equal(m.byToken("nse_cm|3045")?.symbol, "SBIN");
});

Deno.test("kotak master: indices stream by name (if|nse_cm|Nifty 50)", async () => {
  const m = await master();
  const nifty = get(m, "NSE_INDEX", "NIFTY");
  assert.equal(nifty.token, "nse_cm|Nifty 50");
  assert.equal(nifty.index, true);
  assert.equal(get(m, "NSE_INDEX", "BANKNIFTY").token, "nse_cm|Nifty Bank");
  assert.equal(get(m, "NSE_INDEX", "INDIAVIX").token, "nse_cm|INDIA VIX");
});

Deno.test("kotak master: lExpiryDate from 1980 (NSE) or 1970 (MCX), strikes in paise", async () => {
  const m = await master();
  // The verbatim live row: 1474554600 s from 1980 → 22 Sep 2026, dStrikePrice; 2.1e+06 → 21000.
  assert.equal(get(m, "NFO", "NIFTY22SEP2621000PE").token, "nse_fo|56526");
  assert.equal(get(m, "NFO", "NIFTY22SEP2621000CE").token, "nse_fo|56525");
  assert.equal(get(m, "NFO", "NIFTY29SEP26FUT").token, "nse_fo|52193");
  assert.equal(get(m, "NFO", "SBIN29SEP26FUT").hasOi, true);
  assert.equal(get(m, "NFO", "SBIN29SEP26822.5CE").token, "nse_fo|52233");
  assert.equal(get(m, "MCX", "GOLDM25SEP26148500CE").token, "mcx_fo|578787");
  // The broken cash row.
  assert.equal(m.skipped, 1);
});
