// The Zerodha (Kite Connect v3) adapter as the pool sees it: descriptor, options schema, and the
// simulator entry points.

import type { BrokerDescriptor } from "../../lib/adapter/contract.ts";
import type { Capabilities } from "../../lib/types.ts";
import { parseZerodhaOptions, zerodhaCapabilities } from "./options.ts";
import { main as simulator } from "./simulator.ts";

export {
  KITE_FEED_URL,
  KITE_LIMITS,
  parseZerodhaOptions,
  zerodhaCapabilities,
  type ZerodhaOptions,
  zerodhaOptionsSchema,
} from "./options.ts";
export {
  KITE_INSTRUMENTS_URL,
  type KiteMaster,
  loadKiteMaster,
  masterFromCsv,
} from "./instruments.ts";
export {
  main as simulatorMain,
  SIM_ACCESS_TOKEN,
  SIM_API_KEY,
  startZerodhaSimulator,
  type ZerodhaSimulator,
  type ZerodhaSimulatorOptions,
} from "./simulator.ts";

/**
 * The Zerodha adapter: its worker and its capabilities (Kite's 3000 instruments × 3 connections,
 * 200 tokens per frame, 5 depth levels), lowered by options where they ask.
 *
 * @example
 * ```ts ignore
 * const caps = zerodhaAdapter.capabilities({ apiKey, accessToken, instrumentsPath });
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
  simulator,
  capabilities(options: unknown): Capabilities {
    return zerodhaCapabilities(parseZerodhaOptions(options));
  },
};
