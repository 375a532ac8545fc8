// Option chains end to end with the real paper adapter worker: the listing comes from the worker's
// instrument universe, quotes come from the paper quote API (poll, the default) or its stream, IVs
// come back near the paper market's Black-76 surface, and unsubscribing releases every strike.

import assert from "node:assert/strict";
import { startGateway, TestClient, until } from "./helpers/gateway.ts";

type Frame = Record<string, unknown>;
type Side = Record<string, number | string | null>;
type Row = { strike: number; ce: Side | null; pe: Side | null };
type Data = Frame & { strikes: Row[] };

const complete = (f: Frame) =>
  f.type === "option_chain" &&
  (f.data as Data).underlying_price !== null &&
  (f.data as Data).strikes.every((r) => r.ce?.ltp != null && r.pe?.ltp != null);

function checkFrame(f: Frame, underlying: string, strikes: number): Data {
  const d = f.data as Data;
  assert.equal(f.underlying, underlying);
  assert.equal(f.exchange, "NFO");
  assert.equal(d.strikes.length, 2 * strikes + 1, "a full window away from the listing's ends");
  assert.equal(d.strikes[strikes].strike, d.atm_strike, "ATM in the middle");
  const u = Number(d.underlying_price);
  // ATM: the listed strike nearest the underlying.
  for (const r of d.strikes) {
    assert.ok(Math.abs(r.strike - u) >= Math.abs(Number(d.atm_strike) - u));
  }
  let ce = 0, pe = 0;
  for (const r of d.strikes) {
    ce += Number(r.ce!.oi ?? 0);
    pe += Number(r.pe!.oi ?? 0);
    for (const side of [r.ce!, r.pe!]) {
      assert.ok(side.bid !== null && side.ask !== null && Number(side.ask) > Number(side.bid));
      assert.ok(Number(side.oi) > 0 && Number(side.volume) > 0);
    }
  }
  assert.equal(d.pcr, Math.round((pe / ce) * 1e4) / 1e4);
  // Near the money the paper market's smile is ~10–25 %; the chain must find it.
  for (const r of d.strikes.slice(strikes - 2, strikes + 3)) {
    for (const side of [r.ce!, r.pe!]) {
      assert.ok(Number(side.iv) > 5 && Number(side.iv) < 40, `${side.symbol} iv ${side.iv}`);
      assert.ok(Number(side.gamma) > 0 && Number(side.vega) > 0 && Number(side.theta) < 0);
    }
  }
  // Call delta − put delta: e^{−rT} against a future, 1 against a spot (put-call parity).
  const t = Number(d.time_to_expiry);
  const parity = d.priced_on === "future" ? Math.exp(-0.065 * t) : 1;
  for (const r of d.strikes) {
    if (r.ce!.delta === null || r.pe!.delta === null) continue;
    assert.ok(Math.abs(Number(r.ce!.delta) - Number(r.pe!.delta) - parity) < 0.02, `${r.strike}`);
  }
  const atm = d.strikes[strikes];
  assert.ok(Number(atm.ce!.delta) > 0.2 && Number(atm.ce!.delta) < 0.8);
  assert.ok(!JSON.stringify(f).includes("NaN"));
  return d;
}

/** NIFTY (weekly, 5 strikes a side) and BANKNIFTY (monthly, 4), checked, then unsubscribed. */
async function twoChains(route: "poll" | "stream"): Promise<void> {
  const gw = await startGateway({
    broker: { name: "paper", options: { ticksPerSecond: 10, seed: 11 } },
    optionChain: { intervalMs: 200 },
    budget: { routing: { optionChain: route }, pollIntervalMs: 200 },
  });
  try {
    const a = await TestClient.connect(gw);
    await a.auth();
    const nifty = await a.request(
      { action: "subscribe_option_chain", underlying: "NIFTY", exchange: "NFO", strikes: 5 },
      "subscribe_option_chain",
    );
    assert.equal(nifty.status, "success", JSON.stringify(nifty));
    const expiries = nifty.expiries as string[];
    assert.equal(expiries.length, 3, "a weekly and two monthlies");
    const bank = await a.request(
      {
        action: "subscribe_option_chain",
        underlying: "BANKNIFTY",
        exchange: "NFO",
        expiry: expiries[1],
        strikes: 4,
      },
      "subscribe_option_chain",
    );
    assert.equal(bank.status, "success", JSON.stringify(bank));
    assert.deepEqual(bank.expiries, expiries.slice(1), "BANKNIFTY: monthlies only");

    const n = checkFrame(
      await a.waitFor((f) => complete(f) && f.underlying === "NIFTY" && f.expiry === expiries[0]),
      "NIFTY",
      5,
    );
    assert.equal(n.priced_on, "spot", "the weekly has no future");
    const b = checkFrame(
      await a.waitFor((f) => complete(f) && f.underlying === "BANKNIFTY"),
      "BANKNIFTY",
      4,
    );
    assert.equal(b.priced_on, "future");
    assert.equal(b.forward, b.future_price);
    assert.equal(b.strikes[1].strike - b.strikes[0].strike, 100);

    // 11 + 9 strikes × 2 sides, the two indices and the BANKNIFTY future, all in Depth mode:
    // polled (no streaming slot at all) or streamed, as the routing table says.
    const held = 22 + 18 + 3;
    if (route === "poll") {
      assert.equal(gw.pool.streams().length, 0, "a polled chain takes no streaming slot");
      assert.equal(gw.poller.stats().keys, held);
    } else {
      assert.equal(gw.pool.streams().length, held);
      assert.ok(gw.pool.streams().every((s) => s.mode === 3));
      assert.equal(gw.poller.stats().keys, 0);
    }
    for (const underlying of ["NIFTY", "BANKNIFTY"]) {
      const r = await a.request(
        { action: "unsubscribe_option_chain", underlying, exchange: "NFO" },
        "unsubscribe_option_chain",
      );
      assert.equal(r.status, "success");
    }
    await until(
      () => gw.pool.streams().length === 0 && gw.poller.stats().keys === 0,
      5000,
      "every strike released at the broker and the poller",
    );
    assert.deepEqual(gw.registry.list(), []);
    assert.deepEqual(gw.pollRegistry.list(), []);
    await a.close();
  } finally {
    await gw.stop();
  }
}

Deno.test("paper option chains polled (the default route): NIFTY weekly on spot, BANKNIFTY monthly on the future, sensible IVs, no streaming slot, all released", () =>
  twoChains("poll"));

Deno.test("paper option chains streamed (routing.optionChain = stream): the same frames from Depth streams, every strike released at the broker", () =>
  twoChains("stream"));
