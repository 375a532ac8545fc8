// The example broker: the smallest adapter built on the kit (JSON over WebSocket with a token
// login), kept as the template for new brokers and run by the conformance suite.

import type { BrokerDescriptor } from "../../lib/adapter/mod.ts";
import type { Capabilities } from "../../lib/types.ts";
import { exampleCapabilities, parseExampleOptions } from "./options.ts";
import { main as simulator } from "./simulator.ts";

export { startExampleSimulator } from "./simulator.ts";

/**
 * The example broker's descriptor.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(exampleAdapter.credentials[0].env, "TICKPLEX_BROKER_ACCESS_TOKEN");
 * ```
 */
export const exampleAdapter: BrokerDescriptor = {
  name: "example",
  title: "Example broker (JSON over WebSocket): the template for new adapters",
  workerUrl: new URL("./worker.ts", import.meta.url),
  hosts: [],
  credentials: [{
    env: "TICKPLEX_BROKER_ACCESS_TOKEN",
    option: "accessToken",
    required: true,
    secret: true,
    help: "session token",
  }],
  simulator,
  capabilities: (options: unknown): Capabilities =>
    exampleCapabilities(parseExampleOptions(options)),
};
