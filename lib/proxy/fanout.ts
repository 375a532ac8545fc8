// The tick fan-out: each tick is serialised once per mode and handed to every consumer holding
// its key, in slices so the event loop keeps moving; and the scheduling of the clients' queued
// ticks and batches that could not be written at once.

import { setImmediate } from "node:timers";
import { getLogger } from "../log.ts";
import type { Consumer, SubscriptionRegistry } from "../subscriptions/mod.ts";
import { instrumentKey, type Mode, type Tick } from "../types.ts";
import type { SendScheduler, WsClient } from "./client.ts";
import { TickFrames } from "./frames.ts";

const log = getLogger(["tickplex", "proxy"]);

/** Deliveries fanned out before yielding to the event loop. */
const FANOUT_SLICE = 2048;
/** Ticks waiting for fan-out beyond which the backlog is conflated per instrument. */
const MAX_FANOUT_BACKLOG = 100_000;
/** A backlog older than this is conflated too: late ticks are worth less than fresh ones. */
const MAX_FANOUT_LAG_MS = 250;

/**
 * Fans ticks out to the registry's consumers and schedules the clients' pending writes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SubscriptionRegistry } from "../subscriptions/mod.ts";
 * const registry = new SubscriptionRegistry({
 *   subscribe: () => Promise.resolve({ ok: true as const, depth: 5 }),
 *   unsubscribe: () => Promise.resolve({ ok: true as const }),
 * });
 * const fanout = new FanOut(registry, "paper", 5);
 * fanout.onTicks([]);
 * assert.equal(fanout.counters.ticksFannedOut, 0);
 * ```
 */
export class FanOut implements SendScheduler {
  /** Deliveries made, and ticks dropped because the fan-out itself fell behind. */
  readonly counters = { ticksFannedOut: 0, ticksConflatedBehind: 0 };
  /** Frames and ticks written to clients, all clients together. */
  readonly totals = { framesOut: 0, ticksOut: 0 };
  /** The gateway's stall clock (see {@link SendScheduler.stallMs}); the proxy advances it. */
  stallMs = 0;
  #registry: SubscriptionRegistry;
  #brokerJson: string;
  #batchIntervalMs: number;
  #backlog: Tick[][] = [];
  #backlogTicks = 0;
  #backlogSince = 0;
  #lastBehindWarning = 0;
  /** Clients with queued single frames. */
  #due = new Set<WsClient>();
  #dueTimer: ReturnType<typeof setTimeout> | null = null;
  /** Clients with a batch waiting. */
  #batchDue = new Set<WsClient>();
  /** Clients whose sockets hold this pass's frames (see {@link WsClient.uncork}). */
  #corked: WsClient[] = [];
  #batchTimer: ReturnType<typeof setTimeout> | null = null;
  #perMode: boolean;

  /** Poll subscribers: fed by {@link onPollTicks}, and by the stream where it carries their key. */
  #pollRegistry: SubscriptionRegistry | null;

  /**
   * `ticksPerMode`: ticks arrive once per mode (an edge fed by the bus, which carries one envelope
   * per mode), so each goes to the consumers of exactly its mode, not to every mode below it.
   */
  constructor(
    registry: SubscriptionRegistry,
    broker: string,
    batchIntervalMs: number,
    pollRegistry?: SubscriptionRegistry,
    ticksPerMode = false,
  ) {
    this.#registry = registry;
    this.#brokerJson = JSON.stringify(broker);
    this.#batchIntervalMs = batchIntervalMs;
    this.#perMode = ticksPerMode;
    this.#pollRegistry = pollRegistry ?? null;
  }

