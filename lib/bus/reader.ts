// The bus reader for in-process and external consumers (recorder, scripts): a zeromq SUB that turns
// frames into typed events, skips and counts bad frames, and reports sequence gaps and restarts.

import { setImmediate } from "node:timers";
import { Subscriber } from "zeromq";
import { type BusEnvelope, decodeEnvelope } from "./envelope.ts";
import { HEARTBEAT_TOPIC } from "./topic.ts";

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

/**
 * What a {@link BusReader} yields, discriminated by `kind`:
 *
 * - `tick` — one message: topic and validated envelope.
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

/**
 * Reads the bus. Iterate it (once) for {@link BusEvent}s, or {@link ticks} for ticks only.
 * Frames that fail parsing are counted in {@link invalid} and skipped, never thrown. Ending the
 * iteration early (`break`), {@link close} or the abort signal close the socket.
 *
 * zeromq's slow joiner applies: messages published right after `connect` may be missed until the
 * subscription reaches the publisher.
 *
 * @example
 * ```ts ignore
 * using reader = BusReader.connect({ address: "tcp://127.0.0.1:5555", topics: ["NSE_RELIANCE_"] });
 * for await (const event of reader) {
 *   if (event.kind === "tick") console.log(event.topic, event.envelope.data.ltp);
 *   else if (event.kind === "gap") console.warn("missed", event.to - event.from + 1, event.topic);
 * }
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
  #invalid = 0;
  #lastInvalid: string | null = null;
  #gaps = 0;
  #missed = 0;
  #outOfOrder = 0;
  #topicRestarts = 0;

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
   * ```ts ignore
   * const reader = BusReader.connect({ address: "tcp://127.0.0.1:5555", signal: AbortSignal.timeout(60_000) });
   * for await (const { envelope } of reader.ticks()) record(envelope);
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

  /** Closes the socket; a pending iteration ends cleanly. Idempotent. */
  close(): void {
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#closed = true;
    clearInterval(this.#silenceTimer);
    this.#socket.close();
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
          continue;
        }
        this.#received++;
        const message = this.#decode(frames);
        if (message !== null) {
          const { envelope } = message;
          if (!this.#sessions.has(envelope.session)) yield this.#newSession(envelope);
          const gap = this.#track(message.topic, envelope);
          if (gap !== null) yield gap;
          this.#ticks++;
          yield { kind: "tick", topic: message.topic, envelope };
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

  #decode(frames: Uint8Array[]): BusMessage | null {
    if (frames.length !== 2) return this.#reject(`expected 2 frames, got ${frames.length}`);
    let topic: string;
    try {
      topic = utf8.decode(frames[0]);
    } catch {
      return this.#reject("topic is not UTF-8");
    }
    const result = decodeEnvelope(frames[1]);
    if (!result.ok) return this.#reject(`${topic}: ${result.error}`);
    const { envelope } = result;
    if (topic !== `${envelope.exchange}_${envelope.symbol}_${envelope.mode}`) {
      return this.#reject(`${topic}: topic does not match the envelope`);
    }
    return { topic, envelope };
  }

  #reject(reason: string): null {
    this.#invalid++;
    this.#lastInvalid = reason;
    return null;
  }

  #newSession(envelope: BusEnvelope): BusEvent {
    const previous = this.#lastSession;
    this.#sessions.set(envelope.session, { fromStart: previous !== null, next: new Map() });
    if (this.#sessions.size > MAX_SESSIONS) {
      this.#sessions.delete(this.#sessions.keys().next().value!);
    }
    this.#lastSession = envelope.session;
    return { kind: "session", session: envelope.session, broker: envelope.broker, previous };
  }

  #track(topic: string, envelope: BusEnvelope): BusEvent | null {
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
