// One WebSocket client: its auth state, the keys it holds, and its bounded send path — direct
// writes while the socket keeps up, per-key conflation while it does not, batched frames on opt-in.

import type { Consumer, FrameCache } from "../subscriptions/registry.ts";
import type { Mode, Tick } from "../types.ts";

/** The subset of WebSocket the client needs (tests can pass a fake). */
export interface ClientSocket {
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** Send-path tuning, from config limits. */
export interface SendLimits {
  sendHighWaterBytes: number;
  slowConsumerMs: number;
  batchIntervalMs: number;
}

/** Holds the parts of the client that the proxy schedules. */
export interface SendScheduler {
  /** Totals across every client, for throughput figures. */
  readonly totals: { framesOut: number; ticksOut: number };
  /** The client has queued data that could not be written yet. */
  backlogged(client: WsClient): void;
  /** The client has a batch waiting for its flush interval. */
  batchPending(client: WsClient): void;
}

/** Key of one subscription held by a client. */
export function subKey(exchange: string, symbol: string, mode: Mode): string {
  return `${exchange}|${symbol}|${mode}`;
}

const OPEN = 1;
/** Un-conflated batch clients keep at most this many ticks before older ones are conflated. */
const MAX_UNCONFLATED = 20_000;

/** A connected WebSocket client; also the registry consumer for its subscriptions. */
export class WsClient implements Consumer {
  readonly id: string;
  readonly address: string;
  readonly socket: ClientSocket;
  authenticated = false;
  batch = false;
  conflate = true;
  /** Keys this client holds, with the depth acked. */
  readonly subscriptions = new Map<
    string,
    { exchange: string; symbol: string; mode: Mode; depth: number }
  >();
  /** Messages received, frames sent, ticks conflated away. */
  readonly counters = { received: 0, framesSent: 0, ticksSent: 0, conflated: 0 };
  /** Work chain: requests are handled one at a time, in order. */
  chain: Promise<void> = Promise.resolve();
  pendingRequests = 0;
  /** Token bucket for incoming messages. */
  tokens: number;
  lastRefill: number;
  flooded = 0;
  lastRateLimitReply = 0;
  closed = false;

  #limits: SendLimits;
  #scheduler: SendScheduler;
  /** Queued single frames by key (conflated), in first-queued order. */
  #queue = new Map<string, string>();
  /** Pending batch items: by key when conflating, else in arrival order. */
  #batchMap = new Map<string, string>();
  #batchList: string[] = [];
  #backlogSince = 0;
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
    this.tokens = burst;
    this.lastRefill = Date.now();
  }

  /** Sends a control frame (acks, errors): never conflated, always in order. */
  sendControl(frame: string): void {
    if (this.closed || this.socket.readyState !== OPEN) return;
    try {
      this.socket.send(frame);
      this.counters.framesSent++;
      this.#scheduler.totals.framesOut++;
    } catch {
      // closed under us; the close handler cleans up
    }
  }

  /** Registry delivery: one tick for one key this client holds. */
  deliver(_tick: Tick, mode: Mode, frames: FrameCache): void {
    if (this.closed) return;
    if (this.batch) {
      if (this.conflate || this.#batchList.length >= MAX_UNCONFLATED) {
        const key = frames.key(mode);
        const size = this.#batchMap.size;
        this.#batchMap.set(key, frames.batchItem(mode));
        if (this.#batchMap.size === size) this.counters.conflated++;
      } else this.#batchList.push(frames.batchItem(mode));
      if (!this.batchScheduled) {
        this.batchScheduled = true;
        this.#scheduler.batchPending(this);
      }
      return;
    }
    if (this.#queue.size === 0 && this.socket.bufferedAmount < this.#limits.sendHighWaterBytes) {
      if (this.socket.readyState !== OPEN) return;
      this.socket.send(frames.market(mode));
      this.counters.framesSent++;
      this.counters.ticksSent++;
      this.#scheduler.totals.framesOut++;
      this.#scheduler.totals.ticksOut++;
      return;
    }
    const key = frames.key(mode);
    if (this.#queue.has(key)) {
      this.counters.conflated++;
      // Newest wins, but a replaced key moves to the back so fresh keys are not starved.
      this.#queue.delete(key);
    }
    this.#queue.set(key, frames.market(mode));
    if (this.#backlogSince === 0) {
      this.#backlogSince = Date.now();
      this.#scheduler.backlogged(this);
    }
  }

  /** Number of ticks waiting (queued singles or batch items). */
  get queued(): number {
    return this.#queue.size + this.#batchMap.size + this.#batchList.length;
  }

  /**
   * Writes queued single frames while the socket keeps up. Returns false when the client is
   * hopeless (backlogged longer than the slow-consumer limit) and must be closed.
   * Returns true when nothing is left queued, "pending" otherwise.
   */
  drain(now: number): true | false | "pending" {
    if (this.closed || this.socket.readyState !== OPEN) {
      this.#queue.clear();
      return true;
    }
    for (const [key, frame] of this.#queue) {
      if (this.socket.bufferedAmount >= this.#limits.sendHighWaterBytes) break;
      this.socket.send(frame);
      this.counters.framesSent++;
      this.counters.ticksSent++;
      this.#scheduler.totals.framesOut++;
      this.#scheduler.totals.ticksOut++;
      this.#queue.delete(key);
    }
    if (this.#queue.size === 0) {
      this.#backlogSince = 0;
      return true;
    }
    return now - this.#backlogSince > this.#limits.slowConsumerMs ? false : "pending";
  }

  /**
   * Sends the pending batch as one frame if the socket keeps up. Same return contract as drain().
   */
  flushBatch(now: number): true | false | "pending" {
    if (this.closed || this.socket.readyState !== OPEN) {
      this.#batchMap.clear();
      this.#batchList = [];
      return true;
    }
    if (this.#batchMap.size === 0 && this.#batchList.length === 0) {
      this.#backlogSince = 0;
      return true;
    }
    if (this.socket.bufferedAmount >= this.#limits.sendHighWaterBytes) {
      if (this.#backlogSince === 0) this.#backlogSince = now;
      return now - this.#backlogSince > this.#limits.slowConsumerMs ? false : "pending";
    }
    const items = this.#batchList.length > 0 ? this.#batchList : [];
    if (this.#batchMap.size > 0) { for (const v of this.#batchMap.values()) items.push(v); }
    this.socket.send(`{"type":"market_data_batch","ticks":[${items.join(",")}]}`);
    this.counters.framesSent++;
    this.counters.ticksSent += items.length;
    this.#scheduler.totals.framesOut++;
    this.#scheduler.totals.ticksOut += items.length;
    this.#batchMap.clear();
    this.#batchList = [];
    this.#backlogSince = 0;
    this.lastBatchFlush = now;
    return true;
  }
}
