// The Kotak Neo adapter as the main isolate sees it: descriptor (worker, production hosts, the
// credential variables) and the simulator entry point.

import type { BrokerDescriptor } from "../../lib/adapter/mod.ts";
import type { Capabilities } from "../../lib/types.ts";
import {
  KOTAK_FEED_URL,
  KOTAK_MASTER_HOST,
  kotakCapabilities,
  parseKotakOptions,
} from "./options.ts";
import { main as kotakSimulatorMain } from "./simulator.ts";

export { KOTAK_FEED_URL, KOTAK_LIMITS, type KotakOptions, parseKotakOptions } from "./options.ts";
export { startKotakSimulator } from "./simulator.ts";

/**
 * The Kotak Neo adapter: HSM socket, 1500 instruments on one connection, 5 depth levels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(kotakAdapter.credentials.map((c) => c.option), ["accessToken", "sid"]);
 * ```
 */
export const kotakAdapter: BrokerDescriptor = {
  name: "kotak",
  title: "Kotak Neo HSM market-data socket",
  workerUrl: new URL("./worker.ts", import.meta.url),
  hosts: [new URL(KOTAK_FEED_URL).host + ":443", KOTAK_MASTER_HOST],
  credentials: [
    {
      env: "TICKPLEX_BROKER_ACCESS_TOKEN",
      option: "accessToken",
      required: true,
      secret: true,
      help: "Kotak Neo trade token (data.token of tradeApiValidate)",
    },
    {
      env: "TICKPLEX_BROKER_SID",
      option: "sid",
      required: true,
      secret: true,
      help: "Kotak Neo trade session id (data.sid of tradeApiValidate)",
    },
  ],
  capabilities(options: unknown): Capabilities {
    return kotakCapabilities(parseKotakOptions(options));
  },
  simulator: kotakSimulatorMain,
};
