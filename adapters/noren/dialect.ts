// The Noren dialect on the kit's BrokerSession: an in-band JSON login acknowledged by `ak`/`ck`,
// a `{"t":"h"}` heartbeat, touchline (`t`/`u`) serving LTP and Quote and depth (`d`/`ud`), and a
// decoder that keeps per-scrip state for the sparse updates.

import type {
  BrokerSpec,
  Decoded,
  Dialect,
  Endpoint,
  Frame,
  Wanted,
} from "../../lib/adapter/mod.ts";
import type { Mode } from "../../lib/types.ts";
import type { NorenBrokerConfig } from "./brokers.ts";
import {
  encodeLogin,
  encodeRequest,
  HEARTBEAT,
  NorenDecoder,
  streamFor,
  SUBSCRIBE,
  UNSUBSCRIBE,
} from "./codec.ts";
import { loadNorenMaster, masterSources, type NorenInstrument } from "./instruments.ts";
import { norenCapabilities, type NorenOptions, parseNorenOptions } from "./options.ts";

/**
 * One connection's Noren dialect. Its decoder's scrip table follows the frames it builds:
 * subscribing watches a scrip on its stream (waiting for a fresh snapshot), unsubscribing forgets
 * the scrip's state, and every login (a new connection) starts from an empty table, which the
 * session's resubscription fills again.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NOREN_BROKERS } from "./brokers.ts";
 * import type { NorenOptions } from "./options.ts";
 * const o = { accessToken: "t", userId: "U", login: "a", source: "API", heartbeatMs: 30_000,
 *   feedUrl: "ws://127.0.0.1:1/" } as NorenOptions;
 * const d = new NorenDialect(NOREN_BROKERS.flattrade, () => o);
 * assert.deepEqual(d.login(), ['{"t":"a","uid":"U","actid":"U","source":"API","accesstoken":"t"}']);
 * assert.equal(d.streamMode(1), d.streamMode(2));
 * ```
 */
export class NorenDialect implements Dialect<NorenInstrument> {
  readonly awaitsLogin = true;
  readonly keepAlive: { everyMs: number; frame(): Frame };
  readonly decoder: NorenDecoder<NorenInstrument> = new NorenDecoder();
  readonly #config: NorenBrokerConfig;
  readonly #options: () => NorenOptions;

  constructor(config: NorenBrokerConfig, options: () => NorenOptions) {
    this.#config = config;
    this.#options = options;
    this.keepAlive = { everyMs: options().heartbeatMs, frame: () => HEARTBEAT };
  }

  endpoint(): Endpoint {
    return { url: this.#options().feedUrl };
  }

  login(): Frame[] {
    this.decoder.reset();
    const o = this.#options();
    return [encodeLogin(o.login, {
      uid: o.userId,
      actid: o.accountId ?? o.userId,
      source: o.source,
      token: o.accessToken,
    })];
  }

  subscribe(items: readonly Wanted<NorenInstrument>[], mode: Mode): Frame[] {
    const stream = streamFor(mode);
    for (const w of items) this.decoder.watch(w.instrument.token, w.instrument, stream);
    return [encodeRequest(SUBSCRIBE[stream], items.map((w) => w.instrument.token))];
  }

  unsubscribe(items: readonly Wanted<NorenInstrument>[], mode: Mode): Frame[] {
    const stream = streamFor(mode);
    for (const w of items) this.decoder.unwatch(w.instrument.token, stream);
    return [encodeRequest(UNSUBSCRIBE[stream], items.map((w) => w.instrument.token))];
  }

  /** LTP and Quote are one touchline stream: moving between them sends nothing. */
  streamMode(mode: Mode): Mode {
    return mode === 3 ? 3 : 2;
  }

  decode(data: string | ArrayBuffer | Uint8Array, now: number): Decoded {
    return this.decoder.decode(data, now);
  }

  /** The broker this dialect speaks for (logs). */
  get broker(): string {
    return this.#config.name;
  }
}

/**
 * The kit spec of a Noren broker: options, capabilities, masters and dialect from its config.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NOREN_BROKERS } from "./brokers.ts";
 * assert.equal(norenSpec(NOREN_BROKERS.shoonya).broker, "shoonya");
 * ```
 */
export function norenSpec(config: NorenBrokerConfig): BrokerSpec<NorenOptions, NorenInstrument> {
  return {
    broker: config.name,
    parseOptions: (raw) => parseNorenOptions(config, raw),
    capabilities: (o) => norenCapabilities(config, o),
    loadInstruments: (o, signal) => loadNorenMaster(masterSources(o.instruments), signal),
    dialect: (options) => new NorenDialect(config, options),
  };
}
