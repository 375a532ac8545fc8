// A reconnecting broker session, the part of a live adapter every broker shares: connect timeout,
// login and keep-alive hooks, a silence and data-stall watchdog, capped jittered backoff, bounded
// auth retries, the wanted set and resubscription from it, and paced subscribe frames. A broker
// brings only its Dialect (dialect.ts).

import type { FeedState, Mode } from "../types.ts";
import type { AdapterOutput } from "./contract.ts";
import type {
  CloseInfo,
  Decoded,
  Dialect,
  Endpoint,
  Frame,
  Transport,
  TransportEvents,
  TransportMessage,
  Wanted,
} from "./dialect.ts";
import { NOTHING } from "./dialect.ts";
import { AuthError } from "./errors.ts";
import type { BrokerInstrument } from "./instruments.ts";
import type { ItemResult } from "./messages.ts";
import type { SessionTiming } from "./options.ts";
import { accepted, capacityReached, type ItemRef, notSubscribed } from "./results.ts";
import { isIndexExchange } from "./symbology.ts";

/** Malformed-message reports are coalesced into one log line per window. */
const MALFORMED_LOG_WINDOW_MS = 1000;

/** What a session is built from. */
export interface SessionConfig<I extends BrokerInstrument> {
  /** Broker name for logs and messages (`zerodha`). */
  broker: string;
  connection: number;
  dialect: Dialect<I>;
  timing: SessionTiming;
  maxSymbols: number;
  maxTokensPerFrame: number;
  /** Depth levels per exchange (`*` default), used when the dialect has no `depthFor`. */
  depthLevels: Record<string, number[]>;
  out: AdapterOutput;
  /** Jitter source (tests pin it). */
  random?: () => number;
}

/** One instrument of a subscribe / set_mode request, resolved to the broker's instrument. */
export interface SessionItem<I extends BrokerInstrument> {
  ref: ItemRef;
  instrument: I;
  mode: Mode;
  depth: number;
}

/** A wanted item whose stream changed: the mode and stream it had before. */
interface Change<I extends BrokerInstrument> {
  w: Wanted<I>;
  from: Mode;
  fromStream: Mode | string;
}

/**
 * Opens a WebSocket to `endpoint` and reports its life through `events`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const closed = Promise.withResolvers<{ opened: boolean }>();
 * openWebSocket({ url: "ws://127.0.0.1:1/" }, {
 *   open: () => {}, message: () => {}, close: (info) => closed.resolve(info),
 * });
 * assert.equal((await closed.promise).opened, false);
 * ```
 */
export function openWebSocket(endpoint: Endpoint, events: TransportEvents): Transport {
  const ws = new WebSocket(endpoint.url, {
    headers: endpoint.headers,
    protocols: endpoint.protocols,
  } as unknown as string[]);
  ws.binaryType = "arraybuffer";
  let opened = false;
  let error = "";
  ws.onopen = () => {
    opened = true;
    events.open();
  };
  ws.onerror = (e) => {
    error = e instanceof ErrorEvent ? e.message : "websocket error";
  };
  ws.onmessage = (e) => events.message(e.data);
  ws.onclose = (e) => events.close({ opened, code: e.code, reason: e.reason, error });
  return {
    send: (frame) => ws.send(frame),
    close: (code, reason) => {
      try {
        ws.close(code, reason);
      } catch {
        // not open yet, or already closing
      }
    },
  };
}

