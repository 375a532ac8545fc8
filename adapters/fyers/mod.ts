// The Fyers adapter as the main isolate sees it: descriptor (worker, production hosts, the
// credential variable) and the simulator entry point.

import type { BrokerDescriptor } from "../../lib/adapter/mod.ts";
import type { Capabilities } from "../../lib/types.ts";
import { FYERS_MASTER_URLS } from "./instruments.ts";
import { FYERS_FEED_URL, fyersCapabilities, parseFyersOptions } from "./options.ts";
import { main as fyersSimulatorMain } from "./simulator.ts";

export { FYERS_FEED_URL, FYERS_LIMITS, type FyersOptions, parseFyersOptions } from "./options.ts";
export { startFyersSimulator } from "./simulator.ts";

/**
 * The Fyers adapter: HSM data socket, 5000 symbols on one connection, 5 depth levels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(fyersAdapter.credentials[0].env, "TICKPLEX_BROKER_ACCESS_TOKEN");
 * ```
 */
export const fyersAdapter: BrokerDescriptor = {
  name: "fyers",
  title: "Fyers API v3 data socket (HSM)",
  workerUrl: new URL("./worker.ts", import.meta.url),
  hosts: [
    new URL(FYERS_FEED_URL).host + ":443",
    ...new Set(FYERS_MASTER_URLS.map((u) => new URL(u).host + ":443")),
  ],
  credentials: [
    {
      env: "TICKPLEX_BROKER_ACCESS_TOKEN",
      option: "accessToken",
      required: true,
      secret: true,
      help: "Fyers access token as APPID:token (the token is the JWT from validate-authcode)",
    },
  ],
  capabilities(options: unknown): Capabilities {
    return fyersCapabilities(parseFyersOptions(options));
  },
  simulator: fyersSimulatorMain,
};
