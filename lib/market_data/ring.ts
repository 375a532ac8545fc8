// Bounded history of recent ticks per instrument (by count and by age), so resume logic can see
// what happened during a pause and held subscribers can be replayed what they missed.

import { InstrumentMap } from "../instrument_map.ts";
import type { RecentTick } from "./types.ts";

/**
 * A fixed-capacity circular buffer: pushing onto a full buffer overwrites the oldest item.
 * Storage grows up to the capacity, so a quiet instrument costs little.
 *
 * @example
 * ```ts
 * import { RingBuffer } from "./ring.ts";
 * const r = new RingBuffer<number>(2);
 * r.push(1);
 * r.push(2);
 * r.push(3); // returns 1, the evicted item
 * r.toArray(); // [2, 3]
 * ```
 */
export class RingBuffer<T> {
  /** Most items held. */
  readonly capacity: number;
  #items: T[] = [];
  #head = 0;
  #length = 0;

  /** `capacity` must be a positive integer (RangeError otherwise). */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
  }

  /** Number of items held. */
  get length(): number {
    return this.#length;
  }

  /** Appends `item`; returns the item it evicted when the buffer was full. */
  push(item: T): T | undefined {
    if (this.#length < this.capacity) {
      const i = (this.#head + this.#length) % this.capacity;
      if (i === this.#items.length) this.#items.push(item);
      else this.#items[i] = item;
      this.#length++;
      return undefined;
    }
    const evicted = this.#items[this.#head];
    this.#items[this.#head] = item;
    this.#head = (this.#head + 1) % this.capacity;
    return evicted;
  }

  /** The item `i` positions after the oldest (0 = oldest), or undefined. */
  at(i: number): T | undefined {
    if (i < 0 || i >= this.#length) return undefined;
    return this.#items[(this.#head + i) % this.capacity];
  }

  /** The oldest item, or undefined. */
  peekOldest(): T | undefined {
    return this.at(0);
  }

  /** The newest item, or undefined. */
  peekNewest(): T | undefined {
    return this.at(this.#length - 1);
  }

  /** Removes and returns the oldest item. */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head];
    // Drop the reference so an evicted tick can be collected.
    this.#items[this.#head] = undefined as T;
    this.#head = (this.#head + 1) % this.capacity;
    this.#length--;
    return item;
  }

  /** The items, oldest first. */
  toArray(): T[] {
    const out = new Array<T>(this.#length);
    for (let i = 0; i < this.#length; i++) out[i] = this.#items[(this.#head + i) % this.capacity];
    return out;
  }

  /** Removes everything. */
  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#length = 0;
  }
}

/**
 * One {@link RingBuffer} of {@link RecentTick}s per instrument, bounded by `size` and `maxAgeMs`
 * (receive time). Entries must be pushed in receive-time order, which the service guarantees.
 *
 * @example
 * ```ts ignore
 * const recent = new RecentTicks({ size: 1000, maxAgeMs: 600_000 });
 * recent.push({ seq: 1, tick, flags: {}, receivedAt: now }, now);
 * recent.recent("NSE", "RELIANCE", { since: now - 60_000 }, now);
 * ```
 */
export class RecentTicks {
  /** Most entries per instrument. */
  readonly size: number;
  /** Entries received longer ago than this are dropped. */
  readonly maxAgeMs: number;
  #rings = new InstrumentMap<RingBuffer<RecentTick>>();
  #entries = 0;

  /** Bounds per instrument: entry count and age (ms). */
  constructor(options: { size: number; maxAgeMs: number }) {
    this.size = options.size;
    this.maxAgeMs = options.maxAgeMs;
  }

  /** Total entries across instruments. */
  get entries(): number {
    return this.#entries;
  }

  /** Instruments with a buffer. */
  get instruments(): number {
    return this.#rings.size;
  }

  /** Appends an entry to its instrument's buffer, evicting by size and age. */
  push(entry: RecentTick, now: number): void {
    const { exchange, symbol } = entry.tick;
    let ring = this.#rings.get(exchange, symbol);
    if (!ring) this.#rings.set(exchange, symbol, ring = new RingBuffer(this.size));
    if (ring.push(entry) === undefined) this.#entries++;
    this.#expire(ring, now);
  }

  /** Entries of an instrument received at or after `since` (and within `maxAgeMs`), oldest first. */
  recent(exchange: string, symbol: string, since: number | undefined, now: number): RecentTick[] {
    const ring = this.#rings.get(exchange, symbol);
    if (!ring) return [];
    this.#expire(ring, now);
    const from = Math.max(since ?? -Infinity, now - this.maxAgeMs);
    const out: RecentTick[] = [];
    // Walk back from the newest: entries are in receive-time order.
    let i = ring.length - 1;
    while (i >= 0 && ring.at(i)!.receivedAt >= from) i--;
    for (let j = i + 1; j < ring.length; j++) out.push(ring.at(j)!);
    return out;
  }

  /** Entries of an instrument with `seq` strictly between `after` and `before`, oldest first. */
  between(exchange: string, symbol: string, after: number, before: number): RecentTick[] {
    const ring = this.#rings.get(exchange, symbol);
    return ring ? sliceBySeq(ring, after, before) : [];
  }

  /** Entries of every instrument with `seq` strictly between `after` and `before`. */
  allBetween(after: number, before: number): RecentTick[] {
    const out: RecentTick[] = [];
    for (const ring of this.#rings.values()) {
      const newest = ring.peekNewest();
      if (newest && newest.seq > after) out.push(...sliceBySeq(ring, after, before));
    }
    return out;
  }

  /** Drops expired entries and empty buffers; returns how many entries were dropped. */
  sweep(now: number): number {
    let n = 0;
    for (const [exchange, symbol, ring] of this.#rings.entries()) {
      n += this.#expire(ring, now);
      if (ring.length === 0) this.#rings.delete(exchange, symbol);
    }
    return n;
  }

  /** Removes everything. */
  clear(): void {
    this.#rings.clear();
    this.#entries = 0;
  }

  #expire(ring: RingBuffer<RecentTick>, now: number): number {
    const cutoff = now - this.maxAgeMs;
    let n = 0;
    while (ring.length > 0 && ring.peekOldest()!.receivedAt < cutoff) {
      ring.shift();
      n++;
    }
    this.#entries -= n;
    return n;
  }
}

function sliceBySeq(ring: RingBuffer<RecentTick>, after: number, before: number): RecentTick[] {
  let i = ring.length - 1;
  while (i >= 0 && ring.at(i)!.seq > after) i--;
  const out: RecentTick[] = [];
  for (let j = i + 1; j < ring.length; j++) {
    const e = ring.at(j)!;
    if (e.seq >= before) break;
    out.push(e);
  }
  return out;
}
