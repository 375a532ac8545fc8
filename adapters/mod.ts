// The broker adapters compiled into tickplex, and how the configuration becomes each one's
// worker options.

import type { Config } from "../lib/config/mod.ts";
import type { BrokerDescriptor } from "../lib/adapter/contract.ts";
import { paperAdapter } from "./paper/mod.ts";
import { replayAdapter } from "./replay/mod.ts";
import { simulatorMain as zerodhaSimulator, zerodhaAdapter } from "./zerodha/mod.ts";

/** Adapters by broker name. */
export const ADAPTERS: Record<string, BrokerDescriptor> = {
  paper: paperAdapter,
  replay: replayAdapter,
  zerodha: zerodhaAdapter,
};

/** Builds the worker options of the configured broker from the configuration. */
export function adapterOptionsFor(config: Config): unknown {
  const b = config.broker;
  switch (b.name) {
    case "paper":
    case "replay":
      return b.options;
    case "zerodha":
      // Credentials come from TICKPLEX_BROKER_API_KEY / TICKPLEX_BROKER_ACCESS_TOKEN or the file.
      return {
        ...b.options,
        ...(b.apiKey !== undefined ? { apiKey: b.apiKey } : {}),
        ...(b.accessToken !== undefined ? { accessToken: b.accessToken } : {}),
        ...(b.feedUrl !== undefined ? { feedUrl: b.feedUrl } : {}),
        ...(b.instruments !== undefined ? { instrumentsPath: b.instruments } : {}),
      };
    default:
      return {
        ...b.options,
        ...(b.apiKey !== undefined ? { apiKey: b.apiKey } : {}),
        ...(b.accessToken !== undefined ? { accessToken: b.accessToken } : {}),
        ...(b.feedUrl !== undefined ? { feedUrl: b.feedUrl } : {}),
        ...(b.instruments !== undefined ? { instrumentsPath: b.instruments } : {}),
        ...b.extra,
      };
  }
}

/** Broker simulators runnable with `deno task sim <broker>`. */
export const SIMULATORS: Record<string, (args: string[]) => Promise<void>> = {
  zerodha: zerodhaSimulator,
};
