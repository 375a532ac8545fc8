// Snapshots on request for bus readers: a zeromq ROUTER socket next to the PUB answers "the latest
// tick of these topics" with one JSON reply, so a reader that joins mid-session has a price at once
// instead of waiting for the next trade. Request and reply are versioned and parsed with zod like
// the envelope; a bad request gets an error reply, never an exception.

import { Dealer, Router } from "zeromq";
import { z } from "zod";
import { projectTick } from "../project.ts";
import { type Clock, ERROR_CODES, type ErrorCode, type Mode, type Tick } from "../types.ts";
import {
  BUS_VERSION,
  type BusMode,
  depthDataSchema,
  ltpDataSchema,
  quoteDataSchema,
} from "./envelope.ts";
import { addressLocality, BusBindError, type BusCurveServerKeys } from "./publisher.ts";
import { parseTopic } from "./topic.ts";

/** Most topics one snapshot request may name. */
export const MAX_SNAPSHOT_TOPICS = 1000;
/** Largest request accepted, bytes (zeromq drops larger messages before they are read). */
const MAX_REQUEST_BYTES = 256 * 1024;
const MODE_NAME: Readonly<Record<Mode, BusMode>> = { 1: "LTP", 2: "QUOTE", 3: "DEPTH" };

/** A snapshot request: `{"v":1,"id":"r1","topics":["NSE_RELIANCE_QUOTE"]}`. */
export const snapshotRequestSchema = z.object({
  v: z.literal(BUS_VERSION),
  /** Echoed in the reply, so a client with several requests in flight can match them. */
  id: z.string().min(1).max(128).optional(),
  /** Tick topics (`EXCHANGE_SYMBOL_MODE`), as the reader subscribes to them. */
  topics: z.array(z.string().min(1).max(200)).min(1).max(MAX_SNAPSHOT_TOPICS),
}).meta({ title: "tickplex bus snapshot request v1" });

/** A parsed snapshot request. */
export type SnapshotRequest = z.infer<typeof snapshotRequestSchema>;

const itemHeader = { topic: z.string(), exchange: z.string(), symbol: z.string() };

/**
 * One topic of a reply: the `data` a message of that topic would carry (the latest tick the gateway
 * has for the key, projected to the mode), or null when it has none.
 */
export const snapshotItemSchema = z.discriminatedUnion("mode", [
  z.object({ ...itemHeader, mode: z.literal("LTP"), data: ltpDataSchema.nullable() }),
  z.object({ ...itemHeader, mode: z.literal("QUOTE"), data: quoteDataSchema.nullable() }),
  z.object({ ...itemHeader, mode: z.literal("DEPTH"), data: depthDataSchema.nullable() }),
]);

/** One topic's snapshot. */
export type SnapshotItem = z.infer<typeof snapshotItemSchema>;

/** The reply to a snapshot request: the snapshots in request order, or an error with its code. */
export const snapshotReplySchema = z.discriminatedUnion("status", [
  z.object({
    v: z.literal(BUS_VERSION),
    id: z.string().optional(),
    status: z.literal("success"),
    session: z.string().describe("The publisher session of the PUB socket beside it"),
    broker: z.string(),
    published: z.number().describe("Reply time, epoch ms"),
    snapshots: z.array(snapshotItemSchema),
  }),
  z.object({
    v: z.literal(BUS_VERSION),
    id: z.string().optional(),
    status: z.literal("error"),
    code: z.enum(ERROR_CODES),
    message: z.string(),
  }),
]).meta({ title: "tickplex bus snapshot reply v1" });

/** A parsed snapshot reply. */
export type SnapshotReply = z.infer<typeof snapshotReplySchema>;

