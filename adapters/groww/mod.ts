// The Groww adapter as the pool sees it: descriptor, options, and the simulator entry points.

import type { BrokerDescriptor } from "../../lib/adapter/mod.ts";
import type { Capabilities } from "../../lib/types.ts";
import { growwCapabilities, parseGrowwOptions } from "./options.ts";
import { main as simulator } from "./simulator.ts";

export {
  GROWW_API_URL,
  GROWW_FEED_URL,
  GROWW_LIMITS,
  growwCapabilities,
  type GrowwOptions,
  growwOptionsSchema,
  parseGrowwOptions,
  socketTokenUrl,
} from "./options.ts";
export { GROWW_INSTRUMENTS_URL, type GrowwInstrument, loadGrowwMaster } from "./instruments.ts";
export {
  type GrowwSimulator,
  type GrowwSimulatorOptions,
  main as simulatorMain,
  SAMPLE_INSTRUMENTS,
  SIM_ACCESS_TOKEN,
  startGrowwSimulator,
} from "./simulator.ts";

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
  simulator,
  capabilities(options: unknown): Capabilities {
    return growwCapabilities(parseGrowwOptions(options));
  },
};
