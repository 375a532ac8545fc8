// The session dialect Fyers and Kotak share: topics per instrument (`sf`/`if`, plus `dp` at
// Depth), topics spread over channels and split per request, connect reply → logged in or
// auth_failed, acks every N data frames, and per-instrument state merged into ticks. Each broker
// adds its endpoint, login frame, keep-alive and what to do once logged in.

import {
  AuthError,
  type Decoded,
  type Dialect,
  type DialectContext,
  type Endpoint,
  type Frame,
  NOTHING,
  type Wanted,
} from "../../lib/adapter/mod.ts";
import type { Mode, Tick } from "../../lib/types.ts";
import {
  encodeAck,
  encodeTopics,
  type HsmConfig,
  HsmDecoder,
  type HsmMessage,
  REQ,
  type TopicKind,
} from "./codec.ts";
import { type HsmInstrument, hsmTick, type InstrumentState, topicName } from "./ticks.ts";

/** Channels a broker's topics go on. */
export interface ChannelPlan {
  first: number;
  last: number;
  /** Topics a channel takes before the next one is used (Kotak's client: 200). */
  perChannel: number;
}

/** What a broker brings to the shared HSM dialect. */
export interface HsmDialectSpec {
  config: HsmConfig;
  endpoint(signal: AbortSignal): Endpoint | Promise<Endpoint>;
  /** The connect/auth request, sent as soon as the socket opens. */
  login(): Frame[];
  keepAlive?: { everyMs: number; frame(): Frame };
  channels: ChannelPlan;
  /** Most topics in one subscribe/unsubscribe request. */
  maxTopicsPerRequest: number;
  /**
   * The connect reply said `K`: frames to send before resubscribing (Fyers' full-mode request),
   * and a log line (e.g. a streamDataConfig that could not be used).
   */
  onLoggedIn?(msg: Extract<HsmMessage, { type: "connect" }>, decoder: HsmDecoder): {
    reply?: Frame[];
    log?: Decoded["log"];
  };
}

/** Stream modes: LTP and Quote are one stream (the full scrip topic); Depth adds `dp`. */
function streamMode(mode: Mode): Mode {
  return mode === 3 ? 3 : 2;
}

/** Assigns topics to channels, filling each up to `perChannel` (the last one takes the rest). */
export class ChannelAllocator {
  readonly #plan: ChannelPlan;
  readonly #of = new Map<string, number>();
  readonly #load = new Map<number, number>();

  constructor(plan: ChannelPlan) {
    this.#plan = plan;
  }

  /** The channel of a topic, assigning one if it has none. */
  assign(topic: string): number {
    const have = this.#of.get(topic);
    if (have !== undefined) return have;
    const { first, last, perChannel } = this.#plan;
    let ch = first;
    while (ch < last && (this.#load.get(ch) ?? 0) >= perChannel) ch++;
    this.#of.set(topic, ch);
    this.#load.set(ch, (this.#load.get(ch) ?? 0) + 1);
    return ch;
  }

  /** The channel a topic was on (and frees its place), or the first channel if it had none. */
  release(topic: string): number {
    const ch = this.#of.get(topic);
    if (ch === undefined) return this.#plan.first;
    this.#of.delete(topic);
    this.#load.set(ch, (this.#load.get(ch) ?? 1) - 1);
    return ch;
  }

  /** Forgets every assignment (a new connection). */
  clear(): void {
    this.#of.clear();
    this.#load.clear();
  }
}

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/**
 * The `exp` (epoch seconds) and other claims of a JWT's payload, or null when `token` is not a JWT.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const payload = btoa(JSON.stringify({ hsm_key: "k", exp: 1 })).replace(/=+$/, "");
 * assert.deepEqual(jwtClaims(`x.${payload}.y`), { hsm_key: "k", exp: 1 });
 * assert.equal(jwtClaims("not-a-jwt"), null);
 * ```
 */
export function jwtClaims(token: string): Record<string, unknown> | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = JSON.parse(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)));
    return typeof json === "object" && json !== null && !Array.isArray(json)
      ? json as Record<string, unknown>
      : null;
  } catch {
    return null;
  }
}

/**
 * Throws AuthError when a JWT's `exp` has passed (a token the broker would reject anyway).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.throws(() => rejectExpired({ exp: 1 }, 2_000, "kotak"), /expired/);
 * rejectExpired({ exp: 10 }, 2_000, "kotak");
 * ```
 */
export function rejectExpired(
  claims: Record<string, unknown> | null,
  now: number,
  who: string,
): void {
  const exp = claims?.exp;
  if (typeof exp === "number" && now >= exp * 1000) {
    throw new AuthError(`${who}: access token expired at ${new Date(exp * 1000).toISOString()}`);
  }
}

/**
 * The dialect of one HSM connection.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeConnectReply, KOTAK_HSM } from "./codec.ts";
 * const d = hsmDialect({
 *   config: KOTAK_HSM, endpoint: () => ({ url: "ws://127.0.0.1:1/" }), login: () => [],
 *   channels: { first: 2, last: 16, perChannel: 200 }, maxTopicsPerRequest: 100,
 * }, { connection: 0, lookup: () => undefined });
 * d.login?.();
 * assert.deepEqual(d.decode(encodeConnectReply(true, 0), 0), { loggedIn: true });
 * ```
 */
