// The chain over a controlled quote source: the window follows the underlying across a strike,
// old strikes are released and new ones held, IV and greeks come back from model prices, PCR and
// max pain match the rows, and close releases everything.

import assert from "node:assert/strict";
import { baseTick, type Outcome, type Tick } from "../types.ts";
import { black76Price } from "./black76.ts";
import { OptionChain } from "./chain.ts";
import { findOptionListing } from "../adapter/mod.ts";
import type { ChainInstrument, ChainQuotes } from "./quotes.ts";

class FakeSource implements ChainQuotes {
  readonly refs = new Map<string, number>();
  readonly ticks = new Map<string, Tick>();
  acquired: string[] = [];
  released: string[] = [];
  refuse = new Set<string>();

  get size(): number {
    return this.refs.size;
  }

  acquire(items: ChainInstrument[]): Promise<Outcome[]> {
    return Promise.resolve(items.map((i) => {
      if (this.refuse.has(i.symbol)) {
        return { ok: false as const, code: "SYMBOL_NOT_FOUND" as const, message: "no" };
      }
      this.refs.set(i.symbol, (this.refs.get(i.symbol) ?? 0) + 1);
      this.acquired.push(i.symbol);
      return { ok: true as const };
    }));
  }

  release(items: ChainInstrument[]): Promise<void> {
    for (const i of items) {
      const n = this.refs.get(i.symbol);
      assert.ok(n !== undefined, `released ${i.symbol} never acquired`);
      if (n === 1) this.refs.delete(i.symbol);
      else this.refs.set(i.symbol, n - 1);
      this.released.push(i.symbol);
    }
    return Promise.resolve();
  }

  latest(_exchange: string, symbol: string): Tick | undefined {
    return this.refs.has(symbol) ? this.ticks.get(symbol) : undefined;
  }

  set(exchange: string, symbol: string, ltp: number, extra: Partial<Tick> = {}): void {
    this.ticks.set(symbol, { ...baseTick(exchange, symbol, 3, ltp, null, 0), ...extra });
  }
}

const NOW = Date.UTC(2025, 11, 1, 5); // 1 Dec 2025 10:30 IST
const EXPIRY = "30DEC25";

function universe(): { exchange: string; symbol: string }[] {
  const rows = [
    { exchange: "NSE_INDEX", symbol: "NIFTY" },
    { exchange: "NFO", symbol: `NIFTY${EXPIRY}FUT` },
  ];
  for (let k = 24000; k <= 26000; k += 50) {
    rows.push({ exchange: "NFO", symbol: `NIFTY${EXPIRY}${k}CE` });
    rows.push({ exchange: "NFO", symbol: `NIFTY${EXPIRY}${k}PE` });
  }
  return rows;
}

function chainOf(source: ChainQuotes, strikes = 3): OptionChain {
  const listing = findOptionListing(universe(), "NFO", "NIFTY", NOW)!;
  return new OptionChain(listing, listing.expiries[0], strikes, source, {
    rate: 0.065,
    clock: () => NOW,
  });
}

const windowStrikes = (c: OptionChain) => c.window.map((s) => s.strike);

