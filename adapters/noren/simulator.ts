// A local Noren WebSocket server (SimServer on 127.0.0.1) speaking one Noren broker's dialect:
// in-band `t:a`/`t:c` login with `ak`/`ck` acks, touchline and depth subscriptions answered with a
// `tk`/`dk` snapshot and then sparse `tf`/`df` string updates, the broker's per-message and
// per-connection limits, masters over HTTP, scripted faults. `deno task sim flattrade|shoonya|…`.

import type { SimulatorMain } from "../../lib/adapter/mod.ts";
import {
  type BrokerSimulator,
  runSimulatorCli,
  type SimConnection,
  SimMarket,
  SimServer,
} from "../../lib/adapter/sim/mod.ts";
import type { Mode } from "../../lib/types.ts";
import type { NorenBrokerConfig, NorenLogin } from "./brokers.ts";
import {
  changedFields,
  encodeFeed,
  encodeLoginAck,
  type FeedType,
  type NorenStream,
  parseClientMessage,
  quoteFields,
  type ScripFacts,
  snapshotFacts,
} from "./codec.ts";
import { type NorenInstrument, parseNorenMaster } from "./instruments.ts";

/** Credentials the simulator accepts unless told otherwise. */
export const SIM_USER_ID = "SIMUSER1";
export const SIM_ACCESS_TOKEN = "sim_noren_token";

const TESTDATA = new URL("./testdata/", import.meta.url);
/** Masters the simulator serves: Flattrade's layout for Flattrade, Shoonya's for the others. */
const MASTERS: Readonly<Record<string, readonly string[]>> = {
  flattrade: ["Flattrade_NSE_Equity.csv", "Flattrade_Nfo_Index_Derivatives.csv"],
  default: ["NSE_symbols.txt", "NFO_symbols.txt"],
};

/** Options of {@link startNorenSimulator}. */
export interface NorenSimulatorOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  userId?: string;
  accessToken?: string;
  /** The login variant the adapter options ask for (default the broker's). */
  login?: NorenLogin;
  /** Login variants accepted (default both; a variant not listed is refused with `NOT_OK`). */
  acceptLogins?: readonly NorenLogin[];
  /** Market step and sparse updates every this many ms (default 1000; 0 = only on `tick()`). */
  tickEveryMs?: number;
  seed?: number;
  /** Default the broker's `maxTokensPerFrame`. */
  maxTokensPerMessage?: number;
  /** Default the broker's `maxSymbolsPerConnection`. */
  maxSymbolsPerConnection?: number;
  /**
   * Whether a rejected login leaves the socket open (Flattrade does, brokers.md §6.1); default
   * true for Flattrade, false (closed after the ack) for the others.
   */
  keepOpenOnRejectedLogin?: boolean;
}

interface Sub {
  stream: NorenStream;
  /** The fields last sent (the base of the next sparse update). */
  sent: Record<string, string>;
}

interface ConnState {
  loggedIn: boolean;
  uid: string;
  /** `stream:EXCH|token` → subscription. */
  subs: Map<string, Sub & { key: string }>;
}

interface Scrip {
  instrument: NorenInstrument;
  facts: ScripFacts;
}

/** What went against the broker's rules, for tests to assert on. */
export interface NorenSimViolations {
  /** A request with more keys than the broker allows per message (ignored whole). */
  tooManyKeys: number;
  /** Subscriptions beyond the per-connection limit (ignored). */
  overCapacity: number;
  /** Logged-in connections beyond the broker's per-login limit (served anyway). */
  tooManyConnections: number;
  /** Requests before the login was accepted (ignored). */
  beforeLogin: number;
  /** Messages that are not a Noren request. */
  badRequest: number;
}

/**
 * A Noren broker simulator, driven by tests through {@link BrokerSimulator}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NOREN_BROKERS } from "./brokers.ts";
 * await using sim = await startNorenSimulator(NOREN_BROKERS.shoonya, { tickEveryMs: 0 });
 * assert.deepEqual(sim.streams(), []);
 * assert.match(String(sim.adapterOptions.feedUrl), /^ws:\/\/127\.0\.0\.1:\d+\/$/);
 * ```
 */
