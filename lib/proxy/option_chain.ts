// Option chains for WebSocket clients (`subscribe_option_chain`): one shared OptionChain per
// (exchange, underlying, expiry, strikes) whatever the number of clients, its window held on a
// ChainQuotes, and one `option_chain` frame per chain per interval to every client of it.

import { getLogger } from "../log.ts";
import type { OptionChainConfig } from "../config/mod.ts";
import { type ChainData, type ChainQuotes, OptionChain } from "../options/mod.ts";
import type { ListedExpiry, OptionListing } from "../adapter/mod.ts";
import type { ErrorCode, Outcome } from "../types.ts";
import type { Request } from "./protocol.ts";

const log = getLogger(["tickplex", "proxy", "option_chain"]);

/** The part of a WebSocket client the chain feed writes to. */
export interface ChainClient {
  readonly id: string;
  readonly closed: boolean;
  sendControl(frame: string): void;
}

/** What the option chain feed needs from the gateway. */
export interface OptionChainDeps {
  /** The adapter's listing of an underlying's options (ConnectionPool.listOptions). */
  listOptions(
    exchange: string,
    underlying: string,
  ): Promise<Outcome<{ listing: OptionListing | null }>>;
  /** Where quotes come from (stream or poll, per budget.routing.optionChain). */
  quotes: ChainQuotes;
  config: OptionChainConfig;
  broker: string;
  /** Epoch ms now (tests); default Date.now. */
  clock?: () => number;
}

interface Entry {
  readonly key: string;
  readonly chain: OptionChain;
  readonly clients: Set<ChainClient>;
  /** Resolves once the chain holds its first window. */
  readonly opened: Promise<Outcome>;
  publishing: boolean;
}

type SubscribeReq = Extract<Request, { action: "subscribe_option_chain" }>;
type UnsubscribeReq = Extract<Request, { action: "unsubscribe_option_chain" }>;

/**
 * The option chain side of the proxy.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { optionChainSchema } from "../config/mod.ts";
 * import type { ChainQuotes } from "../options/mod.ts";
 * const quotes: ChainQuotes = {
 *   acquire: (items) => Promise.resolve(items.map(() => ({ ok: true as const }))),
 *   release: () => Promise.resolve(),
 *   latest: () => undefined,
 *   size: 0,
 * };
 * const feed = new OptionChainFeed({
 *   listOptions: () => Promise.resolve({ ok: true as const, listing: null }),
 *   quotes,
 *   config: optionChainSchema.parse({}),
 *   broker: "paper",
 * });
 * const sent: string[] = [];
 * const client = { id: "c1", closed: false, sendControl: (f: string) => void sent.push(f) };
 * await feed.handle(client, {
 *   action: "subscribe_option_chain", underlying: "NIFTY", exchange: "NFO", expiry: null, strikes: 10,
 * });
 * assert.equal(JSON.parse(sent[0]).code, "SYMBOL_NOT_FOUND");
 * feed.close();
 * ```
 */
export class OptionChainFeed {
  readonly #deps: OptionChainDeps;
  readonly #clock: () => number;
  readonly #chains = new Map<string, Entry>();
  /** client → (exchange:underlying:expiry) → chain key. */
  readonly #byClient = new Map<ChainClient, Map<string, string>>();
  readonly #listings = new Map<
    string,
    { at: number; listing: Promise<Outcome<{ listing: OptionListing | null }>> }
  >();
  #timer: ReturnType<typeof setInterval> | null = null;
  /** `option_chain` frames sent. */
  framesOut = 0;
  /** Frames built (one per chain per interval, whatever its number of clients). */
  framesBuilt = 0;

  constructor(deps: OptionChainDeps) {
    this.#deps = deps;
    this.#clock = deps.clock ?? Date.now;
  }

  /** Chains open. */
  get size(): number {
    return this.#chains.size;
  }

  /** Instruments the chains hold on the quote source. */
  get instruments(): number {
    return this.#deps.quotes.size;
  }

