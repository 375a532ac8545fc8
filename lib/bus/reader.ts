// The bus reader for in-process and external consumers (recorder, scripts): a zeromq SUB that turns
// frames into typed events, skips and counts bad frames, and reports sequence gaps and restarts.

import { setImmediate } from "node:timers";
import { Subscriber } from "zeromq";
import {
  type BusCandleEnvelope,
  type BusEnvelope,
  decodeCandleEnvelope,
  decodeEnvelope,
} from "./envelope.ts";
import { formatCandleTopic, HEARTBEAT_TOPIC, parseCandleTopic } from "./topic.ts";
import { SnapshotClient, type SnapshotItem } from "./snapshot.ts";

const HEARTBEAT_BYTES = new TextEncoder().encode(HEARTBEAT_TOPIC);
/** Silence (no message, no heartbeat) after which the reader reconnects with a fresh socket. */
const DEFAULT_SILENCE_MS = 3500;

function isHeartbeat(topic: Uint8Array): boolean {
  if (topic.length !== HEARTBEAT_BYTES.length) return false;
  for (let i = 0; i < topic.length; i++) if (topic[i] !== HEARTBEAT_BYTES[i]) return false;
  return true;
}

function openSocket(options: BusReaderOptions): Subscriber {
  const { curve } = options;
  const socket = new Subscriber({
    linger: 0,
    receiveHighWaterMark: options.rcvHwm ?? DEFAULT_HWM,
    ...(curve === undefined ? {} : {
      curveServerKey: curve.serverKey,
      curvePublicKey: curve.publicKey,
      curveSecretKey: curve.secretKey,
    }),
  });
  try {
    socket.connect(options.address);
    const topics = options.topics ?? [];
    if (topics.length === 0) socket.subscribe();
    else socket.subscribe(...topics, HEARTBEAT_TOPIC);
  } catch (error) {
    socket.close();
    throw new Error(`bus: cannot connect to ${options.address}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return socket;
}

/** A tick on the bus: its topic and parsed envelope. */
export interface BusMessage {
  topic: string;
  envelope: BusEnvelope;
}

/** A closed bar on the bus: its topic (`EXCHANGE_SYMBOL_CANDLE_<INTERVAL>`) and parsed envelope. */
export interface BusCandleMessage {
  topic: string;
  envelope: BusCandleEnvelope;
}

/**
 * What a {@link BusReader} yields, discriminated by `kind`:
 *
 * - `tick` — one message: topic and validated envelope.
 * - `candle` — one closed bar: topic and validated candle envelope. Candle topics count in the
 *   same session and gap tracking as tick topics.
 * - `session` — the first message of a publisher session this reader has not seen; `previous`
 *   is the session seen before it (non-null means the gateway restarted while the reader was
 *   connected). Yielded before that message's tick.
 * - `gap` — messages `from`..`to` (inclusive `seq` numbers) of `topic` in `session` never arrived
 *   (publisher high-water mark, reader too slow, reconnect after a restart). Yielded before the
 *   tick that revealed it. Within the first session a reader sees, counting starts at the first
 *   message of each topic; in later sessions it starts at 0, so messages lost while reconnecting
 *   to a restarted gateway are reported too.
 */
export type BusEvent =
  | ({ kind: "tick" } & BusMessage)
  | ({ kind: "candle" } & BusCandleMessage)
  | { kind: "session"; session: string; broker: string; previous: string | null }
  | { kind: "gap"; session: string; topic: string; from: number; to: number };

/** Z85-encoded CURVE client keys for a publisher bound with CURVE. */
export interface BusCurveClientKeys {
  /** The publisher's public key. */
  serverKey: string;
  publicKey: string;
  secretKey: string;
}

/** Options of {@link BusReader.connect}. */
export interface BusReaderOptions {
  /** The publisher's endpoint, e.g. `tcp://127.0.0.1:5555`. */
  address: string;
  /** Topic prefixes to receive (e.g. `NSE_RELIANCE_`, `NSE_INDEX_NIFTY_LTP`); default all. */
  topics?: readonly string[];
  /** Aborting closes the reader and ends iteration. */
  signal?: AbortSignal;
  /** zeromq receive high-water mark (messages); default 100000. */
  rcvHwm?: number;
  /** CURVE client keys, when the publisher requires them. */
  curve?: BusCurveClientKeys;
  /** Reconnect with a fresh socket after this long without any message or heartbeat (3500). */
  silenceMs?: number;
  /**
   * The gateway's snapshot endpoint for {@link BusReader.snapshot}; default: the one its
   * heartbeat announces (learnt while the reader is iterated).
   */
  snapshotAddress?: string;
}

/** Messages received back to back before the loop yields to the event loop (timers, I/O). */
const YIELD_EVERY = 256;
/** Sessions whose sequence state is kept; only one publisher binds an address at a time. */
const MAX_SESSIONS = 8;
const DEFAULT_HWM = 100_000;

interface SessionState {
  /** Whether this reader saw the session start, so every topic must begin at seq 0. */
  fromStart: boolean;
  /** Next expected seq per topic. */
  next: Map<string, number>;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The `snapshot` endpoint a heartbeat payload announces, or null (absent or unreadable). */
function announcedSnapshot(payload: Uint8Array): string | null {
  try {
    const value = JSON.parse(utf8.decode(payload)) as { snapshot?: unknown };
    return typeof value?.snapshot === "string" && value.snapshot.length <= 512
      ? value.snapshot
      : null;
  } catch {
    return null;
  }
}

/**
 * Reads the bus. Iterate it (once) for {@link BusEvent}s, or {@link ticks} for ticks only.
 * Frames that fail parsing are counted in {@link invalid} and skipped, never thrown. Ending the
 * iteration early (`break`), {@link close} or the abort signal close the socket.
 *
 * zeromq's slow joiner applies: messages published right after `connect` may be missed until the
 * subscription reaches the publisher.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BusPublisher } from "./publisher.ts";
 * import { baseTick } from "../types.ts";
 * // Stands in for the gateway (tcp://127.0.0.1:5555) so the example runs anywhere.
 * await using gateway = await BusPublisher.open({ address: "tcp://127.0.0.1:*", broker: "paper" });
 * using reader = BusReader.connect({ address: gateway.endpoint, topics: ["NSE_RELIANCE_"] });
 * const publishing = setInterval(() => { // until the slow joiner has joined
 *   gateway.publish(baseTick("NSE", "RELIANCE", 1, 2940.7, null, Date.now()), [1]);
 *   gateway.publish(baseTick("NSE", "TCS", 1, 3500, null, Date.now()), [1]);
 * }, 20);
 * const kinds: string[] = [];
 * for await (const event of reader) {
 *   kinds.push(event.kind);
 *   if (event.kind === "gap") console.warn("missed", event.to - event.from + 1, event.topic);
 *   if (event.kind === "tick") {
 *     assert.equal(event.topic, "NSE_RELIANCE_LTP"); // TCS is not subscribed
 *     break;
 *   }
 * }
 * clearInterval(publishing);
 * assert.equal(kinds[0], "session", "a new publisher session comes first");
 * ```
 */
export class BusReader implements AsyncIterable<BusEvent> {
  readonly address: string;
  #socket: Subscriber;
  #options: BusReaderOptions;
  #closed = false;
  #reconnects = 0;
  #silenceMs: number;
  #lastSeen: number;
  #silenceTimer: ReturnType<typeof setInterval>;
  #heartbeats = 0;
  #signal: AbortSignal | undefined;
  #onAbort = (): void => this.close();
  #iterating = false;
  #sessions = new Map<string, SessionState>();
  #lastSession: string | null = null;
  #received = 0;
  #ticks = 0;
  #candles = 0;
  #invalid = 0;
  #lastInvalid: string | null = null;
  #gaps = 0;
  #missed = 0;
  #outOfOrder = 0;
  #topicRestarts = 0;
  /** The snapshot endpoint the publisher's heartbeat announced, if any. */
  #announced: string | null = null;
  #snapshots: SnapshotClient | null = null;

  private constructor(socket: Subscriber, options: BusReaderOptions) {
    this.#socket = socket;
    this.#options = options;
    this.#silenceMs = options.silenceMs ?? DEFAULT_SILENCE_MS;
    this.#lastSeen = Date.now();
    this.#silenceTimer = setInterval(
      () => this.#checkSilence(),
      Math.max(50, Math.min(1000, this.#silenceMs / 3)),
    );
    Deno.unrefTimer(this.#silenceTimer as unknown as number);
    this.address = options.address;
    this.#signal = options.signal;
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
    if (this.#signal?.aborted) this.close();
  }

  /**
   * Connects a SUB socket to a publisher and subscribes to `topics` (prefixes; default all).
   * Connecting is asynchronous in zeromq: this returns at once and reconnects automatically.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { BusPublisher } from "./publisher.ts";
   * import { baseTick } from "../types.ts";
   * await using gateway = await BusPublisher.open({ address: "tcp://127.0.0.1:*", broker: "paper" });
   * const stop = new AbortController(); // or AbortSignal.timeout(60_000)
   * const reader = BusReader.connect({ address: gateway.endpoint, signal: stop.signal });
   * const publishing = setInterval(() => {
   *   gateway.publish(baseTick("NSE", "TCS", 1, 3500, null, Date.now()), [1]);
   * }, 20);
   * const recorded: number[] = [];
   * for await (const { envelope } of reader.ticks()) { // ticks only, no session/gap events
   *   recorded.push(envelope.data.ltp);
   *   if (recorded.length === 3) stop.abort(); // ends the loop
   * }
   * clearInterval(publishing);
   * assert.deepEqual(recorded, [3500, 3500, 3500]);
   * ```
   */
  static connect(options: BusReaderOptions): BusReader {
    return new BusReader(openSocket(options), options);
  }

  /**
   * zeromq in Deno: after the publisher restarts, a SUB socket reconnects and handshakes but never
   * delivers another message (and watching its monitor events crashes the addon). Publishers send
   * a heartbeat every second, so silence longer than `silenceMs` means the publisher went away:
   * the reader swaps in a fresh socket. Messages lost meanwhile show up as a `gap`, and the
   * restart as a new `session`.
   */
  #checkSilence(): void {
    if (this.#closed || Date.now() - this.#lastSeen <= this.#silenceMs) return;
    let fresh: Subscriber;
    try {
      fresh = openSocket(this.#options);
    } catch {
      return; // keep the old socket; the next check retries
    }
    const old = this.#socket;
    this.#socket = fresh;
    this.#lastSeen = Date.now();
    this.#reconnects++;
    // Closing it fails its pending receive; the loop then continues on the fresh socket.
    setTimeout(() => old.close(), 0);
  }

  /** Publisher heartbeats received (not yielded). */
  get heartbeats(): number {
    return this.#heartbeats;
  }

  /** Times the reader replaced its socket after the publisher went silent. */
  get reconnects(): number {
    return this.#reconnects;
  }

  /** Frames received, valid or not. */
  get received(): number {
    return this.#received;
  }
  /** Ticks yielded. */
  get ticksReceived(): number {
    return this.#ticks;
  }
  /** Closed bars yielded. */
  get candlesReceived(): number {
    return this.#candles;
  }
  /** Frames skipped because they were not a valid v1 message. */
  get invalid(): number {
    return this.#invalid;
  }
  /** Why the latest invalid frame was rejected, for diagnostics. */
  get lastInvalid(): string | null {
    return this.#lastInvalid;
  }
  /** Gap events reported. */
  get gaps(): number {
    return this.#gaps;
  }
  /** Messages known to be missing (the sum of all gap sizes). */
  get missed(): number {
    return this.#missed;
  }
  /** Messages whose `seq` was lower than expected (duplicates or reordering); still yielded. */
  get outOfOrder(): number {
    return this.#outOfOrder;
  }
  /**
   * Topics that started again at seq 0 within a session: the publisher forgets a topic idle for its
   * `topicIdleMs` (default ten minutes). Not a gap and not out of order.
   */
  get topicRestarts(): number {
    return this.#topicRestarts;
  }
  /** True once closed (explicitly, by abort, or by ending the iteration). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Asks the gateway for the latest tick of each topic (`EXCHANGE_SYMBOL_MODE`), over its snapshot
   * socket (docs/bus.md): one item per topic in request order, `data` null when the gateway has no
   * tick for it. The address is `snapshotAddress`, else the one the heartbeat announced (so iterate
   * the reader, or pass the address). Rejects with the reply's code and message on a bad request,
   * and after `timeoutMs` (default 5000) without a reply.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { BusSnapshotServer } from "./snapshot.ts";
   * import { baseTick } from "../types.ts";
   * // The gateway runs the server beside its PUB socket; a stand-in here.
   * const server = await BusSnapshotServer.open({
   *   address: "tcp://127.0.0.1:*", broker: "paper", session: "s1",
   *   lookup: (e, s, m) => s === "TCS" ? baseTick(e, s, m, 3500, null, 1) : null,
   * });
   * using reader = BusReader.connect({
   *   address: "tcp://127.0.0.1:5555", snapshotAddress: server.endpoint,
   * });
   * const [tcs, infy] = await reader.snapshot(["NSE_TCS_LTP", "NSE_INFY_LTP"]);
   * assert.equal(tcs.data?.ltp, 3500);
   * assert.equal(infy.data, null);
   * reader.close();
   * await server.close();
   * ```
   */
  async snapshot(topics: readonly string[], timeoutMs = 5000): Promise<SnapshotItem[]> {
    if (this.#closed) throw new Error("bus: the reader is closed");
    const address = this.#options.snapshotAddress ?? this.#announced;
    if (address === null) {
      throw new Error(
        "bus: no snapshot address yet: pass snapshotAddress, or iterate the reader until a " +
          "heartbeat announces it",
      );
    }
    this.#snapshots ??= new SnapshotClient({ address, curve: this.#options.curve });
    const reply = await this.#snapshots.request(topics, timeoutMs);
    if (reply.status === "error") {
      throw new Error(`bus snapshot: ${reply.code}: ${reply.message}`);
    }
    return reply.snapshots;
  }

  /** The snapshot endpoint announced by the publisher's heartbeat, or null before one arrived. */
  get announcedSnapshot(): string | null {
    return this.#announced;
  }

  /** Closes the socket; a pending iteration ends cleanly. Idempotent. */
  close(): void {
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#closed = true;
    clearInterval(this.#silenceTimer);
    this.#socket.close();
    this.#snapshots?.close();
  }

  /** Same as {@link close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Ticks only; session and gap events are still counted. Consumes the reader's iteration. */
  async *ticks(): AsyncGenerator<BusMessage, void, undefined> {
    for await (const event of this) {
      if (event.kind === "tick") yield { topic: event.topic, envelope: event.envelope };
    }
  }

  /** Closed bars only; everything else is still counted. Consumes the reader's iteration. */
  async *candles(): AsyncGenerator<BusCandleMessage, void, undefined> {
    for await (const event of this) {
      if (event.kind === "candle") yield { topic: event.topic, envelope: event.envelope };
    }
  }

  /** Yields events until closed; a reader can be iterated once. */
  async *[Symbol.asyncIterator](): AsyncGenerator<BusEvent, void, undefined> {
    if (this.#iterating) throw new Error("bus: a BusReader can be iterated only once");
    this.#iterating = true;
    let sinceYield = 0;
    try {
      while (!this.#closed) {
        const socket = this.#socket;
        let frames: Uint8Array[];
        try {
          // No receiveTimeout: an expiring one crashes Deno; close() ends the wait instead.
          frames = await socket.receive();
        } catch (error) {
          if (this.#closed) return;
          if (socket.closed) continue; // swapped for a fresh socket by #watch
          throw error;
        }
        this.#lastSeen = Date.now();
        if (frames.length === 2 && isHeartbeat(frames[0])) {
          this.#heartbeats++;
          this.#announced = announcedSnapshot(frames[1]) ?? this.#announced;
          continue;
        }
        this.#received++;
        const message = this.#decode(frames);
        if (message !== null) {
          const { envelope } = message;
          if (!this.#sessions.has(envelope.session)) yield this.#newSession(envelope);
          const gap = this.#track(message.topic, envelope);
          if (gap !== null) yield gap;
          if (message.kind === "candle") this.#candles++;
          else this.#ticks++;
          yield message;
        }
        // A receive that resolves at once never leaves the microtask queue; without this a busy
        // bus starves timers and sockets.
        if (++sinceYield === YIELD_EVERY) {
          sinceYield = 0;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
    } finally {
      this.close();
    }
  }

  #decode(
    frames: Uint8Array[],
  ): Extract<BusEvent, { kind: "tick" }> | Extract<BusEvent, { kind: "candle" }> | null {
    if (frames.length !== 2) return this.#reject(`expected 2 frames, got ${frames.length}`);
    let topic: string;
    try {
      topic = utf8.decode(frames[0]);
    } catch {
      return this.#reject("topic is not UTF-8");
    }
    if (parseCandleTopic(topic) !== null) {
      const result = decodeCandleEnvelope(frames[1]);
      if (!result.ok) return this.#reject(`${topic}: ${result.error}`);
      const { envelope } = result;
      let expected: string;
      try {
        expected = formatCandleTopic(envelope.exchange, envelope.symbol, envelope.interval);
      } catch {
        expected = "";
      }
      if (topic !== expected) return this.#reject(`${topic}: topic does not match the envelope`);
      return { kind: "candle", topic, envelope };
    }
    const result = decodeEnvelope(frames[1]);
    if (!result.ok) return this.#reject(`${topic}: ${result.error}`);
    const { envelope } = result;
    if (topic !== `${envelope.exchange}_${envelope.symbol}_${envelope.mode}`) {
      return this.#reject(`${topic}: topic does not match the envelope`);
    }
    return { kind: "tick", topic, envelope };
  }

  #reject(reason: string): null {
    this.#invalid++;
    this.#lastInvalid = reason;
    return null;
  }

  #newSession(envelope: BusEnvelope | BusCandleEnvelope): BusEvent {
    const previous = this.#lastSession;
    this.#sessions.set(envelope.session, { fromStart: previous !== null, next: new Map() });
    if (this.#sessions.size > MAX_SESSIONS) {
      this.#sessions.delete(this.#sessions.keys().next().value!);
    }
    this.#lastSession = envelope.session;
    return { kind: "session", session: envelope.session, broker: envelope.broker, previous };
  }

  #track(topic: string, envelope: BusEnvelope | BusCandleEnvelope): BusEvent | null {
    const state = this.#sessions.get(envelope.session)!;
    const { seq } = envelope;
    const expected = state.next.get(topic) ?? (state.fromStart ? 0 : seq);
    if (seq === 0 && expected > 0) {
      // Only a topic's first message carries seq 0: the publisher forgot the topic after it was
      // idle and started it again.
      this.#topicRestarts++;
      state.next.set(topic, 1);
      return null;
    }
    if (seq < expected) {
      this.#outOfOrder++;
      return null;
    }
    state.next.set(topic, seq + 1);
    if (seq === expected) return null;
    this.#gaps++;
    this.#missed += seq - expected;
    return { kind: "gap", session: envelope.session, topic, from: expected, to: seq - 1 };
  }
}
