// The Noren family (Flattrade, Shoonya, Zebu, TradeSmart) as the pool sees it: one descriptor per
// broker, all built from that broker's row of NOREN_BROKERS and sharing one codec and dialect.

import type { BrokerDescriptor, CredentialVar } from "../../lib/adapter/mod.ts";
import { hostPort } from "../../lib/adapter/mod.ts";
import type { Capabilities } from "../../lib/types.ts";
import { NOREN_BROKERS, type NorenBrokerConfig } from "./brokers.ts";
import { norenCapabilities, parseNorenOptions } from "./options.ts";
import { simulatorMain } from "./simulator.ts";

export { NOREN_BROKERS, type NorenBrokerConfig, type NorenLogin } from "./brokers.ts";
export { norenCapabilities, type NorenOptions, parseNorenOptions } from "./options.ts";
export { loadNorenMaster, type NorenInstrument, parseNorenMaster } from "./instruments.ts";
export {
  NorenSimulator,
  type NorenSimulatorOptions,
  SIM_ACCESS_TOKEN,
  SIM_USER_ID,
  simulatorMain,
  startNorenSimulator,
} from "./simulator.ts";

/** The credential variables every Noren broker reads. */
export const NOREN_CREDENTIALS: readonly CredentialVar[] = [
  {
    env: "TICKPLEX_BROKER_ACCESS_TOKEN",
    option: "accessToken",
    required: true,
    secret: true,
    help: "session token (susertoken / access token from the broker's login flow; daily)",
  },
  {
    env: "TICKPLEX_BROKER_USER_ID",
    option: "userId",
    required: true,
    secret: false,
    help: "Noren user id (uid)",
  },
  {
    env: "TICKPLEX_BROKER_ACCOUNT_ID",
    option: "accountId",
    required: false,
    secret: false,
    help: "Noren account id (actid), when it differs from the user id",
  },
];

/**
 * The production hosts of a Noren broker: its feed endpoints (every login variant) and the
 * hosts of its plain-CSV masters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(norenHosts(NOREN_BROKERS.shoonya), ["api.shoonya.com:443"]);
 * ```
 */
export function norenHosts(config: NorenBrokerConfig): string[] {
  const hosts: string[] = [];
  for (const url of Object.values(config.feedUrls)) {
    const h = hostPort(url);
    if (!hosts.includes(h)) hosts.push(h);
  }
  for (const h of config.masterHosts) if (!hosts.includes(h)) hosts.push(h);
  return hosts;
}

/**
 * The adapter descriptor of one Noren broker.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const d = norenDescriptor(NOREN_BROKERS.flattrade);
 * assert.equal(d.name, "flattrade");
 * assert.equal(d.capabilities({ accessToken: "t", userId: "U", instruments: "a.csv" })
 *   .maxConnections, 2);
 * ```
 */
export function norenDescriptor(config: NorenBrokerConfig): BrokerDescriptor {
  return {
    name: config.name,
    title: config.title,
    workerUrl: new URL(`./worker_${config.name}.ts`, import.meta.url),
    hosts: norenHosts(config),
    credentials: NOREN_CREDENTIALS,
    simulator: simulatorMain(config),
    capabilities(options: unknown): Capabilities {
      return norenCapabilities(config, parseNorenOptions(config, options));
    },
  };
}

/** `--broker flattrade`. */
export const flattradeAdapter: BrokerDescriptor = norenDescriptor(NOREN_BROKERS.flattrade);
/** `--broker shoonya`. */
export const shoonyaAdapter: BrokerDescriptor = norenDescriptor(NOREN_BROKERS.shoonya);
/** `--broker zebu`. */
export const zebuAdapter: BrokerDescriptor = norenDescriptor(NOREN_BROKERS.zebu);
/** `--broker tradesmart`. */
export const tradesmartAdapter: BrokerDescriptor = norenDescriptor(NOREN_BROKERS.tradesmart);
