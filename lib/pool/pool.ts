// ConnectionPool: the main-isolate owner of the broker connections (adapter workers). It fills
// connections in order, enforces capacity, keeps the mode hierarchy (upgrade / covered / downgrade
// with rollback) and restarts dead workers, resubscribing what they carried.

import { getLogger } from "../log.ts";
import { KeyedLock } from "../keyed_lock.ts";
import type { ConnectionStatus } from "../feed_state.ts";
import {
  type Capabilities,
  type FeedState,
  type InstrumentKey,
  instrumentKey,
  type Mode,
  type Outcome,
  type Tick,
} from "../types.ts";
import {
  type ItemResult,
  type OptionListing,
  parseFromWorker,
  type QuoteResult,
  type StreamItem,
  type ToWorker,
} from "../adapter/mod.ts";
import { decayedBackoff, restartDelayMs } from "./backoff.ts";
import type { LinkFactory, PoolLink } from "./link.ts";
import { type ItemOp, RequestBatcher } from "./requests.ts";

const log = getLogger(["tickplex", "pool"]);

/** How long shutdown waits for the broker to confirm unsubscribes. */
const CLOSE_UNSUBSCRIBE_MS = 3000;

/** Pool tuning; anything unset comes from the adapter's capabilities or defaults. */
export interface PoolOptions {
  /** Adapter-specific options passed to every worker's `init`. */
  adapterOptions?: unknown;
  /** May lower (never raise) the adapter's limits. */
  maxSymbolsPerConnection?: number;
  maxConnections?: number;
  /** How long a worker may take to answer a request before it is restarted. */
  requestTimeoutMs?: number;
  /** How long a worker may take to become ready. */
  readyTimeoutMs?: number;
  /** Restart backoff: base × 2^n, capped. */
  restartBaseMs?: number;
  restartMaxMs?: number;
  /**
   * A worker that stopped retrying (`failed`, or credentials rejected before it could connect)
   * is restarted on this slower schedule — and at once when a fresh token arrives.
   */
  failedRestartMs?: number;
  /** A connection healthy (`connected`) this long forgets its restart backoff. */
  healthyResetMs?: number;
}

/** Test-only controls of a pool (scripted faults, worker kills). */
export interface PoolTestControls {
  /** Sends a scripted fault to connection `index` (simulated adapters only). */
  injectFault(index: number, kind: Extract<ToWorker, { type: "fault" }>["kind"]): void;
  /** Kills connection `index`'s worker as a crash would; the pool restarts it. */
  killWorker(index: number): boolean;
}

/** Success details of a pool subscribe. */
export interface SubscribeInfo {
  depth: number;
  /** 1-based connection number carrying the symbol. */
  connection: number;
  /** What the broker was asked: a new stream, a mode upgrade, or nothing (covered / already). */
  action: "subscribed" | "upgraded" | "covered" | "already";
}

/** Success details of a pool unsubscribe. */
export interface UnsubscribeInfo {
  action: "unsubscribed" | "downgraded" | "tracking";
  /** The mode streamed after a downgrade. */
  mode?: Mode;
}

/** A snapshot of one connection for status pages (declared beside FeedState). */
export type { ConnectionStatus };

/** What a worker call (quote, option listing) resolves to: the call's own answer or a failure. */
type CallAnswer = QuoteResult | Outcome<{ listing: OptionListing | null }>;

interface SymbolState {
  exchange: string;
  symbol: string;
  conn: Conn;
  /** Modes consumers asked for, each with its requested depth. */
  modes: Map<Mode, number>;
  /** Mode the broker streams (the highest tracked mode once confirmed). */
  streamMode: Mode;
  depth: number;
  /** False while a new subscription is in flight or after a failed resubscribe. */
  streaming: boolean;
}

