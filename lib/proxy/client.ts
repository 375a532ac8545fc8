// One WebSocket client: its auth state, the keys it holds, and its bounded send path — direct
// writes while it keeps up, newest-per-key rounds while it lags (see lag.ts), batched frames on
// opt-in — plus its keep-alive.

import type { BudgetHolder, ConsumerClass, DataRoute } from "../budget/mod.ts";
import type { Consumer, FrameCache, Revocation } from "../subscriptions/mod.ts";
import { type Mode, MODE_LABEL, subscriptionKey, type Tick } from "../types.ts";
import { type LagLimits, LagMeter } from "./lag.ts";

/** The subset of a server-side WebSocket the client needs (tests pass a fake). */
export interface ClientSocket {
  /** Bytes accepted by send() but not yet handed to the kernel. */
  readonly bufferedAmount: number;
  /** True while frames can be sent. */
  readonly open: boolean;
  send(data: string): void;
  /** Sends a WebSocket ping with `payload`; the peer's pong echoes it. */
  ping(payload: string): void;
  /** Starts the close handshake. */
  close(code: number, reason: string): void;
  /** Cuts the TCP connection at once. */
  terminate(): void;
  /**
   * Holds writes until {@link uncork}, so the frames of one fan-out pass leave in one system call
   * (optional: a socket without it writes each frame as it comes).
   */
  cork?(): void;
  uncork?(): void;
}

/** Send-path tuning, from config limits. */
export interface SendLimits extends LagLimits {
  /** Bytes waiting above the kernel beyond which ticks are queued instead of written. */
  sendHighWaterBytes: number;
  batchIntervalMs: number;
}

/** The proxy side of a client's send path. */
export interface SendScheduler {
  /** Totals across every client, for throughput figures. */
  readonly totals: { framesOut: number; ticksOut: number };
  /**
   * The gateway's stall clock: milliseconds its event loop has been late in total. Time the
   * gateway itself stood still is not held against a client (see lag.ts).
   */
  readonly stallMs: number;
  /** The client has queued ticks to write as soon as it may. */
  queued(client: WsClient): void;
  /** The client has a batch waiting for its flush interval. */
  batchPending(client: WsClient): void;
  /** The client corked its socket; the scheduler uncorks it when the current pass ends. */
  corked(client: WsClient): void;
}

/** Un-conflated batch clients keep at most this many ticks before older ones are conflated. */
const MAX_UNCONFLATED = 20_000;
/** Keep-alive pings carry this prefix so they are never mistaken for lag probes. */
const KEEPALIVE_PREFIX = "k";

/** What a housekeeping pass found about a client. */
export type ClientVerdict = "ok" | "slow_consumer" | "keepalive_timeout";

/**
 * A connected WebSocket client; also the registry consumer for its subscriptions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const sent: string[] = [];
 * const socket = {
 *   bufferedAmount: 0, open: true,
 *   send: (d: string) => void sent.push(d), ping: () => {}, close: () => {}, terminate: () => {},
 * };
 * const totals = { framesOut: 0, ticksOut: 0 };
 * const limits = { sendHighWaterBytes: 1 << 18, batchIntervalMs: 5, maxStalenessMs: 250, slowConsumerMs: 10_000 };
 * const c = new WsClient("c1", "127.0.0.1", socket, limits, { totals, stallMs: 0, queued: () => {}, batchPending: () => {}, corked: () => {} }, 100);
 * c.sendControl('{"type":"pong"}');
 * assert.deepEqual([sent.length, totals.framesOut], [1, 1]);
 * ```
 */
export class WsClient implements Consumer {
  readonly id: string;
  readonly address: string;
  readonly socket: ClientSocket;
  authenticated = false;
  /** The API key it authenticated with (name, class, quota); null before authentication. */
  holder: BudgetHolder | null = null;
  /** Its key's consumer class: decides its share of the streaming budget and its data path. */
  consumerClass: ConsumerClass = "trading";
  batch = false;
  conflate = true;
  /** Keys this client holds, with the depth acked and (when polled) the route. */
  readonly subscriptions = new Map<
    string,
    { exchange: string; symbol: string; mode: Mode; depth: number; route?: DataRoute }
  >();
  /** Messages received, frames sent, ticks conflated away. */
  readonly counters = { received: 0, framesSent: 0, ticksSent: 0, conflated: 0 };
  /** How far behind the client is, and so how ticks are sent. */
  readonly lag: LagMeter;
  /** Work chain: requests are handled one at a time, in order. */
  chain: Promise<void> = Promise.resolve();
  pendingRequests = 0;
  /** Token bucket for incoming messages. */
  tokens: number;
  lastRefill: number;
  flooded = 0;
  lastRateLimitReply = 0;
  /** Closed from the proxy's view: no more frames, subscriptions released. */
  closed = false;
  /** When anything last arrived from the peer (message, ping or pong), epoch ms. */
  lastHeard: number;
  /** Cuts the connection when the peer does not answer our close frame; null when not closing. */
  closeTimer: ReturnType<typeof setTimeout> | null = null;

