// The Groww adapter's descriptor: what the pool and the registry need (name, worker, hosts,
// credentials, capabilities), loading neither codec nor simulator until a worker or `sim` asks.

import type { BrokerDescriptor } from "../../lib/adapter/contract.ts";
import type { Capabilities } from "../../lib/types.ts";
import { growwCapabilities, parseGrowwOptions } from "./options.ts";

/**
 * The Groww adapter: NATS over WebSocket with protobuf payloads; 1000 instruments per connection
 * (Groww's documented limit), 5 depth levels, one connection unless options allow more.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const caps = growwAdapter.capabilities({ accessToken: "t" });
 * assert.equal(caps.maxSymbolsPerConnection, 1000);
 * ```
 */
export const growwAdapter: BrokerDescriptor = {
  name: "groww",
  title: "Groww Trading API live feed (NATS over WebSocket, protobuf)",
  hosts: ["socket-api.groww.in:443", "api.groww.in:443", "growwapi-assets.groww.in:443"],
  credentials: [
    {
      env: "TICKPLEX_BROKER_ACCESS_TOKEN",
      option: "accessToken",
      required: true,
      secret: true,
      help: "Groww Trading API access token (daily; mints the socket token)",
    },
  ],
  workerUrl: new URL("./worker.ts", import.meta.url),
  simulator: (args) => import("./simulator.ts").then((m) => m.main(args)),
  capabilities(options: unknown): Capabilities {
    return growwCapabilities(parseGrowwOptions(options));
  },
};
