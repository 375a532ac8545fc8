// The Angel One adapter's descriptor: what the pool and the registry need (name, worker, hosts,
// credentials, capabilities), loading neither codec nor simulator until a worker or `sim` asks.

import type { BrokerDescriptor } from "../../lib/adapter/contract.ts";
import type { Capabilities } from "../../lib/types.ts";
import { angelCapabilities, parseAngelOptions } from "./options.ts";

/**
 * The Angel One adapter: 1000 tokens per connection × 3 connections per client code, Depth as
 * SnapQuote (5 levels) or Depth-20 for NSE cash.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(angelAdapter.credentials.map((c) => c.option), [
 *   "apiKey", "accessToken", "clientCode", "feedToken",
 * ]);
 * ```
 */
export const angelAdapter: BrokerDescriptor = {
  name: "angel",
  title: "Angel One SmartAPI WebSocket 2.0",
  workerUrl: new URL("./worker.ts", import.meta.url),
  hosts: ["smartapisocket.angelone.in:443", "margincalculator.angelbroking.com:443"],
  credentials: [
    {
      env: "TICKPLEX_BROKER_API_KEY",
      option: "apiKey",
      required: true,
      secret: true,
      help: "SmartAPI key (x-api-key)",
    },
    {
      env: "TICKPLEX_BROKER_ACCESS_TOKEN",
      option: "accessToken",
      required: true,
      secret: true,
      help: "SmartAPI login JWT (Authorization: Bearer), daily",
    },
    {
      env: "TICKPLEX_BROKER_CLIENT_CODE",
      option: "clientCode",
      required: true,
      secret: false,
      help: "Angel One client code (x-client-code)",
    },
    {
      env: "TICKPLEX_BROKER_FEED_TOKEN",
      option: "feedToken",
      required: true,
      secret: true,
      help: "SmartAPI feed token (x-feed-token), daily",
    },
  ],
  simulator: (args) => import("./simulator.ts").then((m) => m.main(args)),
  capabilities: (options: unknown): Capabilities => angelCapabilities(parseAngelOptions(options)),
};
