// Broker connection states in one place: the state an adapter worker reports, the pool's status of
// one connection, its JSON form in health documents, and the one ranking that names the state of
// the feed as a whole on every surface (/health, get_broker_info, /api/v1/health, the dashboard).

/**
 * Every state of a broker connection, worst first — the one ranking {@link overallState} uses.
 * States that are not trying any more come first: `failed` (the adapter stopped retrying; reason
 * in the status detail, the pool restarts it slowly), `auth_failed`, `disconnected`. Then a
 * connection is the worse the further it is from delivering data on its way back: a `stalled` one
 * holds a socket that delivers nothing and has not been replaced yet, a `reconnecting` one is
 * already dialling, a `connecting` one is about to log in.
 */
export const FEED_STATES = [
  "failed",
  "auth_failed",
  "disconnected",
  "stalled",
  "reconnecting",
  "connecting",
  "connected",
] as const;

/** State of one broker connection as its adapter worker reports it (see {@link FEED_STATES}). */
export type FeedState = typeof FEED_STATES[number];

const RANK: ReadonlyMap<FeedState, number> = new Map(FEED_STATES.map((s, i) => [s, i]));

/**
 * The state of the feed as a whole: `connected` when every connection is, else the worst state of
 * any connection (by {@link FEED_STATES}); `disconnected` when there is no connection at all.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { overallState } from "./feed_state.ts";
 * assert.equal(overallState([{ state: "stalled" }, { state: "reconnecting" }]), "stalled");
 * assert.equal(overallState([]), "disconnected");
 * ```
 */
export function overallState(connections: readonly { readonly state: FeedState }[]): FeedState {
  if (connections.length === 0) return "disconnected";
  let worst = FEED_STATES.length - 1;
  for (const c of connections) worst = Math.min(worst, RANK.get(c.state) ?? 0);
  return FEED_STATES[worst];
}

/** The pool's status of one broker connection (one adapter worker). Times are epoch ms. */
export interface ConnectionStatus {
  /** 0-based connection index. */
  index: number;
  /** State its worker last reported. */
  state: FeedState;
  /** Symbols it carries. */
  symbols: number;
  /** Symbols it may carry. */
  capacity: number;
  /** Worker restarts by the pool. */
  restarts: number;
  /** Broker reconnects the worker reported. */
  reconnects: number;
  /** Last tick batch from it, or null. */
  lastTickAt: number | null;
  /** Ticks received from it. */
  ticks: number;
  /** Detail of the last state change (e.g. why it died). */
  detail?: string;
}

/** A {@link ConnectionStatus} as health documents show it (JSON, snake_case, ages in ms). */
export interface ConnectionReport {
  /** 0-based; the dashboard shows it 1-based, as the logs do. */
  index: number;
  /** State its worker last reported. */
  state: FeedState;
  /** Symbols it carries. */
  symbols: number;
  /** Symbols it may carry. */
  capacity: number;
  /** Worker restarts by the pool. */
  restarts: number;
  /** Broker reconnects the worker reported. */
  reconnects: number;
  /** Last tick batch from it (epoch ms), or null. */
  last_tick_at: number | null;
  /** Age of that batch, or null. */
  last_tick_age_ms: number | null;
  /** Ticks received from it. */
  ticks: number;
  /** Detail of the last state change (e.g. why it died), or null. */
  detail: string | null;
}

/**
 * The JSON form of a connection's status at `now`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectionReport } from "./feed_state.ts";
 * const r = connectionReport({
 *   index: 0, state: "connected", symbols: 3, capacity: 3000, restarts: 0, reconnects: 1,
 *   lastTickAt: 1_000, ticks: 42,
 * }, 1_250);
 * assert.equal(r.last_tick_age_ms, 250);
 * assert.equal(r.detail, null);
 * ```
 */
export function connectionReport(c: ConnectionStatus, now: number): ConnectionReport {
  return {
    index: c.index,
    state: c.state,
    symbols: c.symbols,
    capacity: c.capacity,
    restarts: c.restarts,
    reconnects: c.reconnects,
    last_tick_at: c.lastTickAt,
    last_tick_age_ms: c.lastTickAt === null ? null : Math.max(0, now - c.lastTickAt),
    ticks: c.ticks,
    detail: c.detail ?? null,
  };
}
