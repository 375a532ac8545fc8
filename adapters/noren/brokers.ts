// The brokers that run Noren OMS's market-data WebSocket, as data: endpoints per login variant,
// the login `source`, limits and what each row was checked against. One codec and dialect serve all.

/** Noren login variants: `a` (OAuth-era access token, ack `ak`), `c` (session token, ack `ck`). */
export type NorenLogin = "a" | "c";

/** One Noren broker. Everything here is data; the dialect is shared. */
export interface NorenBrokerConfig {
  /** `--broker` value. */
  readonly name: string;
  readonly title: string;
  /** Production feed URL per login variant (a variant the broker does not offer is absent). */
  readonly feedUrls: Readonly<Partial<Record<NorenLogin, string>>>;
  /** The login used unless the options choose the other. */
  readonly defaultLogin: NorenLogin;
  /** `source` field of the login message. */
  readonly source: string;
  /** Most `EXCH|token` keys one subscribe/unsubscribe message carries. */
  readonly maxTokensPerFrame: number;
  /** Default (and highest accepted) instruments per connection. */
  readonly maxSymbolsPerConnection: number;
  /** WebSocket connections one login may hold. */
  readonly maxConnections: number;
  /** Hosts of the broker's plain-CSV instrument masters, usable as `--instruments` URLs. */
  readonly masterHosts: readonly string[];
  /** What this row's endpoints and login were checked against (the README says the same). */
  readonly verifiedAgainst: string;
}

// Neither Flattrade nor Shoonya documents a per-message cap; OpenAlgo batches 100 keys.
const TOKENS_PER_FRAME = 100;
// Undocumented for both; 1000 per connection keeps a message burst of snapshots manageable and
// two connections give 2000 instruments per login.
const SYMBOLS_PER_CONNECTION = 1000;

/**
 * Noren brokers by `--broker` name. Flattrade and Shoonya are the product's; Zebu and TradeSmart
 * differ from them only in these fields. Definedge (own master format, `source: TRTP`, one
 * connection) and Alice Blue's NorenWS (a REST `createSocketSess` call and a double-SHA-256 token
 * before the login) need more than data and are not listed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(NOREN_BROKERS.flattrade.defaultLogin, "a");
 * assert.equal(NOREN_BROKERS.shoonya.maxConnections, 2);
 * ```
 */
export const NOREN_BROKERS: Readonly<Record<string, NorenBrokerConfig>> = {
  flattrade: {
    name: "flattrade",
    title: "Flattrade PiConnect (Noren) WebSocket feed",
    feedUrls: {
      a: "wss://piconnect.flattrade.in/PiConnectWSAPI/",
      c: "wss://piconnect.flattrade.in/PiConnectWSTp/",
    },
    defaultLogin: "a",
    source: "API",
    maxTokensPerFrame: TOKENS_PER_FRAME,
    maxSymbolsPerConnection: SYMBOLS_PER_CONNECTION,
    maxConnections: 2,
    masterHosts: ["flattrade.s3.ap-south-1.amazonaws.com:443"],
    verifiedAgainst: "Flattrade's official Python client (flattrade/pythonAPI, NorenRestApi " +
      "0.0.29: t:a login with accesstoken at PiConnectWSAPI, ak ack) and brokers.md §6",
  },
  shoonya: {
    name: "shoonya",
    title: "Shoonya (Finvasia) Noren WebSocket feed",
    feedUrls: {
      a: "wss://api.shoonya.com/NorenWSAPI/",
      c: "wss://api.shoonya.com/NorenWSTP/",
    },
    defaultLogin: "a",
    source: "API",
    maxTokensPerFrame: TOKENS_PER_FRAME,
    maxSymbolsPerConnection: SYMBOLS_PER_CONNECTION,
    maxConnections: 2,
    masterHosts: [],
    verifiedAgainst: "brokers.md §6 (t:a at NorenWSAPI, the OAuth-era endpoint) and Shoonya's " +
      "official Python client (Shoonya-Dev/ShoonyaApi-py, NorenRestApi 0.0.30: t:c login with " +
      "susertoken at NorenWSTP, ck ack, tk/tf/dk/df feed) for the legacy login",
  },
  zebu: {
    name: "zebu",
    title: "Zebu MYNT (Noren) WebSocket feed",
    feedUrls: {
      a: "wss://go.mynt.in/NorenWSAPI/",
      c: "wss://go.mynt.in/NorenWSTP/",
    },
    defaultLogin: "a",
    source: "API",
    maxTokensPerFrame: TOKENS_PER_FRAME,
    maxSymbolsPerConnection: SYMBOLS_PER_CONNECTION,
    maxConnections: 2,
    masterHosts: [],
    verifiedAgainst: "endpoints from OpenAlgo's Zebu adapter and public third-party Noren " +
      "clients only; the simulator with this config; not against Zebu",
  },
  tradesmart: {
    name: "tradesmart",
    title: "TradeSmart (Noren v2) WebSocket feed",
    feedUrls: { a: "wss://v2api.tradesmartonline.in/NorenWSAPI/" },
    defaultLogin: "a",
    source: "API",
    maxTokensPerFrame: TOKENS_PER_FRAME,
    maxSymbolsPerConnection: SYMBOLS_PER_CONNECTION,
    maxConnections: 2,
    masterHosts: [],
    verifiedAgainst: "endpoint from public third-party Noren clients only; the simulator with " +
      "this config; not against TradeSmart",
  },
};
