// The Angel One SmartAPI WebSocket 2.0 dialect on the kit's BrokerSession: header auth, a text
// `ping` every 10 s, one JSON request per mode grouped by exchange type, Depth as SnapQuote (best
// five) plus a Depth-20 stream where Angel allows it (NSE cash, ≤ 50 tokens).

import {
  type BrokerSpec,
  type Decoded,
  type Dialect,
  type DialectContext,
  type Endpoint,
  type Frame,
  NOTHING,
  type Wanted,
} from "../../lib/adapter/mod.ts";
import type { Depth, Mode, Tick } from "../../lib/types.ts";
import {
  ACTION,
  type AngelMode,
  createDecodeStats,
  decodePacket,
  type DecodeStats,
  decodeText,
  encodeRequest,
  EXCHANGE_TYPE,
  type TokenGroup,
} from "./codec.ts";
import { type AngelInstrument, loadAngelInstruments } from "./instruments.ts";
import { angelCapabilities, type AngelOptions, parseAngelOptions } from "./options.ts";

/** OpenAlgo mode → Angel mode: Depth is SnapQuote (best five); Depth-20 rides alongside. */
export const ANGEL_MODE_OF: Readonly<Record<Mode, AngelMode>> = { 1: 1, 2: 2, 3: 3 };

/** What the dialect holds for a Depth-20 instrument: its last SnapQuote tick and 20-level book. */
interface Merged {
  quote: Tick | null;
  book: Depth | null;
}

/** `Authorization` value: Angel's clients pass the JWT with or without the `Bearer ` prefix. */
function bearer(jwt: string): string {
  return /^bearer /i.test(jwt) ? jwt : `Bearer ${jwt}`;
}

function groups(items: readonly Wanted<AngelInstrument>[]): TokenGroup[] {
  const byType = new Map<number, string[]>();
  for (const w of items) {
    const list = byType.get(w.instrument.exchangeType);
    if (list === undefined) byType.set(w.instrument.exchangeType, [w.instrument.angelToken]);
    else list.push(w.instrument.angelToken);
  }
  return [...byType].map(([exchangeType, tokens]) => ({ exchangeType, tokens }));
}

/**
 * The Angel dialect of one connection.
 *
 * Depth: every Depth instrument streams SnapQuote (mode 3, best five). NSE cash instruments
 * asked for 20 levels also stream Depth-20 (mode 4) while fewer than `maxDepth20Tokens` do; a
 * Depth-20 packet has no prices of its own, so its book is merged into the instrument's last
 * SnapQuote tick, and SnapQuote ticks carry the last 20-level book. The depth stated in the ack
 * (`depthFor`) is the depth delivered. Angel streams one mode per token and keys subscriptions by
 * mode, so a mode change unsubscribes the old mode (the kit's default).
 */
export class AngelDialect implements Dialect<AngelInstrument> {
  readonly #options: () => AngelOptions;
  readonly #lookup: (key: number) => AngelInstrument | undefined;
  /** Keys granted 20 levels (they stream mode 3 and mode 4). */
  readonly #depth20 = new Set<number>();
  /** Keys this dialect asked to stream in SnapQuote; their depth cannot change in place. */
  readonly #snap = new Set<number>();
  readonly #merged = new Map<number, Merged>();
  #correlation = 0;
  readonly stats: DecodeStats = createDecodeStats();
  readonly keepAlive: { everyMs: number; frame(): Frame };

  constructor(options: () => AngelOptions, context: DialectContext<AngelInstrument>) {
    this.#options = options;
    this.#lookup = (key) => context.lookup(key);
    this.keepAlive = { everyMs: options().pingIntervalMs, frame: () => "ping" };
  }

  /** Keys currently granted 20 levels (for tests). */
  get depth20(): ReadonlySet<number> {
    return this.#depth20;
  }

  endpoint(): Endpoint {
    const o = this.#options();
    // A new connection starts from fresh SnapQuotes; a book older than it must not be merged.
    this.#merged.clear();
    return {
      url: o.feedUrl,
      headers: {
        "Authorization": bearer(o.accessToken),
        "x-api-key": o.apiKey,
        "x-client-code": o.clientCode,
        "x-feed-token": o.feedToken,
      },
    };
  }