export class NorenSimulator implements BrokerSimulator {
  readonly config: NorenBrokerConfig;
  readonly server: SimServer<ConnState>;
  readonly market: SimMarket;
  readonly violations: NorenSimViolations = {
    tooManyKeys: 0,
    overCapacity: 0,
    tooManyConnections: 0,
    beforeLogin: 0,
    badRequest: 0,
  };
  /** Every request received, in order (text as sent). */
  readonly requests: { connection: number; text: string }[] = [];
  /** Logins received: accepted and rejected. */
  logins = { accepted: 0, rejected: 0 };
  heartbeats = 0;
  readonly userId: string;
  readonly loginVariant: NorenLogin;
  readonly acceptLogins: readonly NorenLogin[];
  readonly #scrips = new Map<string, Scrip>();
  readonly #masters: { name: string; text: string }[];
  readonly #maxKeys: number;
  readonly #maxSymbols: number;
  readonly #keepOpen: boolean;
  #accessToken: string;
  #generation = 0;

  constructor(
    config: NorenBrokerConfig,
    masters: { name: string; text: string }[],
    opts: NorenSimulatorOptions,
  ) {
    this.config = config;
    this.userId = opts.userId ?? SIM_USER_ID;
    this.#accessToken = opts.accessToken ?? SIM_ACCESS_TOKEN;
    this.loginVariant = opts.login ?? config.defaultLogin;
    this.acceptLogins = opts.acceptLogins ?? ["a", "c"];
    this.#maxKeys = opts.maxTokensPerMessage ?? config.maxTokensPerFrame;
    this.#maxSymbols = opts.maxSymbolsPerConnection ?? config.maxSymbolsPerConnection;
    this.#keepOpen = opts.keepOpenOnRejectedLogin ?? config.name === "flattrade";
    this.#masters = masters;
    for (const m of masters) {
      for (const ins of parseNorenMaster(m.text).instruments) {
        const index = ins.exchange.endsWith("_INDEX");
        this.#scrips.set(ins.token, {
          instrument: ins,
          facts: {
            tradingSymbol: ins.brokerSymbol,
            lotSize: ins.lotSize,
            tickSize: ins.tickSize > 0 ? ins.tickSize : 0.05,
            pp: ins.segment === "CDS" ? 4 : 2,
            index,
            hasOi: !index && !["NSE", "BSE"].includes(ins.segment),
          },
        });
      }
    }
    this.market = new SimMarket(opts.seed ?? 1);
    const tickEveryMs = opts.tickEveryMs ?? 1000;
    this.server = new SimServer<ConnState>({
      accept: () => ({ loggedIn: false, uid: "", subs: new Map() }),
      onMessage: (conn, data) => this.#onMessage(conn, data),
      http: (_req, url) => this.#http(url),
    }, { port: opts.port, tickEveryMs, onTick: () => this.tick() });
  }

  /** The access token logins must carry now. */
  get accessToken(): string {
    return this.#accessToken;
  }

  /** URLs of the masters this simulator serves. */
  get instrumentsUrls(): string[] {
    return this.#masters.map((m) => `${this.server.httpBase}/${m.name}`);
  }

  get adapterOptions(): Record<string, unknown> {
    return {
      accessToken: this.#accessToken,
      userId: this.userId,
      login: this.loginVariant,
      feedUrl: this.server.url,
      instruments: this.instrumentsUrls,
      heartbeatMs: 1000,
      silenceTimeoutMs: 0,
      dataStallMs: 1500,
      reconnectBaseMs: 50,
      reconnectMaxMs: 200,
      authRetryMs: 60_000,
      maxAuthRetries: 3,
      authRetryMinMs: 0,
      connectTimeoutMs: 2000,
    };
  }

  get handshakes(): number {
    return this.server.handshakes;
  }

  streams(): Map<string, Mode>[] {
    return this.server.connections().filter((c) => c.state.loggedIn).map((c) => {
      const m = new Map<string, Mode>();
      for (const sub of c.state.subs.values()) {
        const ins = this.#scrips.get(sub.key)!.instrument;
        const k = `${ins.exchange}:${ins.symbol}`;
        const mode: Mode = sub.stream === "d" ? 3 : 2;
        if ((m.get(k) ?? 0) < mode) m.set(k, mode);
      }
      return m;
    });
  }

  drop(): number {
    return this.server.drop();
  }

  stall(): void {
    this.server.stall();
  }

  resume(): void {
    this.server.resume();
  }

  /**
   * Rolls the token: open sessions are closed (the broker ends them; a reconnect then meets the
   * login rejection) and logins with the old token are refused.
   */
  expireToken(): string {
    this.#accessToken = `${SIM_ACCESS_TOKEN}_${++this.#generation}`;
    for (const c of this.server.connections()) c.close(1000, "Session Expired");
    return this.#accessToken;
  }

  garbage(): void {
    const someKey = [...this.server.connections().flatMap((c) => [...c.state.subs.values()])][0]
      ?.key;
    const [e, tk] = (someKey ?? "NSE|1").split("|");
    const frames: (string | Uint8Array)[] = [
      "{not json",
      '{"t":"tf","e":"NSE"',
      "[]",
      '{"t":"zz","e":"NSE","tk":"1"}',
      '{"t":"tf","e":"NSE","tk":"99999999","lp":"1.00"}',
      encodeFeed("tf", e, tk, { lp: "abc" }),
      new Uint8Array([0x7b, 0xff, 0x00, 0x13, 0x37]),
    ];
    for (const c of this.server.connections()) for (const f of frames) c.send(f);
  }

  /** Steps every subscribed scrip once and sends each connection its sparse updates. */
  tick(): void {
    const now = Date.now();
    const stepped = new Set<string>();
    for (const c of this.server.connections()) {
      if (!c.state.loggedIn) continue;
      for (const sub of c.state.subs.values()) {
        if (!stepped.has(sub.key)) {
          this.market.step(sub.key);
          stepped.add(sub.key);
        }
        const scrip = this.#scrips.get(sub.key)!;
        const next = quoteFields(this.#quote(sub.key), sub.stream, scrip.facts, now);
        const diff = changedFields(sub.sent, next);
        if (Object.keys(diff).length === 0) continue;
        const [e, tk] = sub.key.split("|");
        if (c.send(encodeFeed(sub.stream === "t" ? "tf" : "df", e, tk, diff))) sub.sent = next;
      }
    }
  }

  async close(): Promise<void> {
    await this.server.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #quote(key: string) {
    const s = this.#scrips.get(key)!;
    return this.market.quote(key, {
      tickSize: s.facts.tickSize,
      hasOi: s.facts.hasOi,
      levels: 5,
    });
  }

  #http(url: URL): Response | null {
    const m = this.#masters.find((x) => url.pathname === `/${x.name}`);
    return m === undefined
      ? null
      : new Response(m.text, { headers: { "content-type": "text/csv" } });
  }

  #onMessage(conn: SimConnection<ConnState>, data: string | Uint8Array): void {
    if (typeof data !== "string") {
      this.violations.badRequest++;
      return;
    }
    this.requests.push({ connection: conn.id, text: data });
    const msg = parseClientMessage(data);
    if (typeof msg === "string") {
      this.violations.badRequest++;
      return;
    }
    const st = conn.state;
    switch (msg.kind) {
      case "login": {
        const error = !this.acceptLogins.includes(msg.variant)
          ? `Invalid Input : login type ${msg.variant} not supported`
          : msg.uid !== this.userId || msg.token !== this.#accessToken
          ? "Session Expired :  Invalid Session Key"
          : null;
        conn.send(encodeLoginAck(msg.variant, msg.uid, error));
        if (error !== null) {
          this.logins.rejected++;
          if (!this.#keepOpen) conn.close(1000, "login rejected");
          return;
        }
        this.logins.accepted++;
        const live = this.server.connections().filter((c) => c.state.loggedIn).length;
        if (live >= this.config.maxConnections) this.violations.tooManyConnections++;
        st.loggedIn = true;
        st.uid = msg.uid;
        return;
      }
      case "heartbeat":
        this.heartbeats++;
        return;
      case "orders":
        if (st.loggedIn) conn.send('{"t":"ok"}');
        return;
      case "request":
        break;
    }
    if (!st.loggedIn) {
      this.violations.beforeLogin++;
      return;
    }
    if (msg.keys.length > this.#maxKeys) {
      this.violations.tooManyKeys++;
      return;
    }
    const stream: NorenStream = msg.t === "t" || msg.t === "u" ? "t" : "d";
    if (msg.t === "u" || msg.t === "ud") {
      for (const key of msg.keys) st.subs.delete(`${stream}:${key}`);
      conn.send(JSON.stringify({ t: msg.t === "u" ? "uk" : "udk", k: msg.keys.join("#") }));
      return;
    }
    const now = Date.now();
    for (const key of msg.keys) {
      const scrip = this.#scrips.get(key);
      if (scrip === undefined) continue;
      const id = `${stream}:${key}`;
      const scrips = new Set([...st.subs.values()].map((s) => s.key));
      if (!scrips.has(key) && scrips.size >= this.#maxSymbols) {
        this.violations.overCapacity++;
        continue;
      }
      const fields = quoteFields(this.#quote(key), stream, scrip.facts, now);
      st.subs.set(id, { key, stream, sent: fields });
      const [e, tk] = key.split("|");
      const type: FeedType = stream === "t" ? "tk" : "dk";
      conn.send(encodeFeed(type, e, tk, { ...snapshotFacts(scrip.facts), ...fields }));
    }
  }
}

