// The part of the Fyers and Kotak simulators they share: an HSM server on SimServer that parses
// requests by their fields, authenticates the connect request, keeps topics per connection
// (topic ids, channels, pause/resume, lite/full), sends a snapshot (83) per new topic and sparse
// updates (85, or lite 76) from a SimMarket, numbers data frames and expects acks every N, and
// scripted faults. Each broker supplies its credentials check, connect reply and REST routes.

import {
  type BrokerSimulator,
  prng,
  type SimConnection,
  SimMarket,
  type SimQuote,
  SimServer,
} from "../../lib/adapter/sim/mod.ts";
import type { Mode } from "../../lib/types.ts";
import {
  encodeDataFrame,
  encodeSnapshotItem,
  encodeStatusReply,
  encodeUpdateItem,
  fieldText,
  type HsmConfig,
  parseChannelMask,
  parseRequest,
  parseTopicList,
  REQ,
  type TopicKind,
} from "./codec.ts";
import type { HsmInstrument } from "./ticks.ts";

/** What the simulator streams for one instrument. */
export interface SimInstrument extends HsmInstrument {
  /** Trading symbol sent in the snapshot trailer. */
  readonly tradingSymbol: string;
}

/** What a broker brings to the shared simulator. */
export interface HsmSimSpec {
  config: HsmConfig;
  /** Instruments by HSM token (`nse_cm|11536`). */
  instruments: ReadonlyMap<string, SimInstrument>;
  /** Whether a connect request's fields carry valid credentials now. */
  authenticate(fields: Map<number, Uint8Array>): boolean;
  /** The connect reply for an accepted (or refused) connect request. */
  connectReply(ok: boolean, ackEvery: number): Uint8Array;
  /** Most topics one subscribe request may carry (more → status `N`). */
  maxTopicsPerRequest: number;
  /** Channel data mode before a mode request (Fyers: lite; Kotak streams full always). */
  defaultLite: boolean;
  /** REST routes (Fyers' symbol-token). */
  http?(req: Request, url: URL): Response | null | Promise<Response | null>;
}

/** Options of {@link HsmSimulator}. */
export interface HsmSimOptions {
  port?: number;
  /** Market step + update frame period (default 1000 ms; 0 = only snapshots). */
  tickIntervalMs?: number;
  /** Ack every N data frames, announced in the connect reply (default 5; 0 = no acks). */
  ackEvery?: number;
  /** Most items in one data frame (default 100). */
  itemsPerFrame?: number;
  /** Keep every binary frame sent, per connection (`state.sent`), for byte-level checks. */
  record?: boolean;
  seed?: number;
}

/** One subscribed topic of a connection. */
interface SimTopic {
  id: number;
  name: string;
  kind: TopicKind;
  channel: number;
  instrument: SimInstrument;
  /** Values last sent, to send only what changed. */
  last: (number | null)[] | null;
}

/** Per-connection state. */
export interface HsmSimConnState {
  authed: boolean;
  topics: Map<string, SimTopic>;
  nextTopicId: number;
  msgNum: number;
  paused: Set<number>;
  lite: Map<number, boolean>;
  /** Acks received, by message number. */
  acks: number[];
  /** Data frames sent since the last ack received. */
  unacked: number;
  pings: number;
  keepAlives: number;
  /** Frames sent (when recording). */
  sent: Uint8Array[];
}

/** Counters. */
export interface HsmSimStats {
  connects: number;
  rejectedConnects: number;
  dataFrames: number;
  snapshots: number;
  updates: number;
  lites: number;
  acks: number;
  pings: number;
  badRequests: number;
  refusedRequests: number;
  unknownTopics: number;
  garbageFrames: number;
}

const INDEX_PRICE = 22_500;