  subscribe(items: readonly Wanted<AngelInstrument>[], mode: Mode): Frame[] {
    const frames = [this.#request(ACTION.SUBSCRIBE, ANGEL_MODE_OF[mode], groups(items))];
    if (mode !== 3) return frames;
    for (const w of items) this.#snap.add(w.instrument.token);
    const deep = items.filter((w) => this.#depth20.has(w.instrument.token));
    if (deep.length > 0) frames.push(this.#request(ACTION.SUBSCRIBE, 4, groups(deep)));
    return frames;
  }

  unsubscribe(items: readonly Wanted<AngelInstrument>[], mode: Mode): Frame[] {
    const frames = [this.#request(ACTION.UNSUBSCRIBE, ANGEL_MODE_OF[mode], groups(items))];
    if (mode !== 3) return frames;
    const deep = items.filter((w) => this.#depth20.has(w.instrument.token));
    if (deep.length > 0) frames.push(this.#request(ACTION.UNSUBSCRIBE, 4, groups(deep)));
    for (const w of items) {
      const key = w.instrument.token;
      this.#snap.delete(key);
      this.#depth20.delete(key);
      this.#merged.delete(key);
    }
    return frames;
  }

  depthFor(instrument: AngelInstrument, requested: number): number {
    if (instrument.exchange.endsWith("_INDEX")) return 0;
    const key = instrument.token;
    if (this.#depth20.has(key)) return 20;
    const grant = requested >= 20 &&
      instrument.exchangeType === EXCHANGE_TYPE.nse_cm &&
      !this.#snap.has(key) &&
      this.#depth20.size < this.#options().maxDepth20Tokens;
    if (!grant) return 5;
    this.#depth20.add(key);
    return 20;
  }

  decode(data: string | ArrayBuffer | Uint8Array, now: number): Decoded {
    if (typeof data === "string") {
      const t = decodeText(data);
      if (t.kind === "pong") return NOTHING;
      if (t.kind === "error") {
        return {
          log: {
            level: "warning",
            message: `Angel error ${t.errorCode} (${t.correlationID}): ${t.errorMessage}`,
          },
        };
      }
      return { malformed: "unexpected text" };
    }
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    const r = decodePacket(bytes, this.#lookup, now, this.stats);
    if (r.kind === "skip") return r.malformed !== undefined ? { malformed: r.malformed } : NOTHING;
    if (!this.#depth20.has(r.key)) {
      return r.kind === "tick" ? { ticks: [r.tick] } : NOTHING;
    }
    let m = this.#merged.get(r.key);
    if (m === undefined) {
      m = { quote: null, book: null };
      this.#merged.set(r.key, m);
    }
    if (r.kind === "depth20") {
      m.book = r.depth;
      if (m.quote === null) return NOTHING; // no prices yet; the next SnapQuote carries the book
      const tick: Tick = { ...m.quote, depth: r.depth, timestamp: r.timestamp ?? now };
      return { ticks: [tick] };
    }
    if (r.tick.mode !== 3) return { ticks: [r.tick] };
    m.quote = r.tick;
    return { ticks: [m.book === null ? r.tick : { ...r.tick, depth: m.book }] };
  }

  #request(action: 0 | 1, mode: AngelMode, tokenList: TokenGroup[]): string {
    this.#correlation = (this.#correlation + 1) % 100_000_000;
    return encodeRequest(
      action,
      mode,
      tokenList,
      `tp${String(this.#correlation).padStart(8, "0")}`,
    );
  }
}

/** The Angel adapter as the kit runs it (the worker is `runBroker(angelSpec)`). */
export const angelSpec: BrokerSpec<AngelOptions, AngelInstrument> = {
  broker: "angel",
  parseOptions: parseAngelOptions,
  capabilities: angelCapabilities,
  loadInstruments: (o, signal) => loadAngelInstruments(o.instruments, signal),
  dialect: (options, context) => new AngelDialect(options, context),
};
