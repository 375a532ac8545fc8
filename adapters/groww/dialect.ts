// The Groww dialect for the kit's BrokerSession. Every (re)connect mints a socket token for a
// fresh NKey over REST, then the official NATS client carries one subscription per subject: the
// price subject for LTP and Quote, the price and book subjects for Depth, the indices subject for
// indices.

import {
  AuthError,
  type Decoded,
  type Dialect,
  type DialectContext,
  type Endpoint,
  type Frame,
  NOTHING,
  type Transport,
  type TransportEvents,
  type TransportMessage,
  type Wanted,
} from "../../lib/adapter/mod.ts";
import type { Mode } from "../../lib/types.ts";
import {
  createDecodeStats,
  decodeMessage,
  type DecodeStats,
  FeedCache,
  type SubjectKind,
  subjectOf,
} from "./codec.ts";
import type { GrowwInstrument } from "./instruments.ts";
import {
  mintSocketCredentials,
  openNats,
  PING_FRAME,
  PONG,
  type SocketCredentials,
  subFrame,
  unsubFrame,
} from "./nats.ts";
import { type GrowwOptions, socketTokenUrl } from "./options.ts";

/** Server error texts that mean the socket credentials are dead (NATS and Groww wording). */
const AUTH_ERROR = /authorization violation|authentication expired|authentication timeout/i;

function subject(ins: GrowwInstrument, kind: SubjectKind): string {
  return subjectOf({
    group: ins.group,
    exchange: ins.feedExchange,
    kind,
    token: ins.exchangeToken,
  });
}

/** Whether the instrument has a book subject (indices have none). */
function hasBook(ins: GrowwInstrument): boolean {
  return ins.group !== "indices";
}

/** The Groww dialect of one connection. */
export class GrowwDialect implements Dialect<GrowwInstrument> {
  readonly #options: () => GrowwOptions;
  readonly #lookup: (key: string) => GrowwInstrument | undefined;
  /** Socket credentials minted for an endpoint, handed to the transport of the same attempt. */
  readonly #credentials = new WeakMap<Endpoint, SocketCredentials>();
  readonly cache = new FeedCache();
  readonly stats: DecodeStats = createDecodeStats();
  readonly keepAlive: { everyMs: number; frame(): Frame };

  constructor(options: () => GrowwOptions, context: DialectContext<GrowwInstrument>) {
    this.#options = options;
    this.#lookup = (key) => context.lookup(key);
    this.keepAlive = { everyMs: options().keepAliveMs, frame: () => PING_FRAME };
  }

  async endpoint(signal: AbortSignal): Promise<Endpoint> {
    const o = this.#options();
    const creds = await mintSocketCredentials(socketTokenUrl(o), o.accessToken, signal);
    const endpoint: Endpoint = { url: o.feedUrl };
    this.#credentials.set(endpoint, creds);
    return endpoint;
  }

  transport(endpoint: Endpoint, events: TransportEvents): Promise<Transport> {
    const creds = this.#credentials.get(endpoint);
    if (creds === undefined) throw new AuthError("no socket token minted for this connection");
    // A new connection starts from full snapshots: forget what the last one merged.
    this.cache.clear();
    return openNats(endpoint.url, creds, { timeoutMs: this.#options().connectTimeoutMs }, events);
  }

  subscribe(items: readonly Wanted<GrowwInstrument>[], mode: Mode): Frame[] {
    const subjects: string[] = [];
    for (const w of items) {
      subjects.push(subject(w.instrument, "price"));
      if (mode === 3 && hasBook(w.instrument)) subjects.push(subject(w.instrument, "book"));
      this.cache.setDepth(w.instrument.token, mode === 3);
    }
    return [subFrame(subjects)];
  }

  unsubscribe(items: readonly Wanted<GrowwInstrument>[], mode: Mode): Frame[] {
    const subjects: string[] = [];
    for (const w of items) {
      subjects.push(subject(w.instrument, "price"));
      if (mode === 3 && hasBook(w.instrument)) subjects.push(subject(w.instrument, "book"));
      this.cache.forget(w.instrument.token);
    }
    return [unsubFrame(subjects)];
  }

  /** LTP ↔ Quote share the price subject; Depth adds or drops only the book subject. */
  changeMode(items: readonly Wanted<GrowwInstrument>[], from: Mode, to: Mode): Frame[] {
    const books = items.filter((w) => hasBook(w.instrument)).map((w) =>
      subject(w.instrument, "book")
    );
    for (const w of items) this.cache.setDepth(w.instrument.token, to === 3);
    if (books.length === 0) return [];
    if (to === 3) return [subFrame(books)];
    return from === 3 ? [unsubFrame(books)] : [];
  }

  streamMode(mode: Mode): Mode {
    return mode === 3 ? 3 : 2;
  }

  decode(data: TransportMessage, now: number): Decoded {
    if (typeof data === "string") return this.#control(data);
    if (data instanceof ArrayBuffer || data instanceof Uint8Array) {
      return { malformed: "message_without_subject" };
    }
    const r = decodeMessage(data.subject, data.data, this.#lookup, this.cache, now, this.stats);
    if (r.malformed !== undefined) return { malformed: r.malformed };
    return r.tick !== null ? { ticks: [r.tick] } : NOTHING;
  }

  /** Link notices: keep-alive round trips and NATS server errors. */
  #control(text: string): Decoded {
    if (text === PONG) return NOTHING;
    if (AUTH_ERROR.test(text)) return { authFailed: `NATS ${text}` };
    return { log: { level: "error", message: `NATS ${text}` } };
  }
}