  /**
   * Delivers ticks from the broker's REST quote API to poll subscribers as `"source":"poll"`
   * frames. A mode the stream carries for someone is skipped: those subscribers get the streamed
   * ticks (the poller does not fetch such keys; this covers the moment a stream starts).
   */
  onPollTicks(ticks: Tick[]): void {
    const poll = this.#pollRegistry;
    if (poll === null) return;
    const registry = this.#registry;
    let fanned = 0;
    for (const tick of ticks) {
      const modes = poll.consumersOf(tick.exchange, tick.symbol);
      if (!modes) continue;
      const streamed = registry.modesWithConsumers(tick.exchange, tick.symbol);
      const top = streamed.length > 0 ? Math.max(...streamed) : 0;
      const frames = new TickFrames(tick, this.#brokerJson, true);
      for (const [mode, entry] of modes) {
        if (mode > tick.mode || mode <= top) continue;
        fanned += this.#deliver(entry.consumers, tick, mode, frames);
      }
    }
    this.counters.ticksFannedOut += fanned;
    if (this.#due.size > 0) this.flushDue();
    if (this.#batchDue.size > 0) this.#flushBatches();
    this.#uncork();
  }

  #deliver(
    consumers: Iterable<{ id: string; deliver?: Consumer["deliver"] }>,
    tick: Tick,
    mode: Mode,
    frames: TickFrames,
  ): number {
    let n = 0;
    for (const c of consumers) {
      if (c.deliver) {
        try {
          c.deliver(tick, mode, frames);
          n++;
        } catch (err) {
          log.error("delivery to {id} failed: {err}", { id: c.id, err });
        }
      }
    }
    return n;
  }

  /**
   * Delivers a batch of ticks to every consumer holding their keys. Large batches are fanned out
   * in slices with a yield between them so socket writes, timers and client requests keep moving;
   * if the backlog grows past {@link MAX_FANOUT_BACKLOG} ticks or {@link MAX_FANOUT_LAG_MS} it is
   * conflated to the newest tick per instrument (what a lagging client gets anyway), and the drop
   * is counted.
   */
  onTicks(ticks: Tick[]): void {
    if (this.#backlog.length > 0) {
      this.#backlog.push(ticks);
      this.#backlogTicks += ticks.length;
      if (
        this.#backlogTicks > MAX_FANOUT_BACKLOG ||
        Date.now() - this.#backlogSince > MAX_FANOUT_LAG_MS
      ) this.#conflateBacklog();
      return;
    }
    const done = this.#fanOut(ticks);
    if (done < ticks.length) {
      this.#backlog.push(done === 0 ? ticks : ticks.slice(done));
      this.#backlogTicks += ticks.length - done;
      this.#backlogSince = Date.now();
      setImmediate(this.#pump);
    }
  }

  #pump = (): void => {
    const first = this.#backlog[0];
    if (!first) return;
    const done = this.#fanOut(first);
    this.#backlogTicks -= done;
    if (done < first.length) this.#backlog[0] = first.slice(done);
    else this.#backlog.shift();
    if (this.#backlog.length > 0) setImmediate(this.#pump);
  };

  #conflateBacklog(): void {
    const newest = new Map<string, Tick>();
    let total = 0;
    for (const batch of this.#backlog) {
      for (const t of batch) {
        total++;
        const k = this.#perMode
          ? `${instrumentKey(t.exchange, t.symbol)}:${t.mode}`
          : instrumentKey(t.exchange, t.symbol);
        newest.delete(k);
        newest.set(k, t);
      }
    }
    this.counters.ticksConflatedBehind += total - newest.size;
    this.#backlog = [[...newest.values()]];
    this.#backlogTicks = newest.size;
    const now = Date.now();
    this.#backlogSince = now;
    if (now - this.#lastBehindWarning > 5000) {
      this.#lastBehindWarning = now;
      log.warn(
        "fan-out fell behind the feed: conflated the backlog to the newest tick per instrument " +
          "({dropped} ticks dropped so far)",
        { dropped: this.counters.ticksConflatedBehind },
      );
    }
  }

  /** Fans out ticks from the start until the delivery budget is spent; returns where it stopped. */
  #fanOut(ticks: Tick[]): number {
    const registry = this.#registry;
    const perMode = this.#perMode;
    // Looked up per tick only while someone holds a polled key.
    const poll = this.#pollRegistry !== null && this.#pollRegistry.consumerCount > 0
      ? this.#pollRegistry
      : null;
    let fanned = 0;
    let i = 0;
    for (; i < ticks.length && fanned < FANOUT_SLICE; i++) {
      const tick = ticks[i];
      const modes = registry.consumersOf(tick.exchange, tick.symbol);
      // Poll subscribers of a streamed instrument are served from the stream (reuse).
      const polled = poll?.consumersOf(tick.exchange, tick.symbol);
      if (!modes && !polled) continue;
      const frames = new TickFrames(tick, this.#brokerJson);
      if (modes) {
        for (const [mode, entry] of modes) {
          if (perMode ? mode !== tick.mode : mode > tick.mode) continue;
          fanned += this.#deliver(entry.consumers, tick, mode, frames);
        }
      }
      if (polled) {
        for (const [mode, entry] of polled) {
          if (mode > tick.mode) continue;
          fanned += this.#deliver(entry.consumers, tick, mode, frames);
        }
      }
    }
    this.counters.ticksFannedOut += fanned;
    if (this.#due.size > 0) this.flushDue();
    if (this.#batchDue.size > 0) this.#flushBatches();
    this.#uncork();
    return i;
  }

  /** SendScheduler: the client corked its socket for this pass. */
  corked(client: WsClient): void {
    this.#corked.push(client);
  }

  /** Ends the pass: every corked socket writes what it holds, one system call each. */
  #uncork(): void {
    const corked = this.#corked;
    if (corked.length === 0) return;
    this.#corked = [];
    for (const c of corked) c.uncork();
  }

  /** SendScheduler: the client queued ticks; they go out at the end of this pass or soon after. */
  queued(client: WsClient): void {
    this.#due.add(client);
    this.#dueTimer ??= setTimeout(() => {
      this.#dueTimer = null;
      this.flushDue();
    }, 5);
  }

  /** SendScheduler: the client has a batch waiting. */
  batchPending(client: WsClient): void {
    this.#batchDue.add(client);
  }

  /** Writes what each client with queued ticks may take now; retries the rest later. */
  flushDue(): void {
    const now = Date.now();
    // Clients waiting for their round's answer stay listed without polling: the pong flushes them.
    let poll = false;
    for (const c of this.#due) {
      if (c.flush(now)) this.#due.delete(c);
      else if (!c.waitingForRound) poll = true;
    }
    this.#uncork();
    if (poll) {
      this.#dueTimer ??= setTimeout(() => {
        this.#dueTimer = null;
        this.flushDue();
      }, 5);
    }
  }

  /** A client's round was answered: write its queued ticks or batch at once. */
  flushClient(client: WsClient): void {
    const now = Date.now();
    if (this.#due.has(client) && client.flush(now)) this.#due.delete(client);
    if (this.#batchDue.has(client) && now - client.lastBatchFlush >= this.#batchIntervalMs) {
      if (client.flushBatch(now)) {
        this.#batchDue.delete(client);
        client.batchScheduled = false;
      }
    }
    this.#uncork();
  }

  #flushBatches(): void {
    const now = Date.now();
    const interval = this.#batchIntervalMs;
    let nextDue = Infinity;
    for (const c of this.#batchDue) {
      const due = c.lastBatchFlush + interval;
      if (due > now) {
        nextDue = Math.min(nextDue, due);
        continue;
      }
      if (c.flushBatch(now)) {
        this.#batchDue.delete(c);
        c.batchScheduled = false;
      } else nextDue = Math.min(nextDue, now + interval);
    }
    this.#uncork();
    if (this.#batchDue.size > 0 && this.#batchTimer === null) {
      this.#batchTimer = setTimeout(() => {
        this.#batchTimer = null;
        this.#flushBatches();
      }, Math.max(1, nextDue - now));
    }
  }

  /** Forgets a closed client. */
  forget(client: WsClient): void {
    this.#due.delete(client);
    this.#batchDue.delete(client);
  }

  /** Stops the timers (shutdown). */
  stop(): void {
    if (this.#dueTimer !== null) clearTimeout(this.#dueTimer);
    if (this.#batchTimer !== null) clearTimeout(this.#batchTimer);
    this.#dueTimer = null;
    this.#batchTimer = null;
  }
}
