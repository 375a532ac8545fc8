// A ±20-strike NIFTY chain over an in-memory quote source filled with Black-76 ticks (book, OI),
// shared by the option chain micro-benchmark and its CPU figure.

import {
  black76Price,
  type ChainInstrument,
  type ChainQuotes,
  OptionChain,
} from "../lib/options/mod.ts";
import { findOptionListing } from "../lib/adapter/mod.ts";
import { baseTick, type Outcome, type Tick } from "../lib/types.ts";
import { buildUniverse } from "../adapters/paper/mod.ts";

/** Mon 1 Dec 2025, 10:30 IST: the monthly (30 Dec) is 29 days out. */
export const BENCH_NOW = Date.UTC(2025, 11, 1, 5);

class MemorySource implements ChainQuotes {
  readonly ticks = new Map<string, Tick>();
  readonly held = new Set<string>();
  get size(): number {
    return this.held.size;
  }
  acquire(items: ChainInstrument[]): Promise<Outcome[]> {
    for (const i of items) this.held.add(i.symbol);
    return Promise.resolve(items.map(() => ({ ok: true as const })));
  }
  release(items: ChainInstrument[]): Promise<void> {
    for (const i of items) this.held.delete(i.symbol);
    return Promise.resolve();
  }
  latest(_exchange: string, symbol: string): Tick | undefined {
    return this.ticks.get(symbol);
  }
}

/** An open chain of `strikes` each side on the NIFTY monthly, every contract quoted. */
export async function benchChain(strikes = 20): Promise<OptionChain> {
  const universe = buildUniverse({ now: BENCH_NOW });
  const listing = findOptionListing(universe.instruments, "NFO", "NIFTY", BENCH_NOW)!;
  const expiry = listing.expiries.find((e) => e.future !== null)!;
  const source = new MemorySource();
  const t = (expiry.expiresAt - BENCH_NOW) / (365 * 86_400_000);
  const spot = 25_950;
  const fut = spot * Math.exp(0.065 * t);
  source.ticks.set("NIFTY", baseTick("NSE_INDEX", "NIFTY", 3, spot, null, BENCH_NOW));
  source.ticks.set(expiry.future!, baseTick("NFO", expiry.future!, 3, fut, null, BENCH_NOW));
  for (const s of expiry.strikes) {
    for (const [symbol, type] of [[s.ce!, "CE"], [s.pe!, "PE"]] as const) {
      const m = Math.log(s.strike / fut);
      const p = black76Price(fut, s.strike, t, 0.12 + 1.6 * m * m, 0.065, type);
      const ltp = Math.max(0.05, Math.round(p * 20) / 20);
      source.ticks.set(symbol, {
        ...baseTick("NFO", symbol, 3, ltp, null, BENCH_NOW),
        volume: 1_000_000,
        oi: 3_000_000,
        depth: {
          buy: [{ price: Math.max(0.05, ltp - 0.1), quantity: 75, orders: 1 }],
          sell: [{ price: ltp + 0.1, quantity: 75, orders: 1 }],
        },
      });
    }
  }
  const chain = new OptionChain(listing, expiry, strikes, source, {
    rate: 0.065,
    clock: () => BENCH_NOW,
  });
  await chain.open();
  return chain;
}

/** One `option_chain` frame of the chain, as the proxy builds it. */
export function chainFrame(chain: OptionChain): string {
  return JSON.stringify({
    type: "option_chain",
    underlying: chain.listing.underlying,
    exchange: chain.listing.exchange,
    expiry: chain.expiry.expiry,
    timestamp: BENCH_NOW,
    data: chain.data(),
  });
}
