// A local Angel One SmartAPI WebSocket 2.0 server on the kit's SimServer and SimMarket: header
// auth (401 otherwise), text ping → pong, JSON subscribe/unsubscribe per mode (subscriptions keyed
// by mode and token), one little-endian packet per message (51/123/379/443 bytes), JSON errors,
// the token quota, Depth-20 rules and scripted faults. Used by the tests and `deno task sim angel`.

import {
  type BrokerSimulator,
  CONFORMANCE_TIMINGS,
  runSimulatorCli,
  type SimConnection,
  SimMarket,
  type SimQuote,
  SimServer,
} from "../../lib/adapter/sim/mod.ts";
import type { Mode } from "../../lib/types.ts";
import {
  ACTION,
  type AngelLevel,
  type AngelMode,
  decodeRequest,
  encodeDepth20,
  encodeError,
  encodePacket,
  EXCHANGE_TYPE,
  priceDivisor,
  tokenKey,
} from "./codec.ts";
import { type AngelInstrument, parseAngelMaster } from "./instruments.ts";

/** The sample master the simulator streams and serves. */
export const SAMPLE_INSTRUMENTS = new URL("./testdata/instruments.json", import.meta.url).pathname;

/** Credentials the simulator accepts unless told otherwise. */
export const SIM_CREDENTIALS = {
  apiKey: "sim_api_key",
  accessToken: "sim.jwt.0",
  clientCode: "S1234",
  feedToken: "sim_feed_token",
} as const;

const EXCHANGE_TYPES: ReadonlySet<number> = new Set(Object.values(EXCHANGE_TYPE));

/** Options of {@link startAngelSimulator}. */
export interface AngelSimulatorOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Market step + data period (default 100 ms); 0 = data only on subscribe. */
  tickEveryMs?: number;
  /** Token quota per connection (default 1000). */
  maxTokens?: number;
  /** Connections per client code (default 3); further handshakes get HTTP 429. */
  maxConnections?: number;
  seed?: number;
  /** Keep every binary packet sent (for byte-level comparisons in tests). */
  recordPackets?: boolean;
}

/** One subscribed token of a connection. */
interface Sub {
  exchangeType: number;
  token: string;
  modes: Set<AngelMode>;
}

interface ConnState {
  clientCode: string;
  /** tokenKey → subscription. */
  subs: Map<number, Sub>;
}

/** A running Angel simulator: the conformance contract plus what the Angel tests inspect. */
export interface AngelSimulator extends BrokerSimulator {
  /** `ws://127.0.0.1:<port>/smart-stream` */
  readonly url: string;
  /** `http://127.0.0.1:<port>/OpenAPIScripMaster.json` (the sample master). */
  readonly instrumentsUrl: string;
  /** Credentials the next handshake must carry. */
  readonly credentials: {
    apiKey: string;
    accessToken: string;
    clientCode: string;
    feedToken: string;
  };
  /** Every text message received, in order. */
  requests(): { connection: number; text: string }[];
  /** Handshake headers of every accepted connection, in order. */
  handshakeHeaders(): Record<string, string>[];
  /** Angel's view of each open connection: tokenKey → the modes it streams. */
  subscriptions(): Map<number, Set<AngelMode>>[];
  /** Sends the current state of every subscription (no market step). */
  snapshot(): void;
  /** The market quote behind a token (rupees), for value checks. */
  quote(exchangeType: number, token: string): SimQuote;
  /** Binary packets sent so far, in order (with `recordPackets`). */
  packets(): Uint8Array[];
  /** Sends an Angel JSON error object to every open connection. */
  sendError(errorCode: string, errorMessage: string): void;
}

/**
 * Starts an Angel simulator on 127.0.0.1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * await using sim = await startAngelSimulator({ tickEveryMs: 0 });
 * assert.deepEqual(sim.streams(), []);
 * ```
 */
