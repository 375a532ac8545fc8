// Fyers symbol master: the published 21-column CSVs (testdata holds real-format rows) map to
// OpenAlgo symbols and HSM topic tokens.

import assert from "node:assert/strict";
import { FYERS_COLUMNS, type FyersInstrument, loadFyersInstruments } from "./instruments.ts";

const CM = new URL("./testdata/NSE_CM.csv", import.meta.url).pathname;
const FO = new URL("./testdata/NSE_FO.csv", import.meta.url).pathname;

function get(
  m: Awaited<ReturnType<typeof loadFyersInstruments>>,
  exchange: string,
  symbol: string,
): FyersInstrument {
  const r = m.resolve(exchange, symbol);
  assert.ok(r.ok, `${exchange}:${symbol}`);
  return r.instrument;
}

Deno.test("fyers master: 21 columns, equities by name and series, topics from the Fytoken", async () => {
  assert.equal(FYERS_COLUMNS.length, 21);
  const m = await loadFyersInstruments([CM, FO]);
  const sbin = get(m, "NSE", "SBIN");
  assert.equal(sbin.token, "nse_cm|3045");
  assert.equal(sbin.index, false);
  assert.equal(sbin.hasOi, false);
  assert.equal(get(m, "NSE", "SBIN-EQ"), sbin, "the Fyers name resolves too");
  assert.equal(get(m, "NSE", "RENUKA").token, "nse_cm|21808");
  assert.equal(m.byToken("nse_cm|2885")?.symbol, "RELIANCE");
});

Deno.test("fyers master: indices stream by their HSM names; unknown indices are skipped", async () => {
  const m = await loadFyersInstruments([CM]);
  const nifty = get(m, "NSE_INDEX", "NIFTY");
  assert.equal(nifty.token, "nse_cm|Nifty 50");
  assert.equal(nifty.index, true);
  assert.equal(get(m, "NSE_INDEX", "BANKNIFTY").token, "nse_cm|Nifty Bank");
  assert.equal(get(m, "NSE_INDEX", "FINNIFTY").token, "nse_cm|Nifty Fin Service");
  assert.equal(get(m, "NSE_INDEX", "INDIAVIX").token, "nse_cm|India VIX");
  assert.equal(m.resolve("NSE_INDEX", "NIFTYNEWTHING").ok, false);
  // The unknown index and the broken row.
  assert.equal(m.skipped, 2);
});

Deno.test("fyers master: futures and options in OpenAlgo form, expiry read in IST", async () => {
  const m = await loadFyersInstruments([FO]);
  const fut = get(m, "NFO", "NIFTY29SEP26FUT");
  assert.equal(fut.token, "nse_fo|68407");
  assert.equal(fut.hasOi, true);
  assert.equal(get(m, "NFO", "NIFTY29SEP2629200CE").token, "nse_fo|35086");
  assert.equal(get(m, "NFO", "NIFTY29SEP2629200PE").token, "nse_fo|35087");
  assert.equal(get(m, "NFO", "BANKNIFTY29SEP26FUT").token, "nse_fo|68410");
  assert.equal(get(m, "NFO", "SBIN29SEP26822.5CE").token, "nse_fo|49010");
  assert.equal(get(m, "NFO", "NIFTY26SEP29200CE").symbol, "NIFTY29SEP2629200CE");
  assert.equal(m.skipped, 0);
});
