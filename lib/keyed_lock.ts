// Serialises async work per key: operations on one instrument run one at a time, in call order,
// while different instruments proceed concurrently.

/** A per-key mutex. */
export class KeyedLock {
  #tails = new Map<string, Promise<unknown>>();

  /**
   * Runs `fn` after every earlier call for `key` has settled.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * const lock = new KeyedLock();
   * const order: string[] = [];
   * const slow = lock.run("NSE:RELIANCE", async () => {
   *   await new Promise((r) => setTimeout(r, 10));
   *   order.push("first");
   * });
   * const fast = lock.run("NSE:RELIANCE", () => Promise.resolve(void order.push("second")));
   * assert.equal(lock.busy("NSE:RELIANCE"), true);
   * await Promise.all([slow, fast]);
   * assert.deepEqual(order, ["first", "second"]);
   * ```
   */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.then(noop, noop);
    this.#tails.set(key, tail);
    tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return next;
  }

  /** True while work for `key` is queued or running. */
  busy(key: string): boolean {
    return this.#tails.has(key);
  }

  /** Number of keys with work queued or running. */
  get size(): number {
    return this.#tails.size;
  }
}

function noop(): void {}