/** The wire value of one field name for a quote, in the topic's units (price × 100). */
function wireValue(
  name: string,
  q: SimQuote,
  ins: SimInstrument,
  nowS: number,
): number | null {
  const p = (x: number) => Math.round(x * 100);
  const level = /^(bp|sp|bq|bs)(\d?)$/.exec(name);
  if (level !== null) {
    const side = level[1] === "bp" || level[1] === "bq" ? q.bids : q.asks;
    const l = side[level[2] === "" ? 0 : Number(level[2])];
    if (l === undefined) return null;
    return level[1] === "bp" || level[1] === "sp" ? p(l.price) : l.quantity;
  }
  const orders = /^(bno|sno)(\d)$/.exec(name);
  if (orders !== null) {
    return (orders[1] === "bno" ? q.bids : q.asks)[Number(orders[2]) - 1]?.orders ?? null;
  }
  switch (name) {
    case "ltp":
    case "iv":
      return p(q.ltp);
    case "c":
    case "ic":
      return p(q.close);
    case "op":
    case "openingPrice":
      return p(q.open);
    case "h":
    case "highPrice":
      return p(q.high);
    case "lo":
    case "lowPrice":
      return p(q.low);
    case "v":
      return ins.index ? null : q.volume;
    case "ltq":
      return q.lastQuantity;
    case "ap":
      return p(q.averagePrice);
    case "tbq":
      return q.totalBuyQuantity;
    case "tsq":
      return q.totalSellQuantity;
    case "oi":
      return ins.hasOi ? q.oi : null;
    case "ltt":
      return Math.floor(q.ltt / 1000);
    case "fdtm":
    case "tvalue":
      return nowS;
    case "lcl":
      return p(q.close * 0.9);
    case "ucl":
      return p(q.close * 1.1);
    case "yh":
      return p(q.high * 1.2);
    case "yl":
      return p(q.low * 0.8);
    case "mul":
      return 1;
    case "prec":
      return 2;
    case "ftm0":
    case "dtm1":
      return 0;
    default:
      return null;
  }
}

/**
 * An HSM market-data server for one broker.
 *
 * @example
 * ```ts ignore
 * const sim = new HsmSimulator(spec, { tickIntervalMs: 200 });
 * ```
 */
export class HsmSimulator {
  readonly spec: HsmSimSpec;
  readonly server: SimServer<HsmSimConnState>;
  readonly market: SimMarket;
  readonly stats: HsmSimStats = {
    connects: 0,
    rejectedConnects: 0,
    dataFrames: 0,
    snapshots: 0,
    updates: 0,
    lites: 0,
    acks: 0,
    pings: 0,
    badRequests: 0,
    refusedRequests: 0,
    unknownTopics: 0,
    garbageFrames: 0,
  };
  readonly #ackEvery: number;
  readonly #itemsPerFrame: number;
  readonly #record: boolean;
  readonly #rand: () => number;

  constructor(spec: HsmSimSpec, options: HsmSimOptions = {}) {
    this.spec = spec;
    this.#ackEvery = options.ackEvery ?? 5;
    this.#itemsPerFrame = options.itemsPerFrame ?? 100;
    this.#record = options.record ?? false;
    this.market = new SimMarket(options.seed ?? 1);
    this.#rand = prng((options.seed ?? 1) * 7919);
    this.server = new SimServer<HsmSimConnState>({
      accept: () => ({
        authed: false,
        topics: new Map(),
        nextTopicId: 1,
        msgNum: 0,
        paused: new Set(),
        lite: new Map(),
        acks: [],
        unacked: 0,
        pings: 0,
        keepAlives: 0,
        sent: [],
      }),
      onMessage: (conn, data) => this.#onMessage(conn, data),
      http: spec.http ? (req, url) => spec.http!(req, url) : undefined,
    }, {
      port: options.port,
      tickEveryMs: options.tickIntervalMs ?? 1000,
      onTick: () => this.tick(),
    });
  }

  /** Ack-every-N announced to clients. */
  get ackEvery(): number {
    return this.#ackEvery;
  }