interface Conn {
  index: number;
  link: PoolLink | null;
  state: FeedState;
  detail?: string;
  symbols: Map<InstrumentKey, SymbolState>;
  ready: Promise<boolean>;
  requests: RequestBatcher;
  restarts: number;
  /** Consecutive restarts without a healthy period: the exponent of the restart backoff. */
  backoff: number;
  /** When the connection last became `connected` (null while it is not). */
  connectedAt: number | null;
  /** The slow-schedule restart of a `failed` worker, if one is pending. */
  slowRestart: ReturnType<typeof setTimeout> | undefined;
  reconnects: number;
  lastTickAt: number | null;
  ticks: number;
  generation: number;
  closed: boolean;
  /** Calls in flight on this worker (quotes, option listings): id → their answer. */
  calls: Map<number, (answer: CallAnswer) => void>;
}

/**
 * The connection pool. Create with {@link ConnectionPool}, then `start()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { paperAdapter } from "../../adapters/paper/mod.ts";
 * import { workerLinkFactory } from "./link.ts";
 * const pool = new ConnectionPool(paperAdapter.capabilities({}), workerLinkFactory(paperAdapter));
 * const first = Promise.withResolvers<string>();
 * pool.onticks = (ticks) => first.resolve(ticks[0].symbol);
 * await pool.start();
 * assert.equal((await pool.subscribe("NSE", "RELIANCE", 2, 5)).ok, true);
 * assert.equal(await first.promise, "RELIANCE");
 * await pool.close();
 * ```
 */
export class ConnectionPool {
  readonly capabilities: Capabilities;
  readonly maxSymbolsPerConnection: number;
  readonly maxConnections: number;
  /** Receives every valid tick batch, in arrival order. */
  onticks: ((ticks: Tick[], connection: number) => void) | null = null;
  /** Called whenever a connection's state changes. */
  onstatus: ((connection: number, state: FeedState, detail?: string) => void) | null = null;
  /** Counters for metrics. */
  readonly counters = { ticksIn: 0, ticksRejected: 0, messagesRejected: 0, restarts: 0 };

  #factory: LinkFactory;
  #options: Required<
    Omit<PoolOptions, "adapterOptions" | "maxSymbolsPerConnection" | "maxConnections">
  >;
  #adapterOptions: unknown;
  #conns: Conn[] = [];
  #symbols = new Map<InstrumentKey, SymbolState>();
  #lock = new KeyedLock();
  #nextId = 1;
  #closed = false;
  #opening: Promise<Conn | null> | null = null;

