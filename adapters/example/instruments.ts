// The example broker's instrument master: a small CSV (`id,exchange,symbol,kind`) mapped to
// OpenAlgo symbols with the kit's symbology.

import {
  type BrokerInstrument,
  indexExchange,
  indexSymbol,
  InstrumentMaster,
  loadMasterText,
  parseCsv,
} from "../../lib/adapter/mod.ts";

/** One example-broker instrument. */
export interface ExampleInstrument extends BrokerInstrument {
  readonly token: number;
}

/**
 * Parses the master CSV; rows with a bad id are skipped and counted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const m = parseMaster("id,exchange,symbol,kind\n5,NSE,Nifty 50,INDEX\nx,NSE,BAD,EQ\n");
 * assert.equal(m.byToken(5)?.symbol, "NIFTY");
 * assert.equal(m.skipped, 1);
 * ```
 */
export function parseMaster(text: string): InstrumentMaster<ExampleInstrument> {
  const out: ExampleInstrument[] = [];
  let skipped = 0;
  for (const r of parseCsv(text)) {
    const token = Number(r.id);
    if (!Number.isInteger(token) || token <= 0 || !r.exchange || !r.symbol) {
      skipped++;
      continue;
    }
    out.push(
      r.kind === "INDEX"
        ? {
          token,
          exchange: indexExchange(r.exchange),
          symbol: indexSymbol(r.symbol),
          brokerSymbol: r.symbol,
        }
        : { token, exchange: r.exchange, symbol: r.symbol },
    );
  }
  return new InstrumentMaster(out, skipped);
}

/** Loads the master from a file or URL. */
export async function loadMaster(
  location: string,
  signal?: AbortSignal,
): Promise<InstrumentMaster<ExampleInstrument>> {
  return parseMaster(await loadMasterText({ location, signal }));
}