Deno.test("the window re-centres when the underlying crosses a strike, moving its holdings", async () => {
  const source = new FakeSource();
  source.set("NSE_INDEX", "NIFTY", 25010);
  const chain = chainOf(source, 3);
  assert.deepEqual(await chain.open(), { ok: true });
  assert.deepEqual(windowStrikes(chain), [24850, 24900, 24950, 25000, 25050, 25100, 25150]);
  // spot + future + 7 strikes × 2
  assert.equal(source.size, 16);
  assert.equal(await chain.recentre(), false, "no move while the ATM strike is the same");

  source.set("NSE_INDEX", "NIFTY", 25024.95); // still nearer 25000
  assert.equal(await chain.recentre(), false);
  source.set("NSE_INDEX", "NIFTY", 25026); // crossed the 25025 midpoint: ATM 25050
  source.released = [];
  source.acquired = [];
  assert.equal(await chain.recentre(), true);
  assert.deepEqual(windowStrikes(chain), [24900, 24950, 25000, 25050, 25100, 25150, 25200]);
  assert.deepEqual(source.acquired.sort(), [`NIFTY${EXPIRY}25200CE`, `NIFTY${EXPIRY}25200PE`]);
  assert.deepEqual(source.released.sort(), [`NIFTY${EXPIRY}24850CE`, `NIFTY${EXPIRY}24850PE`]);
  assert.equal(chain.data().atm_strike, 25050);

  // A jump of many strikes swaps the whole window.
  source.set("NSE_INDEX", "NIFTY", 25600);
  assert.equal(await chain.recentre(), true);
  assert.deepEqual(windowStrikes(chain), [25450, 25500, 25550, 25600, 25650, 25700, 25750]);
  assert.equal(source.size, 16);

  // Near the top of the listing the window is cut, not shifted.
  source.set("NSE_INDEX", "NIFTY", 25990);
  await chain.recentre();
  assert.deepEqual(windowStrikes(chain), [25850, 25900, 25950, 26000]);

  await chain.close();
  assert.equal(source.size, 0, "close releases every instrument it held");
});

Deno.test("data: IV and greeks come back from Black-76 prices on the future; PCR and max pain from the rows", async () => {
  const source = new FakeSource();
  const chain = chainOf(source, 2);
  const t = (Date.UTC(2025, 11, 30, 10) - NOW) / (365 * 86_400_000);
  const fut = 25100;
  source.set("NSE_INDEX", "NIFTY", 25000);
  source.set("NFO", `NIFTY${EXPIRY}FUT`, fut);
  await chain.open();
  const vols: Record<number, number> = {
    24900: 0.16,
    24950: 0.15,
    25000: 0.14,
    25050: 0.135,
    25100: 0.13,
  };
  const oi: Record<number, [number, number]> = {
    24900: [100, 900],
    24950: [200, 700],
    25000: [500, 500],
    25050: [800, 150],
    25100: [1200, 50],
  };
  for (const [k, vol] of Object.entries(vols)) {
    const strike = Number(k);
    for (const type of ["CE", "PE"] as const) {
      const p = black76Price(fut, strike, t, vol, 0.065, type);
      const ltp = Math.round(p * 20) / 20;
      source.set("NFO", `NIFTY${EXPIRY}${strike}${type}`, ltp, {
        oi: oi[strike][type === "CE" ? 0 : 1],
        volume: 1000,
        // Bid and ask around the model price, so the mid is the model price itself.
        depth: {
          buy: [{ price: p - 0.5, quantity: 75, orders: 1 }],
          sell: [{ price: p + 0.5, quantity: 75, orders: 1 }],
        },
      });
    }
  }
  const d = chain.data();
  assert.equal(d.priced_on, "future");
  assert.equal(d.forward, fut);
  assert.equal(d.underlying_price, 25000);
  assert.equal(d.atm_strike, 25000);
  assert.deepEqual(d.strikes.map((r) => r.strike), [24900, 24950, 25000, 25050, 25100]);
  for (const r of d.strikes) {
    for (const side of [r.ce!, r.pe!]) {
      assert.ok(Math.abs(side.iv! - vols[r.strike] * 100) < 0.01, `${side.symbol} iv ${side.iv}`);
      for (const k of ["delta", "gamma", "theta", "vega"] as const) {
        assert.ok(side[k] !== null && Number.isFinite(side[k]));
      }
    }
    // Call delta − put delta = e^{−rT} on a future; both thetas negative here.
    assert.ok(Math.abs(r.ce!.delta! - r.pe!.delta! - Math.exp(-0.065 * t)) < 2e-4);
    assert.ok(r.ce!.bid !== null && r.ce!.ask! > r.ce!.bid!);
  }
  // PCR = (900+700+500+150+50) / (100+200+500+800+1200) = 2300 / 2800.
  assert.equal(d.pcr, Math.round((2300 / 2800) * 1e4) / 1e4);
  // Max pain by hand: payouts at each strike.
  const pay = (s: number) =>
    Object.entries(oi).reduce(
      (sum, [k, [c, p]]) => sum + c * Math.max(0, s - Number(k)) + p * Math.max(0, Number(k) - s),
      0,
    );
  const best = [24900, 24950, 25000, 25050, 25100].reduce((a, b) => pay(b) < pay(a) ? b : a);
  assert.equal(d.max_pain, best);
  // oi_change counts from the first OI seen.
  source.set("NFO", `NIFTY${EXPIRY}25000CE`, 50, { oi: 575 });
  assert.equal(chain.data().strikes[2].ce!.oi_change, 75);
  await chain.close();
});