  /** Answers a subscribe / unsubscribe request with its reply frame (and, on success, a first frame). */
  async handle(client: ChainClient, req: SubscribeReq | UnsubscribeReq): Promise<void> {
    const reply: { frame: Record<string, unknown>; entry?: Entry } =
      req.action === "subscribe_option_chain"
        ? await this.#subscribe(client, req)
        : await this.#unsubscribe(client, req);
    if (req.requestId !== undefined) reply.frame.request_id = req.requestId;
    if (client.closed) return;
    client.sendControl(JSON.stringify(reply.frame));
    if (reply.entry) this.#send(client, this.#frame(reply.entry));
  }

  /** The chains a client holds. */
  list(
    client: ChainClient,
  ): { underlying: string; exchange: string; expiry: string; strikes: number }[] {
    return [...(this.#byClient.get(client)?.values() ?? [])].flatMap((key) => {
      const e = this.#chains.get(key);
      return e
        ? [{
          underlying: e.chain.listing.underlying,
          exchange: e.chain.listing.exchange,
          expiry: e.chain.expiry.expiry,
          strikes: e.chain.strikesEachSide,
        }]
        : [];
    });
  }

  async #subscribe(
    client: ChainClient,
    req: SubscribeReq,
  ): Promise<{ frame: Record<string, unknown>; entry?: Entry }> {
    const fail = (code: ErrorCode, message: string) => ({
      frame: {
        type: "subscribe_option_chain",
        status: "error",
        code,
        message,
        underlying: req.underlying,
        exchange: req.exchange,
        broker: this.#deps.broker,
      },
    });
    const held = this.#byClient.get(client);
    const max = this.#deps.config.maxChainsPerClient;
    const listed = await this.#listing(req.exchange, req.underlying);
    if (!listed.ok) return fail(listed.code, listed.message);
    const listing = listed.listing;
    if (listing === null) {
      return fail("SYMBOL_NOT_FOUND", `No options of ${req.underlying} on ${req.exchange}`);
    }
    const now = this.#clock();
    const live = listing.expiries.filter((e) => e.expiresAt > now);
    const expiry: ListedExpiry | undefined = req.expiry === null
      ? live[0]
      : live.find((e) => e.expiry === req.expiry);
    if (!expiry) {
      return fail(
        "SYMBOL_NOT_FOUND",
        req.expiry === null
          ? `No live expiry of ${req.underlying} on ${req.exchange}`
          : `No expiry ${req.expiry} of ${req.underlying} on ${req.exchange}; listed: ${
            live.slice(0, 8).map((e) => e.expiry).join(", ")
          }`,
      );
    }
    const slot = `${req.exchange}:${req.underlying}:${expiry.expiry}`;
    const key = `${slot}:${req.strikes}`;
    const previous = held?.get(slot);
    if (previous !== key && (held?.size ?? 0) - (previous ? 1 : 0) >= max) {
      return fail("MAX_CAPACITY_REACHED", `Per-client limit reached: ${max} option chains`);
    }
    let entry = this.#chains.get(key);
    if (!entry) {
      const chain = new OptionChain(listing, expiry, req.strikes, this.#deps.quotes, {
        rate: this.#deps.config.rate,
        clock: this.#clock,
        firstPriceWaitMs: this.#deps.config.firstPriceWaitMs,
      });
      entry = { key, chain, clients: new Set(), opened: chain.open(), publishing: false };
      this.#chains.set(key, entry);
    }
    entry.clients.add(client);
    let mine = this.#byClient.get(client);
    if (!mine) this.#byClient.set(client, mine = new Map());
    mine.set(slot, key);
    // A new window size for the same expiry replaces the old one.
    if (previous !== undefined && previous !== key) await this.#leave(client, previous);
    const opened = await entry.opened;
    if (!opened.ok || client.closed) {
      await this.#drop(client, slot);
      return opened.ok ? fail("SERVER_ERROR", "Client closed") : fail(opened.code, opened.message);
    }
    this.#timer ??= setInterval(this.#tick, this.#deps.config.intervalMs);
    return {
      frame: {
        type: "subscribe_option_chain",
        status: "success",
        message: "Option chain subscription complete",
        underlying: listing.underlying,
        exchange: listing.exchange,
        expiry: expiry.expiry,
        strikes: req.strikes,
        expiries: live.map((e) => e.expiry),
        interval_ms: this.#deps.config.intervalMs,
        broker: this.#deps.broker,
      },
      entry,
    };
  }

  async #unsubscribe(
    client: ChainClient,
    req: UnsubscribeReq,
  ): Promise<{ frame: Record<string, unknown> }> {
    const mine = this.#byClient.get(client);
    const prefix = `${req.exchange}:${req.underlying}:`;
    const slots = [...(mine?.keys() ?? [])].filter((s) =>
      req.expiry === null ? s.startsWith(prefix) : s === `${prefix}${req.expiry}`
    );
    const base = {
      type: "unsubscribe_option_chain",
      underlying: req.underlying,
      exchange: req.exchange,
      broker: this.#deps.broker,
    };
    if (slots.length === 0) {
      return {
        frame: {
          ...base,
          status: "error",
          code: "NOT_SUBSCRIBED",
          message: `No option chain of ${req.underlying}${
            req.expiry ? ` ${req.expiry}` : ""
          } on ${req.exchange}`,
        },
      };
    }
    await Promise.all(slots.map((s) => this.#drop(client, s)));
    return {
      frame: {
        ...base,
        status: "success",
        message: "Option chain unsubscription complete",
        expiries: slots.map((s) => s.slice(prefix.length)),
      },
    };
  }

  /** Releases every chain a disconnected client held. */
  async forget(client: ChainClient): Promise<void> {
    const mine = this.#byClient.get(client);
    if (!mine) return;
    await Promise.all([...mine.keys()].map((s) => this.#drop(client, s)));
  }

  /** Stops the frame timer (chains stay held until their clients leave). */
  close(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Builds one chain's frame now (benchmarks, tests). */
  frameOf(underlying: string, exchange: string, expiry: string, strikes: number): string | null {
    const e = this.#chains.get(`${exchange}:${underlying}:${expiry}:${strikes}`);
    return e ? this.#frame(e) : null;
  }

  async #drop(client: ChainClient, slot: string): Promise<void> {
    const mine = this.#byClient.get(client);
    const key = mine?.get(slot);
    if (!mine || key === undefined) return;
    mine.delete(slot);
    if (mine.size === 0) this.#byClient.delete(client);
    await this.#leave(client, key);
  }

  async #leave(client: ChainClient, key: string): Promise<void> {
    const entry = this.#chains.get(key);
    if (!entry) return;
    entry.clients.delete(client);
    if (entry.clients.size > 0) return;
    this.#chains.delete(key);
    if (this.#chains.size === 0) this.close();
    await entry.opened;
    await entry.chain.close();
  }

  #listing(
    exchange: string,
    underlying: string,
  ): Promise<Outcome<{ listing: OptionListing | null }>> {
    const key = `${exchange}:${underlying}`;
    const now = this.#clock();
    const cached = this.#listings.get(key);
    if (cached && now - cached.at < this.#deps.config.listingTtlMs) return cached.listing;
    const listing = this.#deps.listOptions(exchange, underlying);
    this.#listings.set(key, { at: now, listing });
    // Failures are not kept: the next request asks again.
    void listing.then((r) => {
      if (!r.ok && this.#listings.get(key)?.listing === listing) this.#listings.delete(key);
    });
    return listing;
  }

  #frame(entry: Entry): string {
    this.framesBuilt++;
    const c = entry.chain;
    const data: ChainData = c.data();
    return JSON.stringify({
      type: "option_chain",
      underlying: c.listing.underlying,
      exchange: c.listing.exchange,
      expiry: c.expiry.expiry,
      timestamp: this.#clock(),
      data,
    });
  }

  #send(client: ChainClient, frame: string): void {
    if (client.closed) return;
    client.sendControl(frame);
    this.framesOut++;
  }

  #tick = (): void => {
    for (const entry of this.#chains.values()) {
      if (entry.publishing) continue;
      entry.publishing = true;
      void entry.opened
        .then(() => entry.chain.recentre())
        .then(() => {
          if (entry.clients.size === 0) return;
          const frame = this.#frame(entry);
          for (const c of entry.clients) this.#send(c, frame);
        })
        .catch((err) => log.error("option chain {key} failed: {err}", { key: entry.key, err }))
        .finally(() => entry.publishing = false);
    }
  };
}
