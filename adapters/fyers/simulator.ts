// A local Fyers data socket (HSM v1-5) for tests and `deno task sim fyers`: the auth request is
// checked against the hsm_key of the access token it issued, the auth ack carries ack-every-N
// and streamDataConfig, channels start in lite mode until a full-mode request, and
// `POST /data/symbol-token` answers as Fyers' REST API does (for the official client).

import {
  type BrokerSimulator,
  CONFORMANCE_TIMINGS,
  runSimulatorCli,
} from "../../lib/adapter/sim/mod.ts";
import { encodeConnectReply, fieldText } from "../hsm/codec.ts";
import {
  fakeJwt,
  type HsmSimOptions,
  HsmSimulator,
  type SimInstrument,
  simulatorView,
} from "../hsm/simulator.ts";
import { FYERS_HSM, fyersStreamDataConfig } from "./codec.ts";
import { type FyersInstrument, loadFyersInstruments } from "./instruments.ts";
import { FYERS_LIMITS } from "./options.ts";

/** The app id of the tokens the simulator issues. */
export const SIM_APP_ID = "SIMAPP-100";

/** The testdata masters the simulator streams by default. */
export const SIM_MASTERS = [
  new URL("./testdata/NSE_CM.csv", import.meta.url).pathname,
  new URL("./testdata/NSE_FO.csv", import.meta.url).pathname,
];

/** Options of {@link startFyersSimulator}. */
export interface FyersSimulatorOptions extends HsmSimOptions {
  /** Symbol master files to stream (default the testdata masters). */
  instruments?: string[];
}

/** A running Fyers simulator. */
export interface FyersSimulator extends BrokerSimulator {
  readonly sim: HsmSimulator;
  /** `ws://127.0.0.1:<port>/hsm/v1-5/prod` */
  readonly url: string;
  /** The access token now valid (`APPID:jwt`). */
  readonly accessToken: string;
  readonly instruments: ReadonlyMap<string, FyersInstrument>;
}

function issue(): { accessToken: string; hsmKey: string } {
  const hsmKey = crypto.randomUUID().replace(/-/g, "");
  const jwt = fakeJwt({
    iss: "api.fyers.in",
    sub: "access_token",
    hsm_key: hsmKey,
    exp: Math.floor(Date.now() / 1000) + 86_400,
  });
  return { accessToken: `${SIM_APP_ID}:${jwt}`, hsmKey };
}

/**
 * Starts a Fyers simulator on 127.0.0.1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * await using sim = await startFyersSimulator({ tickIntervalMs: 0 });
 * assert.match(sim.url, /^ws:\/\/127\.0\.0\.1:\d+\//);
 * ```
 */
export async function startFyersSimulator(
  options: FyersSimulatorOptions = {},
): Promise<FyersSimulator> {
  const sources = options.instruments ?? SIM_MASTERS;
  const master = await loadFyersInstruments(sources);
  const instruments = new Map<string, FyersInstrument & SimInstrument>();
  const byTicker = new Map<string, FyersInstrument>();
  for (const ins of master.all()) {
    instruments.set(ins.token, { ...ins, tradingSymbol: ins.brokerSymbol ?? ins.symbol });
    byTicker.set(ins.ticker, ins);
  }
  let creds = issue();
  const sim = new HsmSimulator({
    config: FYERS_HSM,
    instruments,
    authenticate: (fields) => fieldText(fields.get(1)) === creds.hsmKey,
    connectReply: (ok, ackEvery) =>
      ok ? encodeConnectReply(true, ackEvery, fyersStreamDataConfig()) : encodeConnectReply(false),
    maxTopicsPerRequest: FYERS_LIMITS.maxTopicsPerRequest,
    defaultLite: true,
    async http(req, url) {
      if (url.pathname !== "/data/symbol-token") return null;
      if (req.method !== "POST") return new Response("method not allowed", { status: 405 });
      if (req.headers.get("authorization") !== creds.accessToken) {
        return Response.json({ s: "error", code: -16, message: "Could not authenticate" }, {
          status: 401,
        });
      }
      let symbols: unknown;
      try {
        symbols = (await req.json())?.symbols;
      } catch {
        symbols = undefined;
      }
      if (!Array.isArray(symbols)) {
        return Response.json({ s: "error", code: -50, message: "symbols missing" }, {
          status: 400,
        });
      }
      const validSymbol: Record<string, string> = {};
      const invalidSymbol: string[] = [];
      for (const s of symbols) {
        const ins = typeof s === "string" ? byTicker.get(s) : undefined;
        if (ins === undefined) invalidSymbol.push(String(s));
        else validSymbol[s as string] = ins.fyToken;
      }
      return Response.json({ s: "ok", code: 200, message: "", validSymbol, invalidSymbol });
    },
  }, options);
  const url = `${sim.server.url}hsm/v1-5/prod`;
  return simulatorView(
    sim,
    () => ({
      accessToken: creds.accessToken,
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
      creds = issue();
      // The old hsm_key is no longer accepted: live sessions end and reconnects get `N`.
      sim.endSessions();
      return creds.accessToken;
    },
    {
      sim,
      url,
      instruments,
      get accessToken() {
        return creds.accessToken;
      },
    },
  );
}

/**
 * `deno task sim fyers`: `--port` (default 9102), `--tick-interval <ms>`; streams the testdata
 * masters.
 *
 * @example
 * ```ts ignore
 * await main(["--port", "9102"]);
 * ```
 */
export function main(args: string[]): Promise<void> {
  return runSimulatorCli(args, {
    defaultPort: 9102,
    start: ({ port, tickEveryMs }) => startFyersSimulator({ port, tickIntervalMs: tickEveryMs }),
    describe: (sim) => [
      `Fyers HSM simulator listening on ${sim.url} (${sim.instruments.size} instruments)`,
      `  TICKPLEX_BROKER_ACCESS_TOKEN=${sim.accessToken}`,
      `  symbol-token REST: POST ${sim.sim.server.httpBase}/data/symbol-token`,
      `  deno task start --broker fyers --feed-url ${sim.url} --instruments ${
        SIM_MASTERS.join(",")
      }`,
    ],
  });
}

if (import.meta.main) await main(Deno.args);
