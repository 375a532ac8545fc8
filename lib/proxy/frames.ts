// Serialises each tick once per mode and shares the strings across every client that gets it.

import { projectTick } from "../project.ts";
import type { FrameCache } from "../subscriptions/mod.ts";
import { instrumentKey, type Mode, subscriptionKey, type Tick } from "../types.ts";
import type { Request } from "./protocol.ts";

/** Lazily built frames of one tick; create one per tick and hand it to every consumer. */
export class TickFrames implements FrameCache {
  #tick: Tick;
  #brokerJson: string;
  #bodies: (string | undefined)[] = [];
  #markets: (string | undefined)[] = [];
  #items: (string | undefined)[] = [];
  #keys: (string | undefined)[] = [];
  /** The instrument key, built at most once per tick whatever the modes asked. */
  #instrument: string | undefined;

  #tail: string;

  /**
   * `brokerJson` is the JSON string of the broker name, serialised once per gateway; `polled`
   * marks a tick from the broker's REST quote API (`"source":"poll"` in every frame).
   */
  constructor(tick: Tick, brokerJson: string, polled = false) {
    this.#tick = tick;
    this.#brokerJson = brokerJson;
    this.#tail = polled ? ',"source":"poll"}' : "}";
  }

  #body(mode: Mode): string {
    let b = this.#bodies[mode];
    if (b === undefined) {
      const t = this.#tick;
      b = `"symbol":${JSON.stringify(t.symbol)},"exchange":${JSON.stringify(t.exchange)},` +
        `"mode":${mode},"data":${
          JSON.stringify(projectTick(t, mode))
        },"broker":${this.#brokerJson}${this.#tail}`;
      this.#bodies[mode] = b;
    }
    return b;
  }

  /** `{"type":"market_data",...}` for a client subscribed at `mode`. */
  market(mode: Mode): string {
    return this.#markets[mode] ??= `{"type":"market_data",${this.#body(mode)}`;
  }

  /** The subscription key `EXCHANGE:SYMBOL:mode`: the per-client conflation key. */
  key(mode: Mode): string {
    this.#instrument ??= instrumentKey(this.#tick.exchange, this.#tick.symbol);
    return this.#keys[mode] ??= `${this.#instrument}:${mode}`;
  }

  /** One element of a `market_data_batch` frame's `ticks` array. */
  batchItem(mode: Mode): string {
    return this.#items[mode] ??= `{${this.#body(mode)}`;
  }
}

/**
 * The `market_data` frame of a cached tick sent on subscribe: an ordinary frame whose `data` also
 * carries `"snapshot": true`, so a client can tell the last known value from a fresh tick.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { snapshotFrame } from "./frames.ts";
 * const tick = {
 *   exchange: "NSE", symbol: "TCS", mode: 1 as const, ltp: 10, ltt: 1, timestamp: 1, open: null,
 *   high: null, low: null, close: null, volume: null, last_trade_quantity: null,
 *   avg_trade_price: null, total_buy_quantity: null, total_sell_quantity: null, oi: null,
 *   change: null, change_percent: null, depth: null,
 * };
 * const f = JSON.parse(snapshotFrame(tick, 1, '"paper"'));
 * assert.equal(f.type, "market_data");
 * assert.equal(f.data.snapshot, true);
 * ```
 */
export function snapshotFrame(tick: Tick, mode: Mode, brokerJson: string): string {
  return `{"type":"market_data","symbol":${JSON.stringify(tick.symbol)},"exchange":${
    JSON.stringify(tick.exchange)
  },"mode":${mode},"data":${
    JSON.stringify({ ...projectTick(tick, mode), snapshot: true })
  },"broker":${brokerJson}}`;
}

/**
 * Sends each key a subscribe request acked (the client now holds it) its cached tick, right after
 * the ack. Called after the acquires: the cache is fed before the fan-out, so the snapshot is never
 * older than a tick the client was already sent.
 */
export function sendSnapshots(
  client: {
    readonly closed: boolean;
    readonly subscriptions: ReadonlyMap<string, unknown>;
    sendControl(frame: string): void;
  },
  req: Extract<Request, { action: "subscribe" }>,
  snapshot: (exchange: string, symbol: string, mode: Mode) => Tick | null,
  brokerJson: string,
): void {
  if (client.closed) return;
  const sent = new Set<string>();
  for (const e of req.entries) {
    if (!e.ok) continue;
    const mode = e.mode ?? req.mode;
    const key = subscriptionKey(e.exchange, e.symbol, mode);
    if (sent.has(key) || !client.subscriptions.has(key)) continue;
    sent.add(key);
    const tick = snapshot(e.exchange, e.symbol, mode);
    if (tick) client.sendControl(snapshotFrame(tick, mode, brokerJson));
  }
}