function defaultClassify(info: CloseInfo): "auth" | "retry" {
  return !info.opened && /\b(401|403)\b/.test(info.error) ? "auth" : "retry";
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Groups items by a key, keeping first-seen order. */
function groupBy<T, K>(items: Iterable<T>, key: (t: T) => K): Map<K, T[]> {
  const m = new Map<K, T[]>();
  for (const t of items) {
    const k = key(t);
    const list = m.get(k);
    if (list === undefined) m.set(k, [t]);
    else list.push(t);
  }
  return m;
}

/**
 * The live connection behind one adapter worker. The wanted set is the source of truth: whatever
 * happens to the socket, the next open resubscribes exactly what is wanted, at its mode.
 *
 * States: `connecting` → `connected`; a drop or stall → `stalled` / `reconnecting` (backoff) →
 * `connecting`; rejected credentials → `auth_failed` (bounded retries, then wait for a token);
 * more than `maxReconnectAttempts` failures in a row → `failed` (the pool restarts it slowly);
 * `close()` → `disconnected`.
 */
export class BrokerSession<I extends BrokerInstrument> {
  readonly #c: SessionConfig<I>;
  readonly #t: SessionTiming;
  readonly #d: Dialect<I>;
  readonly #random: () => number;
  readonly #wanted = new Map<string | number, Wanted<I>>();
  /** Wanted instruments per stream (for the dialect's `overLimit`). */
  readonly #perStream = new Map<Mode | string, number>();
  #state: FeedState = "disconnected";
  #transport: Transport | null = null;
  /** Identifies the current attempt; events of older attempts are ignored. */
  #attemptId = 0;
  /** Incremented on every successful open; frames built for an older one are not sent. */
  #openGeneration = 0;
  #connected = false;
  #closed = false;
  #attempt = 0;
  #authFailures = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  #lastFrameAt = 0;
  #lastDataAt = 0;
  #lastAttemptAt = 0;
  #sendChain: Promise<void> = Promise.resolve();
  #firstOutcome: (() => void) | null = null;
  readonly #malformed = new Map<string, number>();
  #malformedTotal = 0;
  #malformedTimer: ReturnType<typeof setTimeout> | undefined;
  #lastMalformedLog = 0;

  constructor(config: SessionConfig<I>) {
    this.#c = config;
    this.#t = config.timing;
    this.#d = config.dialect;
    this.#random = config.random ?? Math.random;
  }

  /** The instrument of a wanted broker token (for the dialect's decoder). */
  readonly lookup = (token: string | number): I | undefined => this.#wanted.get(token)?.instrument;

  /** Current state. */
  get state(): FeedState {
    return this.#state;
  }

  /** Number of wanted instruments. */
  get size(): number {
    return this.#wanted.size;
  }

  /** Malformed messages seen so far, by reason. */
  get malformed(): ReadonlyMap<string, number> {
    return this.#malformed;
  }

  /** Connects; resolves at the first outcome (open, rejection, failure) or the connect timeout. */
  async start(): Promise<void> {
    const first = new Promise<void>((resolve) => this.#firstOutcome = resolve);
    void this.#connect();
    const timer = setTimeout(() => this.#resolveFirst(), this.#t.connectTimeoutMs + 100);
    await first;
    clearTimeout(timer);
  }

  /** Adds items to the wanted set (or raises their mode) and tells the broker. */
  async subscribe(items: readonly SessionItem<I>[]): Promise<ItemResult[]> {
    const results: ItemResult[] = [];
    const fresh: Wanted<I>[] = [];
    const changes: Change<I>[] = [];
    const wasEmpty = this.#wanted.size === 0;
    for (const item of items) {
      const token = item.instrument.token;
      const have = this.#wanted.get(token);
      const stream = this.#streamOf(item.mode, item.depth);
      if (have !== undefined) {
        const refused = this.#move(have, item, stream, changes);
        if (refused !== null) {
          results.push(refused);
          continue;
        }
      } else if (this.#wanted.size >= this.#c.maxSymbols) {
        results.push(capacityReached(item.ref, this.#c.maxSymbols, this.#c.broker));
        continue;
      } else {
        const limit = this.#breaks(null, stream);
        if (limit !== null) {
          results.push(capacityReached(item.ref, limit, this.#c.broker));
          continue;
        }
        const w: Wanted<I> = { instrument: item.instrument, mode: item.mode, depth: item.depth };
        this.#wanted.set(token, w);
        this.#count(stream, 1);
        fresh.push(w);
      }
      results.push(this.#accepted(item));
    }
    if (wasEmpty && fresh.length > 0) this.#lastDataAt = Date.now();
    await this.#send([...this.#subscribeFrames(fresh), ...this.#changeFrames(changes)]);
    return results;
  }

  /** Changes the mode of wanted items; items not wanted get `NOT_SUBSCRIBED`. */
  async setMode(items: readonly SessionItem<I>[]): Promise<ItemResult[]> {
    const results: ItemResult[] = [];
    const changes: Change<I>[] = [];
    for (const item of items) {
      const have = this.#wanted.get(item.instrument.token);
      if (have === undefined) {
        results.push(notSubscribed(item.ref));
        continue;
      }
      const refused = this.#move(have, item, this.#streamOf(item.mode, item.depth), changes);
      results.push(refused ?? this.#accepted(item));
    }
    await this.#send(this.#changeFrames(changes));
    return results;
  }

  /** Removes items from the wanted set and tells the broker. */
  async unsubscribe(items: readonly { ref: ItemRef; instrument: I }[]): Promise<ItemResult[]> {
    const results: ItemResult[] = [];
    const gone: Wanted<I>[] = [];
    for (const item of items) {
      const have = this.#wanted.get(item.instrument.token);
      if (have === undefined) {
        results.push(notSubscribed(item.ref));
        continue;
      }
      this.#wanted.delete(item.instrument.token);
      this.#count(this.#streamOf(have.mode, have.depth), -1);
      gone.push(have);
      results.push(accepted(item.ref));
    }
    const frames: Frame[] = [];
    for (const [stream, ws] of groupBy(gone, (w) => this.#streamOf(w.mode, w.depth))) {
      // Dialects whose streams are modes get the stream's mode; others the items' own mode.
      const mode = typeof stream === "number" ? stream : ws[0].mode;
      for (const c of chunk(ws, this.#c.maxTokensPerFrame)) {
        frames.push(...this.#d.unsubscribe(c, mode));
      }
    }
    await this.#send(frames);
    return results;
  }

  /**
   * The credentials may have changed (`changed`): a session waiting in `auth_failed` or `failed`
   * tries again (not sooner than `authRetryMinMs` after its last attempt). A live session keeps
   * its connection; the new token is used from the next handshake on.
   */
  credentialsChanged(changed: boolean): void {
    if (this.#closed) return;
    if (changed) this.#authFailures = 0;
    if (this.#state !== "auth_failed" && this.#state !== "failed") return;
    if (!changed && this.#authFailures >= this.#t.maxAuthRetries) {
      this.#c.out.log(
        "warning",
        `${this.#c.broker}: token unchanged and auth retries exhausted; not retrying`,
      );
      return;
    }
    if (this.#state === "failed") this.#attempt = 0;
    this.#clearRetry();
    const wait = Math.max(0, this.#lastAttemptAt + this.#t.authRetryMinMs - Date.now());
    this.#retryTimer = setTimeout(() => void this.#connect(), wait);
  }

  /** Closes the connection for good. */
  close(): Promise<void> {
    this.#closed = true;
    this.#clearRetry();
    clearTimeout(this.#malformedTimer);
    this.#drop(1000, "closing");
    this.#setState("disconnected", "closed");
    this.#resolveFirst();
    return Promise.resolve();
  }

  // ---- requests ------------------------------------------------------------------------------

  #streamOf(mode: Mode, depth: number): Mode | string {
    return this.#d.streamMode?.(mode, depth) ?? mode;
  }

  #count(stream: Mode | string, delta: number): void {
    const n = (this.#perStream.get(stream) ?? 0) + delta;
    if (n > 0) this.#perStream.set(stream, n);
    else this.#perStream.delete(stream);
  }

  /** The dialect's limit that moving one instrument between streams would break, or null. */
  #breaks(from: Mode | string | null, to: Mode | string): number | null {
    if (this.#d.overLimit === undefined || from === to) return null;
    if (from !== null) this.#count(from, -1);
    this.#count(to, 1);
    const limit = this.#d.overLimit(this.#perStream);
    this.#count(to, -1);
    if (from !== null) this.#count(from, 1);
    return limit;
  }

  /**
   * Moves a wanted item to the item's mode and depth, recording a change when its stream
   * changes; returns the refusal when the dialect's limits do not allow the new stream.
   */
  #move(
    have: Wanted<I>,
    item: SessionItem<I>,
    stream: Mode | string,
    changes: Change<I>[],
  ): ItemResult | null {
    const before = this.#streamOf(have.mode, have.depth);
    const limit = this.#breaks(before, stream);
    if (limit !== null) return capacityReached(item.ref, limit, this.#c.broker);
    if (before !== stream) {
      this.#count(before, -1);
      this.#count(stream, 1);
      changes.push({ w: have, from: have.mode, fromStream: before });
    }
    have.mode = item.mode;
    have.depth = item.depth;
    return null;
  }

  #accepted(item: SessionItem<I>): ItemResult {
    if (item.mode !== 3) return accepted(item.ref);
    return accepted(item.ref, this.#depthFor(item.instrument, item.depth));
  }

  #depthFor(instrument: I, requested: number): number {
    if (this.#d.depthFor !== undefined) return this.#d.depthFor(instrument, requested);
    if (isIndexExchange(instrument.exchange)) return 0;
    const levels = this.#c.depthLevels[instrument.exchange] ?? this.#c.depthLevels["*"] ?? [5];
    const fit = levels.filter((l) => l <= requested);
    return fit.length > 0 ? Math.max(...fit) : Math.min(...levels);
  }

  #subscribeFrames(items: readonly Wanted<I>[]): Frame[] {
    const frames: Frame[] = [];
    for (const [, ws] of groupBy(items, (w) => this.#streamOf(w.mode, w.depth))) {
      // The dialect sees the OpenAlgo mode of the group (all share one stream mode).
      for (const c of chunk(ws, this.#c.maxTokensPerFrame)) {
        frames.push(...this.#d.subscribe(c, c[0].mode));
      }
    }
    return frames;
  }

  #changeFrames(changes: readonly Change<I>[]): Frame[] {
    const real = changes.filter((c) => c.fromStream !== this.#streamOf(c.w.mode, c.w.depth));
    const frames: Frame[] = [];
    const route = (c: Change<I>) =>
      `${c.from}:${c.fromStream}>${c.w.mode}:${this.#streamOf(c.w.mode, c.w.depth)}`;
    for (const [, group] of groupBy(real, route)) {
      const from = group[0].from;
      const to = group[0].w.mode;
      for (const c of chunk(group.map((g) => g.w), this.#c.maxTokensPerFrame)) {
        frames.push(
          ...(this.#d.changeMode?.(c, from, to) ??
            [...this.#d.unsubscribe(c, from), ...this.#d.subscribe(c, to)]),
        );
      }
    }
    return frames;
  }

  /**
   * Sends frames in order, paced by `frameIntervalMs`. Frames built while no connection is open,
   * or for a connection that has since closed, are dropped: the next open resubscribes the whole
   * wanted set.
   */
  #send(frames: Frame[]): Promise<void> {
    if (frames.length === 0) return Promise.resolve();
    const generation = this.#connected ? this.#openGeneration : -1;
    this.#sendChain = this.#sendChain.then(async () => {
      for (let i = 0; i < frames.length; i++) {
        const t = this.#transport;
        if (t === null || !this.#connected || generation !== this.#openGeneration) return;
        try {
          t.send(frames[i]);
        } catch (err) {
          this.#c.out.log("warning", `${this.#c.broker}: send failed: ${errorText(err)}`);
          return;
        }
        if (this.#t.frameIntervalMs > 0 && i < frames.length - 1) {
          await new Promise((r) => setTimeout(r, this.#t.frameIntervalMs));
        }
      }
    });
    return this.#sendChain;
  }

  // ---- connection ----------------------------------------------------------------------------

  #setState(state: FeedState, detail?: string): void {
    this.#state = state;
    this.#c.out.status(state, detail);
  }

  #resolveFirst(): void {
    const f = this.#firstOutcome;
    this.#firstOutcome = null;
    f?.();
  }

  #clearRetry(): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  /** Closes the current transport (if any) so that its events are ignored from now on. */
  #drop(code: number, reason: string): void {
    this.#attemptId++;
    this.#connected = false;
    clearTimeout(this.#connectTimer);
    this.#stopTimers();
    const t = this.#transport;
    this.#transport = null;
    t?.close(code, reason);
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    this.#clearRetry();
    this.#drop(1000, "reconnecting");
    const id = this.#attemptId;
    this.#lastAttemptAt = Date.now();
    this.#setState("connecting", `attempt ${this.#attempt + 1}`);
    const abort = new AbortController();
    this.#connectTimer = setTimeout(() => {
      if (id !== this.#attemptId) return;
      abort.abort();
      this.#drop(1000, "connect timeout");
      this.#scheduleReconnect(`connect timed out after ${this.#t.connectTimeoutMs} ms`);
      this.#resolveFirst();
    }, this.#t.connectTimeoutMs);
    let endpoint: Endpoint;
    try {
      endpoint = await this.#d.endpoint(abort.signal);
    } catch (err) {
      if (id !== this.#attemptId) return;
      clearTimeout(this.#connectTimer);
      if (err instanceof AuthError) this.#onAuthFailure(err.message);
      else this.#scheduleReconnect(`connect failed: ${errorText(err)}`);
      this.#resolveFirst();
      return;
    }
    if (id !== this.#attemptId) return;
    // A transport that connects before `transport()` resolves (a client library's connect) reports
    // `open` before the session holds it; the open is handled once it does, so the login and
    // resubscribe frames it triggers are not sent into the void.
    let held = false;
    let openedEarly = false;
    const events: TransportEvents = {
      open: () => {
        if (id !== this.#attemptId) return;
        if (held) this.#onOpen();
        else openedEarly = true;
      },
      message: (data) => {
        if (id === this.#attemptId) this.#onMessage(data);
      },
      close: (info) => {
        if (id === this.#attemptId) this.#onClose(info);
      },
    };
    try {
      const t = this.#d.transport !== undefined
        ? await this.#d.transport(endpoint, events)
        : openWebSocket(endpoint, events);
      if (id !== this.#attemptId) {
        t.close(1000, "superseded");
        return;
      }
      this.#transport = t;
      held = true;
      if (openedEarly) this.#onOpen();
    } catch (err) {
      if (id !== this.#attemptId) return;
      clearTimeout(this.#connectTimer);
      if (err instanceof AuthError) this.#onAuthFailure(err.message);
      else this.#scheduleReconnect(`connect failed: ${errorText(err)}`);
      this.#resolveFirst();
    }
  }

  #onOpen(): void {
    const now = Date.now();
    this.#lastFrameAt = now;
    const login = this.#d.login?.() ?? [];
    for (const f of login) this.#transport?.send(f);
    if (!this.#d.awaitsLogin) this.#onConnected();
  }

  #onConnected(): void {
    if (this.#connected) return;
    clearTimeout(this.#connectTimer);
    this.#connected = true;
    this.#openGeneration++;
    this.#attempt = 0;
    this.#authFailures = 0;
    const now = Date.now();
    this.#lastFrameAt = now;
    this.#lastDataAt = now;
    this.#setState("connected");
    this.#startTimers();
    this.#resolveFirst();
    const frames = this.#subscribeFrames([...this.#wanted.values()]);
    if (frames.length > 0) {
      this.#c.out.log(
        "info",
        `${this.#c.broker}[${this.#c.connection}]: resubscribing ${this.#wanted.size} ` +
          `instruments in ${frames.length} frames`,
      );
    }
    void this.#send(frames);
  }

  #onMessage(data: TransportMessage): void {
    const now = Date.now();
    this.#lastFrameAt = now;
    const d: Decoded = this.#d.decode(data, now);
    if (d === NOTHING) return;
    if (d.ticks !== undefined && d.ticks.length > 0) {
      this.#lastDataAt = now;
      this.#c.out.ticks(d.ticks);
    }
    if (d.reply !== undefined) { for (const f of d.reply) this.#transport?.send(f); }
    if (d.malformed !== undefined) this.#countMalformed(d.malformed);
    if (d.log !== undefined) this.#c.out.log(d.log.level, `${this.#c.broker}: ${d.log.message}`);
    if (d.loggedIn === true && this.#d.awaitsLogin) this.#onConnected();
    if (d.authFailed !== undefined) {
      this.#drop(1000, "auth failed");
      this.#onAuthFailure(d.authFailed);
      this.#resolveFirst();
    } else if (d.disconnect !== undefined) {
      this.#drop(1000, "broker disconnect");
      this.#scheduleReconnect(`broker ended the session: ${d.disconnect}`);
      this.#resolveFirst();
    }
  }

  #onClose(info: CloseInfo): void {
    const wasConnected = this.#connected;
    this.#attemptId++;
    this.#transport = null;
    this.#connected = false;
    clearTimeout(this.#connectTimer);
    this.#stopTimers();
    if (!wasConnected && (this.#d.classifyClose ?? defaultClassify)(info) === "auth") {
      this.#onAuthFailure(`handshake rejected: ${info.error || `code ${info.code}`}`);
    } else {
      const detail = info.opened
        ? `connection closed (code ${info.code}${info.reason ? `: ${info.reason}` : ""})`
        : `connect failed: ${info.error || `code ${info.code}`}`;
      this.#scheduleReconnect(detail);
    }
    this.#resolveFirst();
  }

  #startTimers(): void {
    this.#stopTimers();
    const { silenceTimeoutMs, dataStallMs } = this.#t;
    const watched = [silenceTimeoutMs, dataStallMs].filter((x) => x > 0);
    if (watched.length > 0) {
      const every = Math.max(50, Math.min(1000, Math.floor(Math.min(...watched) / 4)));
      this.#watchdog = setInterval(() => this.#watch(), every);
    }
    const ka = this.#d.keepAlive;
    if (ka !== undefined) {
      this.#keepAlive = setInterval(() => {
        if (this.#connected) this.#transport?.send(ka.frame());
      }, ka.everyMs);
    }
  }

  #stopTimers(): void {
    clearInterval(this.#watchdog);
    clearInterval(this.#keepAlive);
    this.#watchdog = undefined;
    this.#keepAlive = undefined;
  }

  #watch(): void {
    const now = Date.now();
    const silent = now - this.#lastFrameAt;
    if (this.#t.silenceTimeoutMs > 0 && silent > this.#t.silenceTimeoutMs) {
      this.#stall(`no message from the broker for ${silent} ms`);
    } else if (
      this.#t.dataStallMs > 0 && this.#wanted.size > 0 &&
      now - this.#lastDataAt > this.#t.dataStallMs
    ) {
      this.#stall(
        `no ticks for ${now - this.#lastDataAt} ms with ${this.#wanted.size} instruments`,
      );
    }
  }

  #stall(detail: string): void {
    this.#drop(1000, "stalled");
    this.#setState("stalled", detail);
    this.#scheduleReconnect(`stalled: ${detail}`);
  }

  #scheduleReconnect(detail: string): void {
    if (this.#closed) return;
    this.#clearRetry();
    this.#attempt++;
    const max = this.#t.maxReconnectAttempts;
    if (this.#attempt > max) {
      this.#setState("failed", `gave up after ${max} attempts: ${detail}`);
      return;
    }
    const cap = Math.min(
      this.#t.reconnectMaxMs,
      this.#t.reconnectBaseMs * 2 ** (this.#attempt - 1),
    );
    const wait = Math.round(cap / 2 + this.#random() * (cap / 2));
    this.#setState("reconnecting", `${detail}; attempt ${this.#attempt}/${max} in ${wait} ms`);
    this.#retryTimer = setTimeout(() => void this.#connect(), wait);
  }

  #onAuthFailure(reason: string): void {
    if (this.#closed) return;
    this.#clearRetry();
    this.#authFailures++;
    const max = this.#t.maxAuthRetries;
    if (this.#authFailures >= max) {
      this.#setState("auth_failed", `${reason}; ${max} rejections, waiting for a fresh token`);
      return;
    }
    const wait = Math.round(this.#t.authRetryMs * (0.75 + this.#random() * 0.5));
    this.#setState(
      "auth_failed",
      `${reason}; waiting for a fresh token (retry ${this.#authFailures}/${max} in ${wait} ms)`,
    );
    this.#retryTimer = setTimeout(() => void this.#connect(), wait);
  }

  #countMalformed(reason: string): void {
    this.#malformed.set(reason, (this.#malformed.get(reason) ?? 0) + 1);
    this.#malformedTotal++;
    if (this.#malformedTimer !== undefined) return;
    const wait = Math.max(0, this.#lastMalformedLog + MALFORMED_LOG_WINDOW_MS - Date.now());
    this.#malformedTimer = setTimeout(() => {
      this.#malformedTimer = undefined;
      this.#lastMalformedLog = Date.now();
      const parts = [...this.#malformed].map(([r, n]) => `${r} ${n}`).join(", ");
      this.#c.out.log(
        "warning",
        `${this.#c.broker}[${this.#c.connection}]: malformed broker messages skipped ` +
          `(total ${this.#malformedTotal}: ${parts})`,
      );
    }, wait);
  }
}
