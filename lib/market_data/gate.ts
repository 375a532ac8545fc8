// The trade-management safety gate: a pure assessment of the feed (real pool connection states
// plus data flow) and the paused/released state machine with its events and counters.

import { getLogger } from "../log.ts";
import type { ConnectionStatus } from "../feed_state.ts";
import type { GateEvent, PauseCause, TradeSafety } from "./types.ts";

const log = getLogger(["tickplex", "market_data"]);

/** The pause reason when no data arrived for longer than the stale threshold. */
export const STALE_REASON = "Data is stale - trade management paused for safety";

/** The pause reason when a broker connection is not connected. */
export const CONNECTION_LOST_REASON = "Connection lost - trade management paused for safety";

const REASONS: Readonly<Record<PauseCause, string>> = {
  stale: STALE_REASON,
  connection_lost: CONNECTION_LOST_REASON,
};

/**
 * True when a connection cannot deliver the data it is asked for: any state but `connected`,
 * except a `connecting` connection that carries no symbols yet (a connection being opened for
 * capacity, or the first one before anyone subscribed).
 *
 * @example
 * ```ts ignore
 * connectionLost(pool.status()); // false while every connection is connected
 * ```
 */
export function connectionLost(connections: readonly ConnectionStatus[]): boolean {
  for (const c of connections) {
    if (c.state === "connected") continue;
    if (c.state === "connecting" && c.symbols === 0) continue;
    return true;
  }
  return false;
}

/** Inputs of {@link assessFeed}. Times in epoch ms. */
export interface FeedAssessment {
  /** The pool's connection status. */
  connections: readonly ConnectionStatus[];
  /** Whether anything is subscribed (the pool streams symbols or the service has subscribers). */
  hasSubscriptions: boolean;
  /** Current time. */
  now: number;
  /** Receive time of the latest data, or null. */
  lastDataAt: number | null;
  /**
   * The last time nothing was subscribed, or null: silence is measured from the later of this and
   * `lastDataAt`, so a new subscription gets a full grace period.
   */
  lastIdleAt: number | null;
  /** Silence allowed before the feed counts as stale. */
  staleAfterMs: number;
}

/**
 * Decides whether the feed is fit for trade management. A lost connection wins over silence.
 * With no subscriptions the feed is always `ok`: silence is expected.
 *
 * @example
 * ```ts ignore
 * assessFeed({ connections, hasSubscriptions: true, now, lastDataAt, lastIdleAt, staleAfterMs: 30_000 });
 * ```
 */
export function assessFeed(a: FeedAssessment): "ok" | PauseCause {
  if (!a.hasSubscriptions) return "ok";
  if (connectionLost(a.connections)) return "connection_lost";
  const since = Math.max(a.lastDataAt ?? -Infinity, a.lastIdleAt ?? -Infinity);
  if (since !== -Infinity && a.now - since > a.staleAfterMs) return "stale";
  return "ok";
}

/** Gate counters. */
export interface GateCounters {
  /** Safe → paused transitions. */
  pauses: number;
  /** Times the gate entered a stale pause (from safe or from a connection pause). */
  staleEvents: number;
  /** Times it entered a connection-lost pause. */
  connectionPauses: number;
  /** Paused → safe transitions. */
  releases: number;
}

/**
 * The paused/released state machine. It does not decide *when* to pause — the service does, from
 * {@link assessFeed} and incoming ticks — it records the state, counts, and notifies listeners.
 *
 * @example
 * ```ts ignore
 * const gate = new SafetyGate();
 * gate.onChange((e) => console.log(e.reason));
 * gate.pause("stale", Date.now());
 * gate.safety(); // { safe: false, reason: STALE_REASON }
 * ```
 */
export class SafetyGate {
  #cause: PauseCause | null = null;
  #since: number | null = null;
  #listeners = new Set<(e: GateEvent) => void>();
  /** Transition counters. */
  readonly counters: GateCounters = { pauses: 0, staleEvents: 0, connectionPauses: 0, releases: 0 };

  /** Why it is paused, or null when safe. */
  get cause(): PauseCause | null {
    return this.#cause;
  }

  /** When the current pause began, or null. */
  get pausedSince(): number | null {
    return this.#since;
  }

  /** The answer for `isTradeManagementSafe()`. */
  safety(): TradeSafety {
    return this.#cause === null
      ? { safe: true, reason: "" }
      : { safe: false, reason: REASONS[this.#cause] };
  }

  /** Pauses for `cause` (or switches the reason of an ongoing pause). True when anything changed. */
  pause(cause: PauseCause, now: number): boolean {
    if (this.#cause === cause) return false;
    const fresh = this.#cause === null;
    this.#cause = cause;
    if (fresh) {
      this.#since = now;
      this.counters.pauses++;
    }
    if (cause === "stale") this.counters.staleEvents++;
    else this.counters.connectionPauses++;
    log.warn("trade management paused: {reason}", { reason: REASONS[cause] });
    this.#emit({ safe: false, reason: REASONS[cause], cause, at: now });
    return true;
  }

  /** Releases a pause. True when it was paused. */
  release(cause: "recovered" | "no_subscriptions", now: number): boolean {
    if (this.#cause === null) return false;
    const pausedForMs = now - (this.#since ?? now);
    this.#cause = null;
    this.#since = null;
    this.counters.releases++;
    log.info("trade management resumed ({cause}) after {ms} ms", { cause, ms: pausedForMs });
    this.#emit({ safe: true, reason: "", cause, at: now, pausedForMs });
    return true;
  }

  /** Adds a listener; returns a function removing it. Listener errors are logged and ignored. */
  onChange(listener: (e: GateEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(e: GateEvent): void {
    for (const l of [...this.#listeners]) {
      try {
        l(e);
      } catch (err) {
        log.error("safety-gate listener threw: {err}", { err });
      }
    }
  }
}
