// A local Upstox Market Data Feed V3: REST authorise (Bearer → single-use feed URL), the redirecting
// feed URL, binary JSON requests, protobuf market_info → initial_feed → live_feed, and faults.

import {
  type BrokerSimulator,
  runSimulatorCli,
  type SimConnection,
  SimMarket,
  SimServer,
} from "../../lib/adapter/sim/mod.ts";
import type { Mode } from "../../lib/types.ts";
import {
  decodeRequest,
  encodeFeedResponse,
  FEED_TYPE,
  type PbFeed,
  type PbOhlc,
  REQUEST_MODE,
  type UpstoxMode,
} from "./codec.ts";
import { AUTHORIZE_PATH } from "./dialect.ts";
import { parseUpstoxMaster, type UpstoxInstrument } from "./instruments.ts";
import { brokenLimit } from "./options.ts";

/** The sample master the simulator streams (and the adapter loads by default in tests). */
export const SIM_INSTRUMENTS = new URL("./testdata/complete.json", import.meta.url).pathname;
/** The first valid access token. */
export const SIM_ACCESS_TOKEN = "upstox-sim-token-0";

/** The plain feed URL: a WebSocket handshake with a Bearer token is redirected (302). */
export const REDIRECTING_FEED_PATH = "/v3/feed/market-data-feed";
/** Where authorised single-use URLs point. */
export const FEED_PATH = "/market-data-feeder/v3/upstox-developer-api/feeds";

/** OpenAlgo mode each Upstox mode streams (full carries the book: Depth). */
const OPENALGO_MODE: Readonly<Record<UpstoxMode, Mode>> = {
  ltpc: 1,
  option_greeks: 1,
  full: 3,
  full_d30: 3,
};

interface ConnState {
  subs: Map<string, UpstoxMode>;
}

/** Options of {@link startUpstoxSimulator}. */
export interface UpstoxSimulatorOptions {
  /** Port on 127.0.0.1 (0: a free one). */
  port?: number;
  /** Live-feed period (ms). */
  tickEveryMs?: number;
  seed?: number;
}

/** A running Upstox simulator (the conformance contract plus what the other tests need). */
export interface UpstoxSimulator extends BrokerSimulator {
  /** REST base: `http://127.0.0.1:<port>`. */
  readonly restUrl: string;
  /** Requests received, in order (decoded), for tests. */
  readonly requests: { method: string; mode?: string; instrumentKeys: string[] }[];
  /** The simulated market, keyed by instrument key (tests read the values the feed carries). */
  readonly market: SimMarket;
  /** Authorise calls answered, with the token each carried. */
  readonly authorizations: string[];
  /** Sends one live_feed frame to every connection now. */
  tick(): void;
}

function isIndex(ins: UpstoxInstrument | undefined): boolean {
  return ins !== undefined && ins.segment.endsWith("_INDEX");
}

function isOption(ins: UpstoxInstrument | undefined): boolean {
  return ins !== undefined && /(CE|PE)$/.test(ins.symbol) && ins.exchange !== "NSE" &&
    ins.exchange !== "BSE";
}

const authError = () =>
  Response.json({
    status: "error",
    errors: [{
      errorCode: "UDAPI100050",
      message: "Invalid token used to access API",
      propertyPath: null,
      invalidValue: null,
    }],
  }, { status: 401 });

/**
 * Starts the simulator on 127.0.0.1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * await using sim = await startUpstoxSimulator();
 * const res = await fetch(`${sim.restUrl}/v3/feed/market-data-feed/authorize`, {
 *   headers: { Authorization: `Bearer ${SIM_ACCESS_TOKEN}` },
 * });
 * assert.equal((await res.json()).status, "success");
 * ```
 */
