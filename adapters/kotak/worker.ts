// The Kotak Neo adapter worker: the HSM dialect with Kotak's binary connect (trade token + sid),
// channels 2–16, the type-2 keep-alive, and the daily session end surfacing as auth_failed.

import {
  type BrokerSpec,
  type Dialect,
  type DialectContext,
  runBroker,
} from "../../lib/adapter/mod.ts";
import { encodeKotakConnect, encodeThrottle, KOTAK_HSM } from "../hsm/codec.ts";
import { hsmDialect, jwtClaims, rejectExpired } from "../hsm/dialect.ts";
import { type KotakInstrument, loadKotakInstruments } from "./instruments.ts";
import {
  KOTAK_LIMITS,
  kotakCapabilities,
  type KotakOptions,
  parseKotakOptions,
} from "./options.ts";

/**
 * The trade token and sid to connect with. A fresh token handed over at run time may carry its
 * new sid as `<token>:::<sid>` (each login issues both); a bare token keeps the configured sid.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(kotakCredentials("t1", "s0"), { token: "t1", sid: "s0" });
 * assert.deepEqual(kotakCredentials("t2:::s2", "s0"), { token: "t2", sid: "s2" });
 * ```
 */
export function kotakCredentials(accessToken: string, sid: string): { token: string; sid: string } {
  const at = accessToken.indexOf(":::");
  return at < 0
    ? { token: accessToken, sid }
    : { token: accessToken.slice(0, at), sid: accessToken.slice(at + 3) };
}

/**
 * The dialect of one Kotak HSM connection.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseKotakOptions } from "./options.ts";
 * const o = parseKotakOptions({ accessToken: "t", sid: "s", instruments: "x.csv" });
 * const d = kotakDialect(() => o, { connection: 0, lookup: () => undefined });
 * assert.equal(d.login?.().length, 1);
 * ```
 */
export function kotakDialect(
  options: () => KotakOptions,
  context: DialectContext<KotakInstrument>,
): Dialect<KotakInstrument> {
  const creds = () => kotakCredentials(options().accessToken, options().sid);
  return hsmDialect({
    config: KOTAK_HSM,
    endpoint() {
      // The trade token is a JWT: an expired one is rejected before connecting.
      rejectExpired(jwtClaims(creds().token), Date.now(), "kotak");
      return { url: options().feedUrl };
    },
    login() {
      const c = creds();
      return [encodeKotakConnect(c.token, c.sid)];
    },
    // Kotak's browser library sends a throttling-interval request (value 0) every 30 s.
    keepAlive: { everyMs: KOTAK_LIMITS.keepAliveEveryMs, frame: () => encodeThrottle(0) },
    channels: KOTAK_LIMITS.channels,
    maxTopicsPerRequest: KOTAK_LIMITS.maxTopicsPerRequest,
  }, context);
}

/** The Kotak broker as the adapter kit runs it. */
export const kotakSpec: BrokerSpec<KotakOptions, KotakInstrument> = {
  broker: "kotak",
  parseOptions: parseKotakOptions,
  capabilities: kotakCapabilities,
  loadInstruments: (o, signal) => loadKotakInstruments(o.instruments, signal),
  dialect: kotakDialect,
};

// Imported by tests on the main thread for the spec; runs only as a worker.
if ("WorkerGlobalScope" in globalThis) runBroker(kotakSpec);
