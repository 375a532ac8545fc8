// A local Kite Ticker server (Deno.serve on 127.0.0.1) speaking the Kite v3 dialect: query-string
// auth with 403, JSON subscribe/unsubscribe/mode, default quote mode, multi-packet binary frames,
// 1-byte heartbeats, per-connection and per-key limits, scripted faults and an inspectable view of
// every connection's subscriptions; plus Kite's REST market quotes with its rate limit (HTTP 429).
// Used by the tests and by `deno task sim zerodha`.

import { parseArgs } from "node:util";
import {
  decodeRequest,
  DEPTH_LEVELS,
  encodeFrame,
  encodeHeartbeat,
  encodePacket,
  encodeTextMessage,
  type KiteDepthEntry,
  type KiteMode,
  type KitePacket,
  packetKindFor,
  priceDivisor,
  SEGMENT,
  segmentOf,
} from "./codec.ts";
import { type KiteMaster, masterFromCsv } from "./instruments.ts";
import { formatKiteTime, KITE_QUOTE_LIMITS } from "./rest.ts";
import { prng } from "../../lib/adapter/sim/mod.ts";

/** Credentials the simulator accepts unless told otherwise. */
export const SIM_API_KEY = "sim_api_key";
export const SIM_ACCESS_TOKEN = "sim_access_token";

/** Options of {@link startZerodhaSimulator}. */
export interface ZerodhaSimulatorOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  apiKey?: string;
  accessToken?: string;
  /** Heartbeat period (default 1000 ms; Kite clients time out after 5 s of silence). */
  heartbeatIntervalMs?: number;
  /** Market step + data frame period (default 1000 ms); 0 = data only on subscribe/mode/tick(). */
  tickIntervalMs?: number;
  /** Default 3000. */
  maxInstrumentsPerConnection?: number;
  /** Default 3; further handshakes get HTTP 429. */
  maxConnectionsPerKey?: number;
  /** Most packets in one binary frame (default 200). */
  packetsPerFrame?: number;
  /** Send a snapshot tick right after subscribe and mode requests, as Kite does (default true). */
  snapshotOnSubscribe?: boolean;
  /** Kite instruments CSV served at `/instruments` (with credentials). */
  instrumentsCsv?: string;
  /** PRNG seed for the random walk (default 1). */
  seed?: number;
  /**
   * REST quote requests (`/quote`, `/quote/ltp`, `/quote/ohlc` together) allowed in any one-second
   * window before HTTP 429 (default Kite's 1).
   */
  quoteRequestsPerSecond?: number;
}

/** Market state of one token in wire units (see `KitePacket`). */
export type TokenState = Omit<KitePacket, "kind" | "token">;

/** What one connection holds, for tests to check invariants. */
export interface SimConnectionView {
  id: number;
  apiKey: string;
  open: boolean;
  stalled: boolean;
  /** token → streaming mode. */
  tokens: Map<number, KiteMode>;
}

/** One JSON request as received. */
export interface SimRequestRecord {
  connection: number;
  text: string;
}

/** Counters. */
export interface SimStats {
  handshakes: number;
  rejected403: number;
  rejectedLimit: number;
  dataFrames: number;
  packets: number;
  heartbeats: number;
  garbageFrames: number;
  limitErrors: number;
  /** REST quote requests answered with data. */
  quoteRequests: number;
  /** Instruments asked for in those requests. */
  quoteInstruments: number;
  /** REST quote requests answered HTTP 429 (rate limit or scripted). */
  quoteRateLimited: number;
  /** Most quote requests that arrived (429s included) within any one-second window. */
  maxQuoteRequestsPerSecond: number;
}

/** Kinds of garbage frame the simulator can send. */
export type GarbageKind = "random" | "truncated" | "bad_count" | "unknown_length" | "trailing";

