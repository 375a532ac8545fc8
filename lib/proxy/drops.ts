// Every connection the proxy drops, by reason: counted for /metrics and logged once each, with a
// per-reason cap on log lines so a flood of drops cannot flood the log.

import { getLogger } from "../log.ts";

const log = getLogger(["tickplex", "proxy"]);

/** Why a connection was dropped; the `reason` label of `tickplex_client_drops_total`. */
export type DropReason =
  /** Not authenticated within the grace period (close 4401). */
  | "auth_timeout"
  /** Behind the staleness bound for too long, or its send buffer stayed full (close 1008). */
  | "slow_consumer"
  /** Sustained message flooding (close 1008). */
  | "flooding"
  /** A message over the size limit (close 1009). */
  | "message_too_big"
  /** A WebSocket protocol violation seen by the frame parser (bad UTF-8, bad framing). */
  | "protocol_violation"
  /** No answer to a keep-alive ping (close 1001). */
  | "keepalive_timeout"
  /** The peer did not answer our close frame in time: cut at the TCP level. */
  | "close_timeout"
  /** The HTTP request (headers, or the body of a request) did not arrive in time. */
  | "request_timeout"
  /** An idle HTTP keep-alive connection reached the request deadline. */
  | "http_idle"
  /** Too many open connections from one address. */
  | "address_cap"
  /** Too many open connections in total. */
  | "connection_cap"
  /** Too many WebSocket clients (503 before the upgrade). */
  | "max_clients"
  /** A browser origin that is not allowed (403 before the upgrade). */
  | "origin_refused";

/** Every reason, for zero-valued metric lines. */
export const DROP_REASONS: readonly DropReason[] = [
  "auth_timeout",
  "slow_consumer",
  "flooding",
  "message_too_big",
  "protocol_violation",
  "keepalive_timeout",
  "close_timeout",
  "request_timeout",
  "http_idle",
  "address_cap",
  "connection_cap",
  "max_clients",
  "origin_refused",
];

/** Log lines per reason per second before further drops of that reason are only summarised. */
const LOG_LINES_PER_SECOND = 10;

/**
 * Counts and logs drops.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const drops = new DropLog();
 * drops.record("auth_timeout", { address: "127.0.0.1", id: "c1" });
 * assert.equal(drops.count("auth_timeout"), 1);
 * ```
 */
export class DropLog {
  #counts = new Map<DropReason, number>();
  #window = new Map<DropReason, { second: number; lines: number; suppressed: number }>();
  #clock: () => number;

  constructor(clock: () => number = Date.now) {
    this.#clock = clock;
  }

  /** Records one drop: counts it and logs it (or, past the per-second cap, summarises it). */
  record(reason: DropReason, who: { address: string; id?: string }, detail = ""): void {
    this.#counts.set(reason, (this.#counts.get(reason) ?? 0) + 1);
    const second = Math.floor(this.#clock() / 1000);
    let w = this.#window.get(reason);
    if (!w || w.second !== second) {
      if (w && w.suppressed > 0) {
        log.warn("dropped {n} more connections ({reason}) without logging each", {
          n: w.suppressed,
          reason,
        });
      }
      w = { second, lines: 0, suppressed: 0 };
      this.#window.set(reason, w);
    }
    if (w.lines >= LOG_LINES_PER_SECOND) {
      w.suppressed++;
      return;
    }
    w.lines++;
    log.info("dropped {who} ({address}): {reason}{detail}", {
      who: who.id ?? "connection",
      address: who.address,
      reason,
      detail: detail ? ` (${detail})` : "",
    });
  }

  /** Drops recorded for `reason`. */
  count(reason: DropReason): number {
    return this.#counts.get(reason) ?? 0;
  }
}
