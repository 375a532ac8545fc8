// How far behind one client really is, from WebSocket ping/pong round trips, and the send mode
// that follows from it. Pure: callers pass the time; no sockets, no timers.
//
// Why pings: the kernel absorbs megabytes into a socket's send queue (and the peer's receive
// buffer holds more) before the application's buffer grows at all, so a client reading half of
// what it is sent falls seconds behind while every local measure reads zero. A ping is written
// behind the frames already sent and the peer can only answer it after reading all of them, so
// the age of the oldest unanswered ping is the client's real lag: kernel queues, network and the
// client's own reading loop included.
//
// Two modes. In `flow` every tick is written at once and a probe ping follows the data every
// `probeIntervalMs`. Once the lag passes half the staleness bound (half, because what is already
// in the pipe still has to be read) the client is switched to `conflate`: ticks wait in a
// newest-per-key queue and are written in rounds — one round (the queue, then a probe) whenever
// the previous round's probe has been answered, so at most one round is ever in the pipe and a
// tick is at most about two rounds old when read. A client whose rounds come back quickly with
// nothing replaced in the queue, for two bounds in a row, has caught up and returns to `flow`.
// One that stays behind the bound for `slowConsumerMs` is to be closed.

/** Tuning of the lag meter, from config limits. */
export interface LagLimits {
  /** Staleness bound: ticks are conflated so a client reads none older than about this. */
  maxStalenessMs: number;
  /** A client behind the bound continuously for this long is a slow consumer. */
  slowConsumerMs: number;
}

/** What the sender should do for the client now. */
export type SendMode = "flow" | "conflate";

/** Most probes in flight per client; a client this far behind is judged by the oldest. */
const MAX_PROBES = 32;
/**
 * A conflated client gets full flow again after clean rounds (quick, nothing replaced) for this
 * many staleness bounds in a row and at least {@link CLEAN_ROUNDS_TO_FLOW} rounds: long enough
 * that a reader working off a burst of credit is not mistaken for one that keeps up.
 */
const CLEAN_BOUNDS_TO_FLOW = 2;
const CLEAN_ROUNDS_TO_FLOW = 3;

/**
 * One client's lag: probes sent, answers received, and the send mode.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const lag = new LagMeter({ maxStalenessMs: 250, slowConsumerMs: 10_000 });
 * lag.wrote();
 * const id = lag.probe(0);
 * assert.equal(lag.lag(100), 100);
 * lag.pong(String(id), 120);
 * assert.equal(lag.lag(130), 0);
 * assert.equal(lag.lastRoundTripMs, 120);
 * ```
 */
export class LagMeter {
  readonly #limits: LagLimits;
  /** Probe interval while data flows: often enough to notice lag well within the bound. */
  readonly probeIntervalMs: number;
  /** Probes in flight, oldest first, with the stall clock when each was sent. */
  #probes: { id: number; at: number; stall: number }[] = [];
  #nextId = 1;
  #lastProbeAt = -Infinity;
  #wroteSinceProbe = false;
  #mode: SendMode = "flow";
  #behindSince: number | null = null;
  /** The stall clock when the client fell behind. */
  #behindStall = 0;
  /** Queue replacements seen during the current round (conflate mode). */
  #replacedThisRound = 0;
  #cleanRounds = 0;
  #cleanSince = 0;
  /** The smallest round trip seen: the network's share, which no conflation can remove. */
  #minRoundTrip = Infinity;
  /** The last answered probe's round trip, ms. */
  lastRoundTripMs = 0;
  /** Times this client was switched to conflation. */
  conflations = 0;

  constructor(limits: LagLimits) {
    this.#limits = limits;
    this.probeIntervalMs = Math.max(10, Math.floor(limits.maxStalenessMs / 5));
  }

  /** The current send mode. */
  get mode(): SendMode {
    return this.#mode;
  }

  /** True while a probe is unanswered. */
  get probing(): boolean {
    return this.#probes.length > 0;
  }

  /** Data frames were written. */
  wrote(): void {
    this.#wroteSinceProbe = true;
  }

  /** A tick replaced an older queued tick of the same key (conflate mode). */
  replaced(): void {
    this.#replacedThisRound++;
  }

