// The Dhan live market feed v2 dialect on the kit's BrokerSession: credentials in the URL query
// (rebuilt for every attempt, so a fresh token is used), JSON requests of ≤ 100 instruments with
// real unsubscribes, binary messages of one or several packets, disconnect reasons 805–809.

import {
  type BrokerSpec,
  type Decoded,
  type Dialect,
  type DialectContext,
  type Endpoint,
  type Frame,
  NOTHING,
  type Wanted,
} from "../../lib/adapter/mod.ts";
import type { Mode } from "../../lib/types.ts";
import {
  createDecodeStats,
  decodeFrame,
  type DecodeStats,
  DISCONNECT_REASON,
  encodeRequest,
  type MergeState,
  REQUEST,
  type SubscribeCode,
} from "./codec.ts";
import { type DhanInstrument, loadDhanInstruments } from "./instruments.ts";
import { dhanCapabilities, type DhanOptions, parseDhanOptions } from "./options.ts";

/** OpenAlgo mode → Dhan subscribe code: LTP → Ticker, Quote → Quote, Depth → Full (5 levels). */
export const DHAN_CODE_OF: Readonly<Record<Mode, SubscribeCode>> = {
  1: REQUEST.TICKER,
  2: REQUEST.QUOTE,
  3: REQUEST.FULL,
};

/** Disconnect reasons a fresh token (or an operator) must fix; reconnecting cannot. */
const AUTH_REASONS: ReadonlySet<number> = new Set([806, 807, 808, 809]);

/**
 * The subscribe code for an instrument at a mode. Indices have no book: their Depth is served by
 * the Quote stream (the ack says depth 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(codeFor(3, { segment: "IDX_I" }), 17);
 * assert.equal(codeFor(3, { segment: "NSE_EQ" }), 21);
 * ```
 */
export function codeFor(mode: Mode, instrument: Pick<DhanInstrument, "segment">): SubscribeCode {
  return mode === 3 && instrument.segment === "IDX_I" ? REQUEST.QUOTE : DHAN_CODE_OF[mode];
}

/** One request per code, in first-seen order. */
function requests(
  items: readonly Wanted<DhanInstrument>[],
  code: (w: Wanted<DhanInstrument>) => number,
): Frame[] {
  const byCode = new Map<number, Wanted<DhanInstrument>[]>();
  for (const w of items) {
    const c = code(w);
    const list = byCode.get(c);
    if (list === undefined) byCode.set(c, [w]);
    else list.push(w);
  }
  return [...byCode].map(([c, ws]) =>
    encodeRequest(
      c,
      ws.map((w) => ({ segment: w.instrument.segment, securityId: w.instrument.securityId })),
    )
  );
}

/**
 * The Dhan dialect of one connection. Previous-close and OI packets are merged per instrument
 * (codec.ts), so Quote and Depth ticks carry `close`, `change`, `change_percent` and `oi`; the
 * merged state starts afresh on every connection, as Dhan re-sends it on subscribe.
 */
export class DhanDialect implements Dialect<DhanInstrument> {
  readonly #options: () => DhanOptions;
  readonly #lookup: (key: number) => DhanInstrument | undefined;
  readonly #state: MergeState = new Map();
  readonly stats: DecodeStats = createDecodeStats();

  constructor(options: () => DhanOptions, context: DialectContext<DhanInstrument>) {
    this.#options = options;
    this.#lookup = (key) => context.lookup(key);
  }

  endpoint(): Endpoint {
    const o = this.#options();
    this.#state.clear();
    const url = new URL(o.feedUrl);
    url.searchParams.set("version", "2");
    url.searchParams.set("token", o.accessToken);
    url.searchParams.set("clientId", o.clientId);
    url.searchParams.set("authType", "2");
    return { url: url.href };
  }

  subscribe(items: readonly Wanted<DhanInstrument>[], mode: Mode): Frame[] {
    return requests(items, (w) => codeFor(mode, w.instrument));
  }

  unsubscribe(items: readonly Wanted<DhanInstrument>[], mode: Mode): Frame[] {
    for (const w of items) this.#state.delete(w.instrument.token);
    return requests(items, (w) => codeFor(mode, w.instrument) + 1);
  }

  changeMode(items: readonly Wanted<DhanInstrument>[], from: Mode, to: Mode): Frame[] {
    // Instruments whose stream does not change (an index between Quote and Depth) get no frame.
    const moving = items.filter((w) => codeFor(from, w.instrument) !== codeFor(to, w.instrument));
    return [
      ...requests(moving, (w) => codeFor(from, w.instrument) + 1),
      ...requests(moving, (w) => codeFor(to, w.instrument)),
    ];
  }

  decode(data: string | ArrayBuffer | Uint8Array, now: number): Decoded {
    if (typeof data === "string") return { malformed: "unexpected text" };
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    const r = decodeFrame(bytes, this.#lookup, now, this.#state, this.stats);
    if (r.disconnect !== undefined) {
      const why = `Dhan disconnect ${r.disconnect}: ${
        DISCONNECT_REASON[r.disconnect] ?? "unknown reason"
      }`;
      return AUTH_REASONS.has(r.disconnect)
        ? { ticks: r.ticks, authFailed: why }
        : { ticks: r.ticks, disconnect: why };
    }
    if (r.malformed !== undefined) return { ticks: r.ticks, malformed: r.malformed };
    return r.ticks.length > 0 ? { ticks: r.ticks } : NOTHING;
  }
}

/** The Dhan adapter as the kit runs it (the worker is `runBroker(dhanSpec)`). */
export const dhanSpec: BrokerSpec<DhanOptions, DhanInstrument> = {
  broker: "dhan",
  parseOptions: parseDhanOptions,
  capabilities: dhanCapabilities,
  loadInstruments: (o, signal) => loadDhanInstruments(o.instruments, signal),
  dialect: (options, context) => new DhanDialect(options, context),
};
