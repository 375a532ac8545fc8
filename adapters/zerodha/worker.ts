// The Zerodha adapter Web Worker: the Kite Ticker dialect on the kit's BrokerSession. Kite takes
// credentials in the URL, streams new tokens in quote mode (so other modes need a mode frame),
// sends 1-byte heartbeats and multi-packet binary frames, and answers bad credentials with a 403.

import {
  type Decoded,
  type Dialect,
  type DialectContext,
  type Frame,
  NOTHING,
  runBroker,
  type Wanted,
} from "../../lib/adapter/mod.ts";
import type { Mode } from "../../lib/types.ts";
import {
  createDecodeStats,
  decodeFrame,
  type DecodeStats,
  decodeTextMessage,
  encodeSetMode,
  encodeSubscribe,
  encodeUnsubscribe,
  KITE_MODE,
} from "./codec.ts";
import { type Instrument, loadKiteMaster } from "./instruments.ts";
import { parseZerodhaOptions, zerodhaCapabilities, type ZerodhaOptions } from "./options.ts";
import { fetchKiteQuotes } from "./rest.ts";

/** Which counter moved: the reason a malformed frame is reported under. */
const MALFORMED_COUNTERS = ["shortFrame", "overrun", "trailingBytes", "unknownLength"] as const;

/** The Kite Ticker dialect of one connection. */
class KiteDialect implements Dialect<Instrument> {
  readonly #options: () => ZerodhaOptions;
  readonly #lookup: (token: number) => Instrument | undefined;
  readonly stats: DecodeStats = createDecodeStats();
  /** Malformed counters as last reported, to name what a bad frame moved. */
  readonly #seen: Record<(typeof MALFORMED_COUNTERS)[number], number> = {
    shortFrame: 0,
    overrun: 0,
    trailingBytes: 0,
    unknownLength: 0,
  };

  constructor(options: () => ZerodhaOptions, context: DialectContext<Instrument>) {
    this.#options = options;
    this.#lookup = (token) => context.lookup(token);
  }

  endpoint(): { url: string; headers: Record<string, string> } {
    const o = this.#options();
    const url = new URL(o.feedUrl);
    url.searchParams.set("api_key", o.apiKey);
    url.searchParams.set("access_token", o.accessToken);
    return { url: url.href, headers: { "X-Kite-Version": "3" } };
  }

  subscribe(items: readonly Wanted<Instrument>[], mode: Mode): Frame[] {
    const tokens = items.map((w) => w.instrument.token);
    // Kite streams a new token in quote mode; any other mode needs its own frame.
    return mode === 2
      ? [encodeSubscribe(tokens)]
      : [encodeSubscribe(tokens), encodeSetMode(KITE_MODE[mode], tokens)];
  }

  unsubscribe(items: readonly Wanted<Instrument>[]): Frame[] {
    return [encodeUnsubscribe(items.map((w) => w.instrument.token))];
  }

  changeMode(items: readonly Wanted<Instrument>[], _from: Mode, to: Mode): Frame[] {
    return [encodeSetMode(KITE_MODE[to], items.map((w) => w.instrument.token))];
  }

  decode(data: string | ArrayBuffer | Uint8Array, now: number): Decoded {
    if (typeof data === "string") {
      const m = decodeTextMessage(data);
      if (m === null) return { malformed: "text" };
      if (m.type === "error") {
        return { log: { level: "warning", message: `Kite error: ${JSON.stringify(m.data)}` } };
      }
      if (m.type === "message") {
        return { log: { level: "info", message: `Kite message: ${JSON.stringify(m.data)}` } };
      }
      return NOTHING;
    }
    const s = this.stats;
    const errors = s.errors;
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    const ticks = decodeFrame(bytes, this.#lookup, now, s);
    // The common case (a clean frame) costs one comparison; only a bad frame finds its reason.
    if (s.errors === errors) return ticks.length > 0 ? { ticks } : NOTHING;
    const moved = MALFORMED_COUNTERS.find((k) => s[k] !== this.#seen[k]) ?? "malformed";
    for (const k of MALFORMED_COUNTERS) this.#seen[k] = s[k];
    return ticks.length > 0 ? { ticks, malformed: moved } : { malformed: moved };
  }
}

runBroker<ZerodhaOptions, Instrument>({
  broker: "zerodha",
  parseOptions: parseZerodhaOptions,
  capabilities: zerodhaCapabilities,
  loadInstruments: (o, signal) => loadKiteMaster(o.instruments, o.apiKey, o.accessToken, signal),
  dialect: (options, context) => new KiteDialect(options, context),
  quotes: (o, items, mode, signal) =>
    fetchKiteQuotes(
      o.apiUrl,
      o,
      mode,
      items.map(({ ref, instrument }) => ({
        kiteKey: `${instrument.kiteExchange}:${instrument.tradingSymbol}`,
        target: { ...ref, index: instrument.kiteSegment === "INDICES" },
      })),
      signal,
    ),
});