/** Scripted faults. */
export interface ZerodhaSimulatorFaults {
  /** Closes every open connection now; returns how many were closed. */
  drop(): number;
  /** Stops all output (heartbeats included) on the currently open connections; they stay open. */
  stall(): void;
  /** Resumes output on stalled connections. */
  resume(): void;
  /** Answers the next `n` handshakes with HTTP 403 even with valid credentials. */
  rejectNextHandshakes(n?: number): void;
  /** Sends one garbage binary frame of each listed kind to every open connection. */
  garbage(kinds?: GarbageKind[]): void;
  /** Accepts subscriptions for `token` but never sends data for it. */
  silence(token: number): void;
  unsilence(token: number): void;
  /** Answers the next `n` REST quote requests with HTTP 429 whatever the rate. */
  rateLimitNextQuotes(n?: number): void;
}

/** A running simulator. */
export interface ZerodhaSimulator {
  /** `ws://127.0.0.1:<port>/` */
  url: string;
  port: number;
  /** `http://127.0.0.1:<port>/instruments` */
  instrumentsUrl: string;
  /** `http://127.0.0.1:<port>`: the REST root (`/quote`, `/quote/ltp`, `/quote/ohlc`). */
  apiUrl: string;
  apiKey: string;
  accessToken: string;
  faults: ZerodhaSimulatorFaults;
  stats: SimStats;
  /** Views of connections (open ones unless `includeClosed`). */
  subscriptions(includeClosed?: boolean): SimConnectionView[];
  /** Every JSON request received, in order. */
  requests(): SimRequestRecord[];
  /** The `i` parameters of every REST quote request answered with data, in order. */
  quoteRequestLog(): string[][];
  /** Current state of a token (created on first use). */
  quote(token: number): TokenState;
  /** Overrides fields of a token's state (wire units); sent with the next frame. */
  setQuote(token: number, state: Partial<TokenState>): void;
  /** Steps the market once and sends a data frame to every connection. */
  tick(): void;
  /** Sends the current state of every subscribed token (no market step). */
  snapshot(): void;
  /** Rolls credentials: connections opened afterwards must use these. */
  setCredentials(c: { apiKey?: string; accessToken?: string }): void;
  /** Sends a JSON text message to every open connection. */
  sendText(type: "order" | "error" | "message", data: unknown): void;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

interface Conn {
  id: number;
  apiKey: string;
  socket: WebSocket;
  open: boolean;
  stalled: boolean;
  tokens: Map<number, KiteMode>;
}

function isDerivative(token: number): boolean {
  const s = segmentOf(token);
  return s === SEGMENT.NFO || s === SEGMENT.BFO || s === SEGMENT.CDS || s === SEGMENT.BCD ||
    s === SEGMENT.MCX || s === SEGMENT.MCXSX;
}

/**
 * Starts a simulator on 127.0.0.1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * await using sim = await startZerodhaSimulator({ tickIntervalMs: 0 });
 * const ws = new WebSocket(`${sim.url}?api_key=${sim.apiKey}&access_token=${sim.accessToken}`);
 * await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
 * assert.equal(sim.stats.handshakes, 1);
 * const closed = new Promise((resolve) => ws.onclose = resolve);
 * ws.close();
 * await closed;
 * ```
 */
export function startZerodhaSimulator(
  opts: ZerodhaSimulatorOptions = {},
): Promise<ZerodhaSimulator> {
  let apiKey = opts.apiKey ?? SIM_API_KEY;
  let accessToken = opts.accessToken ?? SIM_ACCESS_TOKEN;
  const heartbeatMs = opts.heartbeatIntervalMs ?? 1000;
  const tickMs = opts.tickIntervalMs ?? 1000;
  const maxInstruments = opts.maxInstrumentsPerConnection ?? 3000;
  const maxConnections = opts.maxConnectionsPerKey ?? 3;
  const perFrame = opts.packetsPerFrame ?? 200;
  const snapshotOnSubscribe = opts.snapshotOnSubscribe ?? true;
  const rnd = prng(opts.seed ?? 1);

  const conns = new Map<number, Conn>();
  const closed: Conn[] = [];
  const requestLog: SimRequestRecord[] = [];
  const states = new Map<number, TokenState>();
  const silenced = new Set<number>();
  const stats: SimStats = {
    handshakes: 0,
    rejected403: 0,
    rejectedLimit: 0,
    dataFrames: 0,
    packets: 0,
    heartbeats: 0,
    garbageFrames: 0,
    limitErrors: 0,
    quoteRequests: 0,
    quoteInstruments: 0,
    quoteRateLimited: 0,
    maxQuoteRequestsPerSecond: 0,
  };
  let reject403 = 0;
  let reject429 = 0;
  const quoteLimit = opts.quoteRequestsPerSecond ?? KITE_QUOTE_LIMITS.requestsPerSecond;
  /** Arrival times (performance.now) of quote requests in the last second, and of accepted ones. */
  let quoteArrivals: number[] = [];
  let quoteAccepted: number[] = [];
  const quoteLog: string[][] = [];
  /** Tokens quoted over REST: the market steps them too, streamed or not. */
  const quoted = new Set<number>();
  /** `EXCHANGE:TRADINGSYMBOL` (Kite's names) → token, from the instruments CSV. */
  let kiteKeys: Map<string, number> | null = null;
  const tokenOfKey = (key: string): number | undefined => {
    if (kiteKeys === null) {
      kiteKeys = new Map();
      const m: KiteMaster | null = opts.instrumentsCsv === undefined
        ? null
        : masterFromCsv(opts.instrumentsCsv);
      for (const i of m?.all() ?? []) kiteKeys.set(`${i.kiteExchange}:${i.tradingSymbol}`, i.token);
    }
    return kiteKeys.get(key);
  };
  let nextId = 1;

  const stateOf = (token: number): TokenState => {
    let s = states.get(token);
    if (s !== undefined) return s;
    const div = priceDivisor(token);
    // Deterministic base price per token: 50–5000 rupees, currencies 60–100.
    const h = Math.imul(token ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
    const rupees = div === 100 ? 50 + (h % 495000) / 100 : 60 + (h % 4000) / 100;
    const last = Math.round(rupees * div);
    const now = Math.floor(Date.now() / 1000);
    s = {
      lastPrice: last,
      lastQuantity: 1,
      averagePrice: last,
      volume: 1000 + (h % 100000),
      buyQuantity: 5000 + (h % 777),
      sellQuantity: 5000 + (h % 555),
      open: last,
      high: last,
      low: last,
      close: last - Math.round(div / 2),
      priceChange: Math.round(div / 2),
      lastTradeTime: now,
      oi: isDerivative(token) ? 100000 + (h % 50000) : 0,
      oiDayHigh: 0,
      oiDayLow: 0,
      exchangeTimestamp: now,
    };
    s.oiDayHigh = s.oi;
    s.oiDayLow = s.oi;
    s.depth = depthAround(token, s.lastPrice);
    states.set(token, s);
    return s;
  };

  const depthAround = (token: number, last: number): TokenState["depth"] => {
    const step = Math.max(1, Math.round(priceDivisor(token) / 20));
    const buy: KiteDepthEntry[] = [];
    const sell: KiteDepthEntry[] = [];
    for (let i = 0; i < DEPTH_LEVELS; i++) {
      buy.push({ quantity: 10 + i * 5, price: last - step * (i + 1), orders: 1 + i });
      sell.push({ quantity: 12 + i * 5, price: last + step * (i + 1), orders: 2 + i });
    }
    return { buy, sell };
  };

  const step = (token: number) => {
    const s = stateOf(token);
    const div = priceDivisor(token);
    const tick = Math.max(1, Math.round(div / 20));
    const move = Math.floor(rnd() * 5) - 2;
    const last = Math.max(tick, s.lastPrice + move * tick);
    const qty = 1 + Math.floor(rnd() * 50);
    const now = Math.floor(Date.now() / 1000);
    s.lastPrice = last;
    s.lastQuantity = qty;
    s.volume = (s.volume ?? 0) + qty;
    s.averagePrice = Math.round(((s.averagePrice ?? last) * 99 + last) / 100);
    s.high = Math.max(s.high ?? last, last);
    s.low = Math.min(s.low ?? last, last);
    s.priceChange = last - (s.close ?? 0);
    s.lastTradeTime = now;
    s.exchangeTimestamp = now;
    if (isDerivative(token)) {
      s.oi = (s.oi ?? 0) + Math.floor(rnd() * 100);
      s.oiDayHigh = Math.max(s.oiDayHigh ?? 0, s.oi);
    }
    s.depth = depthAround(token, last);
  };

  const send = (c: Conn, data: string | Uint8Array) => {
    if (!c.open || c.stalled || c.socket.readyState !== WebSocket.OPEN) return;
    try {
      c.socket.send(data);
    } catch {
      // The peer went away between the check and the send; its close handler cleans up.
    }
  };

  const sendData = (c: Conn, tokens: Iterable<number>) => {
    if (!c.open || c.stalled) return;
    const packets: Uint8Array[] = [];
    for (const token of tokens) {
      const mode = c.tokens.get(token);
      if (mode === undefined || silenced.has(token)) continue;
      packets.push(encodePacket({ ...stateOf(token), kind: packetKindFor(token, mode), token }));
    }
    for (let i = 0; i < packets.length; i += perFrame) {
      const chunk = packets.slice(i, i + perFrame);
      send(c, encodeFrame(chunk));
      stats.dataFrames++;
      stats.packets += chunk.length;
    }
  };

  const addTokens = (c: Conn, tokens: number[], mode: KiteMode | null): number[] => {
    const added: number[] = [];
    let refused = 0;
    for (const t of tokens) {
      const had = c.tokens.get(t);
      if (had !== undefined) {
        if (mode !== null) c.tokens.set(t, mode);
        added.push(t);
      } else if (c.tokens.size >= maxInstruments) {
        refused++;
      } else {
        c.tokens.set(t, mode ?? "quote");
        added.push(t);
      }
    }
    if (refused > 0) {
      stats.limitErrors++;
      send(
        c,
        encodeTextMessage(
          "error",
          `Maximum instruments per connection (${maxInstruments}) exceeded; ${refused} ignored`,
        ),
      );
    }
    return added;
  };

  const onRequest = (c: Conn, text: string) => {
    requestLog.push({ connection: c.id, text });
    const req = decodeRequest(text);
    if (typeof req === "string") return; // Kite ignores what it does not understand.
    if (req.a === "unsubscribe") {
      for (const t of req.tokens) c.tokens.delete(t);
      return;
    }
    // A mode for a not-yet-subscribed token is taken as an implicit subscribe (brokers.md §1.2).
    const added = addTokens(c, req.tokens, req.a === "mode" ? req.mode : null);
    if (snapshotOnSubscribe) sendData(c, added);
  };

  const garbageFrame = (kind: GarbageKind): Uint8Array => {
    const valid = encodeFrame([
      encodePacket({ kind: "ltp", token: 738561, lastPrice: 123 }),
      encodePacket({ kind: "quote", token: 738561, lastPrice: 456 }),
    ]);
    switch (kind) {
      case "random": {
        const b = new Uint8Array(2 + Math.floor(rnd() * 300));
        for (let i = 0; i < b.length; i++) b[i] = Math.floor(rnd() * 256);
        b[0] = 0xff; // an implausible count, so the frame cannot accidentally be valid
        return b;
      }
      case "truncated":
        return valid.subarray(0, valid.length - 7);
      case "bad_count": {
        const b = valid.slice();
        b[1] = 9;
        return b;
      }
      case "trailing": {
        const b = new Uint8Array(valid.length + 3);
        b.set(valid);
        return b;
      }
      case "unknown_length":
        return encodeFrame([new Uint8Array(13), new Uint8Array(99)]);
    }
  };

  const kiteError = (status: number, errorType: string, message: string): Response =>
    Response.json({ status: "error", message, data: null, error_type: errorType }, { status });

  /** One instrument of a quote answer, in Kite's REST shape (rupees, IST timestamps). */
  const quoteEntry = (token: number, path: string): Record<string, unknown> => {
    const st = stateOf(token);
    const div = priceDivisor(token);
    const rupees = (x: number | undefined) => (x ?? 0) / div;
    const entry: Record<string, unknown> = {
      instrument_token: token,
      last_price: rupees(st.lastPrice),
    };
    if (path === "/quote/ltp") return entry;
    const ohlc = {
      open: rupees(st.open),
      high: rupees(st.high),
      low: rupees(st.low),
      close: rupees(st.close),
    };
    if (path === "/quote/ohlc") return { ...entry, ohlc };
    const level = (l: KiteDepthEntry) => ({
      price: l.price / div,
      quantity: l.quantity,
      orders: l.orders,
    });
    const index = segmentOf(token) === SEGMENT.INDICES;
    const zero = { price: 0, quantity: 0, orders: 0 };
    return {
      instrument_token: token,
      timestamp: formatKiteTime((st.exchangeTimestamp ?? 0) * 1000),
      last_trade_time: index ? null : formatKiteTime((st.lastTradeTime ?? 0) * 1000),
      last_price: entry.last_price,
      last_quantity: index ? 0 : st.lastQuantity ?? 0,
      buy_quantity: index ? 0 : st.buyQuantity ?? 0,
      sell_quantity: index ? 0 : st.sellQuantity ?? 0,
      volume: index ? 0 : st.volume ?? 0,
      average_price: index ? 0 : rupees(st.averagePrice),
      oi: st.oi ?? 0,
      oi_day_high: st.oiDayHigh ?? 0,
      oi_day_low: st.oiDayLow ?? 0,
      net_change: 0,
      lower_circuit_limit: Math.round(rupees(st.close) * 0.9 * 20) / 20,
      upper_circuit_limit: Math.round(rupees(st.close) * 1.1 * 20) / 20,
      ohlc,
      depth: index
        ? { buy: Array(DEPTH_LEVELS).fill(zero), sell: Array(DEPTH_LEVELS).fill(zero) }
        : { buy: st.depth!.buy.map(level), sell: st.depth!.sell.map(level) },
    };
  };

  /** `GET /quote`, `/quote/ltp`, `/quote/ohlc`: Kite's market quotes with its rate limit. */
  const onQuote = (req: Request, url: URL): Response => {
    const t = performance.now();
    quoteArrivals = quoteArrivals.filter((a) => t - a < 1000);
    quoteArrivals.push(t);
    stats.maxQuoteRequestsPerSecond = Math.max(
      stats.maxQuoteRequestsPerSecond,
      quoteArrivals.length,
    );
    if (req.headers.get("authorization") !== `token ${apiKey}:${accessToken}`) {
      return kiteError(403, "TokenException", "Incorrect `api_key` or `access_token`.");
    }
    quoteAccepted = quoteAccepted.filter((a) => t - a < 1000);
    if (reject429 > 0 || quoteAccepted.length >= quoteLimit) {
      if (reject429 > 0) reject429--;
      stats.quoteRateLimited++;
      return kiteError(429, "NetworkException", "Too many requests");
    }
    quoteAccepted.push(t);
    const keys = url.searchParams.getAll("i");
    const max = url.pathname === "/quote"
      ? KITE_QUOTE_LIMITS.maxInstruments[2]
      : KITE_QUOTE_LIMITS.maxInstruments[1];
    if (keys.length > max) {
      return kiteError(400, "InputException", `Maximum of ${max} instruments allowed`);
    }
    stats.quoteRequests++;
    stats.quoteInstruments += keys.length;
    quoteLog.push(keys);
    const data: Record<string, unknown> = {};
    for (const key of keys) {
      // Kite omits instruments it does not know from `data`.
      const token = tokenOfKey(key);
      if (token === undefined) continue;
      quoted.add(token);
      data[key] = quoteEntry(token, url.pathname);
    }
    return Response.json({ status: "success", data });
  };

  const handler = (req: Request): Response => {
    const url = new URL(req.url);
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      if (
        req.method === "GET" &&
        (url.pathname === "/quote" || url.pathname === "/quote/ltp" ||
          url.pathname === "/quote/ohlc")
      ) {
        return onQuote(req, url);
      }
      if (url.pathname === "/instruments" && opts.instrumentsCsv !== undefined) {
        if (req.headers.get("authorization") !== `token ${apiKey}:${accessToken}`) {
          return new Response("Incorrect `api_key` or `access_token`.", { status: 403 });
        }
        return new Response(opts.instrumentsCsv, { headers: { "content-type": "text/csv" } });
      }
      return new Response("not found", { status: 404 });
    }
    stats.handshakes++;
    const key = url.searchParams.get("api_key") ?? "";
    const token = url.searchParams.get("access_token") ?? "";
    if (reject403 > 0 || key !== apiKey || token !== accessToken) {
      if (reject403 > 0) reject403--;
      stats.rejected403++;
      return new Response("Forbidden", { status: 403 });
    }
    let open = 0;
    for (const c of conns.values()) if (c.apiKey === key) open++;
    if (open >= maxConnections) {
      stats.rejectedLimit++;
      return new Response("Too many connections", { status: 429 });
    }
    const { socket, response } = Deno.upgradeWebSocket(req);
    const c: Conn = {
      id: nextId++,
      apiKey: key,
      socket,
      open: false,
      stalled: false,
      tokens: new Map(),
    };
    conns.set(c.id, c);
    socket.binaryType = "arraybuffer";
    socket.onopen = () => {
      c.open = true;
    };
    socket.onmessage = (e) => {
      if (typeof e.data === "string") onRequest(c, e.data);
    };
    const gone = () => {
      if (!conns.delete(c.id)) return;
      c.open = false;
      closed.push(c);
    };
    socket.onclose = gone;
    socket.onerror = gone;
    return response;
  };

  const server = Deno.serve(
    { hostname: "127.0.0.1", port: opts.port ?? 0, onListen() {} },
    handler,
  );
  const port = server.addr.port;

  const heartbeat = heartbeatMs > 0
    ? setInterval(() => {
      for (const c of conns.values()) {
        if (c.open && !c.stalled) {
          send(c, encodeHeartbeat());
          stats.heartbeats++;
        }
      }
    }, heartbeatMs)
    : undefined;

  const tick = () => {
    const all = new Set<number>();
    for (const c of conns.values()) for (const t of c.tokens.keys()) all.add(t);
    for (const t of quoted) all.add(t);
    for (const t of all) step(t);
    for (const c of conns.values()) sendData(c, c.tokens.keys());
  };
  const ticker = tickMs > 0 ? setInterval(tick, tickMs) : undefined;

  const view = (c: Conn): SimConnectionView => ({
    id: c.id,
    apiKey: c.apiKey,
    open: c.open,
    stalled: c.stalled,
    tokens: new Map(c.tokens),
  });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      clearInterval(heartbeat);
      clearInterval(ticker);
      for (const c of conns.values()) {
        try {
          c.socket.close(1001, "simulator shutting down");
        } catch {
          // already closing
        }
      }
      await server.shutdown();
    })();
    return closing;
  };

  const sim: ZerodhaSimulator = {
    url: `ws://127.0.0.1:${port}/`,
    port,
    instrumentsUrl: `http://127.0.0.1:${port}/instruments`,
    apiUrl: `http://127.0.0.1:${port}`,
    get apiKey() {
      return apiKey;
    },
    get accessToken() {
      return accessToken;
    },
    stats,
    faults: {
      drop() {
        let n = 0;
        for (const c of [...conns.values()]) {
          try {
            c.socket.close(1011, "simulated drop");
          } catch {
            // already closing
          }
          conns.delete(c.id);
          c.open = false;
          closed.push(c);
          n++;
        }
        return n;
      },
      stall() {
        for (const c of conns.values()) c.stalled = true;
      },
      resume() {
        for (const c of conns.values()) c.stalled = false;
      },
      rejectNextHandshakes(n = 1) {
        reject403 += n;
      },
      garbage(kinds = ["random", "truncated", "bad_count", "unknown_length", "trailing"]) {
        for (const c of conns.values()) {
          for (const k of kinds) {
            send(c, garbageFrame(k));
            stats.garbageFrames++;
          }
        }
      },
      silence(token) {
        silenced.add(token);
      },
      unsilence(token) {
        silenced.delete(token);
      },
      rateLimitNextQuotes(n = 1) {
        reject429 += n;
      },
    },
    subscriptions(includeClosed = false) {
      const open = [...conns.values()].map(view);
      return includeClosed ? [...closed.map(view), ...open].sort((a, b) => a.id - b.id) : open;
    },
    requests: () => [...requestLog],
    quoteRequestLog: () => quoteLog.map((k) => [...k]),
    quote: (token) => ({ ...stateOf(token) }),
    setQuote(token, state) {
      Object.assign(stateOf(token), state);
    },
    tick,
    snapshot() {
      for (const c of conns.values()) sendData(c, c.tokens.keys());
    },
    setCredentials(c) {
      if (c.apiKey !== undefined) apiKey = c.apiKey;
      if (c.accessToken !== undefined) accessToken = c.accessToken;
    },
    sendText(type, data) {
      for (const c of conns.values()) send(c, encodeTextMessage(type, data));
    },
    close,
    [Symbol.asyncDispose]: close,
  };
  return Promise.resolve(sim);
}

