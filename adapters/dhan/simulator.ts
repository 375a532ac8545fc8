// A local Dhan live market feed v2 server on the kit's SimServer and SimMarket: query auth (bad
// credentials get a disconnect packet 807/808/809, a sixth connection 805), JSON requests
// 15/17/21 (+1 to unsubscribe) and 12 of at most 100 instruments, binary messages of several
// packets (previous close and OI before the data), WebSocket pings, scripted faults. Used by the
// tests and `deno task sim dhan`.

import {
  type BrokerSimulator,
  runSimulatorCli,
  type SimConnection,
  SimMarket,
  type SimQuote,
  SimServer,
} from "../../lib/adapter/sim/mod.ts";
import type { Mode } from "../../lib/types.ts";
import {
  decodeRequest,
  type DhanQuote,
  encodeDisconnect,
  encodeFull,
  encodeOi,
  encodePrevClose,
  encodeQuote,
  encodeTicker,
  joinPackets,
  REQUEST,
  SEGMENT,
  type SegmentName,
  type SubscribeCode,
  tokenKey,
} from "./codec.ts";
import { type DhanInstrument, parseDhanMaster } from "./instruments.ts";

/** The sample master the simulator streams and serves. */
export const SAMPLE_INSTRUMENTS =
  new URL("./testdata/api-scrip-master.csv", import.meta.url).pathname;

/** Credentials the simulator accepts unless told otherwise. */
export const SIM_CREDENTIALS = { accessToken: "sim.dhan.jwt.0", clientId: "1100000001" } as const;

const MODE_OF_CODE: Readonly<Record<SubscribeCode, Mode>> = { 15: 1, 17: 2, 21: 3 };
const MAX_PER_REQUEST = 100;

/** Options of {@link startDhanSimulator}. */
export interface DhanSimulatorOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Market step + data period (default 100 ms); 0 = data only on subscribe. */
  tickEveryMs?: number;
  /** Most packets concatenated in one message (default 8; 1 = one packet per message). */
  packetsPerMessage?: number;
  /** Instruments per connection (default 5000). */
  maxInstruments?: number;
  /** Connections per client id (default 5); further ones get disconnect 805. */
  maxConnections?: number;
  /** WebSocket ping after this many idle seconds, close without pong (default 10, as Dhan). */
  idleTimeoutS?: number;
  seed?: number;
}

/** One subscribed instrument of a connection. */
interface Sub {
  segment: number;
  securityId: number;
  codes: Set<SubscribeCode>;
}

interface ConnState {
  clientId: string;
  /** A disconnect reason sent right after the handshake (bad credentials, too many sockets). */
  reject: number | null;
  subs: Map<number, Sub>;
}

/** A running Dhan simulator: the conformance contract plus what the Dhan tests inspect. */
export interface DhanSimulator extends BrokerSimulator {
  /** `ws://127.0.0.1:<port>/` */
  readonly url: string;
  /** `http://127.0.0.1:<port>/api-data/api-scrip-master.csv` (the sample master). */
  readonly instrumentsUrl: string;
  readonly credentials: { accessToken: string; clientId: string };
  /** Every request received, in order. */
  requests(): { connection: number; text: string }[];
  /** Requests refused (over 100 instruments, unknown codes, bad JSON). */
  readonly rejectedRequests: number;
  /** Handshake URLs (with their query), in order. */
  handshakeUrls(): string[];
  /** Dhan's view of each open connection: tokenKey → the subscribe codes it streams. */
  subscriptions(): Map<number, Set<SubscribeCode>>[];
  /** The market quote behind an instrument (rupees), for value checks. */
  quote(segment: number, securityId: number): SimQuote;
  /** Sends a disconnect packet with `reason` to every open connection, then closes them. */
  disconnectAll(reason: number): void;
}

/**
 * Starts a Dhan simulator on 127.0.0.1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * await using sim = await startDhanSimulator({ tickEveryMs: 0 });
 * assert.deepEqual(sim.streams(), []);
 * ```
 */