/**
 * The snapshot endpoint the gateway binds by default beside a bus address: the same host on a
 * free port (`*`) for TCP — announced in the heartbeat, see docs/bus.md — and `<name>-snapshot`
 * for ipc/inproc.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultSnapshotAddress } from "./snapshot.ts";
 * assert.equal(defaultSnapshotAddress("tcp://127.0.0.1:5555"), "tcp://127.0.0.1:*");
 * assert.equal(defaultSnapshotAddress("ipc:///tmp/tickplex"), "ipc:///tmp/tickplex-snapshot");
 * ```
 */
export function defaultSnapshotAddress(busAddress: string): string {
  const tcp = /^(tcp:\/\/.+):(\d+|\*)$/.exec(busAddress);
  if (tcp) return `${tcp[1]}:*`;
  return `${busAddress}-snapshot`;
}

/** Options of {@link BusSnapshotServer.open}. */
export interface BusSnapshotServerOptions {
  /** Endpoint to bind; port `*` picks a free one. Non-loopback needs `curve`, as the PUB. */
  address: string;
  /** Stamped on replies: the PUB's broker and session. */
  broker: string;
  session: string;
  /** The latest tick carrying every field of `mode`, or null (the market data cache). */
  lookup(exchange: string, symbol: string, mode: Mode): Tick | null;
  curve?: BusCurveServerKeys;
  clock?: Clock;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Longest pause between readiness checks of an idle socket, ms (server; clients use 5). */
const IDLE_POLL_MS = 20;

/**
 * Receives the next message once the socket reports it readable, checking with a backoff from
 * 1 ms to `maxWaitMs`; null once `closed()`. Why poll: under Deno, a pending `receive()` on a
 * socket that also sends (ROUTER, DEALER, REQ) sometimes never wakes although the message has
 * arrived (seen in 1 of ~5 request/reply rounds on loopback); `readable` asks zeromq itself and is
 * always right, and a receive on a readable socket completes at once.
 */
async function receiveReady(
  socket: Router | Dealer,
  closed: () => boolean,
  maxWaitMs: number,
): Promise<Uint8Array[] | null> {
  let wait = 1;
  while (true) {
    if (closed()) return null;
    if (socket.readable) return await socket.receive();
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Math.min(wait * 2, maxWaitMs);
  }
}

/**
 * Answers a request payload (never throws): the reply object for it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { baseTick } from "../types.ts";
 * import { answerSnapshot } from "./snapshot.ts";
 * const lookup = (e: string, s: string, m: number) =>
 *   s === "TCS" && m === 1 ? baseTick(e, s, 1, 3500, null, 1) : null;
 * const header = { broker: "paper", session: "s1", published: 2 };
 * const ok = answerSnapshot('{"v":1,"id":"a","topics":["NSE_TCS_LTP","NSE_INFY_LTP"]}', lookup, header);
 * assert.ok(ok.status === "success");
 * assert.deepEqual(ok.snapshots.map((s) => s.data?.ltp ?? null), [3500, null]);
 * const bad = answerSnapshot('{"v":1,"topics":["TCS"]}', lookup, header);
 * assert.ok(bad.status === "error" && bad.code === "INVALID_PARAMETERS");
 * ```
 */
export function answerSnapshot(
  payload: Uint8Array | string,
  lookup: BusSnapshotServerOptions["lookup"],
  header: { broker: string; session: string; published: number },
): SnapshotReply {
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === "string" ? payload : utf8.decode(payload));
  } catch (error) {
    return errorReply(undefined, "INVALID_JSON", `not JSON: ${(error as Error).message}`);
  }
  const id = typeof (value as { id?: unknown })?.id === "string"
    ? (value as { id: string }).id.slice(0, 128)
    : undefined;
  const parsed = snapshotRequestSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const code: ErrorCode = issue.path[0] === "topics" ? "INVALID_PARAMETERS" : "INVALID_MESSAGE";
    return errorReply(id, code, `${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  const snapshots: SnapshotItem[] = [];
  for (const [i, topic] of parsed.data.topics.entries()) {
    const key = parseTopic(topic);
    if (key === null) {
      return errorReply(
        id,
        "INVALID_PARAMETERS",
        `topics.${i}: '${topic.slice(0, 80)}' is not a tick topic EXCHANGE_SYMBOL_MODE`,
      );
    }
    const tick = lookup(key.exchange, key.symbol, key.mode);
    snapshots.push({
      topic,
      exchange: key.exchange,
      symbol: key.symbol,
      mode: MODE_NAME[key.mode],
      data: tick === null ? null : projectTick(tick, key.mode),
    } as SnapshotItem);
  }
  return {
    v: BUS_VERSION,
    ...(id === undefined ? {} : { id }),
    status: "success",
    ...header,
    snapshots,
  };
}

function errorReply(id: string | undefined, code: ErrorCode, message: string): SnapshotReply {
  return { v: BUS_VERSION, ...(id === undefined ? {} : { id }), status: "error", code, message };
}

/**
 * The gateway's snapshot socket: a ROUTER answering each request with one reply. REQ clients
 * (pyzmq `zmq.REQ`) and DEALER clients (what {@link import("./reader.ts").BusReader} uses) both
 * work: every frame before the payload is echoed back as the routing envelope.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { baseTick } from "../types.ts";
 * import { BusSnapshotServer, SnapshotClient } from "./snapshot.ts";
 * // The gateway opens one beside its PUB (gw.busSnapshot); readers use BusReader.snapshot.
 * const server = await BusSnapshotServer.open({
 *   address: "tcp://127.0.0.1:*", broker: "paper", session: "s1",
 *   lookup: (e, s) => baseTick(e, s, 1, 2940.7, null, 1),
 * });
 * const client = new SnapshotClient({ address: server.endpoint });
 * const reply = await client.request(["NSE_RELIANCE_LTP"]);
 * assert.ok(reply.status === "success" && reply.snapshots[0].data?.ltp === 2940.7);
 * client.close();
 * await server.close();
 * ```
 */
export class BusSnapshotServer {
  /** The endpoint bound (the resolved port when `*` was asked for). */
  readonly endpoint: string;
  /** Requests answered (errors included). */
  requests = 0;
  /** Messages without a routing envelope, dropped unanswered. */
  dropped = 0;
  #socket: Router;
  #options: BusSnapshotServerOptions;
  #loop: Promise<void>;
  #closed = false;

  private constructor(socket: Router, endpoint: string, options: BusSnapshotServerOptions) {
    this.#socket = socket;
    this.endpoint = endpoint;
    this.#options = options;
    this.#loop = this.#serve();
  }

  /** Binds the socket; throws a {@link BusBindError} naming the address when it cannot. */
  static async open(options: BusSnapshotServerOptions): Promise<BusSnapshotServer> {
    const { address, curve } = options;
    const locality = addressLocality(address);
    if (locality === "invalid") {
      throw new BusBindError(
        `bus snapshot: invalid address "${address}"`,
        address,
        "invalid_address",
      );
    }
    if (locality === "remote" && curve === undefined) {
      throw new BusBindError(
        `bus snapshot: refusing to bind ${address}: CURVE keys are required for a non-loopback ` +
          "address",
        address,
        "curve_required",
      );
    }
    const socket = new Router({
      linger: 0,
      maxMessageSize: MAX_REQUEST_BYTES,
      ...(curve === undefined ? {} : {
        curveServer: true,
        curvePublicKey: curve.publicKey,
        curveSecretKey: curve.secretKey,
      }),
    });
    try {
      await socket.bind(address);
    } catch (error) {
      socket.close();
      const inUse = /in use/i.test((error as Error).message);
      throw new BusBindError(
        `bus snapshot: cannot bind ${address}: ${(error as Error).message}`,
        address,
        inUse ? "address_in_use" : "bind_failed",
        { cause: error },
      );
    }
    return new BusSnapshotServer(socket, socket.lastEndpoint ?? address, options);
  }

  async #serve(): Promise<void> {
    const o = this.#options;
    while (!this.#closed) {
      let frames: Uint8Array[] | null;
      try {
        frames = await receiveReady(this.#socket, () => this.#closed, IDLE_POLL_MS);
      } catch (error) {
        if (this.#closed) return;
        throw error;
      }
      if (frames === null) return;
      if (frames.length < 2) {
        this.dropped++;
        continue;
      }
      const reply = answerSnapshot(frames[frames.length - 1], o.lookup, {
        broker: o.broker,
        session: o.session,
        published: (o.clock ?? Date.now)(),
      });
      this.requests++;
      // A ROUTER drops replies to peers that left, so a send never waits on a client.
      await this.#socket.send([...frames.slice(0, -1), JSON.stringify(reply)]);
    }
  }

  /** Closes the socket. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close();
    await this.#loop.catch(() => {});
  }
}

/** Options of {@link SnapshotClient}. */
export interface SnapshotClientOptions {
  address: string;
  /** CURVE client keys when the server requires them (the PUB's server key). */
  curve?: { serverKey: string; publicKey: string; secretKey: string };
}

/**
 * Asks a snapshot server for the latest ticks of topics over one DEALER socket; several requests
 * may be in flight, matched by `id`. Replies that do not parse are counted and skipped.
 */
export class SnapshotClient {
  /** Replies skipped because they were not a valid v1 reply (or matched no request). */
  invalid = 0;
  #socket: Dealer;
  #pending = new Map<string, PromiseWithResolvers<SnapshotReply>>();
  #loop: Promise<void>;
  #closed = false;

  constructor(options: SnapshotClientOptions) {
    const { curve } = options;
    this.#socket = new Dealer({
      linger: 0,
      ...(curve === undefined ? {} : {
        curveServerKey: curve.serverKey,
        curvePublicKey: curve.publicKey,
        curveSecretKey: curve.secretKey,
      }),
    });
    this.#socket.connect(options.address);
    this.#loop = this.#receive();
  }

  /**
   * Sends a request for `topics` and resolves with the reply; rejects after `timeoutMs` without
   * one (the server is down or the address is wrong) or when the client closes.
   */
  async request(topics: readonly string[], timeoutMs = 5000): Promise<SnapshotReply> {
    if (this.#closed) throw new Error("bus snapshot client is closed");
    const id = crypto.randomUUID();
    const waiter = Promise.withResolvers<SnapshotReply>();
    this.#pending.set(id, waiter);
    const timer = setTimeout(
      () => waiter.reject(new Error(`bus snapshot: no reply within ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      await this.#socket.send(JSON.stringify({ v: BUS_VERSION, id, topics }));
      return await waiter.promise;
    } finally {
      clearTimeout(timer);
      this.#pending.delete(id);
    }
  }

  async #receive(): Promise<void> {
    while (!this.#closed) {
      let frames: Uint8Array[] | null;
      try {
        frames = await receiveReady(this.#socket, () => this.#closed, 5);
      } catch {
        return; // closed under the receive
      }
      if (frames === null) return;
      const payload = frames[frames.length - 1];
      let value: unknown;
      try {
        value = JSON.parse(utf8.decode(payload));
      } catch {
        this.invalid++;
        continue;
      }
      const parsed = snapshotReplySchema.safeParse(value);
      const waiter = parsed.success && parsed.data.id !== undefined
        ? this.#pending.get(parsed.data.id)
        : undefined;
      if (!parsed.success || !waiter) {
        this.invalid++;
        continue;
      }
      waiter.resolve(parsed.data);
    }
  }

  /** Closes the socket; pending requests reject. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close();
    for (const w of this.#pending.values()) w.reject(new Error("bus snapshot client closed"));
    this.#pending.clear();
  }

  /** Resolves when the receive loop has ended (after close). */
  get done(): Promise<void> {
    return this.#loop;
  }
}
