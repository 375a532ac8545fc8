// list_options through a live kit broker: the real Zerodha worker reads a Kite instruments CSV and
// answers the option chain's listing request (expiries, futures, strikes, the index) from it.

import assert from "node:assert/strict";
import { startZerodhaSimulator } from "../../adapters/zerodha/simulator.ts";
import { WorkerHarness } from "./harness.ts";

const HEADER =
  "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange";
const ROWS = [
  '256265,1001,NIFTY 50,"NIFTY 50",0,,0,0,0,EQ,INDICES,NSE',
  '9000001,1,NIFTY99DECFUT,"NIFTY",0,2099-12-29,0,0.05,75,FUT,NFO-FUT,NFO',
  '9000002,2,NIFTY99DEC24050CE,"NIFTY",0,2099-12-29,24050,0.05,75,CE,NFO-OPT,NFO',
  '9000003,3,NIFTY99DEC24000CE,"NIFTY",0,2099-12-29,24000,0.05,75,CE,NFO-OPT,NFO',
  '9000004,4,NIFTY99DEC24000PE,"NIFTY",0,2099-12-29,24000,0.05,75,PE,NFO-OPT,NFO',
  // Expired: left out.
  '12010754,46917,NIFTY24MAR20800CE,"NIFTY",0,2024-03-28,20800,0.05,50,CE,NFO-OPT,NFO',
  // Another underlying whose name starts the same: not NIFTY's.
  '9000005,5,NIFTYNXT5099DEC70000CE,"NIFTYNXT50",0,2099-12-29,70000,0.05,25,CE,NFO-OPT,NFO',
];

Deno.test("zerodha worker: list_options answers from the instrument master", async () => {
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  await Deno.writeTextFile(path, [HEADER, ...ROWS].join("\n") + "\n");
  const sim = await startZerodhaSimulator({ tickIntervalMs: 0, heartbeatIntervalMs: 200 });
  let h: WorkerHarness | undefined;
  try {
    h = await WorkerHarness.start(sim.port, {
      apiKey: sim.apiKey,
      accessToken: sim.accessToken,
      feedUrl: sim.url,
      instrumentsPath: path,
    }, [path]);
    const ask = async (id: number, underlying: string) => {
      h!.send({ type: "list_options", id, exchange: "NFO", underlying });
      return await h!.waitFor((m) => m.type === "options" && m.id === id ? m : undefined);
    };
    const r = await ask(1, "NIFTY");
    assert.deepEqual(r.listing, {
      exchange: "NFO",
      underlying: "NIFTY",
      spot: { exchange: "NSE_INDEX", symbol: "NIFTY" },
      expiries: [{
        expiry: "29DEC99",
        expiresAt: Date.UTC(2099, 11, 29, 10),
        future: "NIFTY29DEC99FUT",
        strikes: [
          { strike: 24000, ce: "NIFTY29DEC9924000CE", pe: "NIFTY29DEC9924000PE" },
          { strike: 24050, ce: "NIFTY29DEC9924050CE", pe: null },
        ],
      }],
    });
    assert.equal((await ask(2, "BANKNIFTY")).listing, null);
    assert.deepEqual(h.invalid, []);
  } finally {
    await h?.close();
    await sim.close();
    await Deno.remove(path);
  }
});