  /** Per connection: OpenAlgo `EXCHANGE:SYMBOL` → the mode streamed (scrip/index 2, + depth 3). */
  streams(): Map<string, Mode>[] {
    return this.server.connections().map((c) => {
      const m = new Map<string, Mode>();
      for (const t of c.state.topics.values()) {
        const key = `${t.instrument.exchange}:${t.instrument.symbol}`;
        const mode: Mode = t.kind === "dp" ? 3 : 2;
        m.set(key, Math.max(m.get(key) ?? 1, mode) as Mode);
      }
      return m;
    });
  }

  /** Topic names subscribed on open connections. */
  topics(): string[][] {
    return this.server.connections().map((c) => [...c.state.topics.keys()]);
  }

  /** Ends every authenticated session (as a daily session end does) without a close reason. */
  endSessions(): void {
    for (const c of this.server.connections()) c.close(1000, "session ended");
  }

  /** Sends malformed frames: random bytes, a truncated snapshot, an unknown item kind. */
  garbage(): void {
    for (const c of this.server.connections()) {
      const junk = new Uint8Array(16 + Math.floor(this.#rand() * 48));
      for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(this.#rand() * 256);
      const t = [...c.state.topics.values()][0];
      const snap = this.#frame(c, [this.#snapshot(t ?? this.#anyTopic(), false)], false);
      const badKind = this.#frame(c, [new Uint8Array([0, 3, 0x99, 0, 0])], false);
      for (const f of [junk, snap.subarray(0, snap.byteLength - 5), badKind]) {
        if (this.#send(c, f)) this.stats.garbageFrames++;
      }
    }
  }

  /** One market step: every subscribed instrument moves, and each connection gets its updates. */
  tick(): void {
    const stepped = new Set<string>();
    const conns = this.server.connections().filter((c) => c.state.authed && !c.stalled);
    for (const c of conns) {
      for (const t of c.state.topics.values()) {
        if (!stepped.has(t.instrument.token)) {
          stepped.add(t.instrument.token);
          this.market.step(t.instrument.token);
        }
      }
    }
    for (const c of conns) {
      const items: Uint8Array[] = [];
      for (const t of c.state.topics.values()) {
        if (c.state.paused.has(t.channel)) continue;
        const item = this.#update(c, t);
        if (item !== null) items.push(item);
      }
      this.#sendItems(c, items);
    }
  }

  close(): Promise<void> {
    return this.server.close();
  }

  // ---- internals -------------------------------------------------------------------------------

  #send(c: SimConnection<HsmSimConnState>, frame: Uint8Array): boolean {
    const sent = c.send(frame);
    if (sent && this.#record) c.state.sent.push(frame);
    return sent;
  }

  #anyTopic(): SimTopic {
    const instrument = this.spec.instruments.values().next().value!;
    return {
      id: 0,
      name: `sf|${instrument.token}`,
      kind: "sf",
      channel: 1,
      instrument,
      last: null,
    };
  }

  #quote(ins: SimInstrument): SimQuote {
    return this.market.quote(ins.token, {
      price: ins.index ? INDEX_PRICE : undefined,
      hasOi: ins.hasOi,
    });
  }

  #values(t: SimTopic): (number | null)[] {
    const q = this.#quote(t.instrument);
    const nowS = Math.floor(Date.now() / 1000);
    return this.spec.config.layout[t.kind].map((name) => wireValue(name, q, t.instrument, nowS));
  }

  #snapshot(t: SimTopic, record: boolean): Uint8Array {
    const values = this.#values(t);
    if (record) t.last = values;
    const [exchange, token] = [
      t.instrument.token.slice(0, t.instrument.token.indexOf("|")),
      t.instrument.token.slice(t.instrument.token.indexOf("|") + 1),
    ];
    this.stats.snapshots++;
    return encodeSnapshotItem(this.spec.config, {
      topicId: t.id,
      name: t.name,
      values,
      multiplier: 1,
      precision: 2,
      exchange,
      token,
      tradingSymbol: t.instrument.tradingSymbol,
    });
  }

