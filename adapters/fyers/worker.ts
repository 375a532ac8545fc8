// The Fyers adapter worker: the HSM dialect with Fyers' auth (the JWT's hsm_key), full mode on
// its channel, 30 s pings and the streamDataConfig field order, run by the adapter kit.

import {
  AuthError,
  type BrokerSpec,
  type Dialect,
  type DialectContext,
  runBroker,
} from "../../lib/adapter/mod.ts";
import {
  encodeChannelMode,
  encodeChannels,
  encodeFyersAuth,
  encodeFyersPing,
  REQ,
} from "../hsm/codec.ts";
import { hsmDialect, jwtClaims, rejectExpired } from "../hsm/dialect.ts";
import { FYERS_HSM, parseStreamDataConfig } from "./codec.ts";
import { type FyersInstrument, loadFyersInstruments } from "./instruments.ts";
import {
  FYERS_LIMITS,
  fyersCapabilities,
  type FyersOptions,
  parseFyersOptions,
} from "./options.ts";

/**
 * The `hsm_key` of an `APPID:token` access token; AuthError when it has none or has expired.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const jwt = `h.${btoa(JSON.stringify({ hsm_key: "abc", exp: 4102444800 }))}.s`;
 * assert.equal(hsmKeyOf(`APP-100:${jwt}`, Date.now()), "abc");
 * assert.throws(() => hsmKeyOf("APP-100:opaque", Date.now()), /hsm_key/);
 * ```
 */
export function hsmKeyOf(accessToken: string, now: number): string {
  const claims = jwtClaims(accessToken.slice(accessToken.indexOf(":") + 1));
  const key = claims?.hsm_key;
  if (typeof key !== "string" || key === "") {
    throw new AuthError("fyers: the access token is not a JWT with an hsm_key claim");
  }
  rejectExpired(claims, now, "fyers");
  return key;
}

/**
 * The dialect of one Fyers data-socket connection.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFyersOptions } from "./options.ts";
 * const jwt = `h.${btoa(JSON.stringify({ hsm_key: "abc" }))}.s`;
 * const o = parseFyersOptions({ accessToken: `A:${jwt}`, feedUrl: "ws://127.0.0.1:9/" });
 * const d = fyersDialect(() => o, { connection: 0, lookup: () => undefined });
 * assert.equal((await d.endpoint(new AbortController().signal)).url, "ws://127.0.0.1:9/");
 * ```
 */
export function fyersDialect(
  options: () => FyersOptions,
  context: DialectContext<FyersInstrument>,
): Dialect<FyersInstrument> {
  let hsmKey = "";
  const channel = () => options().channel;
  return hsmDialect({
    config: FYERS_HSM,
    endpoint() {
      const o = options();
      hsmKey = hsmKeyOf(o.accessToken, Date.now());
      return { url: o.feedUrl };
    },
    login: () => [encodeFyersAuth(hsmKey)],
    keepAlive: { everyMs: FYERS_LIMITS.pingEveryMs, frame: encodeFyersPing },
    channels: {
      first: channel(),
      last: channel(),
      perChannel: FYERS_LIMITS.maxSymbolsPerConnection,
    },
    maxTopicsPerRequest: FYERS_LIMITS.maxTopicsPerRequest,
    onLoggedIn(msg, decoder) {
      let log: { level: "warning"; message: string } | undefined;
      if (msg.streamConfig !== undefined) {
        const cfg = parseStreamDataConfig(msg.streamConfig);
        if (typeof cfg === "string") {
          log = {
            level: "warning",
            message: `streamDataConfig not usable (${cfg}); using the documented field order`,
          };
        } else decoder.setLayout(cfg.layout, cfg.liteCount);
      }
      // Full mode asked for explicitly rather than relying on the channel's default, and the
      // channel resumed, before the session resubscribes.
      return {
        reply: [encodeChannelMode([channel()], "full"), encodeChannels(REQ.RESUME, [channel()])],
        log,
      };
    },
  }, context);
}

/** The Fyers broker as the adapter kit runs it. */
export const fyersSpec: BrokerSpec<FyersOptions, FyersInstrument> = {
  broker: "fyers",
  parseOptions: parseFyersOptions,
  capabilities: fyersCapabilities,
  loadInstruments: (o, signal) => loadFyersInstruments(o.instruments, signal),
  dialect: fyersDialect,
};

// Imported by tests on the main thread for the spec; runs only as a worker.
if ("WorkerGlobalScope" in globalThis) runBroker(fyersSpec);
