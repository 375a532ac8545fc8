// A live broker adapter assembled from its parts: options, capabilities, an instrument master and
// a dialect, driven by the kit's BrokerSession. A broker's worker.ts is one `runBroker(...)` call.

import type { Capabilities, Mode } from "../types.ts";
import type { AdapterHandlers, AdapterOutput, QuoteResult } from "./contract.ts";
import type { Dialect, DialectContext } from "./dialect.ts";
import type { BrokerInstrument, InstrumentMaster } from "./instruments.ts";
import type { ItemResult, StreamItem } from "./messages.ts";
import type { SessionTiming } from "./options.ts";
import { rejected } from "./results.ts";
import { runAdapter } from "./runtime.ts";
import { BrokerSession, type SessionItem } from "./session.ts";

/** Options every live broker has: session timing, and the token `token` messages replace. */
export type BrokerOptions = SessionTiming & { accessToken?: string };

/** How long the instrument master may take to load at start. */
const MASTER_TIMEOUT_MS = 120_000;

/** What a live broker brings to the kit. */
export interface BrokerSpec<O extends BrokerOptions, I extends BrokerInstrument> {
  /** Broker name for logs and messages. */
  broker: string;
  /** Parses config options; throws an Error naming every bad field. */
  parseOptions(raw: unknown): O;
  /** Capabilities for parsed options (the same function the descriptor uses). */
  capabilities(options: O): Capabilities;
  /**
   * Loads the instrument master. Throw `AuthError` when the broker rejects the credentials; any
   * other failure is retried by the pool with backoff.
   */
  loadInstruments(options: O, signal: AbortSignal): Promise<InstrumentMaster<I>>;
  /** The dialect of one connection. `options()` is current (fresh tokens replace the old). */
  dialect(options: () => O, context: DialectContext<I>): Dialect<I>;
  /**
   * One REST multi-quote call (brokers whose capabilities declare `quotes`): `items` are resolved,
   * at most the declared batch size; each tick is named by its item's `ref`. HTTP 429 answers
   * `RATE_LIMITED`, rejected credentials `AUTHENTICATION_ERROR`; it never throws for bad bytes.
   */
  quotes?(
    options: O,
    items: readonly QuoteItem<I>[],
    mode: Mode,
    signal: AbortSignal,
  ): Promise<QuoteResult>;
}

/** One instrument of a quote call: the name the caller used and the instrument it resolved to. */
export interface QuoteItem<I extends BrokerInstrument> {
  ref: { exchange: string; symbol: string };
  instrument: I;
}

/** How long one quote call may take before it is abandoned. */
const QUOTE_TIMEOUT_MS = 10_000;

/**
 * The adapter handlers of a live broker (exported for in-process tests; workers call
 * {@link runBroker}).
 */
export class BrokerAdapter<O extends BrokerOptions, I extends BrokerInstrument>
  implements AdapterHandlers {
  readonly #spec: BrokerSpec<O, I>;
  #options!: O;
  #master!: InstrumentMaster<I>;
  #session: BrokerSession<I> | null = null;

  constructor(spec: BrokerSpec<O, I>) {
    this.#spec = spec;
  }

  /** The session (after init), for tests. */
  get session(): BrokerSession<I> | null {
    return this.#session;
  }

  async init(connection: number, raw: unknown, out: AdapterOutput): Promise<void> {
    const spec = this.#spec;
    this.#options = spec.parseOptions(raw);
    const caps = spec.capabilities(this.#options);
    const started = Date.now();
    this.#master = await spec.loadInstruments(
      this.#options,
      AbortSignal.timeout(MASTER_TIMEOUT_MS),
    );
    out.log(
      "info",
      `${spec.broker}[${connection}]: ${this.#master.size} instruments loaded in ` +
        `${Date.now() - started} ms (${this.#master.skipped} rows skipped)`,
    );
    let session: BrokerSession<I> | null = null;
    const context: DialectContext<I> = {
      connection,
      lookup: (token) => session?.lookup(token),
    };
    session = new BrokerSession<I>({
      broker: spec.broker,
      connection,
      dialect: spec.dialect(() => this.#options, context),
      timing: this.#options,
      maxSymbols: caps.maxSymbolsPerConnection,
      maxTokensPerFrame: caps.maxTokensPerFrame,
      depthLevels: caps.depthLevels,
      out,
    });
    this.#session = session;
    await session.start();
  }

  subscribe(items: StreamItem[]): Promise<ItemResult[]> {
    return this.#withResolved(items, (resolved) => this.#session!.subscribe(resolved));
  }

  setMode(items: StreamItem[]): Promise<ItemResult[]> {
    return this.#withResolved(items, (resolved) => this.#session!.setMode(resolved));
  }

  unsubscribe(items: { exchange: string; symbol: string }[]): Promise<ItemResult[]> {
    return this.#withResolved(
      items.map((i) => ({ ...i, mode: 1 as const, depth: 0 })),
      (resolved) => this.#session!.unsubscribe(resolved),
    );
  }

  async quote(
    mode: Mode,
    items: { exchange: string; symbol: string }[],
    check = false,
  ): Promise<QuoteResult> {
    const quotes = this.#spec.quotes;
    if (quotes === undefined) {
      return { ok: false, code: "INVALID_ACTION", message: "this broker has no REST quote API" };
    }
    const missing: { exchange: string; symbol: string }[] = [];
    const resolved: QuoteItem<I>[] = [];
    for (const ref of items) {
      const r = this.#master.resolve(ref.exchange, ref.symbol);
      if (r.ok) {
        resolved.push({
          ref: { exchange: ref.exchange, symbol: ref.symbol },
          instrument: r.instrument,
        });
      } else missing.push({ exchange: ref.exchange, symbol: ref.symbol });
    }
    if (check || resolved.length === 0) return { ok: true, ticks: [], missing };
    const r = await quotes(this.#options, resolved, mode, AbortSignal.timeout(QUOTE_TIMEOUT_MS));
    return r.ok ? { ok: true, ticks: r.ticks, missing: [...missing, ...r.missing] } : r;
  }

  token(accessToken: string): void {
    if (this.#session === null) return;
    const changed = accessToken !== this.#options.accessToken;
    if (changed) this.#options = { ...this.#options, accessToken };
    this.#session.credentialsChanged(changed);
  }

  async close(): Promise<void> {
    await this.#session?.close();
  }

  /** Resolves symbols; unknown ones get SYMBOL_NOT_FOUND in place, the rest go to `run`. */
  async #withResolved(
    items: StreamItem[],
    run: (resolved: SessionItem<I>[]) => Promise<ItemResult[]>,
  ): Promise<ItemResult[]> {
    const results: (ItemResult | null)[] = [];
    const resolved: SessionItem<I>[] = [];
    for (const item of items) {
      const ref = { exchange: item.exchange, symbol: item.symbol };
      const r = this.#master.resolve(item.exchange, item.symbol);
      if (!r.ok) {
        results.push(rejected(ref, r.code, r.message));
        continue;
      }
      results.push(null);
      resolved.push({ ref, instrument: r.instrument, mode: item.mode, depth: item.depth });
    }
    const answered = resolved.length > 0 ? await run(resolved) : [];
    let k = 0;
    return results.map((r) => r ?? answered[k++]);
  }
}

/**
 * Runs a live broker adapter in this worker.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(typeof runBroker, "function");
 * ```
 */
export function runBroker<O extends BrokerOptions, I extends BrokerInstrument>(
  spec: BrokerSpec<O, I>,
): void {
  runAdapter(new BrokerAdapter(spec));
}
