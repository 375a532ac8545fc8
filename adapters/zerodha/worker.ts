// The Zerodha adapter Web Worker: one Kite Ticker connection. It maps symbols to tokens, keeps the
// wanted token→mode set, subscribes in frames of ≤200 tokens, decodes frames into tick batches,
// watches heartbeats and data, reconnects with capped jittered backoff and resubscribes, and on a
// 403 waits for a fresh token instead of hammering Kite.

import type { ItemResult, StreamItem } from "../../lib/adapter/messages.ts";
import { type AdapterHandlers, type AdapterOutput, runAdapter } from "../../lib/adapter/mod.ts";
import type { Capabilities, FeedState } from "../../lib/types.ts";
import {
  chunkTokens,
  createDecodeStats,
  decodeFrame,
  decodeTextMessage,
  encodeSetMode,
  encodeSubscribe,
  encodeUnsubscribe,
  type InstrumentRef,
  KITE_MODE,
  KITE_MODES,
  type KiteMode,
  MAX_TOKENS_PER_FRAME,
} from "./codec.ts";
import { fetchInstruments, InstrumentMaster, loadInstrumentsFile } from "./instruments.ts";
import {
  instrumentsUrlOf,
  parseZerodhaOptions,
  zerodhaCapabilities,
  type ZerodhaOptions,
} from "./options.ts";

/** Depth levels Kite delivers in full mode. */
const KITE_DEPTH = 5;
/** Malformed-frame warnings are coalesced into one log line per window. */
const DECODE_LOG_WINDOW_MS = 1000;

interface Wanted {
  ref: InstrumentRef;
  mode: KiteMode;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The Kite connection behind one adapter worker. */
export class ZerodhaAdapter implements AdapterHandlers {
  #o!: ZerodhaOptions;
  #out!: AdapterOutput;
  #master!: InstrumentMaster;
  #connection = 0;
  /** What the broker should be streaming: token → instrument and mode. The source of truth. */
  readonly #wanted = new Map<number, Wanted>();
  #ws: WebSocket | null = null;
  #state: FeedState = "disconnected";
  #closed = false;
  #attempt = 0;
  #authFailures = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #lastFrameAt = 0;
  #lastDataAt = 0;
  #lastAttemptAt = 0;
  readonly #stats = createDecodeStats();
  #decodeLogTimer: ReturnType<typeof setTimeout> | undefined;
  #lastDecodeLog = 0;
  #loggedErrors = 0;
  #firstOutcome: (() => void) | null = null;
  readonly #lookup = (token: number): InstrumentRef | undefined => this.#wanted.get(token)?.ref;

