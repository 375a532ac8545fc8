// Tests for the Dhan instrument master: the sample compact scrip master in testdata/ → OpenAlgo
// symbols and Dhan (segment, security id) pairs, both ways.

import assert from "node:assert/strict";
import { SEGMENT, tokenKey } from "./codec.ts";
import { type DhanInstrument, loadDhanInstruments, parseDhanMaster } from "./instruments.ts";

const SAMPLE = new URL("./testdata/api-scrip-master.csv", import.meta.url).pathname;

function found(m: Awaited<ReturnType<typeof loadDhanInstruments>>, ex: string, sym: string) {
  const r = m.resolve(ex, sym);
  assert.ok(r.ok, `${ex}:${sym} not found`);
  return (r as { instrument: DhanInstrument }).instrument;
}

Deno.test("sample master: every kind of instrument maps to its OpenAlgo symbol", async () => {
  const m = await loadDhanInstruments(SAMPLE);
  assert.equal(m.skipped, 3);
  const cases: [string, string, keyof typeof SEGMENT, string][] = [
    ["NSE", "RELIANCE", "NSE_EQ", "2885"],
    ["NSE", "ABB", "NSE_EQ", "13"],
    ["BSE", "RELIANCE", "BSE_EQ", "500325"],
    ["NSE_INDEX", "NIFTY", "IDX_I", "13"],
    ["NSE_INDEX", "BANKNIFTY", "IDX_I", "25"],
    ["NSE_INDEX", "FINNIFTY", "IDX_I", "27"],
    ["NSE_INDEX", "MIDCPNIFTY", "IDX_I", "442"],
    ["NSE_INDEX", "INDIAVIX", "IDX_I", "21"],
    ["NSE_INDEX", "NIFTYIT", "IDX_I", "29"],
    ["BSE_INDEX", "SENSEX", "IDX_I", "51"],
    ["BSE_INDEX", "BANKEX", "IDX_I", "69"],
    ["NFO", "NIFTY28MAR2420800CE", "NSE_FNO", "43650"],
    ["NFO", "NIFTY28MAR2420800PE", "NSE_FNO", "43651"],
    ["NFO", "BANKNIFTY24APR24FUT", "NSE_FNO", "35001"],
    ["NFO", "RELIANCE25APR24FUT", "NSE_FNO", "52210"],
    ["BFO", "SENSEX26APR2475000CE", "BSE_FNO", "1128711"],
    ["MCX", "CRUDEOIL19APR24FUT", "MCX_COMM", "234230"],
    ["MCX", "CRUDEOIL16APR246500CE", "MCX_COMM", "426551"],
    ["CDS", "USDINR26APR24FUT", "NSE_CURRENCY", "1169"],
    ["CDS", "USDINR26APR2483.25CE", "NSE_CURRENCY", "11942"],
    ["BCD", "USDINR26APR24FUT", "BSE_CURRENCY", "7001"],
  ];
  for (const [ex, sym, segment, id] of cases) {
    const i = found(m, ex, sym);
    assert.equal(i.segment, segment, sym);
    assert.equal(i.securityId, id, sym);
    // Back from the feed's (segment code, security id) to the same OpenAlgo symbol.
    assert.equal(m.byToken(tokenKey(SEGMENT[segment], Number(id)))?.symbol, sym);
  }
  assert.equal(found(m, "NFO", "NIFTY28MAR2420800CE").lotSize, 50);
  assert.equal(found(m, "NSE", "RELIANCE").tickSize, 0.1);
  assert.equal(found(m, "CDS", "USDINR26APR24FUT").tickSize, 0.0025);
});

Deno.test("Dhan's trading symbols resolve as aliases; id 13 is ABB and NIFTY apart", async () => {
  const m = await loadDhanInstruments(SAMPLE);
  assert.equal(found(m, "NFO", "NIFTY-Mar2024-20800-CE").symbol, "NIFTY28MAR2420800CE");
  assert.equal(found(m, "NSE_INDEX", "INDIA VIX").symbol, "INDIAVIX");
  assert.notEqual(found(m, "NSE", "ABB").token, found(m, "NSE_INDEX", "NIFTY").token);
  assert.equal(m.resolve("NSE", "NOPE").ok, false);
});

Deno.test("rows that are not streamable are skipped and counted", () => {
  const head =
    "SEM_EXM_EXCH_ID,SEM_SEGMENT,SEM_SMST_SECURITY_ID,SEM_INSTRUMENT_NAME,SEM_TRADING_SYMBOL," +
    "SEM_EXPIRY_DATE,SEM_STRIKE_PRICE,SEM_OPTION_TYPE\n";
  const m = parseDhanMaster(
    head +
      "NSE,E,1333,EQUITY,HDFCBANK,,,\n" +
      "NSE,D,1,OPTIDX,NIFTY-Mar2024-0-CE,2024-03-28 14:30:00,-0.01,CE\n" +
      "NSE,D,2,OPTIDX,NIFTY-Mar2024-1-XX,2024-03-28 14:30:00,1,XX\n" +
      "NSE,D,3,FUTSTK,X-Mar2024-FUT,someday,,\n" +
      "NSE,D,4,SPREAD,X,,,\n" +
      "NSE,E,5\n",
  );
  assert.equal(m.size, 1);
  assert.equal(m.skipped, 5);
});

Deno.test("the master loads from a URL", async () => {
  const body = await Deno.readTextFile(SAMPLE);
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response(body),
  );
  const m = await loadDhanInstruments(`http://127.0.0.1:${server.addr.port}/api-scrip-master.csv`);
  assert.equal(m.resolve("MCX", "CRUDEOIL19APR24FUT").ok, true);
});
