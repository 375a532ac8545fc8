// The invariant every fault test checks: the registry, the pool's counts and the broker
// simulator's view of subscriptions agree exactly.

import assert from "node:assert/strict";
import type { Gateway } from "../../lib/gateway.ts";
import { instrumentKey } from "../../lib/types.ts";

/** What a broker simulator says it streams, per open connection: instrument count. */
export interface BrokerView {
  /** Total instruments streamed across open connections. */
  streamed(): number;
}

/**
 * Asserts registry ⇔ pool ⇔ broker agreement:
 * - every instrument the registry holds (with consumers or as an orphan) is streamed by the pool at
 *   the highest registry mode, and nothing else is;
 * - per-connection symbol counts add up to the pool's streams and stay within capacity;
 * - the broker streams exactly as many instruments as the pool believes.
 */
export function assertConsistent(gw: Gateway, broker?: BrokerView): void {
  const registry = new Map<string, number>();
  for (const r of gw.registry.list()) {
    const k = instrumentKey(r.exchange, r.symbol);
    registry.set(k, Math.max(registry.get(k) ?? 0, r.mode));
  }
  const streams = gw.pool.streams();
  const pool = new Map(streams.map((s) => [instrumentKey(s.exchange, s.symbol), s.mode]));
  assert.deepEqual(pool, registry, "pool streams = highest registry mode per instrument");
  const status = gw.pool.status();
  const counted = status.reduce((n, c) => n + c.symbols, 0);
  assert.equal(counted, gw.pool.symbolCount, "per-connection counts add up");
  assert.equal(gw.pool.symbolCount, streams.length, "nothing tracked that is not streaming");
  for (const c of status) {
    assert.ok(c.symbols <= c.capacity, `connection ${c.index + 1} within capacity`);
  }
  if (broker) {
    assert.equal(broker.streamed(), pool.size, "the broker streams exactly what the pool believes");
  }
}

/** A BrokerView over the Zerodha simulator. */
export function kiteView(
  sim: { subscriptions(): { open: boolean; tokens: Map<number, unknown> }[] },
): BrokerView {
  return {
    streamed: () =>
      sim.subscriptions().filter((c) => c.open).reduce((n, c) => n + c.tokens.size, 0),
  };
}
