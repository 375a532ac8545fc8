// A local Groww: the socket-token REST mint and a NATS-over-WebSocket server speaking enough of the
// NATS protocol for the official client (INFO with a nonce, CONNECT with a JWT and an Ed25519
// signature checked against the JWT's subject, PING/PONG both ways, SUB/UNSUB, MSG with protobuf
// payloads sent whole first and then as changed fields only), with scripted faults. Implements the
// kit's BrokerSimulator for the conformance suite; `deno task sim groww` runs it.

import { createAccount, fromPublic, type KeyPair } from "@nats-io/nkeys";
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
  encodeBook,
  encodeIndex,
  encodePrice,
  parseSubject,
  type PriceFields,
  streamKey,
  type Subject,
} from "./codec.ts";
import { type GrowwInstrument, parseGrowwMaster } from "./instruments.ts";
import { SOCKET_TOKEN_PATH } from "./options.ts";

/** The master the simulator serves unless told otherwise. */
export const SAMPLE_INSTRUMENTS = new URL("./testdata/instruments.csv", import.meta.url).pathname;
/** The access token a fresh simulator accepts. */
export const SIM_ACCESS_TOKEN = "groww-sim-access-token";

const te = new TextEncoder();
const td = new TextDecoder();
const CRLF = te.encode("\r\n");

/** Options of {@link startGrowwSimulator}. */
export interface GrowwSimulatorOptions {
  /** Port on 127.0.0.1 (0 = any free port). */
  port?: number;
  /** Instrument master file (default the sample in testdata). */
  instruments?: string;
  accessToken?: string;
  /** Market clock: every subscribed subject gets an update this often (0 = only on subscribe). */
  tickIntervalMs?: number;
  /** Server PINGs this often (0 = none). */
  pingIntervalMs?: number;
  /** Distinct instruments one connection may subscribe (Groww: 1000). */
  maxInstruments?: number;
  /** Every n-th outgoing WebSocket frame is cut in two inside a MSG (0 = never). */
  splitEvery?: number;
  seed?: number;
}

/** Per-connection NATS state. */
interface NatsState {
  nonce: string;
  /** Bytes received and not yet parsed (NATS is a stream; frames split it anywhere). */
  input: Uint8Array;
  authed: boolean;
  /** The access-token generation the connection's JWT was minted under. */
  generation: number;
  /** sid → subject */
  subs: Map<string, string>;
  /** sid → messages delivered so far (for `UNSUB <sid> <max>`). */
  delivered: Map<string, number>;
  /** sid → the message count after which it ends (`UNSUB <sid> <max>`). */
  maxMsgs: Map<string, number>;
  /** subject → what was last sent on it (for changed-fields-only updates). */
  sent: Map<string, SentState>;
  /** Operations queued for the next outgoing frame. */
  out: Uint8Array[];
  pingsOut: number;
}

type SentState =
  | { kind: "price"; fields: PriceFields }
  | { kind: "index"; ts: number; value: number }
  | { kind: "book"; ts: number; buy: string; sell: string };

/** A running Groww simulator. */
export interface GrowwSimulator extends BrokerSimulator {
  /** `ws://127.0.0.1:<port>` */
  readonly url: string;
  /** `http://127.0.0.1:<port>` (socket-token mint, instrument master at /instruments.csv). */
  readonly httpBase: string;
  /** The access token accepted now. */
  readonly accessToken: string;
  /** The account key that signs socket JWTs. */
  readonly accountKey: string;
  /** Why each refused CONNECT was refused (bad signature, unknown or expired JWT ...). */
  readonly refusals: readonly string[];
  /** Socket tokens minted. */
  readonly mints: number;
  /** Subjects subscribed per open, authenticated connection. */
  subjects(): string[][];
  /** Publishes one market step on every subscribed subject now. */
  publish(): void;
  /** The quote behind a stream key (the values the simulator encodes). */
  quote(key: string): SimQuote;
}