Deno.test("data: without a future the spot with carry prices the chain; missing prices give nulls, never NaN", async () => {
  const source = new FakeSource();
  source.refuse.add(`NIFTY${EXPIRY}FUT`);
  const chain = chainOf(source, 1);
  source.set("NSE_INDEX", "NIFTY", 25000);
  await chain.open();
  const t = (Date.UTC(2025, 11, 30, 10) - NOW) / (365 * 86_400_000);
  const fwd = 25000 * Math.exp(0.065 * t);
  source.set("NFO", `NIFTY${EXPIRY}25000CE`, black76Price(fwd, 25000, t, 0.2, 0.065, "CE"));
  // The forward is ≈ 25130: a 24950 call at 1 rupee is below intrinsic, so it has no IV.
  source.set("NFO", `NIFTY${EXPIRY}24950CE`, 1);
  const d = chain.data();
  assert.equal(d.priced_on, "spot");
  assert.equal(d.forward, Math.round(fwd * 100) / 100);
  const atm = d.strikes.find((r) => r.strike === 25000)!;
  assert.ok(Math.abs(atm.ce!.iv! - 20) < 0.01);
  // Delta against the spot: N(d1) for a call under Black-Scholes, ≈ 0.55 at the money here.
  assert.ok(atm.ce!.delta! > 0.5 && atm.ce!.delta! < 0.6);
  const itmCall = d.strikes.find((r) => r.strike === 24950)!.ce!;
  assert.equal(itmCall.ltp, 1);
  assert.equal(itmCall.iv, null);
  assert.equal(itmCall.delta, null);
  const empty = d.strikes.find((r) => r.strike === 25050)!.ce!;
  assert.deepEqual(
    [empty.ltp, empty.bid, empty.ask, empty.oi, empty.oi_change, empty.iv],
    [null, null, null, null, null, null],
  );
  assert.equal(d.pcr, null, "no call OI");
  assert.equal(d.max_pain, null);
  assert.ok(!JSON.stringify(d).includes("NaN") && !JSON.stringify(d).includes("Infinity"));
  await chain.close();
  assert.equal(source.size, 0);
});

Deno.test("open fails when neither the spot nor the future can be served, holding nothing", async () => {
  const source = new FakeSource();
  source.refuse.add("NIFTY");
  source.refuse.add(`NIFTY${EXPIRY}FUT`);
  const chain = chainOf(source, 2);
  const r = await chain.open();
  assert.equal(r.ok, false);
  assert.equal(source.size, 0);
});

Deno.test("refused window instruments are asked for again every 30 s until they are served", async () => {
  const source = new FakeSource();
  source.set("NSE_INDEX", "NIFTY", 25000);
  const refused = `NIFTY${EXPIRY}25050CE`;
  source.refuse.add(refused);
  let now = NOW;
  const listing = findOptionListing(universe(), "NFO", "NIFTY", NOW)!;
  const chain = new OptionChain(listing, listing.expiries[0], 1, source, {
    rate: 0.065,
    clock: () => now,
  });
  await chain.open();
  assert.equal(source.refs.has(refused), false);
  source.refuse.delete(refused);
  now += 29_000;
  await chain.recentre();
  assert.equal(source.refs.has(refused), false, "not before 30 s");
  now += 1_000;
  await chain.recentre();
  assert.equal(source.refs.get(refused), 1, "held once the source serves it");
  const asked = source.acquired.length;
  now += 60_000;
  await chain.recentre();
  assert.equal(source.acquired.length, asked, "nothing to ask for when the window is whole");
  await chain.close();
  assert.equal(source.size, 0);
});
