// The Noren family adapter's descriptor: what the pool and the registry need (name, worker, hosts,
// credentials, capabilities), loading neither codec nor simulator until a worker or `sim` asks.

import type { BrokerDescriptor, CredentialVar } from "../../lib/adapter/contract.ts";
import { hostPort } from "../../lib/adapter/options.ts";
import type { Capabilities } from "../../lib/types.ts";
import { NOREN_BROKERS, type NorenBrokerConfig } from "./brokers.ts";
import { norenCapabilities, parseNorenOptions } from "./options.ts";

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
 * import { NOREN_BROKERS } from "./brokers.ts";
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
 * import { NOREN_BROKERS } from "./brokers.ts";
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
    simulator: (args) => import("./simulator.ts").then((m) => m.simulatorMain(config)(args)),
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