  #limits: SendLimits;
  #scheduler: SendScheduler;
  /** Queued single frames by key (newest wins), in first-queued order. */
  #queue = new Map<string, string>();
  /** Pending batch items: by key when conflating, else in arrival order. */
  #batchMap = new Map<string, string>();
  #batchList: string[] = [];
  /** Since when the bytes above the kernel have stayed over the high-water mark (0: not). */
  #fullSince = 0;
  #keepaliveSentAt = 0;
  /** The stall clock at the previous check. */
  #checkedStall = 0;
  #corked = false;
  lastBatchFlush = 0;
  batchScheduled = false;

  constructor(
    id: string,
    address: string,
    socket: ClientSocket,
    limits: SendLimits,
    scheduler: SendScheduler,
    burst: number,
  ) {
    this.id = id;
    this.address = address;
    this.socket = socket;
    this.#limits = limits;
    this.#scheduler = scheduler;
    this.lag = new LagMeter(limits);
    this.tokens = burst;
    this.lastRefill = Date.now();
    this.lastHeard = Date.now();
  }

  /** Sends a control frame (acks, errors): never conflated, always in order. */
  sendControl(frame: string): void {
    if (this.closed || !this.socket.open) return;
    try {
      this.socket.send(frame);
      this.counters.framesSent++;
      this.#scheduler.totals.framesOut++;
    } catch {
      // closed under us; the close handler cleans up
    }
  }

  /**
   * The registry took a key away (pre-emption): forget it and say so with a
   * `subscription_revoked` frame, so the client never waits on a key that stopped.
   */
  revoke(r: Revocation): void {
    this.subscriptions.delete(subscriptionKey(r.exchange, r.symbol, r.mode));
    this.sendControl(JSON.stringify({
      type: "subscription_revoked",
      symbol: r.symbol,
      exchange: r.exchange,
      mode: MODE_LABEL[r.mode],
      reason: r.reason,
      message: r.message,
    }));
  }

