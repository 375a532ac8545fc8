// Tests for the Angel instrument master: the sample master in testdata/ (rows shaped like
// OpenAPIScripMaster.json) → OpenAlgo symbols and Angel tokens, both ways.

import assert from "node:assert/strict";
import { tokenKey } from "./codec.ts";
import { type AngelInstrument, loadAngelInstruments, parseAngelMaster } from "./instruments.ts";

const SAMPLE = new URL("./testdata/instruments.json", import.meta.url).pathname;

function found(m: Awaited<ReturnType<typeof loadAngelInstruments>>, ex: string, sym: string) {
  const r = m.resolve(ex, sym);
  assert.ok(r.ok, `${ex}:${sym} not found`);
  return (r as { instrument: AngelInstrument }).instrument;
}

Deno.test("sample master: every kind of instrument maps to its OpenAlgo symbol", async () => {
  const m = await loadAngelInstruments(SAMPLE);
  assert.equal(m.skipped, 3);
  const cases: [string, string, number, string][] = [
    ["NSE", "RELIANCE", 1, "2885"],
    ["NSE", "SALSTEEL", 1, "21808"],
    ["BSE", "RELIANCE", 3, "500325"],
    ["NSE_INDEX", "NIFTY", 1, "99926000"],
    ["NSE_INDEX", "BANKNIFTY", 1, "99926009"],
    ["NSE_INDEX", "FINNIFTY", 1, "99926037"],
    ["NSE_INDEX", "MIDCPNIFTY", 1, "99926074"],
    ["NSE_INDEX", "INDIAVIX", 1, "99926017"],
    ["NSE_INDEX", "NIFTYIT", 1, "99926008"],
    ["BSE_INDEX", "SENSEX", 3, "99919000"],
    ["BSE_INDEX", "BANKEX", 3, "99919012"],
    ["NFO", "NIFTY28MAR2420800CE", 2, "43650"],
    ["NFO", "NIFTY28MAR2420800PE", 2, "43651"],
    ["NFO", "BANKNIFTY24APR24FUT", 2, "35001"],
    ["NFO", "RELIANCE25APR24FUT", 2, "52210"],
    ["BFO", "SENSEX26APR2475000CE", 4, "1128711"],
    ["MCX", "CRUDEOIL19APR24FUT", 5, "234230"],
    ["MCX", "CRUDEOIL16APR246500CE", 5, "426551"],
    ["CDS", "USDINR26APR24FUT", 13, "1169"],
    ["CDS", "USDINR26APR2483.25CE", 13, "11942"],
  ];
  for (const [ex, sym, type, token] of cases) {
    const i = found(m, ex, sym);
    assert.equal(i.exchangeType, type, sym);
    assert.equal(i.angelToken, token, sym);
    assert.equal(i.token, tokenKey(type, Number(token)), sym);
    // Back from the feed's (exchange type, token) to the same OpenAlgo symbol.
    assert.equal(m.byToken(tokenKey(type, Number(token)))?.symbol, sym);
  }
  assert.equal(found(m, "NFO", "NIFTY28MAR2420800CE").lotSize, 50);
  assert.equal(found(m, "NSE", "RELIANCE").tickSize, 0.05);
  assert.equal(found(m, "CDS", "USDINR26APR24FUT").tickSize, 0.0025);
});

Deno.test("Angel's own symbols resolve as aliases; the same token on two exchanges stays apart", async () => {
  const m = await loadAngelInstruments(SAMPLE);
  assert.equal(found(m, "NSE", "RELIANCE-EQ").symbol, "RELIANCE");
  assert.equal(found(m, "NSE_INDEX", "Nifty 50").symbol, "NIFTY");
  assert.notEqual(found(m, "NSE", "INFY").token, found(m, "BSE", "INFY").token);
  assert.deepEqual(m.resolve("NSE", "NOPE"), {
    ok: false,
    code: "SYMBOL_NOT_FOUND",
    message: "Symbol not found: NOPE on NSE",
  });
});

Deno.test("rows that are not streamable are skipped and counted; bad text throws", () => {
  const m = parseAngelMaster(JSON.stringify([
    { token: 2885, symbol: "RELIANCE-EQ", name: "RELIANCE", exch_seg: "NSE", lotsize: 1 },
    { token: "12A", symbol: "X", exch_seg: "NSE" },
    {
      token: "1",
      symbol: "NIFTY28MAR2420800XX",
      name: "NIFTY",
      expiry: "28MAR2024",
      instrumenttype: "OPTIDX",
      exch_seg: "NFO",
    },
    {
      token: "2",
      symbol: "Y",
      name: "Y",
      instrumenttype: "FUTSTK",
      expiry: "soon",
      exch_seg: "NFO",
    },
    { token: "3", symbol: "Z", instrumenttype: "AMXIDX", exch_seg: "NFO" },
    "not a row",
    null,
  ]));
  assert.equal(m.size, 1);
  assert.equal(m.skipped, 6);
  assert.throws(() => parseAngelMaster("{"), /not JSON/);
  assert.throws(() => parseAngelMaster('{"a":1}'), /not a JSON array/);
});

Deno.test("the master loads from a URL", async () => {
  const body = await Deno.readTextFile(SAMPLE);
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response(body),
  );
  const m = await loadAngelInstruments(`http://127.0.0.1:${server.addr.port}/scrip.json`);
  assert.equal(m.resolve("NFO", "BANKNIFTY24APR24FUT").ok, true);
});
