// The bus publisher: a zeromq PUB socket bound to a loopback address that publishes each tick once
// per mode topic. `publish` never blocks; a single pump loop drains a bounded queue into the socket.

import { setImmediate } from "node:timers";
import { type Observer, Publisher } from "zeromq";
import type { Candle, CandleInterval } from "../candles/mod.ts";
import type { Clock, Mode, Tick } from "../types.ts";
import { buildCandleEnvelope, buildEnvelope, encodeEnvelope } from "./envelope.ts";
import { DEFAULT_TOPIC_IDLE_MS, TopicSequences } from "./sequences.ts";
import { formatCandleTopic, formatTopic, HEARTBEAT_TOPIC } from "./topic.ts";

/** Z85-encoded CURVE server keys (40 characters each), e.g. from zeromq's `curveKeyPair()`. */
export interface BusCurveServerKeys {
  publicKey: string;
  secretKey: string;
}

/** Why messages were dropped. */
export type BusDropReason = "queue_full" | "send_failed" | "invalid_topic";

/** Sent to `onDrop` at most once per second while messages are being dropped. */
export interface BusDropReport {
  /** Messages dropped since the previous report. */
  recent: number;
  /** Messages dropped since the publisher opened. */
  total: number;
  /** Why the latest message was dropped. */
  reason: BusDropReason;
  /** Detail of the latest drop (an error message), when there is one. */
  detail: string | null;
}

/** Options of {@link BusPublisher.open}. */
export interface BusPublisherOptions {
  /** zeromq endpoint to bind, e.g. `tcp://127.0.0.1:5555`; port `*` picks a free port. */
  address: string;
  /** Broker name stamped on every envelope. */
  broker: string;
  /** zeromq send high-water mark per subscriber (messages); default 100000. */
  sndHwm?: number;
  /** Bound of the in-process queue in front of the socket; the oldest is dropped beyond it. */
  maxQueue?: number;
  /** CURVE server keys; required to bind anything but a loopback/ipc/inproc address. */
  curve?: BusCurveServerKeys;
  /** Called at most once per second while dropping, and once at close for unreported drops. */
  onDrop?: (report: BusDropReport) => void;
  /** Clock for `published`; default `Date.now`. */
  clock?: Clock;
  /** Heartbeat period on {@link HEARTBEAT_TOPIC} (default 1000 ms) so readers notice restarts. */
  heartbeatMs?: number;
  /**
   * A topic not published for this long (ms; default 600 000) is forgotten and its `seq` restarts
   * at 0 (see {@link TopicSequences}), so the publisher's state holds only topics in recent use.
   */
  topicIdleMs?: number;
}

/** Why {@link BusPublisher.open} failed. */
export type BusBindFailure =
  | "invalid_address"
  | "curve_required"
  | "address_in_use"
  | "bind_failed";

