// The Zerodha adapter's descriptor: what the pool and the registry need (name, worker, hosts,
// credentials, capabilities), loading neither codec nor simulator until a worker or `sim` asks.

import type { BrokerDescriptor } from "../../lib/adapter/contract.ts";
import type { Capabilities } from "../../lib/types.ts";
import { parseZerodhaOptions, zerodhaCapabilities } from "./options.ts";

/**
 * The Zerodha adapter: its worker and its capabilities (Kite's 3000 instruments × 3 connections,
 * 200 tokens per frame, 5 depth levels), lowered by options where they ask.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const caps = zerodhaAdapter.capabilities({ apiKey: "k", accessToken: "t" });
 * assert.equal(caps.maxSymbolsPerConnection, 3000);
 * assert.equal(caps.maxConnections, 3);
 * ```
 */
export const zerodhaAdapter: BrokerDescriptor = {
  name: "zerodha",
  title: "Zerodha Kite Connect v3 ticker",
  hosts: ["ws.kite.trade:443", "api.kite.trade:443"],
  credentials: [
    {
      env: "TICKPLEX_BROKER_API_KEY",
      option: "apiKey",
      required: true,
      secret: true,
      help: "Kite Connect API key",
    },
    {
      env: "TICKPLEX_BROKER_ACCESS_TOKEN",
      option: "accessToken",
      required: true,
      secret: true,
      help: "Kite Connect access token (daily)",
    },
  ],
  workerUrl: new URL("./worker.ts", import.meta.url),
  simulator: (args) => import("./simulator.ts").then((m) => m.main(args)),
  capabilities(options: unknown): Capabilities {
    return zerodhaCapabilities(parseZerodhaOptions(options));
  },
};
