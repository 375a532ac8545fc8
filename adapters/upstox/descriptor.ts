// The Upstox adapter's descriptor: what the pool and the registry need (name, worker, hosts,
// credentials, capabilities), loading neither codec nor simulator until a worker or `sim` asks.

import type { BrokerDescriptor } from "../../lib/adapter/contract.ts";
import type { Capabilities } from "../../lib/types.ts";
import {
  parseUpstoxOptions,
  UPSTOX_FEED_URL,
  UPSTOX_STREAM_HOST,
  upstoxCapabilities,
} from "./options.ts";
import { hostPort } from "../../lib/adapter/options.ts";
import { UPSTOX_INSTRUMENTS_URL } from "./instruments.ts";

/**
 * The Upstox adapter: Market Data Feed V3 connections (2 per user by default, up to 5000 LTPC keys
 * each; per-mode limits in options.ts), authorised over REST on every (re)connect.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(upstoxAdapter.capabilities({ accessToken: "t" }).maxConnections, 2);
 * ```
 */
export const upstoxAdapter: BrokerDescriptor = {
  name: "upstox",
  title: "Upstox Market Data Feed V3 (protobuf)",
  workerUrl: new URL("./worker.ts", import.meta.url),
  hosts: [hostPort(UPSTOX_FEED_URL), UPSTOX_STREAM_HOST, hostPort(UPSTOX_INSTRUMENTS_URL)],
  credentials: [{
    env: "TICKPLEX_BROKER_ACCESS_TOKEN",
    option: "accessToken",
    required: true,
    secret: true,
    help: "Upstox access token (OAuth, valid until 03:30 IST the next day)",
  }],
  capabilities(options: unknown): Capabilities {
    return upstoxCapabilities(parseUpstoxOptions(options));
  },
  simulator: (args) => import("./simulator.ts").then((m) => m.main(args)),
};
