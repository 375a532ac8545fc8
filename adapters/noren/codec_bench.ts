// Decode cost of the Noren codec per message kind: touchline snapshot (tk), a typical sparse
// touchline update (tf), depth snapshot (dk), a sparse depth update (df), and the login ack.
// Run with `deno bench adapters/noren/codec_bench.ts` (part of `deno task microbench`).

import { SimMarket } from "../../lib/adapter/sim/market.ts";
import {
  changedFields,
  encodeFeed,
  NorenDecoder,
  quoteFields,
  type ScripFacts,
  snapshotFacts,
} from "./codec.ts";

const NOW = 1_700_000_000_000;
const FACTS: ScripFacts = {
  tradingSymbol: "RELIANCE-EQ",
  lotSize: 1,
  tickSize: 0.05,
  pp: 2,
  index: false,
  hasOi: false,
};
const REF = { exchange: "NSE", symbol: "RELIANCE" };

/** A snapshot and the sparse update after one market step, as the simulator sends them. */
function messages(stream: "t" | "d"): { snapshot: string; update: string } {
  const market = new SimMarket(3, () => NOW);
  const before = quoteFields(market.quote("x", { price: 2940.7 }), stream, FACTS, NOW);
  const after = quoteFields(market.step("x"), stream, FACTS, NOW + 1000);
  return {
    snapshot: encodeFeed(stream === "t" ? "tk" : "dk", "NSE", "2885", {
      ...snapshotFacts(FACTS),
      ...before,
    }),
    update: encodeFeed(stream === "t" ? "tf" : "df", "NSE", "2885", changedFields(before, after)),
  };
}

for (const stream of ["t", "d"] as const) {
  const { snapshot, update } = messages(stream);
  const d = new NorenDecoder<typeof REF>();
  d.watch("NSE|2885", REF, stream);
  d.decode(snapshot, NOW);
  const kind = stream === "t" ? "touchline" : "depth";
  Deno.bench(`decode ${kind} snapshot (${stream}k, ${snapshot.length} B)`, { group: kind }, () => {
    d.decode(snapshot, NOW);
  });
  Deno.bench(
    `decode ${kind} sparse update (${stream}f, ${update.length} B)`,
    { group: kind },
    () => {
      d.decode(update, NOW);
    },
  );
}

const ack = '{"t":"ak","uid":"FA12345","s":"OK"}';
const decoder = new NorenDecoder<typeof REF>();
Deno.bench("decode login ack (ak)", () => {
  decoder.decode(ack, NOW);
});
