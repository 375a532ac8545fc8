// A local Kotak Neo HSM socket for tests and `deno task sim kotak`: the binary connect request is
// checked against the trade token + sid it issued, the reply carries ack-every-N, requests are
// read by their fields (≤ 100 topics each), data items carry Kotak's u16 length and tagged
// strings, and the daily session end is simulated by `expireToken` (sessions close, the old token
// gets `N`).

import {
  type BrokerSimulator,
  CONFORMANCE_TIMINGS,
  runSimulatorCli,
} from "../../lib/adapter/sim/mod.ts";
import { encodeConnectReply, fieldText, KOTAK_HSM } from "../hsm/codec.ts";
import {
  fakeJwt,
  type HsmSimOptions,
  HsmSimulator,
  type SimInstrument,
  simulatorView,
} from "../hsm/simulator.ts";
import { type KotakInstrument, loadKotakInstruments } from "./instruments.ts";
import { KOTAK_LIMITS } from "./options.ts";

/** The sid the simulator issues (a login's session id). */
export const SIM_SID = "sim-sid-0001";

/** The testdata masters the simulator streams by default. */
export const SIM_MASTERS = ["nse_cm.csv", "nse_fo.csv", "mcx_fo.csv"].map((f) =>
  new URL(`./testdata/${f}`, import.meta.url).pathname
);

/** Options of {@link startKotakSimulator}. */
export interface KotakSimulatorOptions extends HsmSimOptions {
  /** Scrip master files to stream (default the testdata masters). */
  instruments?: string[];
}

/** A running Kotak simulator. */
export interface KotakSimulator extends BrokerSimulator {
  readonly sim: HsmSimulator;
  /** `ws://127.0.0.1:<port>/` */
  readonly url: string;
  /** The trade token now valid. */
  readonly accessToken: string;
  readonly sid: string;
  readonly instruments: ReadonlyMap<string, KotakInstrument>;
}

function tradeToken(): string {
  return fakeJwt({
    sub: "sim-ucc",
    jti: crypto.randomUUID(),
    exp: Math.floor(Date.now() / 1000) + 86_400,
  });
}

/**
 * Starts a Kotak HSM simulator on 127.0.0.1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * await using sim = await startKotakSimulator({ tickIntervalMs: 0 });
 * assert.equal(sim.sid, SIM_SID);
 * ```
 */
export async function startKotakSimulator(
  options: KotakSimulatorOptions = {},
): Promise<KotakSimulator> {
  const sources = options.instruments ?? SIM_MASTERS;
  const master = await loadKotakInstruments(sources);
  const instruments = new Map<string, KotakInstrument & SimInstrument>();
  for (const ins of master.all()) {
    instruments.set(ins.token, { ...ins, tradingSymbol: ins.brokerSymbol ?? ins.symbol });
  }
  let token = tradeToken();
  const sim = new HsmSimulator({
    config: KOTAK_HSM,
    instruments,
    authenticate: (fields) =>
      fieldText(fields.get(1)) === token && fieldText(fields.get(2)) === SIM_SID,
    connectReply: (ok, ackEvery) => encodeConnectReply(ok, ackEvery),
    maxTopicsPerRequest: KOTAK_LIMITS.maxTopicsPerRequest,
    defaultLite: false,
  }, options);
  const url = sim.server.url;
  return simulatorView(
    sim,
    () => ({
      accessToken: token,
      sid: SIM_SID,
      feedUrl: url,
      instruments: sources,
      ...CONFORMANCE_TIMINGS,
      // HSM servers send no heartbeat: an idle connection is silent, so silence is no fault
      // here; a stalled feed shows as subscribed instruments without ticks.
      silenceTimeoutMs: 0,
      dataStallMs: 1500,
      // The broker's connection limit is not documented (the default is 1); the simulator
      // allows two so the per-connection limit can be exercised.
      maxConnections: 2,
    }),
    () => {
      // The daily session end: live sessions close and the old trade token gets `N`.
      token = tradeToken();
      sim.endSessions();
      return token;
    },
    {
      sim,
      url,
      sid: SIM_SID,
      instruments,
      get accessToken() {
        return token;
      },
    },
  );
}

/**
 * `deno task sim kotak`: `--port` (default 9103), `--tick-interval <ms>`; streams the testdata
 * masters.
 *
 * @example
 * ```ts ignore
 * await main(["--port", "9103"]);
 * ```
 */
export function main(args: string[]): Promise<void> {
  return runSimulatorCli(args, {
    defaultPort: 9103,
    start: ({ port, tickEveryMs }) => startKotakSimulator({ port, tickIntervalMs: tickEveryMs }),
    describe: (sim) => [
      `Kotak Neo HSM simulator listening on ${sim.url} (${sim.instruments.size} instruments)`,
      `  TICKPLEX_BROKER_ACCESS_TOKEN=${sim.accessToken}`,
      `  TICKPLEX_BROKER_SID=${sim.sid}`,
      `  deno task start --broker kotak --feed-url ${sim.url} --instruments ${
        SIM_MASTERS.join(",")
      }`,
    ],
  });
}

if (import.meta.main) await main(Deno.args);
