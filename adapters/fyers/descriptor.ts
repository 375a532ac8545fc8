// The Fyers adapter's descriptor: what the pool and the registry need (name, worker, hosts,
// credentials, capabilities), loading neither codec nor simulator until a worker or `sim` asks.

import type { BrokerDescriptor } from "../../lib/adapter/contract.ts";
import type { Capabilities } from "../../lib/types.ts";
import { FYERS_MASTER_URLS } from "./instruments.ts";
import { FYERS_FEED_URL, fyersCapabilities, parseFyersOptions } from "./options.ts";

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
  simulator: (args) => import("./simulator.ts").then((m) => m.main(args)),
};