export async function startUpstoxSimulator(
  options: UpstoxSimulatorOptions = {},
): Promise<UpstoxSimulator> {
  const masterText = await Deno.readTextFile(SIM_INSTRUMENTS);
  const master = parseUpstoxMaster(masterText);
  const market = new SimMarket(options.seed ?? 5);
  const requests: UpstoxSimulator["requests"] = [];
  const authorizations: string[] = [];
  let token = SIM_ACCESS_TOKEN;
  let generation = 0;
  /** Single-use codes of authorised feed URLs. */
  const codes = new Set<string>();
  let base = "";

  const authorised = (req: Request) => req.headers.get("authorization") === `Bearer ${token}`;
  const issueUrl = (): string => {
    const code = crypto.randomUUID();
    codes.add(code);
    return `${
      base.replace(/^http/, "ws")
    }${FEED_PATH}?requestId=${crypto.randomUUID()}&code=${code}`;
  };

  const quoteOf = (key: string) => {
    const ins = master.byToken(key);
    return market.quote(key, {
      levels: 30,
      hasOi: ins !== undefined && !isIndex(ins) && ins.exchange !== "NSE" && ins.exchange !== "BSE",
    });
  };

  const feedOf = (key: string, mode: UpstoxMode): PbFeed => {
    const ins = master.byToken(key);
    const q = quoteOf(key);
    const ltpc = { ltp: q.ltp, ltt: q.ltt, ltq: q.lastQuantity, cp: q.close };
    if (mode === "ltpc") return { ltpc, requestMode: REQUEST_MODE.ltpc };
    const dayStart = q.ltt - (q.ltt % 86_400_000);
    // The running minute candle first: a decoder that picks candles by position gets it wrong.
    const candles: PbOhlc[] = [
      {
        interval: "I1",
        open: q.ltp,
        high: q.ltp + 1,
        low: q.ltp - 1,
        close: q.ltp,
        vol: q.lastQuantity,
        ts: q.ltt - (q.ltt % 60_000),
      },
      {
        interval: "1d",
        open: q.open,
        high: q.high,
        low: q.low,
        close: q.ltp,
        vol: q.volume,
        ts: dayStart,
      },
    ];
    if (isIndex(ins)) {
      return {
        fullFeed: {
          indexFF: { ltpc: { ltp: q.ltp, ltt: q.ltt, cp: q.close }, marketOHLC: { ohlc: candles } },
        },
        requestMode: REQUEST_MODE[mode],
      };
    }
    const option = isOption(ins);
    const greeks = option
      ? { delta: 0.52, theta: -12.4, gamma: 0.0011, vega: 9.8, rho: 3.1 }
      : undefined;
    const levels = mode === "full_d30" ? 30 : mode === "full" ? 5 : 1;
    const book = q.bids.slice(0, levels).map((b, i) => ({
      bidQ: b.quantity,
      bidP: b.price,
      askQ: q.asks[i].quantity,
      askP: q.asks[i].price,
    }));
    if (mode === "option_greeks") {
      return {
        firstLevelWithGreeks: {
          ltpc,
          firstDepth: book[0],
          optionGreeks: greeks,
          vtt: q.volume,
          oi: q.oi,
          iv: option ? 0.1532 : 0,
        },
        requestMode: REQUEST_MODE.option_greeks,
      };
    }
    return {
      fullFeed: {
        marketFF: {
          ltpc,
          marketLevel: { bidAskQuote: book },
          optionGreeks: greeks,
          marketOHLC: { ohlc: candles },
          atp: q.averagePrice,
          vtt: q.volume,
          oi: q.oi,
          iv: option ? 0.1532 : 0,
          tbq: q.totalBuyQuantity,
          tsq: q.totalSellQuantity,
        },
      },
      requestMode: REQUEST_MODE[mode],
    };
  };

  const frame = (type: number, keys: Iterable<[string, UpstoxMode]>): Uint8Array => {
    const feeds: Record<string, PbFeed> = {};
    for (const [key, mode] of keys) feeds[key] = feedOf(key, mode);
    return encodeFeedResponse({ type, feeds, currentTs: Date.now() });
  };

  const marketInfo = (): Uint8Array =>
    encodeFeedResponse({
      type: FEED_TYPE.market_info,
      currentTs: Date.now(),
      marketInfo: {
        segmentStatus: {
          NSE_EQ: 2,
          NSE_FO: 2,
          BSE_EQ: 2,
          BSE_FO: 2,
          MCX_FO: 2,
          NCD_FO: 2,
          NSE_INDEX: 2,
          BSE_INDEX: 2,
        },
      },
    });

  const fail = (conn: SimConnection<ConnState>, method: string, error: string) =>
    conn.send(JSON.stringify({ status: "failed", method, error }));

  const onRequest = (conn: SimConnection<ConnState>, data: string | Uint8Array) => {
    const r = decodeRequest(data);
    if (!r.ok) {
      fail(conn, "unknown", r.reason);
      return;
    }
    const { method, data: body } = r.request;
    requests.push({ method, mode: body.mode, instrumentKeys: body.instrumentKeys });
    const unknown = body.instrumentKeys.filter((k) => master.byToken(k) === undefined);
    if (unknown.length > 0) fail(conn, method, `Invalid instrument keys: ${unknown.join(",")}`);
    const keys = body.instrumentKeys.filter((k) => master.byToken(k) !== undefined);
    const subs = conn.state.subs;
    if (method === "unsub") {
      for (const k of keys) subs.delete(k);
      return;
    }
    // `sub` of a key already streamed changes its mode (the JS SDK's changeMode sends `sub`).
    const mode: UpstoxMode = body.mode ?? "ltpc";
    const moved = method === "change_mode" ? keys.filter((k) => subs.has(k)) : keys;
    const next = new Map(subs);
    for (const k of moved) next.set(k, mode);
    const perMode = new Map<string, number>();
    for (const m of next.values()) perMode.set(m, (perMode.get(m) ?? 0) + 1);
    const limit = brokenLimit(perMode);
    if (limit !== null) {
      fail(conn, method, `Subscription limit ${limit} exceeded`);
      return;
    }
    for (const k of moved) subs.set(k, mode);
    if (moved.length > 0) conn.send(frame(FEED_TYPE.initial_feed, moved.map((k) => [k, mode])));
  };

  const liveTick = () => {
    const all = new Set<string>();
    for (const c of server.connections()) for (const k of c.state.subs.keys()) all.add(k);
    for (const k of all) {
      quoteOf(k);
      market.step(k);
    }
    for (const c of server.connections()) {
      if (c.state.subs.size > 0) c.send(frame(FEED_TYPE.live_feed, c.state.subs));
    }
  };

  const server: SimServer<ConnState> = new SimServer<ConnState>({
    isFeedPath: (url) => url.pathname === FEED_PATH || url.pathname === REDIRECTING_FEED_PATH,
    accept(req, url) {
      if (url.pathname === REDIRECTING_FEED_PATH) {
        if (!authorised(req)) return authError();
        return new Response(null, { status: 302, headers: { Location: issueUrl() } });
      }
      const code = url.searchParams.get("code") ?? "";
      // Codes are single-use and die with the token that got them.
      if (!codes.delete(code)) return new Response("invalid or used code", { status: 403 });
      return { subs: new Map() };
    },
    onOpen: (conn) => conn.send(marketInfo()),
    onMessage: onRequest,
    http(req, url) {
      if (url.pathname === AUTHORIZE_PATH && req.method === "GET") {
        authorizations.push(req.headers.get("authorization") ?? "");
        if (!authorised(req)) return authError();
        const uri = issueUrl();
        return Response.json({
          status: "success",
          data: { authorized_redirect_uri: uri, authorizedRedirectUri: uri },
        });
      }
      if (url.pathname === "/complete.json") {
        return new Response(masterText, { headers: { "content-type": "application/json" } });
      }
      return null;
    },
  }, { port: options.port ?? 0, tickEveryMs: options.tickEveryMs ?? 100, onTick: liveTick });
  base = server.httpBase;

  return {
    restUrl: server.httpBase,
    requests,
    authorizations,
    market,
    tick: liveTick,
    adapterOptions: {
      accessToken: token,
      feedUrl: server.httpBase,
      instruments: SIM_INSTRUMENTS,
      fullD30: true,
      // Upstox sends no application heartbeat: a stall shows as subscribed keys without data.
      silenceTimeoutMs: 0,
      dataStallMs: 1000,
      reconnectBaseMs: 50,
      reconnectMaxMs: 200,
      authRetryMs: 60_000,
      maxAuthRetries: 3,
      authRetryMinMs: 0,
      connectTimeoutMs: 2000,
    },
    streams: () =>
      server.connections().map((c) => {
        const m = new Map<string, Mode>();
        for (const [key, mode] of c.state.subs) {
          const ins = master.byToken(key);
          m.set(ins ? `${ins.exchange}:${ins.symbol}` : `?:${key}`, OPENALGO_MODE[mode]);
        }
        return m;
      }),
    get handshakes() {
      return server.handshakes;
    },
    drop: () => server.drop(),
    stall: () => server.stall(),
    resume: () => server.resume(),
    expireToken() {
      token = `upstox-sim-token-${++generation}`;
      codes.clear();
      for (const c of server.connections()) c.close(1000, "session expired");
      return token;
    },
    garbage() {
      const live = frame(FEED_TYPE.live_feed, [["NSE_EQ|INE002A01018", "full"]]);
      const noise = new Uint8Array(64);
      crypto.getRandomValues(noise);
      server.broadcast([
        noise,
        live.subarray(0, Math.floor(live.length / 2)),
        new Uint8Array([0x08, 0x09]), // FeedResponse of type 9
        "{",
        "not json",
      ]);
    },
    close: () => server.close(),
    [Symbol.asyncDispose]: () => server.close(),
  };
}

/** `deno task sim upstox [--port 9105]`: starts the simulator and prints how to point the gateway at it. */
export function main(args: string[]): Promise<void> {
  return runSimulatorCli(args, {
    defaultPort: 9105,
    defaultTickMs: 100,
    start: ({ port, tickEveryMs }) => startUpstoxSimulator({ port, tickEveryMs }),
    describe: (sim) => [
      `Upstox V3 simulator: REST ${sim.restUrl} (authorise ${AUTHORIZE_PATH})`,
      `  TICKPLEX_BROKER_ACCESS_TOKEN=${SIM_ACCESS_TOKEN}`,
      `  deno task start --broker upstox --feed-url ${sim.restUrl} --instruments ${SIM_INSTRUMENTS}`,
    ],
  });
}

if (import.meta.main) await main(Deno.args);
