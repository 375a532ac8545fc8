// The example adapter's descriptor: what the pool and the registry need (name, worker, hosts,
// credentials, capabilities), loading neither codec nor simulator until a worker or `sim` asks.

import type { BrokerDescriptor } from "../../lib/adapter/contract.ts";
import type { Capabilities } from "../../lib/types.ts";
import { exampleCapabilities, parseExampleOptions } from "./options.ts";

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
  simulator: (args) => import("./simulator.ts").then((m) => m.main(args)),
  capabilities: (options: unknown): Capabilities =>
    exampleCapabilities(parseExampleOptions(options)),
};
