// Micro-benchmark of the option chain: one `option_chain` frame for ±20 strikes (82 options: IV by
// Newton, four greeks each, PCR, max pain, JSON), and one implied-volatility solve.
// Run: deno bench -P=test bench/option_chain_bench.ts   (CPU figure: deno task bench:chain)

import { black76Price, impliedVol } from "../lib/options/mod.ts";
import { benchChain, chainFrame } from "./option_chain_fixture.ts";

const chain = await benchChain(20);
if (chain.window.length !== 41) throw new Error(`window of ${chain.window.length} strikes`);
let sink = 0;

Deno.bench("option chain frame, ±20 strikes (data + JSON)", () => {
  sink += chainFrame(chain).length;
});

Deno.bench("option chain data, ±20 strikes (no JSON)", () => {
  sink += chain.data().strikes.length;
});

const prices = Array.from(
  { length: 64 },
  (_, i) => black76Price(26_000, 25_000 + 50 * i, 29 / 365, 0.1 + 0.003 * i, 0.065, "CE"),
);
let k = 0;
Deno.bench("implied volatility, one solve", () => {
  const i = k++ & 63;
  sink += impliedVol(prices[i], 26_000, 25_000 + 50 * i, 29 / 365, 0.065, "CE") ?? 0;
});

globalThis.addEventListener("unload", () => {
  if (sink === 0) console.log("unreachable");
});
