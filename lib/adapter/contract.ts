// The adapter contract: what the main isolate knows about a broker (its descriptor) and what the
// worker runtime drives (its handlers). Every broker, simulated or real, implements both.

import type { Capabilities, ErrorCode, FeedState, Mode, Tick } from "../types.ts";
import type { FaultKind, ItemResult, StreamItem } from "./messages.ts";

/** An environment variable that feeds one adapter option (credentials, client codes). */
export interface CredentialVar {
  /** `TICKPLEX_BROKER_API_KEY`, `TICKPLEX_BROKER_CLIENT_CODE` ... */
  env: string;
  /** The adapter option it sets (`apiKey`, `clientCode` ...). */
  option: string;
  required: boolean;
  /** Masked in logs. */
  secret: boolean;
  /** One line for `--help` and the README. */
  help: string;
}

/** A broker simulator runnable with `deno task sim <name>`. */
export type SimulatorMain = (args: string[]) => Promise<void>;

/**
 * One broker adapter as the main isolate sees it. Registering a broker is adding its descriptor
 * to the list in `adapters/mod.ts`; nothing else names brokers.
 */
export interface BrokerDescriptor {
  /** `--broker` value. */
  readonly name: string;
  /** One line: who and which feed (`Zerodha Kite Connect v3 ticker`). */
  readonly title: string;
  /** Module URL of the adapter's Web Worker. */
  readonly workerUrl: URL;
  /** `host:port` pairs of the broker's production endpoints; the permission sets must allow them. */
  readonly hosts: readonly string[];
  /** Environment variables that feed options (credentials). */
  readonly credentials: readonly CredentialVar[];
  /**
   * Parses options (config + credentials) and returns the capabilities the worker runs with,
   * including the hosts and files it may reach. Throws an Error naming every bad field.
   */
  capabilities(options: unknown): Capabilities;
  /** The local simulator speaking this broker's dialect, if it has one. */
  readonly simulator?: SimulatorMain;
}

/** What an adapter uses to talk to the main isolate. */
export interface AdapterOutput {
  /** One call per broker frame: the batch becomes one postMessage. */
  ticks(ticks: Tick[]): void;
  status(state: FeedState, detail?: string): void;
  log(level: "debug" | "info" | "warning" | "error", message: string): void;
}

/** A broker adapter as the worker runtime drives it. */
export interface AdapterHandlers {
  /**
   * Parses options and starts the broker connection. Throw `AuthError` when the credentials are
   * rejected before a connection exists (instrument download 401/403); any other throw is an
   * ordinary init failure the pool retries with backoff.
   */
  init(connection: number, options: unknown, out: AdapterOutput): Promise<void> | void;
  subscribe(items: StreamItem[]): Promise<ItemResult[]>;
  unsubscribe(items: { exchange: string; symbol: string }[]): Promise<ItemResult[]>;
  setMode(items: StreamItem[]): Promise<ItemResult[]>;
  /**
   * One REST multi-quote call for `items` at `mode` (at most the capability's `maxInstruments`),
   * answered with normalised ticks — the same shape as streamed ones. Only adapters that declare
   * `quotes` in their capabilities implement it; the main isolate keeps to the rate limit. With
   * `check` it only resolves the symbols: unknown ones in `missing`, no ticks, no broker call.
   */
  quote?(
    mode: Mode,
    items: { exchange: string; symbol: string }[],
    check?: boolean,
  ): Promise<QuoteResult>;
  /** A fresh access token (daily rollover, or after `auth_failed`). */
  token(accessToken: string): void;
  /** Scripted faults; simulated adapters only. */
  fault?(kind: FaultKind): void;
  close(): Promise<void>;
}

/**
 * The answer to one quote call: ticks for what the broker quoted and the instruments it did not
 * (unknown, expired), or a failure of the whole call. `RATE_LIMITED` (HTTP 429) carries the wait
 * the broker asked for, when it said.
 */
export type QuoteResult =
  | { ok: true; ticks: Tick[]; missing: { exchange: string; symbol: string }[] }
  | { ok: false; code: ErrorCode; message: string; retryAfterMs?: number };
