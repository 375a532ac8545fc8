// Rate-limited warnings of the MarketDataService: one log line per (what, instrument) per monitor
// interval, and at most a few hundred distinct ones, so a bad feed cannot flood the log.

import { getLogger } from "../log.ts";
import { instrumentKey } from "../types.ts";

const log = getLogger(["tickplex", "market_data"]);

/** Distinct warnings logged per monitor interval before the rest are muted. */
const MAX_WARNINGS_PER_INTERVAL = 200;

/**
 * Logs each distinct warning once per window; {@link reset} opens the next window.
 *
 * @example
 * ```ts
 * import { WarningLimiter } from "./warnings.ts";
 * const w = new WarningLimiter();
 * w.warn("jump", "NSE", "RELIANCE", "large price change on {key}", {}); // logged
 * w.warn("jump", "NSE", "RELIANCE", "large price change on {key}", {}); // muted until reset()
 * ```
 */
export class WarningLimiter {
  #warned = new Set<string>();

  /** Logs `message` (with `{key}` = `EXCHANGE:SYMBOL`) unless this warning was logged this window. */
  warn(
    what: string,
    exchange: string,
    symbol: string,
    message: string,
    props: Record<string, unknown>,
  ): void {
    const key = instrumentKey(exchange, symbol);
    const id = `${what}|${key}`;
    if (this.#warned.has(id)) return;
    if (this.#warned.size >= MAX_WARNINGS_PER_INTERVAL) {
      if (!this.#warned.has("*")) {
        this.#warned.add("*");
        log.warn("too many market-data warnings; muted until the next monitor check");
      }
      return;
    }
    this.#warned.add(id);
    log.warn(message, { key, ...props });
  }

  /** Opens a new window: every warning may be logged once again. */
  reset(): void {
    this.#warned.clear();
  }
}
