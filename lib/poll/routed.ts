// A registry facade that routes each consumer by its class: `budget.routing[class]` says whether
// its keys go to the stream registry (a slot each) or the poll registry (the poller, no slot).
// The market data service's in-process subscribers take their keys through it.

import type { Routing } from "../budget/mod.ts";
import type { Consumer, SubscriptionRegistry } from "../subscriptions/mod.ts";
import type { Mode, Outcome } from "../types.ts";

/**
 * acquire/release routed by `consumer.holder?.consumerClass` (none: `trading`). A consumer's class
 * never changes, so its release goes where its acquire went.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SubscriptionRegistry } from "../subscriptions/mod.ts";
 * const ok = {
 *   subscribe: () => Promise.resolve({ ok: true as const, depth: 0 }),
 *   unsubscribe: () => Promise.resolve({ ok: true as const }),
 * };
 * const stream = new SubscriptionRegistry(ok), poll = new SubscriptionRegistry(ok);
 * const routed = new RoutedRegistry(stream, poll, {
 *   trading: "stream", monitoring: "stream", display: "poll", capture: "stream", optionChain: "poll",
 * });
 * const screen = { id: "screen", holder: { name: "screen", consumerClass: "display" as const, kind: "in_process" as const } };
 * await routed.acquire(screen, "NSE", "TCS", 1, 0);
 * assert.deepEqual([stream.list().length, poll.list().length], [0, 1]);
 * ```
 */
export class RoutedRegistry {
  readonly #stream: SubscriptionRegistry;
  readonly #poll: SubscriptionRegistry;
  readonly #routing: Routing;

  constructor(stream: SubscriptionRegistry, poll: SubscriptionRegistry, routing: Routing) {
    this.#stream = stream;
    this.#poll = poll;
    this.#routing = routing;
  }

  /** The registry serving `consumer`'s class. */
  registryFor(consumer: Consumer): SubscriptionRegistry {
    const cls = consumer.holder?.consumerClass ?? "trading";
    return this.#routing[cls] === "poll" ? this.#poll : this.#stream;
  }

  acquire(
    consumer: Consumer,
    exchange: string,
    symbol: string,
    mode: Mode,
    depth: number,
  ): Promise<Outcome> {
    return this.registryFor(consumer).acquire(consumer, exchange, symbol, mode, depth);
  }

  release(consumer: Consumer, exchange: string, symbol: string, mode: Mode): Promise<Outcome> {
    return this.registryFor(consumer).release(consumer, exchange, symbol, mode);
  }
}