  /**
   * True when a probe should follow the data written: in flow mode at most every
   * `probeIntervalMs`, in conflate mode after every round.
   */
  probeDue(now: number): boolean {
    if (!this.#wroteSinceProbe || this.#probes.length >= MAX_PROBES) return false;
    if (this.#mode === "conflate") return true;
    return now - this.#lastProbeAt >= this.probeIntervalMs;
  }

  /** Records a probe sent at `now` (stall clock `stall`); returns its id (the ping payload). */
  probe(now: number, stall = 0): number {
    const id = this.#nextId++;
    this.#probes.push({ id, at: now, stall });
    this.#lastProbeAt = now;
    this.#wroteSinceProbe = false;
    return id;
  }

  /**
   * An answer (pong payload) arrived at `now` (stall clock `stall`). Answers the probe it names
   * and every older one;
   * payloads that name no probe in flight (unsolicited pongs) are ignored. Returns true when
   * it answered a probe.
   */
  pong(payload: string, now: number, stall = 0): boolean {
    const id = Number(payload);
    const i = this.#probes.findIndex((p) => p.id === id);
    if (i < 0) return false;
    const probe = this.#probes[i];
    const rtt = now - probe.at;
    // The same round trip without the gateway's own stalls meanwhile: what the client is judged on.
    const excused = Math.max(0, rtt - (stall - probe.stall));
    this.#probes.splice(0, i + 1);
    this.lastRoundTripMs = rtt;
    if (excused < this.#minRoundTrip) this.#minRoundTrip = excused;
    // A probe answered over the bound means the client was behind all along; one answered within
    // it means it has caught up.
    if (this.#staleness(excused) <= this.#limits.maxStalenessMs) this.#behindSince = null;
    else if (this.#behindSince === null) {
      this.#behindSince = probe.at + this.#limits.maxStalenessMs;
      this.#behindStall = probe.stall;
    }
    // Whether ticks are conflated follows the real age of what the client reads, stall or not:
    // after a stall the backlog is stale, and the newest tick per key is what it should get.
    const staleness = this.#staleness(rtt);
    if (this.#mode === "flow") {
      if (staleness > this.#limits.maxStalenessMs / 2) this.#toConflate();
    } else if (this.#probes.length === 0) this.#roundDone(staleness, now);
    return true;
  }

  #toConflate(): void {
    this.#mode = "conflate";
    this.conflations++;
    this.#replacedThisRound = 0;
    this.#cleanRounds = 0;
  }

  #roundDone(staleness: number, now: number): void {
    const clean = this.#replacedThisRound === 0 && staleness <= this.#limits.maxStalenessMs / 4;
    this.#replacedThisRound = 0;
    if (!clean) {
      this.#cleanRounds = 0;
      return;
    }
    if (this.#cleanRounds++ === 0) this.#cleanSince = now;
    if (
      this.#cleanRounds >= CLEAN_ROUNDS_TO_FLOW &&
      now - this.#cleanSince >= CLEAN_BOUNDS_TO_FLOW * this.#limits.maxStalenessMs
    ) {
      this.#mode = "flow";
      this.#cleanRounds = 0;
    }
  }

  /**
   * The client's lag at `now` (stall clock `stall`): the age of the oldest unanswered probe less
   * the gateway's stalls meanwhile (0 when every probe is answered).
   */
  lag(now: number, stall = 0): number {
    const p = this.#probes[0];
    return p === undefined ? 0 : Math.max(0, now - p.at - (stall - p.stall));
  }

  /**
   * Lag converted to staleness: a round trip is the way down (what a tick's age sees) plus the
   * way back; half the smallest round trip seen is taken as the way back.
   */
  #staleness(lag: number): number {
    return this.#minRoundTrip === Infinity ? lag : Math.max(0, lag - this.#minRoundTrip / 2);
  }

  /**
   * Re-evaluates the mode at `now` (stall clock `stall`; call it on every housekeeping pass).
   * Returns "slow" when the client has been behind the bound for `slowConsumerMs`, the gateway's
   * own stalls not counted.
   */
  check(now: number, stall = 0): SendMode | "slow" {
    if (this.#probes.length === 0) {
      // Nothing in the pipe: whatever the last answer said, the client is not behind now.
      this.#behindSince = null;
      return this.#mode;
    }
    if (this.#mode === "flow" && this.#staleness(this.lag(now)) > this.#limits.maxStalenessMs / 2) {
      this.#toConflate();
    }
    const staleness = this.#staleness(this.lag(now, stall));
    if (staleness > this.#limits.maxStalenessMs && this.#behindSince === null) {
      this.#behindSince = this.#probes[0].at + this.#limits.maxStalenessMs;
      this.#behindStall = this.#probes[0].stall;
    }
    if (
      this.#behindSince !== null &&
      now - this.#behindSince - (stall - this.#behindStall) >= this.#limits.slowConsumerMs
    ) return "slow";
    return this.#mode;
  }
}