  constructor(capabilities: Capabilities, factory: LinkFactory, options: PoolOptions = {}) {
    this.capabilities = capabilities;
    this.maxSymbolsPerConnection = Math.min(
      capabilities.maxSymbolsPerConnection,
      options.maxSymbolsPerConnection ?? Infinity,
    );
    this.maxConnections = Math.min(capabilities.maxConnections, options.maxConnections ?? Infinity);
    this.#factory = factory;
    this.#adapterOptions = options.adapterOptions ?? {};
    this.#options = {
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
      restartBaseMs: options.restartBaseMs ?? 500,
      restartMaxMs: options.restartMaxMs ?? 30_000,
      failedRestartMs: options.failedRestartMs ?? 300_000,
      healthyResetMs: options.healthyResetMs ?? 60_000,
    };
  }

  /** Opens the first connection so the feed state is known before anyone subscribes. */
  async start(): Promise<void> {
    const conn = this.#newConn();
    const ok = await conn.ready;
    if (!ok) log.warn("first broker connection is not ready yet; it keeps retrying");
  }

  /** Total distinct symbols streamed. */
  get symbolCount(): number {
    return this.#symbols.size;
  }

  /** Per-connection status for health pages and the safety gate. */
  status(): ConnectionStatus[] {
    return this.#conns.map((c) => ({
      index: c.index,
      state: c.state,
      symbols: c.symbols.size,
      capacity: this.maxSymbolsPerConnection,
      restarts: c.restarts,
      reconnects: c.reconnects,
      lastTickAt: c.lastTickAt,
      ticks: c.ticks,
      detail: c.detail,
    }));
  }

  /** What the pool believes the broker streams: instrument → mode, with the tracked modes. */
  streams(): { exchange: string; symbol: string; mode: Mode; modes: Mode[]; connection: number }[] {
    return [...this.#symbols.values()].filter((s) => s.streaming).map((s) => ({
      exchange: s.exchange,
      symbol: s.symbol,
      mode: s.streamMode,
      modes: [...s.modes.keys()].sort(),
      connection: s.conn.index + 1,
    }));
  }

  /**
   * Subscribes (exchange, symbol) at `mode`. The broker is only asked when the symbol is new
   * (fill-in-order connection choice) or the mode is higher than what it streams (upgrade on the
   * same connection); a lower mode is tracked as covered.
   */
  subscribe(
    exchange: string,
    symbol: string,
    mode: Mode,
    depth: number,
  ): Promise<Outcome<SubscribeInfo>> {
    const key = instrumentKey(exchange, symbol);
    return this.#lock.run(key, () => this.#subscribe(key, exchange, symbol, mode, depth));
  }

  async #subscribe(
    key: InstrumentKey,
    exchange: string,
    symbol: string,
    mode: Mode,
    depth: number,
  ): Promise<Outcome<SubscribeInfo>> {
    if (this.#closed) return fail("BROKER_ERROR", "Gateway is shutting down");
    const st = this.#symbols.get(key);
    if (st) {
      const connection = st.conn.index + 1;
      if (st.modes.has(mode)) return { ok: true, depth: st.depth, connection, action: "already" };
      if (mode <= st.streamMode) {
        st.modes.set(mode, depth);
        return { ok: true, depth: st.depth, connection, action: "covered" };
      }
      const r = await this.#request(st.conn, "set_mode", { exchange, symbol, mode, depth });
      if (!r.ok) return fail(r.code, r.message);
      st.modes.set(mode, depth);
      st.streamMode = mode;
      st.depth = r.depth ?? depth;
      return { ok: true, depth: st.depth, connection, action: "upgraded" };
    }
    const fresh: SymbolState = {
      exchange,
      symbol,
      conn: null as unknown as Conn,
      modes: new Map([[mode, depth]]),
      streamMode: mode,
      depth,
      streaming: false,
    };
    // The slot is reserved synchronously with the capacity check, so concurrent subscribes
    // cannot overfill a connection.
    const conn = await this.#reserve(key, fresh);
    if (!conn) {
      const max = this.maxConnections * this.maxSymbolsPerConnection;
      return fail(
        "MAX_CAPACITY_REACHED",
        `Maximum capacity reached: ${this.maxConnections} connections × ` +
          `${this.maxSymbolsPerConnection} symbols = ${max} symbols. ` +
          `Currently subscribed to ${this.#symbols.size} symbols.`,
      );
    }
    if (conn === "failed") return fail("BROKER_ERROR", "Could not open a broker connection");
    const r = await this.#request(conn, "subscribe", { exchange, symbol, mode, depth });
    if (!r.ok) {
      if (conn.symbols.get(key) === fresh) conn.symbols.delete(key);
      if (this.#symbols.get(key) === fresh) this.#symbols.delete(key);
      return fail(r.code, r.message);
    }
    fresh.streaming = true;
    fresh.depth = r.depth ?? depth;
    return { ok: true, depth: fresh.depth, connection: conn.index + 1, action: "subscribed" };
  }

  /**
   * Releases `mode` of (exchange, symbol). The last mode unsubscribes at the broker; the top mode
   * downgrades the stream to the next mode still tracked. A failed broker call leaves tracking as
   * it was (the pool never believes a state the broker does not have).
   */
  unsubscribe(exchange: string, symbol: string, mode: Mode): Promise<Outcome<UnsubscribeInfo>> {
    const key = instrumentKey(exchange, symbol);
    return this.#lock.run(key, () => this.#unsubscribe(key, exchange, symbol, mode));
  }

  async #unsubscribe(
    key: InstrumentKey,
    exchange: string,
    symbol: string,
    mode: Mode,
  ): Promise<Outcome<UnsubscribeInfo>> {
    const st = this.#symbols.get(key);
    if (!st || !st.modes.has(mode)) {
      return fail("NOT_SUBSCRIBED", `Not subscribed to ${symbol}.${exchange} mode ${mode}`);
    }
    const rest = [...st.modes.keys()].filter((m) => m !== mode);
    if (rest.length === 0) {
      if (st.streaming || st.conn.state !== "disconnected") {
        const r = await this.#request(st.conn, "unsubscribe", {
          exchange,
          symbol,
          mode,
          depth: st.depth,
        });
        // NOT_SUBSCRIBED from the broker means it already does not stream it: agreed state.
        if (!r.ok && r.code !== "NOT_SUBSCRIBED") {
          return fail("BROKER_ERROR", `Failed to unsubscribe ${symbol}.${exchange}: ${r.message}`);
        }
      }
      st.conn.symbols.delete(key);
      this.#symbols.delete(key);
      return { ok: true, action: "unsubscribed" };
    }
    const top = Math.max(...rest) as Mode;
    if (mode === st.streamMode && top < mode) {
      const depth = st.modes.get(top) ?? st.depth;
      const r = await this.#request(st.conn, "set_mode", { exchange, symbol, mode: top, depth });
      if (!r.ok) {
        return fail("DOWNGRADE_FAILED", `Failed to downgrade ${symbol}.${exchange} to mode ${top}`);
      }
      st.modes.delete(mode);
      st.streamMode = top;
      st.depth = r.depth ?? depth;
      return { ok: true, action: "downgraded", mode: top };
    }
    st.modes.delete(mode);
    return { ok: true, action: "tracking" };
  }

  /**
   * One REST multi-quote call through a live adapter worker (the credentials stay there). The
   * caller keeps to the broker's batch size and rate (see `capabilities.quotes`); this only
   * carries the call. Fails with `INVALID_ACTION` when the adapter has no quote API. `check`
   * only resolves the symbols in the worker (unknown ones come back in `missing`; no broker call).
   */
  quote(
    mode: Mode,
    items: { exchange: string; symbol: string }[],
    check = false,
  ): Promise<QuoteResult> {
    if (this.capabilities.quotes === undefined) {
      return Promise.resolve({
        ok: false,
        code: "INVALID_ACTION",
        message: `${this.capabilities.broker} has no REST quote API`,
      });
    }
    if (this.#closed) {
      return Promise.resolve({
        ok: false,
        code: "BROKER_ERROR",
        message: "Gateway is shutting down",
      });
    }
    return this.#call<QuoteResult>(
      "quote call",
      (id) => ({ type: "quote", id, mode, items, ...(check ? { check } : {}) }),
    );
  }

  /**
   * One request to a running worker answered by id (a quote call, an option listing): sent to a
   * connected worker if there is one, failed with BROKER_ERROR when none runs, when it is not
   * answered within `requestTimeoutMs`, or when the worker dies or restarts first.
   */
  #call<A extends CallAnswer>(what: string, message: (id: number) => ToWorker): Promise<A> {
    const conn = this.#conns.find((c) => c.link !== null && c.state === "connected") ??
      this.#conns.find((c) => c.link !== null);
    if (!conn?.link) {
      return Promise.resolve(fail("BROKER_ERROR", "no broker connection is running") as A);
    }
    const id = this.#nextId++;
    const link = conn.link;
    return new Promise<A>((resolve) => {
      const timer = setTimeout(() => {
        if (conn.calls.delete(id)) {
          resolve(
            fail(
              "BROKER_ERROR",
              `${what} not answered within ${this.#options.requestTimeoutMs} ms`,
            ) as A,
          );
        }
      }, this.#options.requestTimeoutMs);
      conn.calls.set(id, (answer) => {
        clearTimeout(timer);
        resolve(answer as A);
      });
      link.send(message(id));
    });
  }

  /** Answers the call `id` on `conn`; false when none is waiting (answered late, or not a call). */
  #answer(conn: Conn, id: number, answer: CallAnswer): boolean {
    const waiting = conn.calls.get(id);
    if (waiting === undefined) return false;
    conn.calls.delete(id);
    waiting(answer);
    return true;
  }

  /** Fails every call in flight on `conn` (its worker died or was replaced). */
  #failCalls(conn: Conn, message: string): void {
    const pending = [...conn.calls.values()];
    conn.calls.clear();
    for (const answer of pending) answer(fail("BROKER_ERROR", message));
  }

  /** Sends a fresh access token to every adapter (daily token rollover). */
  updateToken(accessToken: string): void {
    // Workers started later (new connections, restarts) must get the fresh token too.
    const o = this.#adapterOptions;
    if (typeof o === "object" && o !== null && "accessToken" in o) {
      this.#adapterOptions = { ...o, accessToken };
    }
    for (const c of this.#conns) {
      // A worker that gave up, or never got past rejected credentials, starts over at once.
      if (c.state === "failed" || (c.state === "auth_failed" && c.link === null)) {
        this.#restartNow(c, "fresh token");
      } else c.link?.send({ type: "token", accessToken });
    }
  }

  /** Fault controls for tests and simulations; production code never calls them. */
  readonly testing: PoolTestControls = {
    injectFault: (index, kind) => {
      this.#conns[index]?.link?.send({ type: "fault", kind });
    },
    killWorker: (index) => {
      const c = this.#conns[index];
      if (!c?.link) return false;
      c.link.terminate();
      this.#onDeath(c, "worker terminated by request");
      return true;
    },
  };

  /** Unsubscribes everything upstream, then closes every worker. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#conns.map(async (c) => {
      const items = [...c.symbols.values()].filter((s) => s.streaming);
      if (c.link && c.state !== "disconnected" && items.length > 0) {
        const released = Promise.all(items.map((s) =>
          this.#request(c, "unsubscribe", {
            exchange: s.exchange,
            symbol: s.symbol,
            mode: s.streamMode,
            depth: s.depth,
          })
        ));
        // A hung worker must not hold shutdown hostage: its socket dies with it anyway.
        let timer: ReturnType<typeof setTimeout> | undefined;
        const late = new Promise<"late">((r) =>
          timer = setTimeout(() => r("late"), CLOSE_UNSUBSCRIBE_MS)
        );
        if (await Promise.race([released, late]) === "late") {
          log.warn(
            "connection {n}: upstream unsubscribe not confirmed within {ms} ms at shutdown",
            {
              n: c.index + 1,
              ms: CLOSE_UNSUBSCRIBE_MS,
            },
          );
        }
        clearTimeout(timer);
      }
      c.closed = true;
      c.link?.send({ type: "close" });
    }));
    // Give workers a moment to close their broker sockets, then make sure they are gone.
    await new Promise((r) => setTimeout(r, 50));
    for (const c of this.#conns) {
      clearTimeout(c.slowRestart);
      c.requests.failAll("gateway is shutting down");
      this.#failCalls(c, "gateway is shutting down");
      c.link?.terminate();
      c.link = null;
      this.#setState(c, "disconnected");
    }
    this.#symbols.clear();
  }

  // ---- connections --------------------------------------------------------------------------

  async #reserve(key: InstrumentKey, st: SymbolState): Promise<Conn | null | "failed"> {
    for (const c of this.#conns) {
      if (c.symbols.size < this.maxSymbolsPerConnection) {
        st.conn = c;
        c.symbols.set(key, st);
        this.#symbols.set(key, st);
        return c;
      }
    }
    if (this.#conns.length >= this.maxConnections) return null;
    // One connection opens at a time; concurrent callers share it.
    this.#opening ??= (async () => {
      const c = this.#newConn();
      const ok = await c.ready;
      return ok ? c : null;
    })().finally(() => {
      this.#opening = null;
    });
    const c = await this.#opening;
    if (!c) return "failed";
    return this.#reserve(key, st);
  }

  #newConn(): Conn {
    const conn: Conn = {
      index: this.#conns.length,
      link: null,
      state: "connecting",
      symbols: new Map(),
      ready: Promise.resolve(false),
      requests: null as unknown as RequestBatcher,
      restarts: 0,
      backoff: 0,
      connectedAt: null,
      slowRestart: undefined,
      reconnects: 0,
      lastTickAt: null,
      ticks: 0,
      generation: 0,
      closed: false,
      calls: new Map(),
    };
    conn.requests = new RequestBatcher(
      {
        send: (m) => {
          if (!conn.link) return false;
          conn.link.send(m);
          return true;
        },
        onTimeout: (op) => {
          log.error("adapter {index} did not answer {op} within {ms} ms; restarting it", {
            index: conn.index,
            op,
            ms: this.#options.requestTimeoutMs,
          });
          conn.link?.terminate();
          this.#onDeath(conn, `${op} timed out`);
        },
      },
      this.#options.requestTimeoutMs,
      () => this.#nextId++,
    );
    this.#conns.push(conn);
    conn.ready = this.#launch(conn);
    return conn;
  }

  #launch(conn: Conn): Promise<boolean> {
    const generation = ++conn.generation;
    this.#setState(conn, "connecting");
    let link: PoolLink;
    try {
      link = this.#factory(conn.index, this.capabilities);
    } catch (err) {
      log.error("could not start adapter worker {index}: {err}", { index: conn.index, err });
      this.#scheduleRestart(conn);
      return Promise.resolve(false);
    }
    conn.link = link;
    return new Promise<boolean>((resolve) => {
      let settled = false;
      const settle = (ok: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(ok);
      };
      const timer = setTimeout(() => {
        if (settled || conn.generation !== generation) return;
        log.error("adapter worker {index} not ready within {ms} ms; restarting", {
          index: conn.index,
          ms: this.#options.readyTimeoutMs,
        });
        settle(false);
        link.terminate();
        this.#onDeath(conn, "ready timeout");
      }, this.#options.readyTimeoutMs);
      link.onmessage = (data) => {
        if (conn.generation !== generation) return;
        this.#onMessage(conn, data, () => settle(true), (reason) => {
          log.error("adapter worker {index} failed to initialise: {reason}", {
            index: conn.index,
            reason,
          });
          settle(false);
        });
      };
      link.onerror = (reason) => {
        if (conn.generation !== generation) return;
        settle(false);
        this.#onDeath(conn, reason);
      };
      link.send({ type: "init", connection: conn.index, options: this.#adapterOptions });
    });
  }

  #onMessage(conn: Conn, data: unknown, onReady: () => void, onInitError: (r: string) => void) {
    const parsed = parseFromWorker(data);
    if (!parsed.ok) {
      this.counters.messagesRejected++;
      log.warn("invalid message from adapter worker {index}: {error}", {
        index: conn.index,
        error: parsed.error,
      });
      return;
    }
    const msg = parsed.message;
    switch (msg.type) {
      case "ticks": {
        if (parsed.rejectedTicks > 0) {
          this.counters.ticksRejected += parsed.rejectedTicks;
          log.warn("adapter {index} sent {n} invalid ticks (first bad field: {field})", {
            index: conn.index,
            n: parsed.rejectedTicks,
            field: parsed.firstTickError,
          });
        }
        // Consumed (it is handled synchronously): give the worker its credit back.
        conn.link?.send({ type: "credit", n: 1 });
        if (msg.ticks.length === 0) return;
        conn.lastTickAt = Date.now();
        conn.ticks += msg.ticks.length;
        this.counters.ticksIn += msg.ticks.length;
        this.onticks?.(msg.ticks, conn.index);
        return;
      }
      case "quotes": {
        if (parsed.rejectedTicks > 0) {
          this.counters.ticksRejected += parsed.rejectedTicks;
          log.warn("adapter {index} quoted {n} invalid ticks (first bad field: {field})", {
            index: conn.index,
            n: parsed.rejectedTicks,
            field: parsed.firstTickError,
          });
        }
        this.#answer(conn, msg.id, { ok: true, ticks: msg.ticks, missing: msg.missing });
        return;
      }
      case "quote_failed": {
        this.#answer(conn, msg.id, {
          ok: false,
          code: msg.code,
          message: msg.message,
          ...(msg.retryAfterMs !== undefined ? { retryAfterMs: msg.retryAfterMs } : {}),
        });
        return;
      }
      case "ready":
        onReady();
        return;
      case "init_failed":
        onInitError(msg.message);
        conn.generation++;
        conn.link?.terminate();
        conn.link = null;
        conn.requests.failAll(`adapter failed to initialise: ${msg.message}`);
        this.#failCalls(conn, `adapter failed to initialise: ${msg.message}`);
        if (msg.auth) {
          // Retrying rejected credentials fast helps nobody: wait for a token (or the slow retry).
          this.#setState(conn, "auth_failed", msg.message);
          this.#scheduleSlowRestart(conn);
        } else {
          this.#setState(conn, "disconnected", `init failed: ${msg.message}`);
          this.#scheduleRestart(conn);
        }
        return;
      case "ack":
        conn.requests.answer(msg.id, msg.results);
        return;
      case "options": {
        this.#answer(conn, msg.id, { ok: true, listing: msg.listing });
        return;
      }
      case "error":
        if (msg.id === undefined) {
          log.error("adapter {index}: {code} {message}", {
            index: conn.index,
            code: msg.code,
            message: msg.message,
          });
        } else {
          if (!this.#answer(conn, msg.id, fail(msg.code, msg.message))) {
            conn.requests.reject(msg.id, msg.code, msg.message);
          }
        }
        return;
      case "status":
        if (msg.state === "reconnecting" && conn.state !== "reconnecting") conn.reconnects++;
        this.#setState(conn, msg.state as FeedState, msg.detail);
        if (msg.state === "failed") this.#scheduleSlowRestart(conn);
        return;
      case "log": {
        const text = `adapter ${conn.index}: ${msg.message}`;
        if (msg.level === "error") log.error(text);
        else if (msg.level === "warning") log.warn(text);
        else if (msg.level === "info") log.info(text);
        else log.debug(text);
        return;
      }
    }
  }

  #setState(conn: Conn, state: FeedState, detail?: string): void {
    const now = Date.now();
    if (state === "connected") conn.connectedAt ??= now;
    else {
      conn.backoff = decayedBackoff(
        conn.backoff,
        conn.connectedAt,
        now,
        this.#options.healthyResetMs,
      );
      conn.connectedAt = null;
    }
    if (conn.state === state && conn.detail === detail) return;
    conn.state = state;
    conn.detail = detail;
    this.onstatus?.(conn.index, state, detail);
  }

  #onDeath(conn: Conn, reason: string): void {
    if (conn.closed) return;
    conn.generation++;
    conn.link = null;
    conn.requests.failAll(`adapter worker died: ${reason}`);
    this.#failCalls(conn, `adapter worker died: ${reason}`);
    for (const s of conn.symbols.values()) s.streaming = false;
    this.#setState(conn, "disconnected", reason);
    log.error("adapter worker {index} died ({reason}); restarting", { index: conn.index, reason });
    this.#scheduleRestart(conn);
  }

  #scheduleRestart(conn: Conn): void {
    const { restartBaseMs, restartMaxMs } = this.#options;
    const delay = restartDelayMs(conn.backoff, restartBaseMs, restartMaxMs);
    if (this.#closed || conn.closed) return;
    conn.backoff++;
    conn.restarts++;
    this.counters.restarts++;
    const generation = conn.generation;
    setTimeout(() => {
      if (this.#closed || conn.closed || conn.generation !== generation) return;
      this.#relaunch(conn);
    }, delay);
  }

  #relaunch(conn: Conn): void {
    clearTimeout(conn.slowRestart);
    conn.slowRestart = undefined;
    conn.ready = this.#launch(conn).then(async (ok) => {
      if (ok) await this.#resubscribe(conn);
      return ok;
    });
  }

  /** A worker that stopped retrying is restarted on the slow schedule (never left dead). */
  #scheduleSlowRestart(conn: Conn): void {
    if (this.#closed || conn.closed || conn.slowRestart !== undefined) return;
    log.warn("connection {n} stopped retrying ({detail}); restarting it in {ms} ms", {
      n: conn.index + 1,
      detail: conn.detail ?? conn.state,
      ms: this.#options.failedRestartMs,
    });
    conn.slowRestart = setTimeout(() => {
      conn.slowRestart = undefined;
      if (this.#closed || conn.closed) return;
      this.#restartNow(conn, "slow-schedule restart");
    }, this.#options.failedRestartMs);
  }

  /** Replaces the worker now (fresh token, slow schedule), keeping its symbols. */
  #restartNow(conn: Conn, reason: string): void {
    if (this.#closed || conn.closed) return;
    clearTimeout(conn.slowRestart);
    conn.slowRestart = undefined;
    conn.generation++;
    conn.link?.terminate();
    conn.link = null;
    conn.requests.failAll(`adapter restarted: ${reason}`);
    this.#failCalls(conn, `adapter restarted: ${reason}`);
    for (const s of conn.symbols.values()) s.streaming = false;
    conn.restarts++;
    this.counters.restarts++;
    log.info("restarting connection {n}: {reason}", { n: conn.index + 1, reason });
    this.#relaunch(conn);
  }

  /** After a restart: stream every tracked symbol again at its mode. */
  async #resubscribe(conn: Conn): Promise<void> {
    const symbols = [...conn.symbols.values()];
    const results = await Promise.all(symbols.map((s) =>
      this.#request(conn, "subscribe", {
        exchange: s.exchange,
        symbol: s.symbol,
        mode: s.streamMode,
        depth: s.depth,
      }).then((r) => ({ s, r }))
    ));
    let failed = 0;
    for (const { s, r } of results) {
      s.streaming = r.ok;
      if (!r.ok) failed++;
    }
    log.info("connection {index} restarted: resubscribed {ok} symbols, {failed} failed", {
      index: conn.index,
      ok: symbols.length - failed,
      failed,
    });
    if (failed > 0) {
      // Not streaming is not the same as released: retry the same way as a dead worker.
      setTimeout(() => {
        if (!this.#closed && conn.link) void this.#resubscribeFailed(conn);
      }, this.#options.restartBaseMs * 4);
    }
  }

  async #resubscribeFailed(conn: Conn): Promise<void> {
    const todo = [...conn.symbols.values()].filter((s) => !s.streaming);
    if (todo.length === 0) return;
    await Promise.all(todo.map(async (s) => {
      const r = await this.#request(conn, "subscribe", {
        exchange: s.exchange,
        symbol: s.symbol,
        mode: s.streamMode,
        depth: s.depth,
      });
      s.streaming = r.ok;
    }));
  }

  // ---- requests -----------------------------------------------------------------------------

  /**
   * Asks a running adapter worker which options of `underlying` its instrument master lists on
   * `exchange` (the option chain's expiries and strikes). `listing` is null when there are none.
   */
  listOptions(
    exchange: string,
    underlying: string,
  ): Promise<Outcome<{ listing: OptionListing | null }>> {
    return this.#call(
      "option listing",
      (id) => ({ type: "list_options", id, exchange, underlying }),
    );
  }

  /** Queues one item on the connection's batcher; fails at once when no worker is running. */
  #request(conn: Conn, op: ItemOp, item: StreamItem): Promise<ItemResult> {
    if (!conn.link) {
      return Promise.resolve({
        exchange: item.exchange,
        symbol: item.symbol,
        ok: false,
        code: "BROKER_ERROR",
        message: `broker connection ${conn.index + 1} is ${conn.state}`,
      });
    }
    return conn.requests.request(op, item);
  }
}

function fail(code: Extract<Outcome, { ok: false }>["code"], message: string): Outcome<never> {
  return { ok: false, code, message } as Outcome<never>;
}
