// The Angel One (SmartAPI WebSocket 2.0) adapter as the pool sees it: its descriptor, options and
// simulator entry points.

import type { BrokerDescriptor } from "../../lib/adapter/mod.ts";
import type { Capabilities } from "../../lib/types.ts";
import { angelCapabilities, parseAngelOptions } from "./options.ts";
import { main as simulator } from "./simulator.ts";

export {
  ANGEL_FEED_URL,
  ANGEL_LIMITS,
  angelCapabilities,
  type AngelOptions,
  angelOptionsSchema,
  parseAngelOptions,
} from "./options.ts";
export {
  ANGEL_INSTRUMENTS_URL,
  type AngelInstrument,
  loadAngelInstruments,
} from "./instruments.ts";
export { type AngelSimulator, startAngelSimulator } from "./simulator.ts";

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
  simulator,
  capabilities: (options: unknown): Capabilities => angelCapabilities(parseAngelOptions(options)),
};
