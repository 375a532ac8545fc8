// Opens a NATS connection from the `nats` block of the configuration: servers, one way to
// authenticate (user/pass, token or an nkey seed file) and TLS, with the official Node transport.

import { connect, type NatsConnection, nkeyAuthenticator } from "@nats-io/transport-node";
import type { NatsConfig } from "../config/mod.ts";
import { addSecret, getLogger } from "../log.ts";

const log = getLogger(["tickplex", "nats"]);

let guarded = false;

/**
 * nats.js's Node transport drops its socket listeners when it closes a connection the server is
 * tearing down (an authorization violation); on Deno the reset then surfaces as an uncaught `read
 * ECONNRESET` from a socket nobody listens to any more, which would end the process. Such an error
 * concerns a socket already given up, so it is logged and dropped; every other error stays fatal.
 */
function guardAbandonedSocketResets(): void {
  if (guarded) return;
  guarded = true;
  globalThis.addEventListener("error", (event: ErrorEvent) => {
    const err = event.error as { code?: unknown; syscall?: unknown; stack?: unknown } | null;
    if (
      err?.code === "ECONNRESET" && err.syscall === "read" &&
      typeof err.stack === "string" && err.stack.includes("onStreamRead")
    ) {
      event.preventDefault();
      log.debug("dropped a reset of an abandoned NATS socket");
    }
  });
}

/**
 * Fails with the flag to add when a server is outside this process's net permission: the
 * permission sets in deno.json allow loopback only (besides brokers), so a NATS cluster on other
 * machines is granted explicitly, and a denied connect would otherwise surface deep in nats.js.
 */
async function assertReachable(servers: readonly string[]): Promise<void> {
  for (const server of servers) {
    const url = new URL(server.replace(/^(nats|tls):/, "http:"));
    const host = `${url.hostname}:${url.port || "4222"}`;
    const { state } = await Deno.permissions.query({ name: "net", host });
    if (state !== "granted") {
      throw new Error(
        `nats: ${server} is outside this process's net permission; run with ` +
          `--allow-net=${host} next to -P=gateway / -P=edge (the permission sets allow loopback only)`,
      );
    }
  }
}

/**
 * Connects to the configured NATS servers; rejects with a message naming them when none answers.
 * Reconnects for ever afterwards (the client resubscribes by itself), so a NATS restart is
 * survived by everything built on the connection.
 */
export async function connectNats(config: NatsConfig, name: string): Promise<NatsConnection> {
  guardAbandonedSocketResets();
  let authenticator;
  if (config.nkeySeedFile !== undefined) {
    let seed: string;
    try {
      seed = (await Deno.readTextFile(config.nkeySeedFile)).trim();
    } catch (e) {
      throw new Error(
        `nats.nkeySeedFile: cannot read ${config.nkeySeedFile}: ${
          e instanceof Error ? e.message : e
        }`,
      );
    }
    addSecret(seed);
    authenticator = nkeyAuthenticator(new TextEncoder().encode(seed));
  }
  if (config.pass !== undefined) addSecret(config.pass);
  if (config.token !== undefined) addSecret(config.token);
  await assertReachable(config.servers);
  try {
    return await connect({
      servers: config.servers,
      name: config.name ?? name,
      ...(config.user !== undefined ? { user: config.user, pass: config.pass } : {}),
      ...(config.token !== undefined ? { token: config.token } : {}),
      ...(authenticator !== undefined ? { authenticator } : {}),
      ...(config.tls !== undefined ? { tls: { ...config.tls } } : {}),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
  } catch (e) {
    throw new Error(
      `nats: cannot connect to ${config.servers.join(", ")}: ${e instanceof Error ? e.message : e}`,
    );
  }
}
