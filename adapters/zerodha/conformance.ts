// The Kite simulator seen through the kit's BrokerSimulator contract, so the adapter conformance
// suite can drive Zerodha like every other broker.

import { type BrokerSimulator, CONFORMANCE_TIMINGS } from "../../lib/adapter/sim/mod.ts";
import type { Mode } from "../../lib/types.ts";
import { MODE_OF_KITE } from "./codec.ts";
import { masterFromCsv } from "./instruments.ts";
import { startZerodhaSimulator } from "./simulator.ts";

const SAMPLE = new URL("./testdata/instruments.csv", import.meta.url).pathname;

/**
 * Starts a Kite simulator (no market clock; data on subscribe and every 100 ms) and returns it as
 * a {@link BrokerSimulator} with adapter options pointing at it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * await using sim = await startZerodhaConformance();
 * assert.deepEqual(sim.streams(), []);
 * ```
 */
export async function startZerodhaConformance(): Promise<BrokerSimulator> {
  const csv = await Deno.readTextFile(SAMPLE);
  const master = masterFromCsv(csv);
  const sim = await startZerodhaSimulator({ tickIntervalMs: 100, heartbeatIntervalMs: 200 });
  let generation = 0;
  return {
    adapterOptions: {
      apiKey: sim.apiKey,
      accessToken: sim.accessToken,
      feedUrl: sim.url,
      instruments: SAMPLE,
      ...CONFORMANCE_TIMINGS,
    },
    streams(): Map<string, Mode>[] {
      return sim.subscriptions().map((c) => {
        const m = new Map<string, Mode>();
        for (const [token, mode] of c.tokens) {
          const ins = master.byToken(token);
          m.set(ins ? `${ins.exchange}:${ins.symbol}` : `?:${token}`, MODE_OF_KITE[mode]);
        }
        return m;
      });
    },
    get handshakes() {
      return sim.stats.handshakes;
    },
    drop: () => sim.faults.drop(),
    stall: () => sim.faults.stall(),
    resume: () => sim.faults.resume(),
    expireToken(): string {
      // Kite answers an expired token with 403 on the next handshake; open sockets keep going
      // until they drop, so drop them as the token's expiry would at the next reconnect.
      const fresh = `sim_access_token_${++generation}`;
      sim.setCredentials({ accessToken: fresh });
      sim.faults.drop();
      return fresh;
    },
    garbage: () => sim.faults.garbage(),
    close: () => sim.close(),
    [Symbol.asyncDispose]: () => sim.close(),
  };
}
