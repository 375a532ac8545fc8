// What a broker's live session must say that no other broker says: where to connect, how to log
// in and keep alive, the subscribe/unsubscribe frames, and how to read what the broker sends. The
// kit's BrokerSession (session.ts) does everything else — timeouts, watchdogs, backoff, auth-retry
// policy, the wanted set and resubscription, frame pacing.

import type { Mode, Tick } from "../types.ts";
import type { BrokerInstrument } from "./instruments.ts";

/** One message to the broker: text or binary. */
export type Frame = string | Uint8Array;

/** Where one connection attempt goes (rebuilt before every attempt, so fresh tokens are used). */
export interface Endpoint {
  url: string;
  /** Handshake headers (Angel's auth headers, Kite's version header). */
  headers?: Record<string, string>;
  protocols?: string[];
}

/** How a connection ended, as the transport saw it. */
export interface CloseInfo {
  /** The handshake had completed. */
  opened: boolean;
  code: number;
  reason: string;
  /** Error text of a failed handshake (Deno puts the HTTP status here, e.g. `403 Forbidden`). */
  error: string;
}

/**
 * A message a publish/subscribe transport delivered on a subject (Groww's NATS): the subject, not
 * the payload, says what the message is about, so the transport hands both to `decode`.
 */
export interface SubjectMessage {
  readonly subject: string;
  readonly data: Uint8Array;
}

/** What a transport hands `decode`: a WebSocket message, or a message addressed by subject. */
export type TransportMessage = string | ArrayBuffer | Uint8Array | SubjectMessage;

/** Callbacks a transport drives. */
export interface TransportEvents {
  open(): void;
  message(data: TransportMessage): void;
  close(info: CloseInfo): void;
}

/** A live link to the broker; WebSocket unless the dialect brings its own (Groww: NATS). */
export interface Transport {
  send(frame: Frame): void;
  close(code?: number, reason?: string): void;
}

/** What one broker message meant. Return {@link NOTHING} for a message that carries nothing. */
export interface Decoded {
  /** Normalised ticks (OpenAlgo exchange/symbol, rupees, epoch ms; unknown fields null). */
  ticks?: Tick[];
  /** The broker accepted the login (dialects with `awaitsLogin`). */
  loggedIn?: boolean;
  /** The broker rejected or expired the credentials: `auth_failed`, wait for a fresh token. */
  authFailed?: string;
  /** The broker ended the session for another reason: reconnect with backoff. */
  disconnect?: string;
  /** Frames to send back at once (pong to a broker ping). */
  reply?: Frame[];
  /** A malformed message, counted and reported (rate-limited) under this reason. */
  malformed?: string;
  /** Something worth a log line (broker error text, notices). */
  log?: { level: "info" | "warning" | "error"; message: string };
}

/** A decode result that carries nothing (heartbeats, acks); shared to avoid allocation. */
export const NOTHING: Decoded = Object.freeze({});

/** An instrument the session streams, with the mode and depth it streams at. */
export interface Wanted<I extends BrokerInstrument> {
  readonly instrument: I;
  mode: Mode;
  depth: number;
}

/** What the kit gives a dialect when it creates one. */
export interface DialectContext<I extends BrokerInstrument> {
  /** 0-based connection index (several connections per login). */
  readonly connection: number;
  /** The instrument of a subscribed broker token; undefined for tokens not (or no longer) wanted. */
  lookup(token: string | number): I | undefined;
}

/**
 * A broker's session settings and codec glue. All methods are synchronous and pure apart from
 * `endpoint` (which may call a REST authorise endpoint) and `transport`.
 */
export interface Dialect<I extends BrokerInstrument> {
  /** Where to connect now; throw `AuthError` when the broker rejects the credentials. */
  endpoint(signal: AbortSignal): Endpoint | Promise<Endpoint>;
  /** A non-WebSocket transport (optional; default a WebSocket to `endpoint()`). */
  transport?(endpoint: Endpoint, events: TransportEvents): Transport | Promise<Transport>;
  /** Frames sent as soon as the transport opens (login). */
  login?(): Frame[];
  /** When true the session is `connected` (and resubscribes) only after `decode` says `loggedIn`. */
  readonly awaitsLogin?: boolean;
  /** A client keep-alive the broker expects (Angel's `ping` every 10 s, Noren's `{"t":"h"}`). */
  readonly keepAlive?: { everyMs: number; frame(): Frame };
  /** Frames that make the broker stream `items` (≤ maxTokensPerFrame) at `mode`. */
  subscribe(items: readonly Wanted<I>[], mode: Mode): Frame[];
  /** Frames that stop `items` (streamed at `mode`). */
  unsubscribe(items: readonly Wanted<I>[], mode: Mode): Frame[];
  /** Frames moving `items` from `from` to `to`; default: unsubscribe(from) then subscribe(to). */
  changeMode?(items: readonly Wanted<I>[], from: Mode, to: Mode): Frame[];
  /**
   * The broker stream an OpenAlgo mode (at `depth` levels, for Depth) is delivered on: brokers
   * whose LTP and Quote are one stream map both to one value, brokers with several book sizes
   * tell them apart by depth (Upstox `full` / `full_d30`). The session only sends frames when
   * this changes. Default: the mode.
   */
  streamMode?(mode: Mode, depth: number): Mode | string;
  /**
   * Limits that depend on the mix of streams on one connection (Upstox: LTPC 5000 keys alone,
   * 2000 beside other modes). Given the number of wanted instruments per stream (keys as
   * `streamMode` returns them) after a change, the limit it would break, or null. The change is
   * then refused with `MAX_CAPACITY_REACHED`. Default: only the connection's symbol limit.
   */
  overLimit?(perStream: ReadonlyMap<Mode | string, number>): number | null;
  /** Reads one message. Never throws: malformed input is reported in `malformed`. */
  decode(data: TransportMessage, now: number): Decoded;
  /**
   * Depth levels delivered for `instrument` at Depth mode when `requested` were asked for;
   * 0 when the broker has no book for it (indices). Default: from the capabilities' depthLevels.
   */
  depthFor?(instrument: I, requested: number): number;
  /** Reads a failed handshake: "auth" for rejected credentials. Default: HTTP 401/403. */
  classifyClose?(info: CloseInfo): "auth" | "retry";
}
