// Tests for Noren master parsing on the sample masters in testdata/ (both column layouts), and
// loading several sources, from files and over HTTP.

import assert from "node:assert/strict";
import { loadNorenMaster, masterSources, parseNorenMaster } from "./instruments.ts";

const dir = new URL("./testdata/", import.meta.url);
const read = (name: string) => Deno.readTextFile(new URL(name, dir));

Deno.test("Shoonya NSE master: equities without series, indices by OpenAlgo name", async () => {
  const { instruments, skipped } = parseNorenMaster(await read("NSE_symbols.txt"));
  assert.equal(skipped, 0);
  const by = new Map(instruments.map((i) => [i.token, i]));
  assert.deepEqual(by.get("NSE|2885"), {
    token: "NSE|2885",
    exchange: "NSE",
    symbol: "RELIANCE",
    segment: "NSE",
    brokerSymbol: "RELIANCE-EQ",
    lotSize: 1,
    tickSize: 0.05,
  });
  assert.equal(by.get("NSE|26000")?.exchange, "NSE_INDEX");
  assert.equal(by.get("NSE|26000")?.symbol, "NIFTY");
  assert.equal(by.get("NSE|26009")?.symbol, "BANKNIFTY");
  assert.equal(by.get("NSE|26017")?.symbol, "INDIAVIX");
  assert.equal(by.get("NSE|26037")?.symbol, "FINNIFTY");
  assert.equal(by.get("NSE|20374")?.symbol, "COALINDIA", "BE series drops its suffix");
  assert.equal(by.get("NSE|17818")?.symbol, "HDFCBANK-BL", "other series keep theirs");
});

Deno.test("Shoonya NFO master: futures and options in OpenAlgo symbology", async () => {
  const { instruments, skipped } = parseNorenMaster(await read("NFO_symbols.txt"));
  assert.equal(skipped, 1, "the row without an expiry");
  const sym = new Map(instruments.map((i) => [i.token, i.symbol]));
  assert.equal(sym.get("NFO|35003"), "NIFTY28MAR24FUT");
  assert.equal(sym.get("NFO|35010"), "BANKNIFTY27MAR24FUT");
  assert.equal(sym.get("NFO|43650"), "NIFTY28MAR2422000CE");
  assert.equal(sym.get("NFO|43651"), "NIFTY28MAR2422000PE");
  assert.equal(sym.get("NFO|52102"), "RELIANCE28MAR242927.5PE");
  assert.equal(sym.get("NFO|52110"), "RELIANCE28MAR24FUT");
  assert.equal(instruments.find((i) => i.token === "NFO|35003")?.lotSize, 50);
});

Deno.test("Flattrade's spelling of the same columns maps the same way", async () => {
  const nse = parseNorenMaster(await read("Flattrade_NSE_Equity.csv"));
  const nfo = parseNorenMaster(await read("Flattrade_Nfo_Index_Derivatives.csv"));
  const sym = new Map([...nse.instruments, ...nfo.instruments].map((i) => [i.token, i]));
  assert.equal(sym.get("NSE|26000")?.symbol, "NIFTY");
  assert.equal(sym.get("NSE|26000")?.brokerSymbol, "Nifty 50");
  assert.equal(sym.get("NSE|26009")?.symbol, "BANKNIFTY");
  assert.equal(sym.get("NSE|2885")?.symbol, "RELIANCE");
  assert.equal(sym.get("NFO|35003")?.symbol, "NIFTY28MAR24FUT");
  assert.equal(sym.get("NFO|43650")?.symbol, "NIFTY28MAR2422000CE");
});

Deno.test("a file that is not a Noren master is refused; an empty one is empty", () => {
  assert.throws(() => parseNorenMaster("a,b\n1,2\n"), /not a Noren master/);
  assert.deepEqual(parseNorenMaster(""), { instruments: [], skipped: 0 });
  const junk = parseNorenMaster(
    "Exchange,Token,LotSize,Symbol,TradingSymbol,Instrument,TickSize,\n,,,\nNSE,x,1,A,A-EQ,EQ,0.05,\n",
  );
  assert.equal(junk.skipped, 2);
});

Deno.test("masters from several files and URLs merge; symbols resolve both ways", async () => {
  const nse = new URL("NSE_symbols.txt", dir).pathname;
  const text = await read("NFO_symbols.txt");
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) =>
      new URL(req.url).pathname === "/NFO_symbols.txt"
        ? new Response(text)
        : new Response("no", { status: 404 }),
  );
  try {
    const url = `http://127.0.0.1:${server.addr.port}/NFO_symbols.txt`;
    const master = await loadNorenMaster(masterSources(`${nse},${url}`));
    assert.equal(master.skipped, 1);
    const r = master.resolve("NFO", "NIFTY28MAR2422000CE");
    assert.ok(r.ok && r.instrument.token === "NFO|43650");
    const idx = master.resolve("NSE_INDEX", "NIFTY");
    assert.ok(idx.ok && idx.instrument.token === "NSE|26000");
    assert.ok(master.resolve("NSE", "RELIANCE-EQ").ok, "the trading symbol is an alias");
    assert.equal(master.byToken("NSE|3045")?.symbol, "SBIN");
    await assert.rejects(
      loadNorenMaster([`http://127.0.0.1:${server.addr.port}/missing`]),
      /HTTP 404/,
    );
    const bad = await Deno.makeTempFile();
    await Deno.writeTextFile(bad, "x,y\n1,2\n");
    await assert.rejects(loadNorenMaster([bad]), new RegExp(`instruments ${bad}: not a Noren`));
    await Deno.remove(bad);
  } finally {
    await server.shutdown();
  }
});
