// A subscriber's registry subscriptions: taken all-or-nothing at subscribe (so the broker streams
// its instruments), released at unsubscribe. Refusals become one MarketDataSubscribeError.

import { getLogger } from "../log.ts";
import { type ErrorCode, instrumentKey, type Mode, type Outcome } from "../types.ts";
import type { Subscriber } from "./subscriber.ts";
import { type Instrument, KIND_MODE, type MarketDataRegistry } from "./types.ts";

const log = getLogger(["tickplex", "market_data"]);

/** One instrument a subscribe could not take, with the registry's answer. */
export interface SubscribeFailure {
  /** Exchange of the refused instrument. */
  exchange: string;
  /** Symbol of the refused instrument. */
  symbol: string;
  /** The registry's error code. */
  code: ErrorCode;
  /** The registry's message. */
  message: string;
}

/**
 * Thrown (as a rejection) by `MarketDataService.subscribe` when the registry refused any of
 * the instruments. Subscribing is all-or-nothing: what was taken has been released again.
 */
export class MarketDataSubscribeError extends Error {
  /** The code of the first failure. */
  readonly code: ErrorCode;
  /** Every refused instrument. */
  readonly failures: SubscribeFailure[];

  /** `name` is the subscriber's; `failures` must not be empty. */
  constructor(name: string, failures: SubscribeFailure[]) {
    const first = failures[0];
    super(
      `subscriber ${name}: ${failures.length} instrument(s) could not be subscribed; first: ` +
        `${instrumentKey(first.exchange, first.symbol)} ${first.code} ${first.message}`,
    );
    this.name = "MarketDataSubscribeError";
    this.code = first.code;
    this.failures = failures;
  }
}

/** The instruments of `list` without repeats, in first-seen order. */
export function dedupe(list: readonly Instrument[]): Instrument[] {
  const seen = new Set<string>();
  const out: Instrument[] = [];
  for (const i of list) {
    const k = instrumentKey(i.exchange, i.symbol);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ exchange: i.exchange, symbol: i.symbol });
  }
  return out;
}

/**
 * Takes a registry subscription per instrument of `sub` at its kind's mode. If any is refused,
 * the ones taken are released and the promise rejects with {@link MarketDataSubscribeError}.
 */
export async function acquireAll(
  registry: MarketDataRegistry,
  sub: Subscriber,
  depth: number,
): Promise<void> {
  if (!sub.symbols) return;
  const mode = KIND_MODE[sub.kind];
  const results = await Promise.all(sub.symbols.map(async (i) => {
    let r: Outcome;
    try {
      r = await registry.acquire(sub.consumer, i.exchange, i.symbol, mode, depth);
    } catch (err) {
      r = {
        ok: false,
        code: "SERVER_ERROR",
        message: err instanceof Error ? err.message : String(err),
      };
    }
    return { i, r };
  }));
  const failures: SubscribeFailure[] = [];
  for (const { i, r } of results) {
    if (!r.ok) {
      failures.push({ exchange: i.exchange, symbol: i.symbol, code: r.code, message: r.message });
    }
  }
  if (failures.length === 0) return;
  await Promise.all(
    results.filter((x) => x.r.ok).map((x) =>
      release(registry, sub, x.i.exchange, x.i.symbol, mode)
    ),
  );
  log.warn("subscriber {name} refused: {n} instrument(s) failed, first {code}", {
    name: sub.name,
    n: failures.length,
    code: failures[0].code,
  });
  throw new MarketDataSubscribeError(sub.name, failures);
}

/** Releases every registry subscription of `sub`; failures are logged, never thrown. */
export async function releaseAll(registry: MarketDataRegistry, sub: Subscriber): Promise<void> {
  if (!sub.symbols) return;
  const mode = KIND_MODE[sub.kind];
  await Promise.all(sub.symbols.map((i) => release(registry, sub, i.exchange, i.symbol, mode)));
}

async function release(
  registry: MarketDataRegistry,
  sub: Subscriber,
  exchange: string,
  symbol: string,
  mode: Mode,
): Promise<void> {
  try {
    const r = await registry.release(sub.consumer, exchange, symbol, mode);
    if (!r.ok && r.code !== "NOT_SUBSCRIBED") {
      log.warn("subscriber {name}: release of {key} failed: {message}", {
        name: sub.name,
        key: instrumentKey(exchange, symbol),
        message: r.message,
      });
    }
  } catch (err) {
    log.error("subscriber {name}: release of {key} threw: {err}", {
      name: sub.name,
      key: instrumentKey(exchange, symbol),
      err,
    });
  }
}