/**
 * CLI entry (`deno task sim zerodha`): starts a simulator and prints its URL and credentials.
 * Flags: `--port` (default 9101), `--api-key`, `--access-token`, `--instruments <csv>`,
 * `--tick-interval <ms>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // `deno task sim zerodha` is main(Deno.args): it serves until SIGINT/SIGTERM, e.g.
 * // main(["--port", "9101", "--tick-interval", "500"]). Bad flags are refused up front:
 * await assert.rejects(main(["--port", "http"]), /bad --port http/);
 * await assert.rejects(main(["--tick-interval", "soon"]), /bad --tick-interval soon/);
 * ```
 */
export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: "string", default: "9101" },
      "api-key": { type: "string", default: SIM_API_KEY },
      "access-token": { type: "string", default: SIM_ACCESS_TOKEN },
      instruments: { type: "string" },
      "tick-interval": { type: "string", default: "1000" },
    },
    allowPositionals: true,
  });
  const port = Number(values.port);
  const tickIntervalMs = Number(values["tick-interval"]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`bad --port ${values.port}`);
  }
  if (!Number.isFinite(tickIntervalMs) || tickIntervalMs < 0) {
    throw new Error(`bad --tick-interval ${values["tick-interval"]}`);
  }
  let instrumentsCsv: string | undefined;
  if (values.instruments !== undefined) {
    instrumentsCsv = await Deno.readTextFile(values.instruments);
    const m = masterFromCsv(instrumentsCsv);
    console.log(`instruments: ${m.size} from ${values.instruments}`);
  }
  const sim = await startZerodhaSimulator({
    port,
    apiKey: values["api-key"],
    accessToken: values["access-token"],
    tickIntervalMs,
    instrumentsCsv,
  });
  console.log(`Kite simulator listening on ${sim.url}`);
  console.log(`  TICKPLEX_BROKER_API_KEY=${sim.apiKey}`);
  console.log(`  TICKPLEX_BROKER_ACCESS_TOKEN=${sim.accessToken}`);
  if (instrumentsCsv !== undefined) {
    console.log(`  instruments URL: ${sim.instrumentsUrl}`);
    console.log(`  REST quotes: ${sim.apiUrl}/quote (1 request/s, as Kite)`);
  }
  console.log(
    `  deno task start --broker zerodha --feed-url ${sim.url.replace(/\/$/, "")}` +
      ` --instruments ${values.instruments ?? "adapters/zerodha/testdata/instruments.csv"}`,
  );
  console.log("Ctrl+C to stop.");
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  let stop = () => {};
  await new Promise<void>((resolve) => {
    stop = resolve;
    for (const s of signals) Deno.addSignalListener(s, stop);
  });
  for (const s of signals) Deno.removeSignalListener(s, stop);
  await sim.close();
}

if (import.meta.main) await main(Deno.args);
