// The Kotak Neo adapter's descriptor: what the pool and the registry need (name, worker, hosts,
// credentials, capabilities), loading neither codec nor simulator until a worker or `sim` asks.

import type { BrokerDescriptor } from "../../lib/adapter/contract.ts";
import type { Capabilities } from "../../lib/types.ts";
import {
  KOTAK_FEED_URL,
  KOTAK_MASTER_HOST,
  kotakCapabilities,
  parseKotakOptions,
} from "./options.ts";

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
  simulator: (args) => import("./simulator.ts").then((m) => m.main(args)),
};
