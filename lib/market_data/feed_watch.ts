// The MarketDataService's gate bookkeeping: when to pause trade management (from the pool's real
// connection states and data flow), when to release it, and which ticks held subscribers missed.

import type { ConnectionStatus } from "../feed_state.ts";
import type { FeedState } from "../types.ts";
import { assessFeed, connectionLost, SafetyGate } from "./gate.ts";
import type { FeedStatusSource } from "./types.ts";

/** Ticks with `after < seq < before` were withheld from held subscribers and may be replayed. */
export interface ReplayRange {
  /** Sequence number of the last tick delivered before the pause. */
  after: number;
  /** First sequence number not to replay. */
  before: number;
}

/** What the service knows that the watch needs for an assessment. */
export interface FeedActivity {
  /** Service subscribers holding registry subscriptions. */
  symbolSubscribers: number;
  /** Receive time of the latest valid data, or null. */
  lastDataAt: number | null;
  /** Sequence number of the latest accepted tick. */
  seq: number;
}

/**
 * Drives the {@link SafetyGate} from the feed and counts connection transitions.
 *
 * @example
 * ```ts ignore
 * const watch = new FeedWatch(pool, 30_000, Date.now());
 * const { replay } = watch.evaluate(Date.now(), { symbolSubscribers: 1, lastDataAt, seq });
 * ```
 */
export class FeedWatch {
  /** The gate it drives. */
  readonly gate: SafetyGate = new SafetyGate();
  /** Connections observed leaving the connected state. */
  connectionLosses = 0;
  /** Connections observed returning to the connected state. */
  reconnects = 0;

  readonly #feed: FeedStatusSource;
  readonly #staleAfterMs: number;
  /** The service's `seq` when the current pause began: later ticks were withheld. */
  #pauseSeq = 0;
  /** The last time nothing was subscribed (see `FeedAssessment.lastIdleAt`). */
  #lastIdleAt: number;
  /** Whether the latest assessment found subscriptions. */
  #sawSubscriptions = false;
  #states = new Map<number, FeedState>();
  #everConnected = new Set<number>();

  /** `startedAt` starts the silence clock. */
  constructor(feed: FeedStatusSource, staleAfterMs: number, startedAt: number) {
    this.#feed = feed;
    this.#staleAfterMs = staleAfterMs;
    this.#lastIdleAt = startedAt;
  }

  /**
   * Call when the first service subscriber with instruments arrives: after an idle feed the
   * silence clock starts now, so a new subscription gets a full grace period.
   */
  firstSubscriber(now: number): void {
    if (!this.#sawSubscriptions) this.#lastIdleAt = now;
  }

  /**
   * Re-assesses the feed from the pool's status (with `override`, the state just reported, applied
   * on top) and pauses if needed. Returns the connections it used and, when the gate was released
   * because nothing is subscribed any more, the ticks to replay.
   */
  evaluate(
    now: number,
    activity: FeedActivity,
    override?: { index: number; state: FeedState },
  ): { connections: ConnectionStatus[]; replay: ReplayRange | null } {
    let conns = this.#feed.status();
    if (override) {
      conns = conns.map((c) => c.index === override.index ? { ...c, state: override.state } : c);
      this.#noteState(override.index, override.state);
    }
    for (const c of conns) this.#noteState(c.index, c.state);
    const hasSubscriptions = activity.symbolSubscribers > 0 || conns.some((c) => c.symbols > 0);
    this.#sawSubscriptions = hasSubscriptions;
    if (!hasSubscriptions) {
      this.#lastIdleAt = now;
      const released = this.gate.release("no_subscriptions", now);
      return {
        connections: conns,
        replay: released ? { after: this.#pauseSeq, before: activity.seq + 1 } : null,
      };
    }
    const verdict = assessFeed({
      connections: conns,
      hasSubscriptions,
      now,
      lastDataAt: activity.lastDataAt,
      lastIdleAt: this.#lastIdleAt,
      staleAfterMs: this.#staleAfterMs,
    });
    if (verdict !== "ok") {
      const wasSafe = this.gate.cause === null;
      if (this.gate.pause(verdict, now) && wasSafe) this.#pauseSeq = activity.seq;
    }
    return { connections: conns, replay: null };
  }

  /**
   * A fresh tick (sequence `seq`) arrived while paused: releases the gate if every connection is
   * up and returns the ticks held subscribers missed; null when still paused.
   */
  freshTick(now: number, seq: number): ReplayRange | null {
    if (connectionLost(this.#feed.status())) {
      this.gate.pause("connection_lost", now);
      return null;
    }
    const after = this.#pauseSeq;
    this.gate.release("recovered", now);
    return { after, before: seq };
  }

  /** Counts connection transitions: connected → anything else is a loss, back is a reconnect. */
  #noteState(index: number, state: FeedState): void {
    const prev = this.#states.get(index);
    if (prev === state) return;
    this.#states.set(index, state);
    if (prev === "connected") this.connectionLosses++;
    if (state === "connected") {
      if (this.#everConnected.has(index)) this.reconnects++;
      this.#everConnected.add(index);
    }
  }
}
