import assert from "node:assert/strict";
import { parseSymbolSet } from "./symbols.ts";
import type { BusEnvelope } from "../bus/mod.ts";

const env = (exchange: string, symbol: string, mode: "LTP" | "QUOTE" | "DEPTH") =>
  ({ exchange, symbol, mode }) as BusEnvelope;

Deno.test("symbol set: instruments become topic prefixes, modes exact topics", () => {
  const set = parseSymbolSet(" NSE:RELIANCE , nse_index:NIFTY:ltp,NFO_ ");
  assert.deepEqual(set.prefixes, ["NSE_RELIANCE_", "NSE_INDEX_NIFTY_LTP", "NFO_"]);
  assert.ok(set.matches("NSE_RELIANCE_DEPTH", env("NSE", "RELIANCE", "DEPTH")));
  assert.ok(set.matches("NSE_INDEX_NIFTY_LTP", env("NSE_INDEX", "NIFTY", "LTP")));
  assert.ok(!set.matches("NSE_INDEX_NIFTY_QUOTE", env("NSE_INDEX", "NIFTY", "QUOTE")));
  // The prefix NSE_RELIANCE_ also lets NSE_RELIANCE_X_LTP through zeromq; the matcher refuses it.
  assert.ok(!set.matches("NSE_RELIANCE_X_LTP", env("NSE", "RELIANCE_X", "LTP")));
  assert.ok(set.matches("NFO_NIFTY24JUNFUT_QUOTE", env("NFO", "NIFTY24JUNFUT", "QUOTE")));
});

Deno.test("symbol set: empty selects everything; bad entries name themselves", () => {
  const all = parseSymbolSet("");
  assert.deepEqual(all.prefixes, []);
  assert.ok(all.matches("X_Y_LTP", env("X", "Y", "LTP")));
  assert.throws(() => parseSymbolSet("NSE:RELIANCE:FULL"), /NSE:RELIANCE:FULL.*Invalid mode/);
  assert.throws(() => parseSymbolSet("NSE:"), /NSE:/);
  assert.throws(() => parseSymbolSet("a:b:c:d"), /EXCHANGE:SYMBOL/);
  assert.throws(() => parseSymbolSet("NS E"), /not a topic prefix/);
});
