// Playback timing of the replay adapter, as pure arithmetic: maps recorded publish times to wall
// times at a speed, cuts long silences, pauses, and caps the emission rate. No timers here.

/**
 * Maps recorded time to wall time. Feed it the records' publish times in file order with
 * {@link advance}; {@link due} is when the latest one should be emitted. Recorded time never runs
 * backwards (a record older than one already seen is due at once).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const clock = new ReplayClock(2, 5000);
 * clock.start(1000);
 * clock.advance(50_000);
 * clock.advance(51_000);
 * assert.equal(clock.due(), 1500); // one recorded second at 2× speed
 * ```
 */
export class ReplayClock {
  readonly speed: number;
  readonly maxGapMs: number;
  #origin = 0;
  #first: number | null = null;
  #virtual = 0;
  #skipped = 0;
  #pausedAt: number | null = null;

  /** `speed`: a positive factor, or "max" (everything due at once). */
  constructor(speed: number | "max", maxGapMs: number) {
    this.speed = speed === "max" ? Infinity : speed;
    this.maxGapMs = maxGapMs;
  }

  /** Starts (or restarts) the timeline at wall time `wall`. */
  start(wall: number): void {
    this.#origin = wall;
    this.#first = null;
    this.#skipped = 0;
    this.#pausedAt = null;
  }

  /** Moves recorded time to `published` (epoch ms) if it is later; cuts silences over maxGapMs. */
  advance(published: number): void {
    if (this.#first === null) {
      this.#first = published;
      this.#virtual = published;
      return;
    }
    const step = published - this.#virtual;
    if (step <= 0) return;
    if (step > this.maxGapMs) this.#skipped += step - this.maxGapMs;
    this.#virtual = published;
  }

  /** Wall time at which the latest advanced record is due. */
  due(): number {
    if (this.#first === null || this.speed === Infinity) return this.#origin;
    return this.#origin + (this.#virtual - this.#first - this.#skipped) / this.speed;
  }

  /** Recorded milliseconds skipped by gap cutting so far. */
  get skipped(): number {
    return this.#skipped;
  }

  /** True between {@link pause} and {@link resume}. */
  get paused(): boolean {
    return this.#pausedAt !== null;
  }

  /** Stops the timeline at wall time `wall`. */
  pause(wall: number): void {
    this.#pausedAt ??= wall;
  }

  /** Continues the timeline; the paused time is not owed. */
  resume(wall: number): void {
    if (this.#pausedAt === null) return;
    this.#origin += wall - this.#pausedAt;
    this.#pausedAt = null;
  }
}

/**
 * A ceiling on emissions per second with a bounded burst (generic cell rate algorithm): after a
 * slow stretch at most `burstMs` worth of ticks go out at once. {@link nextAt} is the earliest
 * wall time the next emission is allowed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const cap = new RateCap(1000, 0);
 * cap.start(0);
 * cap.count(10, 0);
 * assert.equal(cap.nextAt(), 10);
 * ```
 */
export class RateCap {
  readonly rate: number;
  readonly burstMs: number;
  /** Theoretical time by which everything counted so far has gone out at `rate`. */
  #tat = 0;

  constructor(ticksPerSecond: number, burstMs = 100) {
    this.rate = ticksPerSecond;
    this.burstMs = burstMs;
  }

  /** Restarts at wall time `wall`. */
  start(wall: number): void {
    this.#tat = wall;
  }

  /** Records `n` emissions at wall time `now`. */
  count(n: number, now: number): void {
    this.#tat = Math.max(this.#tat, now) + (n * 1000) / this.rate;
  }

  /** The earliest wall time of the next emission. */
  nextAt(): number {
    return this.#tat - this.burstMs;
  }
}