/**
 * Starts a simulator for one Noren broker, serving its sample masters over HTTP.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NOREN_BROKERS } from "./brokers.ts";
 * await using sim = await startNorenSimulator(NOREN_BROKERS.flattrade, { tickEveryMs: 0 });
 * const res = await fetch(sim.instrumentsUrls[0]);
 * assert.match(await res.text(), /^Exchange,Token,Lotsize/);
 * ```
 */
export async function startNorenSimulator(
  config: NorenBrokerConfig,
  opts: NorenSimulatorOptions = {},
): Promise<NorenSimulator> {
  const names = MASTERS[config.name] ?? MASTERS.default;
  const masters = await Promise.all(
    names.map(async (name) => ({ name, text: await Deno.readTextFile(new URL(name, TESTDATA)) })),
  );
  return new NorenSimulator(config, masters, opts);
}

/** Default `deno task sim` ports (Zerodha's simulator uses 9101, Upstox's 9105). */
const DEFAULT_PORTS: Readonly<Record<string, number>> = {
  flattrade: 9111,
  shoonya: 9112,
  zebu: 9113,
  tradesmart: 9114,
};

/**
 * `deno task sim <broker>`: runs the simulator until Ctrl+C, printing what to point tickplex at.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NOREN_BROKERS } from "./brokers.ts";
 * assert.equal(typeof simulatorMain(NOREN_BROKERS.zebu), "function");
 * ```
 */