export async function startAngelSimulator(
  opts: AngelSimulatorOptions = {},
): Promise<AngelSimulator> {
  const masterJson = await Deno.readTextFile(SAMPLE_INSTRUMENTS);
  const master = parseAngelMaster(masterJson);
  const maxTokens = opts.maxTokens ?? 1000;
  const maxConnections = opts.maxConnections ?? 3;
  const market = new SimMarket(opts.seed ?? 11);
  const creds: { apiKey: string; accessToken: string; clientCode: string; feedToken: string } = {
    ...SIM_CREDENTIALS,
  };
  let generation = 0;
  const requestLog: { connection: number; text: string }[] = [];
  const headerLog: Record<string, string>[] = [];

  const instrumentOf = (key: number): AngelInstrument | undefined => master.byToken(key);
  const quoteOf = (exchangeType: number, token: string): SimQuote => {
    const ins = instrumentOf(tokenKey(exchangeType, Number(token)));
    return market.quote(String(tokenKey(exchangeType, Number(token))), {
      hasOi: exchangeType !== EXCHANGE_TYPE.nse_cm && exchangeType !== EXCHANGE_TYPE.bse_cm,
      levels: exchangeType === EXCHANGE_TYPE.nse_cm ? 20 : 5,
      tickSize: ins !== undefined && ins.tickSize > 0 ? ins.tickSize : 0.05,
    });
  };

  const packet = (sub: Sub, mode: AngelMode): Uint8Array => {
    const q = quoteOf(sub.exchangeType, sub.token);
    const div = priceDivisor(sub.exchangeType);
    const px = (rupees: number) => Math.round(rupees * div);
    const level = (l: { price: number; quantity: number; orders: number }): AngelLevel => ({
      price: px(l.price),
      quantity: l.quantity,
      orders: l.orders,
    });
    const ins = instrumentOf(tokenKey(sub.exchangeType, Number(sub.token)));
    const index = ins?.exchange.endsWith("_INDEX") ?? false;
    if (mode === 4) {
      return encodeDepth20({
        exchangeType: sub.exchangeType,
        token: sub.token,
        exchangeTimestamp: Date.now(),
        packetReceivedTime: Date.now(),
        bids: q.bids.slice(0, 20).map(level),
        asks: q.asks.slice(0, 20).map(level),
      });
    }
    // Indices have no trades, volumes or book: Angel sends zeros there.
    return encodePacket({
      mode,
      exchangeType: sub.exchangeType,
      token: sub.token,
      sequence: 1,
      exchangeTimestamp: Date.now(),
      ltp: px(q.ltp),
      lastTradedQuantity: index ? 0 : q.lastQuantity,
      averagePrice: index ? 0 : px(q.averagePrice),
      volume: index ? 0 : q.volume,
      totalBuyQuantity: index ? 0 : q.totalBuyQuantity,
      totalSellQuantity: index ? 0 : q.totalSellQuantity,
      open: px(q.open),
      high: px(q.high),
      low: px(q.low),
      close: px(q.close),
      lastTradedTimestamp: Math.floor(q.ltt / 1000),
      oi: q.oi,
      bestFive: index
        ? undefined
        : { buy: q.bids.slice(0, 5).map(level), sell: q.asks.slice(0, 5).map(level) },
      upperCircuit: px(q.close * 1.1),
      lowerCircuit: px(q.close * 0.9),
    });
  };

  const sentPackets: Uint8Array[] = [];
  const sendAll = (conn: SimConnection<ConnState>, subs: Iterable<Sub>) => {
    for (const sub of subs) {
      for (const mode of sub.modes) {
        const p = packet(sub, mode);
        if (conn.send(p) && opts.recordPackets) sentPackets.push(p);
      }
    }
  };

  const onRequest = (conn: SimConnection<ConnState>, text: string) => {
    const req = decodeRequest(text);
    if (typeof req === "string") {
      conn.send(encodeError("", "E1002", req));
      return;
    }
    const subs = conn.state.subs;
    if (req.action === ACTION.UNSUBSCRIBE) {
      // Unknown tokens are ignored, as Angel documents.
      for (const g of req.tokenList) {
        for (const token of g.tokens) {
          const key = tokenKey(g.exchangeType, Number(token));
          const sub = subs.get(key);
          sub?.modes.delete(req.mode);
          if (sub !== undefined && sub.modes.size === 0) subs.delete(key);
        }
      }
      return;
    }
    const all = req.tokenList.flatMap((g) => g.tokens);
    if (req.mode === 4) {
      const deep = [...subs.values()].filter((s) => s.modes.has(4)).length;
      if (req.tokenList.some((g) => g.exchangeType !== EXCHANGE_TYPE.nse_cm)) {
        conn.send(encodeError(req.correlationID, "E1003", "Depth-20 is for NSE cash only"));
        return;
      }
      if (all.length + deep > 50) {
        conn.send(encodeError(req.correlationID, "E1004", "Depth-20 quota of 50 tokens exceeded"));
        return;
      }
    }
    const fresh: Sub[] = [];
    for (const g of req.tokenList) {
      if (!EXCHANGE_TYPES.has(g.exchangeType)) {
        conn.send(
          encodeError(req.correlationID, "E1003", `Invalid exchangeType ${g.exchangeType}`),
        );
        continue;
      }
      for (const token of g.tokens) {
        if (!/^\d{1,10}$/.test(token)) continue;
        const key = tokenKey(g.exchangeType, Number(token));
        let sub = subs.get(key);
        if (sub === undefined) {
          if (subs.size >= maxTokens) {
            conn.send(encodeError(req.correlationID, "E1005", "Token quota exceeded"));
            continue;
          }
          sub = { exchangeType: g.exchangeType, token, modes: new Set() };
          subs.set(key, sub);
        }
        sub.modes.add(req.mode);
        fresh.push({ ...sub, modes: new Set([req.mode]) });
      }
    }
    sendAll(conn, fresh);
  };

  const server: SimServer<ConnState> = new SimServer<ConnState>({
    isFeedPath: (url) => url.pathname === "/smart-stream",
    accept(req): ConnState | Response {
      const h = req.headers;
      const jwt = (h.get("authorization") ?? "").replace(/^bearer /i, "");
      const ok = jwt === creds.accessToken && h.get("x-api-key") === creds.apiKey &&
        h.get("x-client-code") === creds.clientCode && h.get("x-feed-token") === creds.feedToken;
      if (!ok) {
        return new Response("Unauthorized", {
          status: 401,
          headers: { "x-error-message": "Invalid Headers" },
        });
      }
      const clientCode = h.get("x-client-code") ?? "";
      const open = server.connections().filter((c) => c.state.clientCode === clientCode).length;
      if (open >= maxConnections) return new Response("Connection limit exceeded", { status: 429 });
      headerLog.push(Object.fromEntries(h.entries()));
      return { clientCode, subs: new Map() };
    },
    onMessage(conn, data) {
      if (typeof data !== "string") {
        conn.send(encodeError("", "E1001", "Binary requests are not accepted"));
        return;
      }
      requestLog.push({ connection: conn.id, text: data });
      if (data === "ping") conn.send("pong");
      else onRequest(conn, data);
    },
    http(req, url) {
      if (url.pathname !== "/OpenAPIScripMaster.json" || req.method !== "GET") return null;
      return new Response(masterJson, { headers: { "content-type": "application/json" } });
    },
  }, {
    port: opts.port,
    tickEveryMs: opts.tickEveryMs ?? 100,
    onTick() {
      const keys = new Set<number>();
      for (const c of server.connections()) for (const k of c.state.subs.keys()) keys.add(k);
      for (const k of keys) market.step(String(k));
      for (const c of server.connections()) sendAll(c, c.state.subs.values());
    },
  });

  const garbage = (): (string | Uint8Array)[] => {
    const valid = packet({ exchangeType: 1, token: "2885", modes: new Set() }, 3);
    const random = new Uint8Array(1 + Math.floor(Math.random() * 500));
    crypto.getRandomValues(random);
    const badMode = valid.slice();
    badMode[0] = 9;
    const badToken = valid.slice();
    badToken.set([65, 66, 67], 2);
    return [random, valid.subarray(0, 200), badMode, badToken, "{", "hello", '{"x":1}'];
  };

  const close = () => server.close();
  return {
    url: `${server.url}smart-stream`,
    instrumentsUrl: `${server.httpBase}/OpenAPIScripMaster.json`,
    get credentials() {
      return { ...creds };
    },
    adapterOptions: {
      ...SIM_CREDENTIALS,
      feedUrl: `${server.url}smart-stream`,
      instruments: SAMPLE_INSTRUMENTS,
      ...CONFORMANCE_TIMINGS,
      pingIntervalMs: 200,
    },
    streams(): Map<string, Mode>[] {
      return server.connections().map((c) => {
        const m = new Map<string, Mode>();
        for (const [key, sub] of c.state.subs) {
          const ins = instrumentOf(key);
          // Depth-20 rides alongside SnapQuote: both are OpenAlgo Depth.
          const top = Math.max(...[...sub.modes].map((x) => Math.min(x, 3))) as Mode;
          m.set(ins ? `${ins.exchange}:${ins.symbol}` : `?:${key}`, top);
        }
        return m;
      });
    },
    get handshakes() {
      return server.handshakes;
    },
    drop: () => server.drop(),
    stall: () => server.stall(),
    resume: () => server.resume(),
    expireToken(): string {
      // An expired JWT ends the live sessions; the next handshake with it gets 401.
      creds.accessToken = `sim.jwt.${++generation}`;
      for (const c of server.connections()) c.close(1008, "session expired");
      return creds.accessToken;
    },
    garbage: () => server.broadcast(garbage()),
    requests: () => [...requestLog],
    handshakeHeaders: () => [...headerLog],
    subscriptions: () =>
      server.connections().map((c) =>
        new Map([...c.state.subs].map(([k, s]) => [k, new Set(s.modes)]))
      ),
    snapshot() {
      for (const c of server.connections()) sendAll(c, c.state.subs.values());
    },
    quote: (exchangeType, token) => quoteOf(exchangeType, token),
    packets: () => [...sentPackets],
    sendError: (code, message) => server.broadcast([encodeError("", code, message)]),
    close,
    [Symbol.asyncDispose]: close,
  };
}

const DEFAULT_PORT = 9102;

/**
 * `deno task sim angel`: starts the simulator and prints how to point the gateway at it. Flags:
 * `--port` (default 9102), `--tick-interval <ms>` (default 1000).
 */
export function main(args: string[]): Promise<void> {
  return runSimulatorCli(args, {
    defaultPort: DEFAULT_PORT,
    start: (o) => startAngelSimulator(o),
    describe: (sim) => {
      const c = sim.credentials;
      return [
        `Angel One SmartAPI WebSocket 2.0 simulator on ${sim.url}`,
        `  TICKPLEX_BROKER_API_KEY=${c.apiKey}`,
        `  TICKPLEX_BROKER_ACCESS_TOKEN=${c.accessToken}`,
        `  TICKPLEX_BROKER_CLIENT_CODE=${c.clientCode}`,
        `  TICKPLEX_BROKER_FEED_TOKEN=${c.feedToken}`,
        `  instruments: ${SAMPLE_INSTRUMENTS} (also at ${sim.instrumentsUrl})`,
        `  deno task start --broker angel --feed-url ${sim.url} --instruments ${SAMPLE_INSTRUMENTS}`,
      ];
    },
  });
}

if (import.meta.main) await main(Deno.args);
