// The broker adapters compiled into tickplex. Registering a broker is one entry in BROKERS; its
// options, credentials, hosts and simulator come from its descriptor.

import type { BrokerDescriptor, SimulatorMain } from "../lib/adapter/contract.ts";
import type { Config } from "../lib/config/mod.ts";
import { angelAdapter } from "./angel/descriptor.ts";
import { dhanAdapter } from "./dhan/descriptor.ts";
import { exampleAdapter } from "./example/descriptor.ts";
import { fyersAdapter } from "./fyers/descriptor.ts";
import { kotakAdapter } from "./kotak/descriptor.ts";
import { growwAdapter } from "./groww/descriptor.ts";
import {
  flattradeAdapter,
  shoonyaAdapter,
  tradesmartAdapter,
  zebuAdapter,
} from "./noren/descriptor.ts";
import { paperAdapter } from "./paper/mod.ts";
import { replayAdapter } from "./replay/mod.ts";
import { upstoxAdapter } from "./upstox/descriptor.ts";
import { zerodhaAdapter } from "./zerodha/descriptor.ts";

/** Every broker adapter, in the order `--help` lists them. */
export const BROKERS: readonly BrokerDescriptor[] = [
  paperAdapter,
  replayAdapter,
  zerodhaAdapter,
  upstoxAdapter,
  angelAdapter,
  dhanAdapter,
  fyersAdapter,
  kotakAdapter,
  exampleAdapter,
  flattradeAdapter,
  shoonyaAdapter,
  zebuAdapter,
  tradesmartAdapter,
  growwAdapter,
];

/** Adapters by broker name. */
export const ADAPTERS: Readonly<Record<string, BrokerDescriptor>> = Object.fromEntries(
  BROKERS.map((b) => [b.name, b]),
);

/** Broker simulators runnable with `deno task sim <broker>`. */
export const SIMULATORS: Readonly<Record<string, SimulatorMain>> = Object.fromEntries(
  BROKERS.flatMap((b) => b.simulator !== undefined ? [[b.name, b.simulator]] : []),
);

const ENV_PREFIX = "TICKPLEX_BROKER_";

/**
 * The value a credential variable has in the configuration: API key and access token have their
 * own config fields, every other `TICKPLEX_BROKER_<NAME>` lands in `broker.extra[<name>]`.
 */
function credentialValue(config: Config, env: string): string | undefined {
  const b = config.broker;
  if (env === "TICKPLEX_BROKER_API_KEY") return b.apiKey;
  if (env === "TICKPLEX_BROKER_ACCESS_TOKEN") return b.accessToken;
  return env.startsWith(ENV_PREFIX)
    ? b.extra[env.slice(ENV_PREFIX.length).toLowerCase()]
    : undefined;
}

/**
 * Builds the configured broker's worker options: `broker.options`, then `--feed-url` and
 * `--instruments`, then every credential variable the descriptor declares.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig } from "../lib/config/mod.ts";
 * const { config } = await loadConfig({
 *   overrides: { broker: "zerodha", feedUrl: "ws://127.0.0.1:9101" },
 *   env: { TICKPLEX_BROKER_API_KEY: "k", TICKPLEX_BROKER_ACCESS_TOKEN: "t" },
 * });
 * assert.deepEqual(adapterOptionsFor(config), {
 *   feedUrl: "ws://127.0.0.1:9101", apiKey: "k", accessToken: "t",
 * });
 * ```
 */
export function adapterOptionsFor(config: Config): Record<string, unknown> {
  const b = config.broker;
  const options: Record<string, unknown> = { ...b.options };
  if (b.feedUrl !== undefined) options.feedUrl = b.feedUrl;
  if (b.instruments !== undefined) options.instruments = b.instruments;
  for (const c of ADAPTERS[b.name]?.credentials ?? []) {
    const v = credentialValue(config, c.env);
    if (v !== undefined) options[c.option] = v;
  }
  return options;
}
