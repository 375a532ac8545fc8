// The Dhan adapter's descriptor: what the pool and the registry need (name, worker, hosts,
// credentials, capabilities), loading neither codec nor simulator until a worker or `sim` asks.

import type { BrokerDescriptor } from "../../lib/adapter/contract.ts";
import type { Capabilities } from "../../lib/types.ts";
import { dhanCapabilities, parseDhanOptions } from "./options.ts";

/**
 * The Dhan adapter: 5000 instruments per connection × 5 connections, 100 per request, Depth as
 * the Full packet (5 levels).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(dhanAdapter.credentials.map((c) => c.env), [
 *   "TICKPLEX_BROKER_ACCESS_TOKEN", "TICKPLEX_BROKER_CLIENT_ID",
 * ]);
 * ```
 */
export const dhanAdapter: BrokerDescriptor = {
  name: "dhan",
  title: "Dhan live market feed v2",
  workerUrl: new URL("./worker.ts", import.meta.url),
  hosts: ["api-feed.dhan.co:443", "images.dhan.co:443"],
  credentials: [
    {
      env: "TICKPLEX_BROKER_ACCESS_TOKEN",
      option: "accessToken",
      required: true,
      secret: true,
      help: "Dhan access token (JWT)",
    },
    {
      env: "TICKPLEX_BROKER_CLIENT_ID",
      option: "clientId",
      required: true,
      secret: false,
      help: "Dhan client id",
    },
  ],
  simulator: (args) => import("./simulator.ts").then((m) => m.main(args)),
  capabilities: (options: unknown): Capabilities => dhanCapabilities(parseDhanOptions(options)),
};