  async init(connection: number, options: unknown, out: AdapterOutput): Promise<void> {
    this.#o = parseZerodhaOptions(options);
    this.#out = out;
    this.#connection = connection;
    const url = instrumentsUrlOf(this.#o);
    try {
      this.#master = url === null
        ? await loadInstrumentsFile(this.#o.instrumentsPath as string)
        : await fetchInstruments(url, this.#o.apiKey, this.#o.accessToken);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // A rejected download means the credentials are bad: say so the way a 403 on the feed does.
      if (/HTTP 403/.test(message)) this.#setState("auth_failed", message);
      throw err;
    }
    out.log(
      "info",
      `zerodha[${connection}]: ${this.#master.size} instruments from ${
        url ?? this.#o.instrumentsPath
      }`,
    );
    // Wait (bounded) for the first connection outcome so early subscribes usually find it open.
    const first = new Promise<void>((resolve) => {
      this.#firstOutcome = resolve;
    });
    this.#connect();
    const timer = setTimeout(() => this.#resolveFirst(), this.#o.connectTimeoutMs + 100);
    await first;
    clearTimeout(timer);
  }

  subscribe(items: StreamItem[]): Promise<ItemResult[]> {
    const results: ItemResult[] = [];
    const fresh: number[] = [];
    const modeChanges = new Map<KiteMode, number[]>();
    const wasEmpty = this.#wanted.size === 0;
    for (const item of items) {
      const r = this.#master.resolve(item.exchange, item.symbol);
      if (!r.ok) {
        results.push({ ...ref(item), ok: false, code: r.code, message: r.message });
        continue;
      }
      const token = r.instrument.token;
      const mode = KITE_MODE[item.mode];
      const have = this.#wanted.get(token);
      if (have !== undefined) {
        if (have.mode !== mode) {
          have.mode = mode;
          push(modeChanges, mode, token);
        }
      } else if (this.#wanted.size >= this.#o.maxSymbolsPerConnection) {
        results.push({
          ...ref(item),
          ok: false,
          code: "MAX_CAPACITY_REACHED",
          message:
            `Maximum capacity reached: ${this.#o.maxSymbolsPerConnection} instruments on this Kite connection`,
        });
        continue;
      } else {
        this.#wanted.set(token, { ref: ref(item), mode });
        fresh.push(token);
        // Kite streams new tokens in quote mode; only other modes need a mode frame.
        if (mode !== "quote") push(modeChanges, mode, token);
      }
      results.push(okResult(item));
    }
    if (wasEmpty && fresh.length > 0) this.#lastDataAt = Date.now();
    const frames = chunkTokens(fresh, MAX_TOKENS_PER_FRAME).map(encodeSubscribe);
    for (const [mode, tokens] of modeChanges) {
      for (const c of chunkTokens(tokens, MAX_TOKENS_PER_FRAME)) {
        frames.push(encodeSetMode(mode, c));
      }
    }
    return this.#send(frames).then(() => results);
  }

  unsubscribe(items: { exchange: string; symbol: string }[]): Promise<ItemResult[]> {
    const results: ItemResult[] = [];
    const gone: number[] = [];
    for (const item of items) {
      const r = this.#master.resolve(item.exchange, item.symbol);
      if (!r.ok) {
        results.push({ ...ref(item), ok: false, code: r.code, message: r.message });
        continue;
      }
      if (!this.#wanted.delete(r.instrument.token)) {
        results.push({ ...notSubscribed(item) });
        continue;
      }
      gone.push(r.instrument.token);
      results.push({ ...ref(item), ok: true });
    }
    const frames = chunkTokens(gone, MAX_TOKENS_PER_FRAME).map(encodeUnsubscribe);
    return this.#send(frames).then(() => results);
  }

  setMode(items: StreamItem[]): Promise<ItemResult[]> {
    const results: ItemResult[] = [];
    const modeChanges = new Map<KiteMode, number[]>();
    for (const item of items) {
      const r = this.#master.resolve(item.exchange, item.symbol);
      if (!r.ok) {
        results.push({ ...ref(item), ok: false, code: r.code, message: r.message });
        continue;
      }
      const have = this.#wanted.get(r.instrument.token);
      if (have === undefined) {
        results.push(notSubscribed(item));
        continue;
      }
      const mode = KITE_MODE[item.mode];
      if (have.mode !== mode) {
        have.mode = mode;
        push(modeChanges, mode, r.instrument.token);
      }
      results.push(okResult(item));
    }
    const frames: string[] = [];
    for (const [mode, tokens] of modeChanges) {
      for (const c of chunkTokens(tokens, MAX_TOKENS_PER_FRAME)) {
        frames.push(encodeSetMode(mode, c));
      }
    }
    return this.#send(frames).then(() => results);
  }

  token(accessToken: string): void {
    if (this.#closed || this.#o === undefined) return;
    if (accessToken !== this.#o.accessToken) {
      this.#o.accessToken = accessToken;
      this.#authFailures = 0;
      this.#out.log("info", `zerodha[${this.#connection}]: received a fresh access token`);
    }
    // A connection that is up keeps its session; the token is used from the next handshake on.
    if (this.#state !== "auth_failed" && this.#state !== "disconnected") return;
    if (this.#authFailures >= this.#o.maxAuthRetries) {
      this.#out.log("warning", "zerodha: token unchanged and auth retries exhausted; not retrying");
      return;
    }
    this.#clearRetry();
    if (this.#state === "disconnected") this.#attempt = 0;
    const wait = Math.max(0, this.#lastAttemptAt + this.#o.authRetryMinMs - Date.now());
    this.#retryTimer = setTimeout(() => this.#connect(), wait);
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#clearRetry();
    this.#stopWatchdog();
    clearTimeout(this.#decodeLogTimer);
    const ws = this.#ws;
    this.#ws = null;
    if (ws !== null) {
      try {
        ws.close(1000, "closing");
      } catch {
        // already closed
      }
    }
    this.#setState("disconnected", "closed");
    this.#resolveFirst();
    return Promise.resolve();
  }

  // ---- connection ------------------------------------------------------------------------------

  #setState(state: FeedState, detail?: string): void {
    this.#state = state;
    this.#out.status(state, detail);
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

  #connect(): void {
    if (this.#closed) return;
    this.#clearRetry();
    this.#lastAttemptAt = Date.now();
    this.#setState("connecting", `attempt ${this.#attempt + 1}`);
    const url = new URL(this.#o.feedUrl);
    url.searchParams.set("api_key", this.#o.apiKey);
    url.searchParams.set("access_token", this.#o.accessToken);
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, { headers: { "X-Kite-Version": "3" } });
    } catch (err) {
      this.#scheduleReconnect(`connect failed: ${String(err)}`);
      return;
    }
    ws.binaryType = "arraybuffer";
    this.#ws = ws;
    let opened = false;
    let errorText = "";
    const timeout = setTimeout(() => {
      if (opened || this.#ws !== ws) return;
      this.#ws = null;
      try {
        ws.close();
      } catch {
        // not open yet
      }
      this.#scheduleReconnect(`handshake timed out after ${this.#o.connectTimeoutMs} ms`);
      this.#resolveFirst();
    }, this.#o.connectTimeoutMs);
    ws.onopen = () => {
      if (this.#ws !== ws) return;
      opened = true;
      clearTimeout(timeout);
      this.#onOpen();
    };
    ws.onerror = (e) => {
      errorText = e instanceof ErrorEvent ? e.message : "websocket error";
    };
    ws.onmessage = (e) => {
      if (this.#ws === ws) this.#onMessage(e.data);
    };
    ws.onclose = (e) => {
      clearTimeout(timeout);
      if (this.#ws !== ws) return;
      this.#ws = null;
      this.#stopWatchdog();
      if (!opened && /\b403\b/.test(errorText)) this.#onAuthFailure();
      else {
        const detail = opened
          ? `connection closed (code ${e.code}${e.reason ? `: ${e.reason}` : ""})`
          : `connect failed: ${errorText || `code ${e.code}`}`;
        this.#scheduleReconnect(detail);
      }
      this.#resolveFirst();
    };
  }

  #onOpen(): void {
    this.#attempt = 0;
    this.#authFailures = 0;
    const now = Date.now();
    this.#lastFrameAt = now;
    this.#lastDataAt = now;
    this.#setState("connected", this.#o.feedUrl);
    this.#startWatchdog();
    this.#resolveFirst();
    // Resubscribe every wanted token in its mode: subscribe (→ quote), then mode frames.
    const frames = chunkTokens([...this.#wanted.keys()], MAX_TOKENS_PER_FRAME).map(encodeSubscribe);
    for (const mode of KITE_MODES) {
      if (mode === "quote") continue;
      const tokens = [...this.#wanted].filter(([, w]) => w.mode === mode).map(([t]) => t);
      for (const c of chunkTokens(tokens, MAX_TOKENS_PER_FRAME)) {
        frames.push(encodeSetMode(mode, c));
      }
    }
    if (frames.length > 0) {
      this.#out.log(
        "info",
        `zerodha[${this.#connection}]: resubscribing ${this.#wanted.size} tokens in ${frames.length} frames`,
      );
    }
    void this.#send(frames);
  }

  async #send(frames: string[]): Promise<void> {
    for (let i = 0; i < frames.length; i++) {
      const ws = this.#ws;
      // Not open: the wanted set is resent in full when the next connection opens.
      if (ws === null || ws.readyState !== WebSocket.OPEN) return;
      ws.send(frames[i]);
      if (this.#o.frameIntervalMs > 0 && i < frames.length - 1) {
        await delay(this.#o.frameIntervalMs);
      }
    }
  }

  #onMessage(data: unknown): void {
    const now = Date.now();
    this.#lastFrameAt = now;
    if (typeof data === "string") {
      const m = decodeTextMessage(data);
      if (m === null) return;
      if (m.type === "error") this.#out.log("warning", `Kite error: ${JSON.stringify(m.data)}`);
      else if (m.type === "message") {
        this.#out.log("info", `Kite message: ${JSON.stringify(m.data)}`);
      }
      return;
    }
    if (!(data instanceof ArrayBuffer)) return;
    const errors = this.#stats.errors;
    const ticks = decodeFrame(new Uint8Array(data), this.#lookup, now, this.#stats);
    if (ticks.length > 0) {
      this.#lastDataAt = now;
      this.#out.ticks(ticks);
    }
    if (this.#stats.errors !== errors) this.#reportDecodeErrors();
  }

  #reportDecodeErrors(): void {
    if (this.#decodeLogTimer !== undefined) return;
    const wait = Math.max(0, this.#lastDecodeLog + DECODE_LOG_WINDOW_MS - Date.now());
    this.#decodeLogTimer = setTimeout(() => {
      this.#decodeLogTimer = undefined;
      this.#lastDecodeLog = Date.now();
      const s = this.#stats;
      const n = s.errors - this.#loggedErrors;
      this.#loggedErrors = s.errors;
      this.#out.log(
        "warning",
        `zerodha[${this.#connection}]: ${n} malformed frames/packets skipped (total ${s.errors}: ` +
          `short ${s.shortFrame}, overrun ${s.overrun}, trailing ${s.trailingBytes}, ` +
          `unknown length ${s.unknownLength})`,
      );
    }, wait);
  }

  #startWatchdog(): void {
    this.#stopWatchdog();
    const every = Math.max(50, Math.min(1000, Math.floor(this.#o.heartbeatTimeoutMs / 4)));
    this.#watchdog = setInterval(() => {
      const now = Date.now();
      const silent = now - this.#lastFrameAt;
      if (silent > this.#o.heartbeatTimeoutMs) {
        this.#stall(`no data or heartbeat for ${silent} ms`);
      } else if (
        this.#o.dataStallMs > 0 && this.#wanted.size > 0 &&
        now - this.#lastDataAt > this.#o.dataStallMs
      ) {
        this.#stall(`no ticks for ${now - this.#lastDataAt} ms with ${this.#wanted.size} tokens`);
      }
    }, every);
  }

  #stopWatchdog(): void {
    clearInterval(this.#watchdog);
    this.#watchdog = undefined;
  }

  #stall(detail: string): void {
    this.#stopWatchdog();
    this.#setState("stalled", detail);
    const ws = this.#ws;
    this.#ws = null;
    try {
      ws?.close(1000, "stalled");
    } catch {
      // already closed
    }
    this.#scheduleReconnect(`stalled: ${detail}`);
  }

  #scheduleReconnect(detail: string): void {
    if (this.#closed) return;
    this.#clearRetry();
    this.#attempt++;
    if (this.#attempt > this.#o.maxReconnectAttempts) {
      this.#setState(
        "disconnected",
        `giving up after ${this.#o.maxReconnectAttempts} attempts: ${detail}`,
      );
      return;
    }
    const cap = Math.min(
      this.#o.reconnectMaxMs,
      this.#o.reconnectBaseMs * 2 ** (this.#attempt - 1),
    );
    const wait = Math.round(cap / 2 + Math.random() * (cap / 2));
    this.#setState(
      "reconnecting",
      `${detail}; attempt ${this.#attempt}/${this.#o.maxReconnectAttempts} in ${wait} ms`,
    );
    this.#retryTimer = setTimeout(() => this.#connect(), wait);
  }

  #onAuthFailure(): void {
    this.#authFailures++;
    const max = this.#o.maxAuthRetries;
    const base = "HTTP 403: Kite rejected the api_key/access_token";
    if (this.#authFailures >= max) {
      this.#setState("auth_failed", `${base}; ${max} rejections, waiting for a fresh token`);
      return;
    }
    const wait = Math.round(this.#o.authRetryMs * (0.75 + Math.random() * 0.5));
    this.#setState(
      "auth_failed",
      `${base}; waiting for a fresh token (retry ${this.#authFailures}/${max} in ${wait} ms)`,
    );
    this.#retryTimer = setTimeout(() => this.#connect(), wait);
  }
}

function ref(item: { exchange: string; symbol: string }): InstrumentRef {
  return { exchange: item.exchange, symbol: item.symbol };
}

function okResult(item: StreamItem): ItemResult {
  return item.mode === 3
    ? { ...ref(item), ok: true, depth: KITE_DEPTH }
    : { ...ref(item), ok: true };
}

function notSubscribed(item: { exchange: string; symbol: string }): ItemResult {
  return {
    ...ref(item),
    ok: false,
    code: "NOT_SUBSCRIBED",
    message: `Not subscribed: ${item.symbol} on ${item.exchange}`,
  };
}

function push(m: Map<KiteMode, number[]>, mode: KiteMode, token: number): void {
  const list = m.get(mode);
  if (list === undefined) m.set(mode, [token]);
  else list.push(token);
}

runAdapter(new ZerodhaAdapter());