export function hsmDialect<I extends HsmInstrument>(
  spec: HsmDialectSpec,
  context: DialectContext<I>,
): Dialect<I> & { readonly decoder: HsmDecoder } {
  const decoder = new HsmDecoder(spec.config);
  const channels = new ChannelAllocator(spec.channels);
  const wanted = new Map<string, Wanted<I>>();
  const states = new Map<string, InstrumentState>();

  function topicsOf(items: readonly Wanted<I>[], kinds: "main" | "depth" | "all"): string[][] {
    // One kind per request, as the official clients send them.
    const byKind: Record<TopicKind, string[]> = { sf: [], if: [], dp: [] };
    for (const w of items) {
      const token = w.instrument.token;
      const main: TopicKind = w.instrument.index ? "if" : "sf";
      if (kinds !== "depth") byKind[main].push(topicName(main, token));
      if (kinds !== "main" && !w.instrument.index && (kinds === "depth" || w.mode === 3)) {
        byKind.dp.push(topicName("dp", token));
      }
    }
    return [byKind.sf, byKind.if, byKind.dp].filter((t) => t.length > 0);
  }

  function frames(
    type: typeof REQ.SUBSCRIBE | typeof REQ.UNSUBSCRIBE,
    groups: string[][],
  ): Frame[] {
    const out: Frame[] = [];
    for (const topics of groups) {
      const byChannel = new Map<number, string[]>();
      for (const t of topics) {
        const ch = type === REQ.SUBSCRIBE ? channels.assign(t) : channels.release(t);
        const list = byChannel.get(ch);
        if (list === undefined) byChannel.set(ch, [t]);
        else list.push(t);
      }
      for (const [ch, list] of byChannel) {
        for (const c of chunks(list, spec.maxTopicsPerRequest)) out.push(encodeTopics(type, c, ch));
      }
    }
    return out;
  }

  function ticksOf(msg: Extract<HsmMessage, { type: "data" }>, now: number): Tick[] {
    const ticks: Tick[] = [];
    const touched = new Set<string>();
    for (const t of msg.changed) {
      let st = states.get(t.key);
      if (st === undefined) states.set(t.key, st = {});
      if (t.kind === "dp") st.depth = t;
      else st.main = t;
      touched.add(t.key);
    }
    for (const key of touched) {
      const instrument = context.lookup(key);
      const w = wanted.get(key);
      if (instrument === undefined || w === undefined) continue;
      const tick = hsmTick(instrument, w.mode, states.get(key)!, now);
      if (tick !== null) ticks.push(tick);
    }
    return ticks;
  }

  return {
    decoder,
    endpoint: (signal) => spec.endpoint(signal),
    login() {
      // A new socket: topic ids, acks and channel places start afresh.
      decoder.reset();
      channels.clear();
      states.clear();
      return spec.login();
    },
    awaitsLogin: true,
    keepAlive: spec.keepAlive,
    streamMode,
    subscribe(items) {
      for (const w of items) wanted.set(w.instrument.token, w);
      return frames(REQ.SUBSCRIBE, topicsOf(items, "all"));
    },
    unsubscribe(items, mode) {
      for (const w of items) {
        wanted.delete(w.instrument.token);
        states.delete(w.instrument.token);
      }
      const groups = topicsOf(items, "main");
      if (mode === 3) groups.push(...topicsOf(items, "depth"));
      return frames(REQ.UNSUBSCRIBE, groups);
    },
    changeMode(items, from, to) {
      // Only Depth ↔ the rest changes topics: `dp` is added or dropped, the scrip topic stays.
      if (streamMode(from) === streamMode(to)) return [];
      if (to === 3) return frames(REQ.SUBSCRIBE, topicsOf(items, "depth"));
      for (const w of items) {
        const st = states.get(w.instrument.token);
        if (st !== undefined) st.depth = undefined;
      }
      return frames(REQ.UNSUBSCRIBE, topicsOf(items, "depth"));
    },
    decode(data, now): Decoded {
      if (typeof data === "string") {
        return { log: { level: "info", message: `text frame: ${data.slice(0, 200)}` } };
      }
      const bytes = data instanceof Uint8Array
        ? data
        : data instanceof ArrayBuffer
        ? new Uint8Array(data)
        // A subject-addressed message only comes from non-WebSocket transports; HSM has none.
        : data.data;
      const msg = decoder.decode(bytes);
      switch (msg.type) {
        case "data": {
          const ticks = ticksOf(msg, now);
          if (msg.ack === undefined) return ticks.length > 0 ? { ticks } : NOTHING;
          return { ticks, reply: [encodeAck(msg.ack)] };
        }
        case "connect": {
          if (!msg.ok) {
            return { authFailed: `${spec.config.name} rejected the connect request (N)` };
          }
          const extra = spec.onLoggedIn?.(msg, decoder) ?? {};
          return { loggedIn: true, ...extra };
        }
        case "status":
          if (msg.ok) return NOTHING;
          return {
            log: {
              level: "warning",
              message: `${spec.config.name} refused request type ${msg.request} (N)`,
            },
          };
        case "malformed":
          return { malformed: msg.reason };
        default:
          return NOTHING;
      }
    },
  };
}
