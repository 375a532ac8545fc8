// What every broker simulator exposes so one conformance suite can drive any adapter against its
// own simulator: where to point the adapter, what the simulated broker streams, and scripted faults.

import type { Mode } from "../../types.ts";

/** A running broker simulator, as the conformance suite drives it. */
export interface BrokerSimulator extends AsyncDisposable {
  /**
   * Adapter options that point the adapter at this simulator: feed URL, instrument master (file
   * or URL), credentials, and short session timings suited to tests.
   */
  readonly adapterOptions: Record<string, unknown>;
  /**
   * What the simulated broker streams now: one map per open connection, OpenAlgo
   * `EXCHANGE:SYMBOL` → the OpenAlgo mode the broker streams it at (after the broker's own mode
   * mapping, e.g. Noren's touchline serves LTP and Quote alike and reports 2).
   */
  streams(): Map<string, Mode>[];
  /** WebSocket (or transport) handshakes attempted so far, accepted or not. */
  readonly handshakes: number;
  /** Closes every open connection abruptly; returns how many were closed. */
  drop(): number;
  /** Stops all output (data and heartbeats) on open connections; they stay open. */
  stall(): void;
  /** Resumes output on stalled connections. */
  resume(): void;
  /**
   * Invalidates the current access token: live sessions are ended the way the broker ends them
   * and new handshakes are rejected the way the broker rejects them. Returns a fresh valid token.
   */
  expireToken(): string;
  /** Sends malformed messages (random bytes, truncated packets, bad JSON) to every connection. */
  garbage(): void;
  close(): Promise<void>;
}

/**
 * Session timings a simulator hands the adapter for the conformance suite: fast reconnects, a
 * one-second silence watchdog, no data-stall watchdog (simulated instruments may be quiet) and a
 * long auth retry, so a retry storm would show.
 */
export const CONFORMANCE_TIMINGS = {
  silenceTimeoutMs: 1000,
  dataStallMs: 0,
  reconnectBaseMs: 50,
  reconnectMaxMs: 200,
  authRetryMs: 60_000,
  maxAuthRetries: 3,
  authRetryMinMs: 0,
  connectTimeoutMs: 2000,
} as const;