function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Standard or URL-safe base64, padded or not → bytes; null when it is not base64. */
function fromBase64(text: string): Uint8Array | null {
  let s = text.replace(/-/g, "+").replace(/_/g, "/");
  while (s.length % 4 !== 0) s += "=";
  try {
    const bin = atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function indexOfCrlf(buf: Uint8Array, from = 0): number {
  for (let i = from; i < buf.length - 1; i++) if (buf[i] === 13 && buf[i + 1] === 10) return i;
  return -1;
}

/** The price fields Groww would send for a quote (zeros are dropped by the encoder). */
function priceFields(q: SimQuote): PriceFields {
  return {
    tsInMillis: q.ltt,
    open: q.open,
    high: q.high,
    low: q.low,
    close: q.close,
    volume: q.volume,
    value: Math.round(q.volume * q.averagePrice * 100) / 100,
    bidQty: q.totalBuyQuantity,
    offerQty: q.totalSellQuantity,
    avgPrice: q.averagePrice,
    ltp: q.ltp,
    openInterest: q.oi,
  };
}

const side = (levels: SimQuote["bids"]) => levels.map((l) => ({ price: l.price, qty: l.quantity }));

/**
 * Starts a Groww simulator on 127.0.0.1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * await using sim = await startGrowwSimulator();
 * assert.match(sim.url, /^ws:\/\/127\.0\.0\.1:\d+$/);
 * assert.deepEqual(sim.streams(), []);
 * ```
 */
export async function startGrowwSimulator(
  options: GrowwSimulatorOptions = {},
): Promise<GrowwSimulator> {
  const instrumentsPath = options.instruments ?? SAMPLE_INSTRUMENTS;
  const masterText = await Deno.readTextFile(instrumentsPath);
  const master = parseGrowwMaster(masterText);
  const market = new SimMarket(options.seed ?? 11);
  const account: KeyPair = createAccount();
  const maxInstruments = options.maxInstruments ?? 1000;
  const splitEvery = options.splitEvery ?? 3;
  let accessToken = options.accessToken ?? SIM_ACCESS_TOKEN;
  let generation = 0;
  const refusals: string[] = [];
  let mints = 0;
  let framesOut = 0;
  let nextClient = 1;
  /** JWT → the access-token generation it was minted under. */
  const issued = new Map<string, number>();

  const spec = (ins: GrowwInstrument) => ({ hasOi: ins.group === "fo", levels: 5 });
  const quoteOf = (key: string): SimQuote => {
    const ins = master.byToken(key);
    return market.quote(key, ins !== undefined ? spec(ins) : {});
  };

  function mintJwt(socketKey: string): string {
    const header = base64url(te.encode(JSON.stringify({ typ: "JWT", alg: "ed25519-nkey" })));
    const claims = base64url(te.encode(JSON.stringify({
      jti: crypto.randomUUID(),
      iat: Math.floor(Date.now() / 1000),
      iss: account.getPublicKey(),
      name: "tickplex-sim",
      sub: socketKey,
      nats: { pub: {}, sub: {}, subs: -1, data: -1, payload: -1, type: "user", version: 2 },
    })));
    const sig = base64url(account.sign(te.encode(`${header}.${claims}`)));
    return `${header}.${claims}.${sig}`;
  }

  /** The user key a JWT we issued names, or null when it is not ours or was tampered with. */
  function jwtSubject(jwt: string): string | null {
    const parts = jwt.split(".");
    if (parts.length !== 3) return null;
    const sig = fromBase64(parts[2]);
    if (sig === null || sig.length !== 64) return null;
    try {
      if (!account.verify(te.encode(`${parts[0]}.${parts[1]}`), sig)) return null;
      const claims = JSON.parse(td.decode(fromBase64(parts[1]) ?? new Uint8Array()));
      return claims.iss === account.getPublicKey() && typeof claims.sub === "string"
        ? claims.sub
        : null;
    } catch {
      return null;
    }
  }

  function queue(conn: SimConnection<NatsState>, ...parts: (string | Uint8Array)[]): void {
    for (const p of parts) conn.state.out.push(typeof p === "string" ? te.encode(p) : p);
  }

  /** Sends the queued operations as one binary frame (or two, cut mid-operation, now and then). */
  function flush(conn: SimConnection<NatsState>): void {
    const out = conn.state.out;
    if (out.length === 0) return;
    conn.state.out = [];
    let len = 0;
    for (const p of out) len += p.length;
    const frame = new Uint8Array(len);
    let o = 0;
    for (const p of out) {
      frame.set(p, o);
      o += p.length;
    }
    framesOut++;
    if (splitEvery > 0 && framesOut % splitEvery === 0 && frame.length > 16) {
      const cut = Math.floor(frame.length / 2);
      conn.send(frame.subarray(0, cut));
      conn.send(frame.subarray(cut));
    } else conn.send(frame);
  }

  function msg(conn: SimConnection<NatsState>, subject: string, sid: string, payload: Uint8Array) {
    queue(conn, `MSG ${subject} ${sid} ${payload.length}\r\n`, payload, CRLF);
    const st = conn.state;
    const n = (st.delivered.get(sid) ?? 0) + 1;
    st.delivered.set(sid, n);
    if (n >= (st.maxMsgs.get(sid) ?? Infinity)) unsubscribe(st, sid);
  }

  function unsubscribe(st: NatsState, sid: string): void {
    const subject = st.subs.get(sid);
    st.subs.delete(sid);
    st.delivered.delete(sid);
    st.maxMsgs.delete(sid);
    if (subject !== undefined && ![...st.subs.values()].includes(subject)) {
      st.sent.delete(subject);
    }
  }

  /** Refuses a CONNECT; the client hears only "Authorization Violation", tests read `why`. */
  function refuse(conn: SimConnection<NatsState>, why: string): void {
    refusals.push(why);
    queue(conn, "-ERR 'Authorization Violation'\r\n");
    flush(conn);
    conn.close(1000, "authorization violation");
  }

  function onConnect(conn: SimConnection<NatsState>, json: string): void {
    let c: { jwt?: unknown; sig?: unknown; verbose?: unknown };
    try {
      c = JSON.parse(json);
    } catch {
      queue(conn, "-ERR 'Invalid CONNECT'\r\n");
      flush(conn);
      conn.close();
      return;
    }
    if (typeof c.jwt !== "string" || typeof c.sig !== "string") {
      return refuse(conn, "no jwt or sig");
    }
    const user = jwtSubject(c.jwt);
    const gen = issued.get(c.jwt);
    if (user === null || gen === undefined) return refuse(conn, "unknown jwt");
    if (gen !== generation) return refuse(conn, "jwt of an expired access token");
    const sig = fromBase64(c.sig);
    let ok = false;
    try {
      ok = sig !== null && sig.length === 64 &&
        fromPublic(user).verify(te.encode(conn.state.nonce), sig);
    } catch {
      ok = false;
    }
    if (!ok) return refuse(conn, "bad signature");
    conn.state.authed = true;
    conn.state.generation = gen;
    if (c.verbose === true) queue(conn, "+OK\r\n");
  }

  function instrumentsOf(state: NatsState): Set<string> {
    const keys = new Set<string>();
    for (const subject of state.subs.values()) {
      const s = parseSubject(subject);
      if (s !== null) keys.add(streamKey(s.group, s.exchange, s.token));
    }
    return keys;
  }

  function onSub(conn: SimConnection<NatsState>, args: string[]): void {
    const subject = args[0];
    const sid = args[args.length - 1];
    const s = parseSubject(subject);
    if (s === null || master.byToken(streamKey(s.group, s.exchange, s.token)) === undefined) {
      queue(conn, `-ERR 'Permissions Violation for Subscription to "${subject}"'\r\n`);
      return;
    }
    const key = streamKey(s.group, s.exchange, s.token);
    const have = instrumentsOf(conn.state);
    if (!have.has(key) && have.size >= maxInstruments) {
      queue(conn, "-ERR 'Maximum Subscriptions Exceeded'\r\n");
      return;
    }
    conn.state.subs.set(sid, subject);
    conn.state.delivered.set(sid, 0);
    // The first message on a subject is its whole current state.
    conn.state.sent.delete(subject);
    send(conn, sid, subject, s);
  }

  /** Sends the subject's current state: every field the first time, changed fields after. */
  function send(conn: SimConnection<NatsState>, sid: string, subject: string, s: Subject): void {
    const key = streamKey(s.group, s.exchange, s.token);
    const q = quoteOf(key);
    const prev = conn.state.sent.get(subject);
    if (s.group === "indices") {
      const now: SentState = { kind: "index", ts: q.ltt, value: q.ltp };
      const p = prev?.kind === "index" ? prev : undefined;
      const update = {
        tsInMillis: p?.ts === now.ts ? undefined : now.ts,
        value: p?.value === now.value ? undefined : now.value,
      };
      if (p !== undefined && update.tsInMillis === undefined && update.value === undefined) return;
      conn.state.sent.set(subject, now);
      msg(conn, subject, sid, encodeIndex(update, { symbol: s.token, exchange: exchangeEnum(s) }));
    } else if (s.kind === "book") {
      const buy = side(q.bids);
      const sell = side(q.asks);
      const now: SentState = {
        kind: "book",
        ts: q.ltt,
        buy: JSON.stringify(buy),
        sell: JSON.stringify(sell),
      };
      const p = prev?.kind === "book" ? prev : undefined;
      const changedBuy = p?.buy !== now.buy;
      const changedSell = p?.sell !== now.sell;
      if (p !== undefined && !changedBuy && !changedSell && p.ts === now.ts) return;
      conn.state.sent.set(subject, now);
      msg(
        conn,
        subject,
        sid,
        encodeBook({
          tsInMillis: p?.ts === now.ts ? undefined : now.ts,
          buy: changedBuy ? buy : undefined,
          sell: changedSell ? sell : undefined,
        }, envelope(s, key)),
      );
    } else {
      const fields = priceFields(q);
      const p = prev?.kind === "price" ? prev.fields : undefined;
      const update: PriceFields = {};
      let changed = 0;
      for (const k of Object.keys(fields) as (keyof PriceFields)[]) {
        if (p === undefined || p[k] !== fields[k]) {
          update[k] = fields[k];
          changed++;
        }
      }
      if (p !== undefined && changed === 0) return;
      conn.state.sent.set(subject, { kind: "price", fields });
      msg(conn, subject, sid, encodePrice(update, envelope(s, key)));
    }
  }

  function exchangeEnum(s: Subject): number {
    return s.exchange === "nse" ? 1 : 0;
  }

  function envelope(s: Subject, key: string) {
    return {
      symbol: master.byToken(key)?.brokerSymbol ?? s.token,
      exchange: exchangeEnum(s),
      segment: s.group === "fo" ? 1 : 0,
    };
  }

  /** Parses every complete operation in the connection's input. */
  function onBytes(conn: SimConnection<NatsState>, bytes: Uint8Array): void {
    const st = conn.state;
    st.input = concat(st.input, bytes);
    while (conn.open) {
      const eol = indexOfCrlf(st.input);
      if (eol < 0) break;
      const line = td.decode(st.input.subarray(0, eol));
      const space = line.search(/\s/);
      const op = (space < 0 ? line : line.slice(0, space)).toUpperCase();
      const rest = space < 0 ? "" : line.slice(space + 1).trim();
      if (op === "PUB" || op === "HPUB") {
        // Clients may not publish market data; skip the payload by its announced size.
        const args = rest.split(/\s+/);
        const size = Number(args[args.length - 1]);
        if (!Number.isInteger(size) || size < 0) return protocolError(conn);
        if (st.input.length < eol + 2 + size + 2) break;
        st.input = st.input.subarray(eol + 2 + size + 2);
        queue(conn, `-ERR 'Permissions Violation for Publish to "${args[0]}"'\r\n`);
        continue;
      }
      st.input = st.input.subarray(eol + 2);
      if (!st.authed && op !== "CONNECT") {
        refuse(conn, `${op} before CONNECT`);
        return;
      }
      switch (op) {
        case "CONNECT":
          onConnect(conn, rest);
          break;
        case "PING":
          queue(conn, "PONG\r\n");
          break;
        case "PONG":
          st.pingsOut = 0;
          break;
        case "SUB": {
          const args = rest.split(/\s+/);
          if (args.length < 2 || args.length > 3) return protocolError(conn);
          onSub(conn, args);
          break;
        }
        case "UNSUB": {
          const [sid, max] = rest.split(/\s+/);
          const n = Number(max);
          // `UNSUB <sid> <max>` ends the subscription after <max> messages in all.
          if (max !== undefined && Number.isInteger(n) && n > (st.delivered.get(sid) ?? 0)) {
            st.maxMsgs.set(sid, n);
          } else unsubscribe(st, sid);
          break;
        }
        default:
          return protocolError(conn);
      }
    }
    flush(conn);
  }

  function protocolError(conn: SimConnection<NatsState>): void {
    queue(conn, "-ERR 'Unknown Protocol Operation'\r\n");
    flush(conn);
    conn.close(1002, "protocol error");
  }

  function authed(): SimConnection<NatsState>[] {
    return server.connections().filter((c) => c.state.authed);
  }

  function publish(): void {
    const stepped = new Set<string>();
    for (const conn of authed()) {
      for (const [sid, subject] of conn.state.subs) {
        const s = parseSubject(subject);
        if (s === null) continue;
        const key = streamKey(s.group, s.exchange, s.token);
        if (!stepped.has(key)) {
          market.step(key);
          stepped.add(key);
        }
        send(conn, sid, subject, s);
      }
      flush(conn);
    }
  }

  function ping(): void {
    for (const conn of authed()) {
      if (conn.state.pingsOut >= 3) {
        queue(conn, "-ERR 'Stale Connection'\r\n");
        flush(conn);
        conn.close(1000, "stale connection");
        continue;
      }
      // A stalled connection sends nothing, so it owes no PONG either.
      if (conn.send(te.encode("PING\r\n"))) conn.state.pingsOut++;
    }
  }

  const server = new SimServer<NatsState>({
    accept: () => ({
      nonce: base64url(crypto.getRandomValues(new Uint8Array(11))),
      input: new Uint8Array(),
      authed: false,
      generation: -1,
      subs: new Map(),
      delivered: new Map(),
      maxMsgs: new Map(),
      sent: new Map(),
      out: [],
      pingsOut: 0,
    }),
    onOpen(conn) {
      const info = {
        server_id: "TICKPLEX-GROWW-SIM",
        server_name: "groww-sim",
        version: "2.10.0",
        proto: 1,
        go: "sim",
        host: "127.0.0.1",
        port: server.port,
        headers: true,
        max_payload: 1048576,
        client_id: nextClient++,
        auth_required: true,
        nonce: conn.state.nonce,
      };
      queue(conn, `INFO ${JSON.stringify(info)}\r\n`);
      flush(conn);
    },
    onMessage(conn, data) {
      onBytes(conn, typeof data === "string" ? te.encode(data) : data);
    },
    async http(req, url) {
      if (url.pathname === "/instruments.csv") {
        return new Response(masterText, { headers: { "content-type": "text/csv" } });
      }
      if (url.pathname !== SOCKET_TOKEN_PATH) return null;
      if (req.method !== "POST") return new Response("method not allowed", { status: 405 });
      if (req.headers.get("authorization") !== `Bearer ${accessToken}`) {
        await req.body?.cancel();
        return Response.json({ error: { code: "GA001", message: "Invalid token" } }, {
          status: 401,
        });
      }
      let socketKey: unknown;
      try {
        socketKey = (await req.json()).socketKey;
        if (typeof socketKey !== "string" || !socketKey.startsWith("U")) throw new Error();
        fromPublic(socketKey);
      } catch {
        return Response.json({ error: { message: "socketKey must be an NKey user public key" } }, {
          status: 400,
        });
      }
      mints++;
      const token = mintJwt(socketKey);
      issued.set(token, generation);
      return Response.json({ token, subscriptionId: `sim-${mints}` });
    },
  }, {
    port: options.port ?? 0,
    tickEveryMs: options.tickIntervalMs ?? 200,
    onTick: publish,
  });
  const pinger = (options.pingIntervalMs ?? 2000) > 0
    ? setInterval(ping, options.pingIntervalMs ?? 2000)
    : undefined;

  const url = `ws://127.0.0.1:${server.port}`;
  const close = async () => {
    clearInterval(pinger);
    await server.close();
  };
  return {
    url,
    httpBase: server.httpBase,
    get accessToken() {
      return accessToken;
    },
    accountKey: account.getPublicKey(),
    refusals,
    get mints() {
      return mints;
    },
    adapterOptions: {
      accessToken,
      feedUrl: url,
      instruments: instrumentsPath,
      ...CONFORMANCE_TIMINGS,
      // PONGs to these keep the silence watchdog fed between market ticks.
      keepAliveMs: 250,
      // The suite's per-connection test needs a second connection.
      maxConnections: 4,
    },
    streams(): Map<string, Mode>[] {
      return authed().map((conn) => {
        const m = new Map<string, Mode>();
        for (const subject of conn.state.subs.values()) {
          const s = parseSubject(subject);
          if (s === null) continue;
          const ins = master.byToken(streamKey(s.group, s.exchange, s.token));
          const k = ins ? `${ins.exchange}:${ins.symbol}` : `?:${subject}`;
          // Groww's price subject serves LTP and Quote alike; the book makes it Depth.
          const mode: Mode = s.kind === "book" ? 3 : 2;
          if ((m.get(k) ?? 0) < mode) m.set(k, mode);
        }
        return m;
      });
    },
    subjects: () => authed().map((c) => [...c.state.subs.values()]),
    get handshakes() {
      return server.handshakes;
    },
    drop: () => server.drop(),
    stall: () => server.stall(),
    resume: () => server.resume(),
    expireToken(): string {
      generation++;
      accessToken = `${SIM_ACCESS_TOKEN}-${generation}`;
      // NATS ends sessions whose user JWT expired; the old access token no longer mints.
      for (const conn of authed()) {
        queue(conn, "-ERR 'User Authentication Expired'\r\n");
        flush(conn);
        conn.close(1000, "user authentication expired");
      }
      return accessToken;
    },
    garbage(): void {
      for (const conn of authed()) {
        const first = [...conn.state.subs][0];
        if (first === undefined) continue;
        const [sid, subject] = first;
        const random = crypto.getRandomValues(new Uint8Array(23));
        const valid = encodePrice({ ltp: 1, volume: 2 });
        const nan = encodePrice({ ltp: 1 });
        new DataView(nan.buffer, nan.byteOffset).setFloat64(nan.length - 8, NaN, true);
        msg(conn, subject, sid, random);
        msg(conn, subject, sid, valid.subarray(0, valid.length - 3));
        msg(conn, subject, sid, nan);
        msg(conn, "garbage.not.a.market.subject", sid, valid);
        flush(conn);
      }
    },
    publish,
    quote: quoteOf,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * `deno task sim groww [--port 9105] [--instruments FILE] [--access-token T] [--tick-interval MS]`
 */
export function main(args: string[]): Promise<void> {
  return runSimulatorCli(args, {
    defaultPort: 9105,
    flags: { "access-token": SIM_ACCESS_TOKEN, instruments: SAMPLE_INSTRUMENTS },
    start: ({ port, tickEveryMs, flags }) =>
      startGrowwSimulator({
        port,
        accessToken: flags["access-token"],
        instruments: flags.instruments,
        tickIntervalMs: tickEveryMs,
      }),
    describe: (sim, { flags }) => [
      `Groww simulator (NATS over WebSocket) listening on ${sim.url}`,
      `  socket token: POST ${sim.httpBase}${SOCKET_TOKEN_PATH}`,
      `  TICKPLEX_BROKER_ACCESS_TOKEN=${sim.accessToken}`,
      `  instruments: ${flags.instruments} (also ${sim.httpBase}/instruments.csv)`,
      `  deno task start --broker groww --feed-url ${sim.url} --instruments ${flags.instruments}`,
    ],
  });
}

if (import.meta.main) await main(Deno.args);