  #write(frame: string, ticks: number): void {
    if (!this.#corked && this.socket.cork) {
      this.socket.cork();
      this.#corked = true;
      this.#scheduler.corked(this);
    }
    this.socket.send(frame);
    this.counters.framesSent++;
    this.counters.ticksSent += ticks;
    this.#scheduler.totals.framesOut++;
    this.#scheduler.totals.ticksOut += ticks;
    this.lag.wrote();
  }

  /** Registry delivery: one tick for one key this client holds. */
  deliver(_tick: Tick, mode: Mode, frames: FrameCache): void {
    if (this.closed) return;
    if (this.batch) {
      // A lagging client is conflated even if it asked for every tick: freshness first.
      if (
        this.conflate || this.lag.mode === "conflate" || this.#batchList.length >= MAX_UNCONFLATED
      ) {
        const key = frames.key(mode);
        const size = this.#batchMap.size;
        this.#batchMap.set(key, frames.batchItem(mode));
        if (this.#batchMap.size === size) {
          this.counters.conflated++;
          this.lag.replaced();
        }
      } else this.#batchList.push(frames.batchItem(mode));
      if (!this.batchScheduled) {
        this.batchScheduled = true;
        this.#scheduler.batchPending(this);
      }
      return;
    }
    if (
      this.#queue.size === 0 && this.lag.mode === "flow" &&
      this.socket.bufferedAmount < this.#limits.sendHighWaterBytes
    ) {
      if (!this.socket.open) return;
      this.#write(frames.market(mode), 1);
      return;
    }
    const key = frames.key(mode);
    if (this.#queue.has(key)) {
      this.counters.conflated++;
      this.lag.replaced();
      // Newest wins, but a replaced key moves to the back so fresh keys are not starved.
      this.#queue.delete(key);
    }
    this.#queue.set(key, frames.market(mode));
    if (this.#queue.size === 1) this.#scheduler.queued(this);
  }

  /** Lets the frames held since the first write of this pass go out. */
  uncork(): void {
    if (!this.#corked) return;
    this.#corked = false;
    try {
      this.socket.uncork?.();
    } catch {
      // closed under us
    }
  }

  /** Number of ticks waiting (queued singles or batch items). */
  get queued(): number {
    return this.#queue.size + this.#batchMap.size + this.#batchList.length;
  }

  /** True when a conflating client must wait for its round's answer before writing again. */
  get waitingForRound(): boolean {
    return this.lag.mode === "conflate" && this.lag.probing;
  }

  /**
   * Writes queued single frames as far as the client may take them now. Returns true when
   * nothing is left queued.
   */
  flush(now: number): boolean {
    if (this.closed || !this.socket.open) {
      this.#queue.clear();
      return true;
    }
    if (this.#queue.size === 0) return true;
    if (this.waitingForRound) return false;
    for (const [key, frame] of this.#queue) {
      if (this.socket.bufferedAmount >= this.#limits.sendHighWaterBytes) break;
      this.#write(frame, 1);
      this.#queue.delete(key);
    }
    this.probeIfDue(now);
    return this.#queue.size === 0;
  }

  /**
   * Sends the pending batch as one frame if the client may take it now. Returns true when
   * nothing is left pending.
   */
  flushBatch(now: number): boolean {
    if (this.closed || !this.socket.open) {
      this.#batchMap.clear();
      this.#batchList = [];
      return true;
    }
    if (this.#batchMap.size === 0 && this.#batchList.length === 0) return true;
    if (this.waitingForRound) return false;
    if (this.socket.bufferedAmount >= this.#limits.sendHighWaterBytes) return false;
    const items = this.#batchList;
    for (const v of this.#batchMap.values()) items.push(v);
    this.#write(`{"type":"market_data_batch","ticks":[${items.join(",")}]}`, items.length);
    this.#batchMap.clear();
    this.#batchList = [];
    this.lastBatchFlush = now;
    this.probeIfDue(now);
    return true;
  }

  /** Sends a lag probe when one is due after the data written. */
  probeIfDue(now: number): void {
    if (!this.lag.probeDue(now) || !this.socket.open) return;
    try {
      this.socket.ping(String(this.lag.probe(now, this.#scheduler.stallMs)));
    } catch {
      // closed under us
    }
  }

  /** A pong arrived; returns true when it ended a round (queued ticks may go out now). */
  onPong(payload: string, now: number): boolean {
    this.lastHeard = now;
    if (payload.startsWith(KEEPALIVE_PREFIX)) return false;
    return this.lag.pong(payload, now, this.#scheduler.stallMs) && this.queued > 0;
  }

  /**
   * Housekeeping at `now`: re-evaluates the lag, sends due probes and keep-alive pings, and
   * says whether the client must be closed. `idleTimeoutMs` 0 disables keep-alive.
   */
  check(now: number, idleTimeoutMs: number): ClientVerdict {
    if (this.closed) return "ok";
    const stall = this.#scheduler.stallMs;
    // Deadlines that ran while the gateway itself stood still are moved on by that much.
    const stalled = stall - this.#checkedStall;
    this.#checkedStall = stall;
    if (this.#fullSince !== 0) this.#fullSince += stalled;
    // Anything heard from the peer since the keep-alive ping answers it.
    if (this.#keepaliveSentAt !== 0 && this.lastHeard >= this.#keepaliveSentAt) {
      this.#keepaliveSentAt = 0;
    }
    if (this.#keepaliveSentAt !== 0) this.#keepaliveSentAt += stalled;
    if (this.lag.check(now, stall) === "slow") return "slow_consumer";
    // The memory guard: bytes above the kernel stuck over the high-water mark.
    if (this.socket.bufferedAmount >= this.#limits.sendHighWaterBytes) {
      if (this.#fullSince === 0) this.#fullSince = now;
      else if (now - this.#fullSince >= this.#limits.slowConsumerMs) return "slow_consumer";
    } else this.#fullSince = 0;
    this.probeIfDue(now);
    if (idleTimeoutMs > 0) {
      if (this.#keepaliveSentAt !== 0) {
        if (now - this.#keepaliveSentAt >= idleTimeoutMs) return "keepalive_timeout";
      } else if (now - this.lastHeard >= idleTimeoutMs && this.socket.open) {
        this.#keepaliveSentAt = now;
        try {
          this.socket.ping(`${KEEPALIVE_PREFIX}${now}`);
        } catch {
          // closed under us
        }
      }
    }
    return "ok";
  }
}