export function simulatorMain(config: NorenBrokerConfig): SimulatorMain {
  return (args: string[]) =>
    runSimulatorCli(args, {
      defaultPort: DEFAULT_PORTS[config.name] ?? 0,
      flags: { login: undefined, "user-id": undefined, "access-token": undefined },
      start: ({ port, tickEveryMs, flags }) => {
        const login = flags.login;
        if (login !== undefined && login !== "a" && login !== "c") {
          throw new Error(`bad --login ${login} (a or c)`);
        }
        return startNorenSimulator(config, {
          port,
          tickEveryMs,
          login,
          acceptLogins: login === undefined ? undefined : [login],
          userId: flags["user-id"],
          accessToken: flags["access-token"],
        });
      },
      describe: (sim) => {
        const feed = sim.server.url;
        const instruments = sim.instrumentsUrls.join(",");
        return [
          `${config.title} simulator listening on ${feed} (logins accepted: ` +
          `${sim.acceptLogins.map((v) => `t:${v}`).join(", ")})`,
          `  TICKPLEX_BROKER_USER_ID=${sim.userId}`,
          `  TICKPLEX_BROKER_ACCESS_TOKEN=${sim.accessToken}`,
          `  instruments: ${instruments}`,
          `  deno task start --broker ${config.name} --feed-url ${feed} --instruments ${instruments}`,
          ...(sim.loginVariant === config.defaultLogin ? [] : [
            `  with --config holding {"broker": {"options": {"login": "${sim.loginVariant}"}}}`,
          ]),
        ];
      },
    });
}