  #update(c: SimConnection<HsmSimConnState>, t: SimTopic): Uint8Array | null {
    const values = this.#values(t);
    const last = t.last ?? [];
    const lite = this.spec.config.liteCount[t.kind] > 0 &&
      (c.state.lite.get(t.channel) ?? this.spec.defaultLite);
    t.last = values;
    if (lite) {
      this.stats.lites++;
      const n = this.spec.config.liteCount[t.kind];
      return encodeUpdateItem(
        this.spec.config,
        { topicId: t.id, values: values.slice(0, n) },
        true,
      );
    }
    // Sparse: unchanged values go as the sentinel; trailing unchanged ones are left out.
    const sparse = values.map((v, i) => (v === last[i] ? null : v));
    let n = sparse.length;
    while (n > 0 && sparse[n - 1] === null) n--;
    if (n === 0) return null;
    this.stats.updates++;
    return encodeUpdateItem(this.spec.config, { topicId: t.id, values: sparse.slice(0, n) });
  }

  #frame(c: SimConnection<HsmSimConnState>, items: Uint8Array[], count: boolean): Uint8Array {
    const numbered = this.#ackEvery > 0;
    if (count && numbered) c.state.msgNum++;
    return encodeDataFrame(numbered ? c.state.msgNum : null, items);
  }

  #sendItems(c: SimConnection<HsmSimConnState>, items: Uint8Array[]): void {
    for (let i = 0; i < items.length; i += this.#itemsPerFrame) {
      const frame = this.#frame(c, items.slice(i, i + this.#itemsPerFrame), true);
      if (this.#send(c, frame)) {
        this.stats.dataFrames++;
        c.state.unacked++;
      }
    }
  }

  #onMessage(c: SimConnection<HsmSimConnState>, data: string | Uint8Array): void {
    if (typeof data === "string") {
      this.stats.badRequests++;
      return;
    }
    const req = parseRequest(data);
    if (typeof req === "string") {
      this.stats.badRequests++;
      return;
    }
    const st = c.state;
    if (req.type === REQ.CONNECT) {
      const ok = this.spec.authenticate(req.fields);
      st.authed = ok;
      if (ok) this.stats.connects++;
      else this.stats.rejectedConnects++;
      this.#send(c, this.spec.connectReply(ok, this.#ackEvery));
      if (!ok) c.close(1000, "authentication failed");
      return;
    }
    if (req.type === REQ.PING) {
      st.pings++;
      this.stats.pings++;
      return;
    }
    if (!st.authed) {
      this.stats.refusedRequests++;
      this.#send(c, encodeStatusReply(req.type, false));
      return;
    }
    switch (req.type) {
      case REQ.SUBSCRIBE:
      case REQ.UNSUBSCRIBE:
        return this.#topicsRequest(c, req.type, req.fields);
      case REQ.SNAPSHOT: {
        const list = req.fields.get(1) ?? req.fields.get(2);
        const names = list === undefined ? "no topic list" : parseTopicList(list);
        if (typeof names === "string") return this.#refuse(c, req.type);
        this.#send(c, encodeStatusReply(req.type, true));
        const items: Uint8Array[] = [];
        for (const name of names) {
          const t = st.topics.get(name) ?? this.#newTopic(st, name, 1, false);
          if (t !== null) items.push(this.#snapshot(t, false));
        }
        this.#sendItems(c, items);
        return;
      }
      case REQ.PAUSE:
      case REQ.RESUME:
      case REQ.MODE: {
        const mask = req.fields.get(1);
        if (mask === undefined || mask.byteLength !== 8) return this.#refuse(c, req.type);
        for (const ch of parseChannelMask(mask)) {
          if (req.type === REQ.PAUSE) st.paused.add(ch);
          else if (req.type === REQ.RESUME) st.paused.delete(ch);
          else st.lite.set(ch, fieldText(req.fields.get(2)) === "L");
        }
        this.#send(c, encodeStatusReply(req.type, true));
        return;
      }
      case REQ.ACK: {
        const f = req.fields.get(1);
        if (f === undefined || f.byteLength !== 4) return this.#refuse(c, req.type);
        st.acks.push(new DataView(f.buffer, f.byteOffset, 4).getUint32(0));
        st.unacked = 0;
        this.stats.acks++;
        return;
      }
      case REQ.THROTTLE:
        st.keepAlives++;
        return;
      default:
        this.stats.badRequests++;
    }
  }

  #refuse(c: SimConnection<HsmSimConnState>, type: number): void {
    this.stats.refusedRequests++;
    this.#send(c, encodeStatusReply(type, false));
  }

  #newTopic(st: HsmSimConnState, name: string, channel: number, keep: boolean): SimTopic | null {
    const bar = name.indexOf("|");
    const kind = name.slice(0, bar);
    const instrument = this.spec.instruments.get(name.slice(bar + 1));
    if (
      instrument === undefined || !(kind === "sf" || kind === "if" || kind === "dp") ||
      (kind === "if") !== instrument.index
    ) {
      this.stats.unknownTopics++;
      return null;
    }
    const t: SimTopic = { id: st.nextTopicId++, name, kind, channel, instrument, last: null };
    if (keep) st.topics.set(name, t);
    return t;
  }

  #topicsRequest(
    c: SimConnection<HsmSimConnState>,
    type: number,
    fields: Map<number, Uint8Array>,
  ): void {
    const list = fields.get(1);
    const names = list === undefined ? "no topic list" : parseTopicList(list);
    const ch = fields.get(2);
    if (typeof names === "string" || ch === undefined || ch.byteLength !== 1) {
      return this.#refuse(c, type);
    }
    if (names.length > this.spec.maxTopicsPerRequest) return this.#refuse(c, type);
    const st = c.state;
    this.#send(c, encodeStatusReply(type, true));
    if (type === REQ.UNSUBSCRIBE) {
      for (const n of names) st.topics.delete(n);
      return;
    }
    const fresh: SimTopic[] = [];
    for (const n of names) {
      if (st.topics.has(n)) continue;
      const t = this.#newTopic(st, n, ch[0], true);
      if (t !== null) fresh.push(t);
    }
    this.#sendItems(c, fresh.map((t) => this.#snapshot(t, true)));
  }
}

/**
 * The fault surface the conformance suite drives, over an {@link HsmSimulator}, with `extra`
 * properties (getters stay getters).
 */
export function simulatorView<X extends object>(
  sim: HsmSimulator,
  adapterOptions: () => Record<string, unknown>,
  expireToken: () => string,
  extra: X,
): BrokerSimulator & X {
  const view: BrokerSimulator = {
    get adapterOptions() {
      return adapterOptions();
    },
    streams: () => sim.streams(),
    get handshakes() {
      return sim.server.handshakes;
    },
    drop: () => sim.server.drop(),
    stall: () => sim.server.stall(),
    resume: () => sim.server.resume(),
    expireToken,
    garbage: () => sim.garbage(),
    close: () => sim.close(),
    [Symbol.asyncDispose]: () => sim.close(),
  };
  return Object.defineProperties(view, Object.getOwnPropertyDescriptors(extra)) as
    & BrokerSimulator
    & X;
}

/**
 * A JWT-shaped token (unsigned) carrying `claims`, as brokers issue them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(fakeJwt({ a: 1 }).split(".").length, 3);
 * ```
 */
export function fakeJwt(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) =>
    btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${b64({ alg: "HS256", typ: "JWT" })}.${b64(claims)}.simulated`;
}
