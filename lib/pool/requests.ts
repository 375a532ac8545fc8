// Request batching to one adapter worker: items asked for in the same turn go out as one message
// per operation (unsubscribes first, so a full connection frees slots before new subscribes land),
// answers are matched by id, and an unanswered request times out. Knows nothing of symbols.

import type { ItemErrorCode, ItemResult, StreamItem, ToWorker } from "../adapter/mod.ts";

/** The three item operations a worker answers with an `ack`. */
export type ItemOp = "subscribe" | "unsubscribe" | "set_mode";

const FLUSH_ORDER: readonly ItemOp[] = ["unsubscribe", "set_mode", "subscribe"];

interface Pending {
  resolve: (results: ItemResult[]) => void;
  items: { exchange: string; symbol: string }[];
  timer: ReturnType<typeof setTimeout>;
}

interface Queued {
  item: StreamItem;
  resolve: (r: ItemResult) => void;
}

/** Where a batcher sends, and what it does when a request goes unanswered. */
export interface BatcherHost {
  /** Sends a message to the worker; false when there is no live worker. */
  send(message: ToWorker): boolean;
  /** No answer within the timeout: the host restarts the worker. */
  onTimeout(op: ItemOp): void;
}

function failed(
  item: { exchange: string; symbol: string },
  code: "BROKER_ERROR" | "SERVER_ERROR",
  message: string,
): ItemResult {
  return { exchange: item.exchange, symbol: item.symbol, ok: false, code, message };
}

/**
 * One worker's request queue.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const sent: unknown[] = [];
 * const b = new RequestBatcher({ send: (m) => (sent.push(m), true), onTimeout: () => {} }, 1000, () => 1);
 * const r = b.request("subscribe", { exchange: "NSE", symbol: "A", mode: 2, depth: 5 });
 * await Promise.resolve();
 * assert.equal(sent.length, 1);
 * b.answer(1, [{ exchange: "NSE", symbol: "A", ok: true }]);
 * assert.equal((await r).ok, true);
 * ```
 */
export class RequestBatcher {
  readonly #host: BatcherHost;
  readonly #timeoutMs: number;
  readonly #nextId: () => number;
  readonly #queued = new Map<ItemOp, Queued[]>();
  readonly #pending = new Map<number, Pending>();
  #flushScheduled = false;

  constructor(host: BatcherHost, timeoutMs: number, nextId: () => number) {
    this.#host = host;
    this.#timeoutMs = timeoutMs;
    this.#nextId = nextId;
  }

  /** Requests in flight (sent, not answered). */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Queues one item; everything queued in this turn is sent as one message per operation. */
  request(op: ItemOp, item: StreamItem): Promise<ItemResult> {
    return new Promise((resolve) => {
      let q = this.#queued.get(op);
      if (!q) this.#queued.set(op, q = []);
      q.push({ item, resolve });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        queueMicrotask(() => this.#flush());
      }
    });
  }

  /** An `ack` arrived; a count mismatch fails every item rather than guessing. */
  answer(id: number, results: ItemResult[]): void {
    const p = this.#take(id);
    if (!p) return;
    if (results.length !== p.items.length) {
      p.resolve(
        p.items.map((i) =>
          failed(i, "SERVER_ERROR", "adapter answered with the wrong number of results")
        ),
      );
    } else p.resolve(results);
  }

  /** An `error` with this id arrived: every item of the request fails with its code. */
  reject(id: number, code: ItemErrorCode, message: string): void {
    const p = this.#take(id);
    p?.resolve(
      p.items.map((i) => ({ exchange: i.exchange, symbol: i.symbol, ok: false, code, message })),
    );
  }

  /** Fails everything queued or in flight (the worker died or was replaced). */
  failAll(message: string): void {
    for (const id of [...this.#pending.keys()]) {
      const p = this.#take(id)!;
      p.resolve(p.items.map((i) => failed(i, "BROKER_ERROR", message)));
    }
    for (const q of this.#queued.values()) {
      for (const { item, resolve } of q) resolve(failed(item, "BROKER_ERROR", message));
    }
    this.#queued.clear();
  }

  #take(id: number): Pending | undefined {
    const p = this.#pending.get(id);
    if (!p) return undefined;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    return p;
  }

  #flush(): void {
    this.#flushScheduled = false;
    for (const op of FLUSH_ORDER) {
      const q = this.#queued.get(op);
      if (!q || q.length === 0) continue;
      this.#queued.delete(op);
      const id = this.#nextId();
      const items = q.map((x) => x.item);
      const timer = setTimeout(() => {
        if (this.#pending.has(id)) this.#host.onTimeout(op);
      }, this.#timeoutMs);
      this.#pending.set(id, {
        items,
        timer,
        resolve: (results) => {
          for (let i = 0; i < q.length; i++) q[i].resolve(results[i]);
        },
      });
      const message: ToWorker = op === "unsubscribe"
        ? { type: op, id, items: items.map(({ exchange, symbol }) => ({ exchange, symbol })) }
        : { type: op, id, items };
      if (!this.#host.send(message)) {
        this.failAll("broker connection is not running");
        return;
      }
    }
  }
}
