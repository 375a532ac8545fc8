// Serialises each tick once per mode and shares the strings across every client that gets it.

import { projectTick } from "../project.ts";
import type { FrameCache } from "../subscriptions/mod.ts";
import { instrumentKey, type Mode, type Tick } from "../types.ts";

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

  /** `brokerJson` is the JSON string of the broker name, serialised once per gateway. */
  constructor(tick: Tick, brokerJson: string) {
    this.#tick = tick;
    this.#brokerJson = brokerJson;
  }

  #body(mode: Mode): string {
    let b = this.#bodies[mode];
    if (b === undefined) {
      const t = this.#tick;
      b = `"symbol":${JSON.stringify(t.symbol)},"exchange":${JSON.stringify(t.exchange)},` +
        `"mode":${mode},"data":${
          JSON.stringify(projectTick(t, mode))
        },"broker":${this.#brokerJson}}`;
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
