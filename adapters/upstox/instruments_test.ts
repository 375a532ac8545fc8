// Upstox instrument master: OpenAlgo symbols for every segment of a realistic sample, skipped rows
// counted, gzip and URL sources.

import assert from "node:assert/strict";
import { loadUpstoxMaster, parseUpstoxMaster } from "./instruments.ts";

const SAMPLE = new URL("./testdata/complete.json", import.meta.url);

Deno.test("OpenAlgo symbols ↔ instrument keys for equities, indices, futures and options", async () => {
  const m = parseUpstoxMaster(await Deno.readTextFile(SAMPLE));
  const cases: [string, string, string][] = [
    ["NSE", "RELIANCE", "NSE_EQ|INE002A01018"],
    ["NSE", "SBIN", "NSE_EQ|INE062A01020"],
    ["NSE", "INFY", "NSE_EQ|INE009A01021"],
    ["NSE", "TCS", "NSE_EQ|INE467B01029"],
    ["BSE", "TCS", "BSE_EQ|INE467B01029"],
    ["NSE_INDEX", "NIFTY", "NSE_INDEX|Nifty 50"],
    ["NSE_INDEX", "BANKNIFTY", "NSE_INDEX|Nifty Bank"],
    ["BSE_INDEX", "SENSEX", "BSE_INDEX|SENSEX"],
    ["NFO", "NIFTY28MAR24FUT", "NSE_FO|35001"],
    ["NFO", "NIFTY28MAR2422000CE", "NSE_FO|43885"],
    ["NFO", "NIFTY28MAR2422000PE", "NSE_FO|43886"],
    ["NFO", "BANKNIFTY24APR24FUT", "NSE_FO|46923"],
    ["NFO", "RELIANCE26APR242952.5CE", "NSE_FO|67331"],
    ["MCX", "CRUDEOIL18APR24FUT", "MCX_FO|430106"],
    ["CDS", "USDINR26APR24FUT", "NCD_FO|1129"],
  ];
  for (const [exchange, symbol, key] of cases) {
    const r = m.resolve(exchange, symbol);
    assert.ok(r.ok, `${exchange}:${symbol}`);
    assert.equal(r.instrument.token, key, `${exchange}:${symbol}`);
    assert.equal(m.byToken(key)?.symbol, symbol);
  }
  // Upstox's own trading symbol resolves too.
  const alias = m.resolve("NFO", "NIFTY 22000 CE 28 MAR 24");
  assert.equal(alias.ok && alias.instrument.token, "NSE_FO|43885");
  assert.equal(m.byToken("NSE_FO|43885")?.lotSize, 50);
  // NSE_COM (unmapped segment), an option without expiry/strike, a row without a key.
  assert.equal(m.skipped, 3);
  assert.equal(m.size, cases.length);
  assert.equal(m.resolve("NSE", "BOGUS").ok, false);
});

Deno.test("a master that is not a JSON array is an error naming the problem", () => {
  assert.throws(() => parseUpstoxMaster("{"), /not JSON/);
  assert.throws(() => parseUpstoxMaster('{"a":1}'), /not a JSON array/);
});

Deno.test("gzip file and URL sources", async () => {
  const text = await Deno.readTextFile(SAMPLE);
  const gz = new Uint8Array(
    await new Response(
      new Blob([text]).stream().pipeThrough(new CompressionStream("gzip")),
    ).arrayBuffer(),
  );
  const path = await Deno.makeTempFile({ suffix: ".json.gz" });
  try {
    await Deno.writeFile(path, gz);
    assert.equal((await loadUpstoxMaster(path)).size, 15);
  } finally {
    await Deno.remove(path);
  }
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) =>
      new URL(req.url).pathname === "/complete.json.gz"
        ? new Response(gz)
        : new Response("no", { status: 403 }),
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  assert.equal((await loadUpstoxMaster(`${base}/complete.json.gz`)).size, 15);
  await assert.rejects(() => loadUpstoxMaster(`${base}/other.json`), { name: "AuthError" });
});