/** The bus could not be bound; `reason` says why, the message names the address. */
export class BusBindError extends Error {
  override name = "BusBindError";
  constructor(
    message: string,
    readonly address: string,
    readonly reason: BusBindFailure,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const DEFAULT_HWM = 100_000;
const DEFAULT_MAX_QUEUE = 100_000;
/** How long zeromq keeps trying to deliver queued messages after close. */
const LINGER_MS = 100;
/** The pump yields to the event loop after this many sends so a long drain cannot starve timers. */
const YIELD_EVERY = 256;
const DROP_REPORT_INTERVAL_MS = 1000;
/** Upper bound on waiting for zeromq to release the listening port at close. */
const RELEASE_TIMEOUT_MS = 2000;

const MODE_LIST: readonly Mode[] = [1, 2, 3];

/**
 * Publishes ticks on the bus: two frames, topic `EXCHANGE_SYMBOL_MODE` and a JSON
 * {@link import("./envelope.ts").BusEnvelope}. `seq` counts per topic within this publisher's
 * `session`, so a reader filtering by topic can still detect gaps. A topic idle for `topicIdleMs`
 * restarts at seq 0 — the only seq a restart can carry, so readers tell it from a loss.
 *
 * zeromq's PUB drops (it never blocks) when one subscriber's high-water mark is reached; readers
 * see that as a `seq` gap. Drops before the socket (queue overflow) are counted here.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { baseTick, type Tick } from "../types.ts";
 * // The gateway binds tcp://127.0.0.1:5555; `*` picks a free port.
 * const bus = await BusPublisher.open({ address: "tcp://127.0.0.1:*", broker: "zerodha" });
 * const tick: Tick = {
 *   ...baseTick("NSE", "RELIANCE", 3, 2940.7, null, Date.now()),
 *   depth: { buy: [{ price: 2940.65, quantity: 10, orders: 2 }], sell: [] },
 * };
 * assert.equal(bus.publish(tick, [1, 3]), 2); // NSE_RELIANCE_LTP and NSE_RELIANCE_DEPTH
 * await bus.close();
 * ```
 */
export class BusPublisher {
  /** The endpoint actually bound (the resolved port when `*` was asked for). */
  readonly endpoint: string;
  /** Random id of this publisher; a new session on the bus means the gateway restarted. */
  readonly session: string = crypto.randomUUID();
  readonly broker: string;

  #socket: Publisher;
  #queue: FrameQueue;
  #clock: Clock;
  #onDrop: ((report: BusDropReport) => void) | undefined;
  #seqs: TopicSequences;
  #published = 0;
  #dropped = 0;
  #reportedDropped = 0;
  #lastDropReport = Number.NEGATIVE_INFINITY;
  #lastDropReason: BusDropReason = "queue_full";
  #lastDropDetail: string | null = null;
  #dropTimer: ReturnType<typeof setTimeout> | undefined;
  #pump: Promise<void> | null = null;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #closing: Promise<void> | null = null;
  #released = Promise.withResolvers<void>();
  /** The snapshot endpoint announced in heartbeats (see snapshot.ts), once set. */
  snapshotEndpoint: string | null = null;

  private constructor(socket: Publisher, endpoint: string, options: BusPublisherOptions) {
    this.#socket = socket;
    this.endpoint = endpoint;
    this.broker = options.broker;
    this.#queue = new FrameQueue(options.maxQueue ?? DEFAULT_MAX_QUEUE);
    this.#clock = options.clock ?? Date.now;
    this.#onDrop = options.onDrop;
    this.#seqs = new TopicSequences(options.topicIdleMs);
    this.#watch(socket.events);
    this.#heartbeat = setInterval(() => this.#beat(), options.heartbeatMs ?? 1000);
    Deno.unrefTimer(this.#heartbeat as unknown as number);
  }

  /**
   * Binds a PUB socket. Rejects with a {@link BusBindError} naming the address when the address is
   * malformed, not loopback without CURVE keys, already in use, or otherwise unbindable.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * const bus = await BusPublisher.open({ address: "tcp://127.0.0.1:*", broker: "paper" });
   * assert.match(bus.endpoint, /^tcp:\/\/127\.0\.0\.1:\d+$/); // the port actually bound
   * await assert.rejects(
   *   BusPublisher.open({ address: "tcp://0.0.0.0:*", broker: "paper" }),
   *   BusBindError, // not loopback and no CURVE keys
   * );
   * await bus.close();
   * ```
   */
  static async open(options: BusPublisherOptions): Promise<BusPublisher> {
    const { address, curve } = options;
    const locality = addressLocality(address);
    if (locality === "invalid") {
      throw new BusBindError(
        `bus: invalid address "${address}" (expected e.g. tcp://127.0.0.1:5555)`,
        address,
        "invalid_address",
      );
    }
    if (locality === "remote" && curve === undefined) {
      throw new BusBindError(
        `bus: refusing to bind ${address}: CURVE keys are required to bind a non-loopback address`,
        address,
        "curve_required",
      );
    }
    const maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
    if (!Number.isInteger(maxQueue) || maxQueue < 1) {
      throw new RangeError(`bus: maxQueue must be a positive integer, got ${maxQueue}`);
    }
    const topicIdleMs = options.topicIdleMs ?? DEFAULT_TOPIC_IDLE_MS;
    if (!(topicIdleMs > 0)) {
      throw new RangeError(`bus: topicIdleMs must be positive, got ${topicIdleMs}`);
    }
    let socket: Publisher;
    try {
      socket = new Publisher({
        linger: LINGER_MS,
        sendHighWaterMark: options.sndHwm ?? DEFAULT_HWM,
        ...(curve === undefined ? {} : {
          curveServer: true,
          curvePublicKey: curve.publicKey,
          curveSecretKey: curve.secretKey,
        }),
      });
    } catch (error) {
      throw new BusBindError(
        `bus: cannot configure socket for ${address}: ${(error as Error).message}`,
        address,
        "bind_failed",
        { cause: error },
      );
    }
    try {
      await socket.bind(address);
    } catch (error) {
      socket.close();
      const inUse = (error as { code?: string }).code === "EADDRINUSE";
      throw new BusBindError(
        inUse
          ? `bus: cannot bind ${address}: address already in use (another tickplex or bus publisher?)`
          : `bus: cannot bind ${address}: ${(error as Error).message}`,
        address,
        inUse ? "address_in_use" : "bind_failed",
        { cause: error },
      );
    }
    return new BusPublisher(socket, socket.lastEndpoint ?? address, options);
  }

  /** Messages handed to the socket. */
  get published(): number {
    return this.#published;
  }

  /** Messages dropped before reaching the socket (queue overflow, send failure, bad topic). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Topics whose sequence numbers are kept (those published within about `topicIdleMs`). */
  get topics(): number {
    return this.#seqs.size;
  }

  /** Messages waiting in the queue. */
  get queued(): number {
    return this.#queue.length;
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closing !== null;
  }

  /**
   * Queues `tick` under the topic of each of `modes` that the tick is rich enough for
   * (`mode <= tick.mode`; richer modes are skipped). Returns the number of messages queued.
   * Never blocks and never throws for a bad tick (it is counted as dropped). After
   * {@link close} it queues nothing and returns 0.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { baseTick } from "../types.ts";
   * await using bus = await BusPublisher.open({ address: "tcp://127.0.0.1:*", broker: "paper" });
   * const depthTick = {
   *   ...baseTick("NSE", "TCS", 3, 3500, null, Date.now()),
   *   depth: { buy: [], sell: [] },
   * };
   * assert.equal(bus.publish(depthTick, [1, 2, 3]), 3); // three messages, each with its mode's fields
   * const ltpTick = baseTick("NSE", "TCS", 1, 3500, null, Date.now());
   * assert.equal(bus.publish(ltpTick, [1, 3]), 1, "richer modes than the tick are skipped");
   * ```
   */
  publish(tick: Tick, modes: Iterable<Mode>): number {
    if (this.#closing !== null) return 0;
    let wanted = 0;
    for (const mode of modes) wanted |= 1 << mode;
    const published = this.#clock();
    let queued = 0;
    for (const mode of MODE_LIST) {
      if ((wanted & (1 << mode)) === 0 || mode > tick.mode) continue;
      let topic: string;
      try {
        topic = formatTopic(tick.exchange, tick.symbol, mode);
      } catch (error) {
        this.#drop(1, "invalid_topic", (error as Error).message);
        continue;
      }
      const seq = this.#seqs.next(topic, published);
      const payload = encodeEnvelope(
        buildEnvelope(tick, mode, { seq, session: this.session, broker: this.broker, published }),
      );
      if (this.#queue.push(topic, payload)) this.#drop(1, "queue_full", null);
      queued++;
    }
    if (queued > 0 && this.#pump === null) this.#pump = this.#run();
    return queued;
  }

  /**
   * Queues a closed bar of (exchange, symbol, interval) under `EXCHANGE_SYMBOL_CANDLE_<INTERVAL>`
   * with a v1 candle envelope; returns the number of messages queued (1, or 0 for a forming bar,
   * an instrument without a valid topic — counted as dropped — or after {@link close}). The caller
   * (the gateway's candle feed) hands over each closed bar once; nothing here deduplicates.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * await using bus = await BusPublisher.open({ address: "tcp://127.0.0.1:*", broker: "paper" });
   * const bar = { time: 0, open: 1, high: 2, low: 1, close: 2, volume: 5, closed: true };
   * assert.equal(bus.publishCandle("NSE", "TCS", "1m", bar), 1); // NSE_TCS_CANDLE_1M
   * assert.equal(bus.publishCandle("NSE", "TCS", "1m", { ...bar, closed: false }), 0);
   * ```
   */
  publishCandle(exchange: string, symbol: string, interval: CandleInterval, bar: Candle): number {
    if (this.#closing !== null || !bar.closed) return 0;
    let topic: string;
    try {
      topic = formatCandleTopic(exchange, symbol, interval);
    } catch (error) {
      this.#drop(1, "invalid_topic", (error as Error).message);
      return 0;
    }
    const published = this.#clock();
    const seq = this.#seqs.next(topic, published);
    const header = { seq, session: this.session, broker: this.broker, published };
    const payload = JSON.stringify(buildCandleEnvelope(exchange, symbol, interval, bar, header));
    if (this.#queue.push(topic, payload)) this.#drop(1, "queue_full", null);
    if (this.#pump === null) this.#pump = this.#run();
    return 1;
  }

  /**
   * Sends what is queued, closes the socket and resolves once the listening address is released
   * (bounded wait). Idempotent.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { baseTick } from "../types.ts";
   * const bus = await BusPublisher.open({ address: "tcp://127.0.0.1:*", broker: "paper" });
   * await bus.close();
   * await bus.close(); // idempotent
   * assert.equal(bus.publish(baseTick("NSE", "TCS", 1, 1, null, 1), [1]), 0, "nothing after close");
   * // The address is free again.
   * const again = await BusPublisher.open({ address: bus.endpoint, broker: "paper" });
   * await again.close();
   * ```
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  /** Same as {@link close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #beat(): void {
    if (this.#closing !== null) return;
    const payload = JSON.stringify({
      v: 1,
      session: this.session,
      broker: this.broker,
      published: this.#clock(),
      ...(this.snapshotEndpoint === null ? {} : { snapshot: this.snapshotEndpoint }),
    });
    // Only into an idle queue: a busy bus proves the publisher is alive by itself.
    if (this.#queue.length > 0) return;
    this.#queue.push(HEARTBEAT_TOPIC, payload);
    if (this.#pump === null) this.#pump = this.#run();
  }

  async #shutdown(): Promise<void> {
    clearInterval(this.#heartbeat);
    // PUB sends never wait on peers, so draining what is queued is quick and bounded by maxQueue.
    await this.#pump;
    clearTimeout(this.#dropTimer);
    this.#reportDrops();
    this.#socket.close();
    const timer = setTimeout(() => this.#released.resolve(), RELEASE_TIMEOUT_MS);
    await this.#released.promise;
    clearTimeout(timer);
  }

  /** Resolves `#released` once zeromq reports the listener closed (the port is free again). */
  async #watch(events: Observer): Promise<void> {
    // Iterated by hand: the observer's event-emitter mode leaks an unhandled rejection when the
    // socket closes under it.
    try {
      for await (const event of events) {
        if (event.type === "end") break;
        if (event.type === "close" && this.#closing !== null && event.address === this.endpoint) {
          break;
        }
      }
    } catch {
      // The monitor died with the socket; close() still bounds its wait.
    }
    this.#released.resolve();
  }

  async #run(): Promise<void> {
    let sinceYield = 0;
    try {
      for (;;) {
        const frames = this.#queue.shift();
        if (frames === undefined) return;
        try {
          // zeromq.js allows one pending send per socket: await each before the next.
          await this.#socket.send(frames);
          if (frames[0] !== HEARTBEAT_TOPIC) this.#published++;
        } catch (error) {
          this.#drop(1, "send_failed", (error as Error).message);
        }
        if (++sinceYield === YIELD_EVERY) {
          sinceYield = 0;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
    } finally {
      this.#pump = null;
    }
  }

  #drop(count: number, reason: BusDropReason, detail: string | null): void {
    this.#dropped += count;
    this.#lastDropReason = reason;
    this.#lastDropDetail = detail;
    if (this.#onDrop === undefined || this.#dropTimer !== undefined) return;
    const wait = this.#lastDropReport + DROP_REPORT_INTERVAL_MS - this.#clock();
    if (wait <= 0) {
      this.#reportDrops();
      return;
    }
    const timer = setTimeout(() => {
      this.#dropTimer = undefined;
      this.#reportDrops();
    }, wait);
    // Reporting must not keep the process alive.
    Deno.unrefTimer(timer);
    this.#dropTimer = timer;
  }

  #reportDrops(): void {
    const recent = this.#dropped - this.#reportedDropped;
    if (recent === 0 || this.#onDrop === undefined) return;
    this.#reportedDropped = this.#dropped;
    this.#lastDropReport = this.#clock();
    try {
      this.#onDrop({
        recent,
        total: this.#dropped,
        reason: this.#lastDropReason,
        detail: this.#lastDropDetail,
      });
    } catch {
      // A failing reporter must not stop publishing; the counters still hold the truth.
    }
  }
}

/**
 * Whether binding `address` stays on this machine: `local` for loopback TCP (127.0.0.0/8, ::1,
 * localhost), ipc and inproc; `remote` for any other host or transport; `invalid` when malformed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(addressLocality("tcp://127.0.0.1:5555"), "local");
 * assert.equal(addressLocality("tcp://*:5555"), "remote");
 * ```
 */
export function addressLocality(address: string): "local" | "remote" | "invalid" {
  const match = /^([a-z]+):\/\/(.+)$/.exec(address);
  if (match === null) return "invalid";
  const [, transport, rest] = match;
  if (transport === "ipc" || transport === "inproc") return "local";
  if (transport !== "tcp") return "remote";
  const hostPort = /^(\[[^\]]+\]|[^:\[\]]+):(\d{1,5}|\*)$/.exec(rest);
  if (hostPort === null) return "invalid";
  const host = hostPort[1].toLowerCase();
  const loopback = host === "localhost" || host === "[::1]" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
  return loopback ? "local" : "remote";
}

/** A bounded FIFO of [topic, payload] frames that overwrites the oldest entry when full. */
class FrameQueue {
  #items: ([string, string] | undefined)[] = [];
  #head = 0;
  #length = 0;

  constructor(readonly capacity: number) {}

  get length(): number {
    return this.#length;
  }

  /** Appends a message; returns true when the oldest one was dropped to make room. */
  push(topic: string, payload: string): boolean {
    if (this.#length === this.capacity) {
      this.#items[this.#head] = [topic, payload];
      this.#head = (this.#head + 1) % this.capacity;
      return true;
    }
    if (this.#length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#length) % this.#items.length] = [topic, payload];
    this.#length++;
    return false;
  }

  shift(): [string, string] | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#items.length;
    this.#length--;
    return item;
  }

  #grow(): void {
    // Grow lazily (a quiet bus never allocates the full capacity) and unwrap while copying.
    const size = Math.min(this.capacity, Math.max(64, this.#items.length * 2));
    const items = new Array<[string, string] | undefined>(size);
    for (let i = 0; i < this.#length; i++) {
      items[i] = this.#items[(this.#head + i) % this.#items.length];
    }
    this.#items = items;
    this.#head = 0;
  }
}
