// Tests for the Kite instrument master: the shipped sample file, OpenAlgo symbols both ways, CSV
// edge cases and the authenticated download.

import assert from "node:assert/strict";
import { AuthError } from "../../lib/adapter/mod.ts";
import { loadKiteMaster, masterFromCsv, parseInstrumentsCsv } from "./instruments.ts";

const SAMPLE = new URL("./testdata/instruments.csv", import.meta.url).pathname;
const loadInstrumentsFile = (path: string) => loadKiteMaster(path, "k", "t");
const tokenOf = (m: Awaited<ReturnType<typeof loadInstrumentsFile>>, ex: string, sym: string) => {
  const r = m.resolve(ex, sym);
  return r.ok ? r.instrument.token : undefined;
};

Deno.test("sample file: OpenAlgo symbols ↔ tokens both ways", async () => {
  const m = await loadInstrumentsFile(SAMPLE);
  assert.equal(m.skipped, 0);
  assert.equal(m.duplicates, 0);
  const cases: [string, string, number][] = [
    ["NSE", "RELIANCE", 738561],
    ["BSE", "RELIANCE", 128083204],
    ["NFO", "NIFTY28MAR2420800CE", 12010754],
    ["NFO", "NIFTY28MAR2420800PE", 12011010],
    ["NFO", "NIFTY04APR2422500CE", 10240258],
    ["NFO", "BANKNIFTY24APR24FUT", 8963074],
    ["NSE_INDEX", "NIFTY", 256265],
    ["NSE_INDEX", "BANKNIFTY", 260105],
    ["NSE_INDEX", "FINNIFTY", 257801],
    ["NSE_INDEX", "MIDCPNIFTY", 288009],
    ["NSE_INDEX", "NIFTYNXT50", 270857],
    ["NSE_INDEX", "INDIAVIX", 264969],
    ["NSE_INDEX", "NIFTYIT", 259849],
    ["BSE_INDEX", "SENSEX", 265],
    ["BSE_INDEX", "BANKEX", 274441],
    ["BFO", "SENSEX26APR2475000CE", 217600261],
    ["CDS", "USDINR26APR24FUT", 1054723],
    ["CDS", "USDINR26APR2483.25CE", 1054979],
    ["BCD", "USDINR26APR24FUT", 204806],
    ["MCX", "CRUDEOIL19APR24FUT", 66560263],
  ];
  for (const [exchange, symbol, token] of cases) {
    const r = m.resolve(exchange, symbol);
    assert.ok(r.ok, `${exchange}:${symbol}`);
    assert.equal(r.instrument.token, token, `${exchange}:${symbol}`);
    const back = m.byToken(token);
    assert.equal(back?.exchange, exchange);
    assert.equal(back?.symbol, symbol);
  }
  assert.equal(m.size, 25);
  const nifty = m.byToken(12010754);
  assert.equal(nifty?.tradingSymbol, "NIFTY24MAR20800CE");
  assert.equal(nifty?.lotSize, 50);
  assert.equal(nifty?.expiry, "2024-03-28");
  assert.equal(nifty?.kiteSegment, "NFO-OPT");
});

Deno.test("lookups: case-insensitive, Kite aliases, unknown → SYMBOL_NOT_FOUND", async () => {
  const m = await loadInstrumentsFile(SAMPLE);
  assert.equal(tokenOf(m, "nse", " reliance "), 738561);
  assert.equal(tokenOf(m, "NSE_INDEX", "NIFTY 50"), 256265);
  assert.equal(tokenOf(m, "NFO", "NIFTY24MAR20800CE"), 12010754);
  assert.deepEqual(m.resolve("NSE", "BOGUS"), {
    ok: false,
    code: "SYMBOL_NOT_FOUND",
    message: "Symbol not found: BOGUS on NSE",
  });
  assert.equal(m.resolve("NSE", "NIFTY").ok, false); // the index lives on NSE_INDEX
  assert.equal(m.byToken(1), undefined);
});

Deno.test("CSV parsing: quotes, CRLF, BOM, bad rows, missing columns", () => {
  const header =
    "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size," +
    "lot_size,instrument_type,segment,exchange";
  const text = "\ufeff" + header + "\r\n" +
    '738561,2885,RELIANCE,"RELIANCE, INDS",0,,0,0.05,1,EQ,NSE,NSE\r\n' +
    "x,1,BAD,,0,,0,0.05,1,EQ,NSE,NSE\r\n" +
    "5,1,SHORT\r\n" +
    "\r\n";
  const { instruments, skipped } = parseInstrumentsCsv(text);
  assert.equal(instruments.length, 1);
  assert.equal(instruments[0].name, "RELIANCE, INDS");
  assert.equal(skipped, 2);
  assert.throws(() => parseInstrumentsCsv("a,b\n1,2\n"), /missing column instrument_token/);
  // Duplicate OpenAlgo keys: first wins and is counted.
  const dup = masterFromCsv(
    header + "\n1,0,AAA,,0,,0,0.05,1,EQ,NSE,NSE\n257,1,AAA,,0,,0,0.05,1,EQ,NSE,NSE\n",
  );
  assert.equal(dup.duplicates, 1);
  assert.equal(tokenOf(dup, "NSE", "AAA"), 1);
});

Deno.test("download: sends Kite credentials, 403 is an error", async () => {
  const csv = await Deno.readTextFile(SAMPLE);
  let auth = "";
  await using srv = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    auth = req.headers.get("authorization") ?? "";
    return auth === "token key:tok"
      ? new Response(csv, { headers: { "content-type": "text/csv" } })
      : new Response("forbidden", { status: 403 });
  });
  const url = `http://127.0.0.1:${srv.addr.port}/instruments`;
  const m = await loadKiteMaster(url, "key", "tok", AbortSignal.timeout(5000));
  assert.equal(tokenOf(m, "NSE_INDEX", "NIFTY"), 256265);
  assert.equal(auth, "token key:tok");
  await assert.rejects(
    loadKiteMaster(url, "key", "old", AbortSignal.timeout(5000)),
    (err) => err instanceof AuthError && /HTTP 403/.test(err.message),
  );
});