export async function startDhanSimulator(opts: DhanSimulatorOptions = {}): Promise<DhanSimulator> {
  const csv = await Deno.readTextFile(SAMPLE_INSTRUMENTS);
  const master = parseDhanMaster(csv);
  const perMessage = Math.max(1, opts.packetsPerMessage ?? 8);
  const maxInstruments = opts.maxInstruments ?? 5000;
  const maxConnections = opts.maxConnections ?? 5;
  const market = new SimMarket(opts.seed ?? 13);
  const creds: { accessToken: string; clientId: string } = { ...SIM_CREDENTIALS };
  const expired = new Set<string>();
  let generation = 0;
  let rejectedRequests = 0;
  const requestLog: { connection: number; text: string }[] = [];
  const urlLog: string[] = [];

  const instrumentOf = (key: number): DhanInstrument | undefined => master.byToken(key);
  const derivative = (segment: number) =>
    segment !== SEGMENT.IDX_I && segment !== SEGMENT.NSE_EQ && segment !== SEGMENT.BSE_EQ;
  const quoteOf = (segment: number, id: number): SimQuote => {
    const ins = instrumentOf(tokenKey(segment, id));
    return market.quote(String(tokenKey(segment, id)), {
      hasOi: derivative(segment),
      tickSize: ins !== undefined && ins.tickSize > 0 ? ins.tickSize : 0.05,
    });
  };

  const quoteFields = (segment: number, q: SimQuote): DhanQuote => {
    const index = segment === SEGMENT.IDX_I;
    return {
      ltp: q.ltp,
      lastQuantity: index ? 0 : Math.min(q.lastQuantity, 0xffff),
      ltt: Math.floor(q.ltt / 1000),
      averagePrice: index ? 0 : q.averagePrice,
      volume: index ? 0 : q.volume,
      totalSellQuantity: index ? 0 : q.totalSellQuantity,
      totalBuyQuantity: index ? 0 : q.totalBuyQuantity,
      open: q.open,
      // Dhan fills the packets' close only after the close; the previous close comes in code 6.
      close: 0,
      high: q.high,
      low: q.low,
    };
  };

  const data = (sub: Sub, code: SubscribeCode): Uint8Array[] => {
    const q = quoteOf(sub.segment, sub.securityId);
    const { segment, securityId: id } = sub;
    if (code === REQUEST.TICKER) {
      const out = [encodeTicker(segment, id, q.ltp, Math.floor(q.ltt / 1000))];
      if (derivative(segment)) out.push(encodeOi(segment, id, q.oi));
      return out;
    }
    if (code === REQUEST.QUOTE) {
      const out = [encodeQuote(segment, id, quoteFields(segment, q))];
      if (derivative(segment)) out.push(encodeOi(segment, id, q.oi));
      return out;
    }
    return [encodeFull(segment, id, {
      ...quoteFields(segment, q),
      oi: q.oi,
      oiDayHigh: q.oi,
      oiDayLow: q.oi,
      depth: segment === SEGMENT.IDX_I ? [] : q.bids.slice(0, 5).map((b, i) => ({
        bidQuantity: b.quantity,
        askQuantity: q.asks[i].quantity,
        bidOrders: b.orders,
        askOrders: q.asks[i].orders,
        bidPrice: b.price,
        askPrice: q.asks[i].price,
      })),
    })];
  };

  const sendPackets = (conn: SimConnection<ConnState>, packets: Uint8Array[]) => {
    for (let i = 0; i < packets.length; i += perMessage) {
      conn.send(joinPackets(packets.slice(i, i + perMessage)));
    }
  };

  const onRequest = (conn: SimConnection<ConnState>, text: string) => {
    const req = decodeRequest(text);
    if (typeof req === "string") {
      rejectedRequests++;
      return;
    }
    if (req.code === REQUEST.DISCONNECT) {
      conn.close(1000, "client disconnect");
      return;
    }
    const subscribe = req.code === 15 || req.code === 17 || req.code === 21;
    const unsubscribe = req.code === 16 || req.code === 18 || req.code === 22;
    if ((!subscribe && !unsubscribe) || req.instruments.length > MAX_PER_REQUEST) {
      rejectedRequests++;
      return;
    }
    const subs = conn.state.subs;
    const fresh: Uint8Array[] = [];
    for (const i of req.instruments) {
      const segment = SEGMENT[i.segment as SegmentName];
      const securityId = Number(i.securityId);
      const key = tokenKey(segment, securityId);
      if (unsubscribe) {
        const sub = subs.get(key);
        sub?.codes.delete((req.code - 1) as SubscribeCode);
        if (sub !== undefined && sub.codes.size === 0) subs.delete(key);
        continue;
      }
      let sub = subs.get(key);
      if (sub === undefined) {
        if (subs.size >= maxInstruments) continue;
        sub = { segment, securityId, codes: new Set() };
        subs.set(key, sub);
      }
      sub.codes.add(req.code as SubscribeCode);
      // On subscribe Dhan sends the previous close first, then data.
      const q = quoteOf(segment, securityId);
      fresh.push(encodePrevClose(segment, securityId, q.close, q.oi));
      fresh.push(...data(sub, req.code as SubscribeCode));
    }
    sendPackets(conn, fresh);
  };

  const server: SimServer<ConnState> = new SimServer<ConnState>({
    accept(_req, url): ConnState | Response {
      const q = url.searchParams;
      if (q.get("version") !== "2" || q.get("authType") !== "2") {
        return new Response("Bad Request", { status: 400 });
      }
      urlLog.push(url.href);
      const clientId = q.get("clientId") ?? "";
      const token = q.get("token") ?? "";
      const open = server.connections().filter((c) =>
        c.state.clientId === clientId && c.state.reject === null
      ).length;
      const reject = clientId !== creds.clientId
        ? 808
        : token !== creds.accessToken
        ? (expired.has(token) ? 807 : 809)
        : open >= maxConnections
        ? 805
        : null;
      return { clientId, reject, subs: new Map() };
    },
    onOpen(conn) {
      if (conn.state.reject === null) return;
      conn.send(encodeDisconnect(conn.state.reject));
      conn.close(1000, "disconnected");
    },
    onMessage(conn, msg) {
      if (conn.state.reject !== null) return;
      if (typeof msg !== "string") {
        rejectedRequests++;
        return;
      }
      requestLog.push({ connection: conn.id, text: msg });
      onRequest(conn, msg);
    },
    http(req, url) {
      if (url.pathname !== "/api-data/api-scrip-master.csv" || req.method !== "GET") return null;
      return new Response(csv, { headers: { "content-type": "text/csv" } });
    },
  }, {
    port: opts.port,
    idleTimeoutS: opts.idleTimeoutS ?? 10,
    tickEveryMs: opts.tickEveryMs ?? 100,
    onTick() {
      const keys = new Set<number>();
      for (const c of server.connections()) for (const k of c.state.subs.keys()) keys.add(k);
      for (const k of keys) market.step(String(k));
      for (const c of server.connections()) {
        const packets: Uint8Array[] = [];
        for (const sub of c.state.subs.values()) {
          for (const code of sub.codes) packets.push(...data(sub, code));
        }
        sendPackets(c, packets);
      }
    },
  });

  const live = () => server.connections().filter((c) => c.state.reject === null);
  const disconnectAll = (reason: number) => {
    for (const c of live()) {
      c.send(encodeDisconnect(reason));
      c.close(1000, "disconnected");
    }
  };

  const garbage = (): (string | Uint8Array)[] => {
    const two = joinPackets([encodeTicker(1, 2885, 1, 1), encodeTicker(1, 1594, 2, 2)]);
    const random = new Uint8Array(1 + Math.floor(Math.random() * 300));
    crypto.getRandomValues(random);
    const badLength = encodeQuote(1, 2885, quoteFields(1, quoteOf(1, 2885))).slice(0, 40);
    badLength[1] = 40; // a Quote that says it is 40 bytes long
    const unknownCode = encodeOi(1, 2885, 1);
    unknownCode[0] = 99;
    return [random, two.subarray(0, 20), badLength, unknownCode, "not binary"];
  };

  const close = () => server.close();
  return {
    url: server.url,
    instrumentsUrl: `${server.httpBase}/api-data/api-scrip-master.csv`,
    get credentials() {
      return { ...creds };
    },
    adapterOptions: {
      ...SIM_CREDENTIALS,
      feedUrl: server.url,
      instruments: SAMPLE_INSTRUMENTS,
      silenceTimeoutMs: 0,
      dataStallMs: 1000,
      reconnectBaseMs: 50,
      reconnectMaxMs: 200,
      authRetryMs: 60_000,
      maxAuthRetries: 3,
      authRetryMinMs: 0,
      connectTimeoutMs: 2000,
    },
    streams(): Map<string, Mode>[] {
      return live().map((c) => {
        const m = new Map<string, Mode>();
        for (const [key, sub] of c.state.subs) {
          const ins = instrumentOf(key);
          const top = Math.max(...[...sub.codes].map((x) => MODE_OF_CODE[x])) as Mode;
          m.set(ins ? `${ins.exchange}:${ins.symbol}` : `?:${key}`, top);
        }
        return m;
      });
    },
    get handshakes() {
      return server.handshakes;
    },
    get rejectedRequests() {
      return rejectedRequests;
    },
    drop: () => server.drop(),
    stall: () => server.stall(),
    resume: () => server.resume(),
    expireToken(): string {
      expired.add(creds.accessToken);
      creds.accessToken = `sim.dhan.jwt.${++generation}`;
      disconnectAll(807);
      return creds.accessToken;
    },
    garbage: () => server.broadcast(garbage()),
    requests: () => [...requestLog],
    handshakeUrls: () => [...urlLog],
    subscriptions: () =>
      live().map((c) => new Map([...c.state.subs].map(([k, s]) => [k, new Set(s.codes)]))),
    quote: (segment, id) => quoteOf(segment, id),
    disconnectAll,
    close,
    [Symbol.asyncDispose]: close,
  };
}

const DEFAULT_PORT = 9103;

/**
 * `deno task sim dhan`: starts the simulator and prints how to point the gateway at it. Flags:
 * `--port` (default 9103), `--tick-interval <ms>` (default 1000).
 */
export function main(args: string[]): Promise<void> {
  return runSimulatorCli(args, {
    defaultPort: DEFAULT_PORT,
    start: (o) => startDhanSimulator(o),
    describe: (sim) => {
      const c = sim.credentials;
      return [
        `Dhan live market feed v2 simulator on ${sim.url}`,
        `  TICKPLEX_BROKER_ACCESS_TOKEN=${c.accessToken}`,
        `  TICKPLEX_BROKER_CLIENT_ID=${c.clientId}`,
        `  instruments: ${SAMPLE_INSTRUMENTS} (also at ${sim.instrumentsUrl})`,
        `  deno task start --broker dhan --feed-url ${sim.url} --instruments ${SAMPLE_INSTRUMENTS}`,
      ];
    },
  });
}

if (import.meta.main) await main(Deno.args);
