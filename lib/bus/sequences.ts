// Per-topic sequence numbers of one bus publisher session, bounded: a topic nobody published for
// a while is forgotten, so the state holds only the topics in recent use, not every topic ever.

/** Default idle time after which a topic's sequence may restart at 0 (ten minutes). */
export const DEFAULT_TOPIC_IDLE_MS = 600_000;

/**
 * The next `seq` per topic: 0 for the first message of a topic, then +1 per message.
 *
 * A topic not published for `idleMs` is forgotten, and its next message starts again at seq 0 —
 * never earlier: a topic published within the last `idleMs` always continues its count. (It is
 * forgotten after between `idleMs` and `2 × idleMs` of silence: the state is kept in two
 * generations, swapped every `idleMs`, so no per-message timestamp is needed.) Readers tell a
 * restart from a loss by `seq` 0: the only message that carries it is a topic's first. What a
 * restart hides is a loss of the last messages before the silence — which no reader could have
 * detected before the topic's next message anyway.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TopicSequences } from "./sequences.ts";
 * const seqs = new TopicSequences(1_000);
 * assert.equal(seqs.next("NSE_TCS_LTP", 0), 0);
 * assert.equal(seqs.next("NSE_TCS_LTP", 500), 1);
 * assert.equal(seqs.next("NSE_TCS_LTP", 5_000), 0); // idle for more than 2 × 1 s: restarted
 * ```
 */
export class TopicSequences {
  readonly idleMs: number;
  /** Topics published in the current generation. */
  #current = new Map<string, number>();
  /** Topics published in the previous generation and not since. */
  #previous = new Map<string, number>();
  #generationStart: number | null = null;

  /** `idleMs` must be positive. */
  constructor(idleMs: number = DEFAULT_TOPIC_IDLE_MS) {
    if (!(idleMs > 0)) throw new RangeError(`topic idle time must be positive, got ${idleMs}`);
    this.idleMs = idleMs;
  }

  /** Topics whose sequence is kept. */
  get size(): number {
    return this.#current.size + this.#previous.size;
  }

  /** The seq of the next message of `topic`, published at `now` (epoch ms, non-decreasing). */
  next(topic: string, now: number): number {
    this.#age(now);
    let seq = this.#current.get(topic);
    if (seq === undefined) {
      seq = this.#previous.get(topic);
      if (seq !== undefined) this.#previous.delete(topic);
      else seq = 0;
    }
    this.#current.set(topic, seq + 1);
    return seq;
  }

  /** Starts a new generation every `idleMs`; what was idle a whole generation is dropped. */
  #age(now: number): void {
    if (this.#generationStart === null) {
      this.#generationStart = now;
      return;
    }
    const elapsed = now - this.#generationStart;
    if (elapsed < this.idleMs) return;
    if (elapsed >= 2 * this.idleMs) {
      // Nothing was published for a whole generation: every topic has been idle long enough.
      this.#previous = new Map();
      this.#current = new Map();
    } else {
      this.#previous = this.#current;
      this.#current = new Map();
    }
    this.#generationStart = now;
  }
}
