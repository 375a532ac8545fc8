// The one configuration of the gateway: a zod schema, merged from a JSON file, the environment and
// command-line flags (in that order of precedence, flags last). A bad value fails at start with a
// message naming the field.

import { z } from "zod";
import { budgetSchema, consumerClassSchema } from "../budget/mod.ts";
import { MARKET_DATA_DEFAULTS } from "../market_data/mod.ts";

const portSchema = z.number().int().min(0).max(65535);

/** Client-facing limits. */
export const limitsSchema = z.object({
  /** Milliseconds a new client has to authenticate before close 4401. */
  authGraceMs: z.number().int().positive().default(15_000),
  /** Largest accepted client frame; larger ones get INVALID_MESSAGE and close 1009. */
  maxFrameBytes: z.number().int().min(1024).default(1_048_576),
  /** Instruments one subscribe/unsubscribe request may list; more get INVALID_PARAMETERS. */
  maxEntriesPerRequest: z.number().int().positive().default(5000),
  /** Subscriptions one client may hold (keys). */
  maxSubscriptionsPerClient: z.number().int().positive().default(5000),
  /** Bytes waiting above the kernel beyond which ticks are queued (newest per key), not written. */
  sendHighWaterBytes: z.number().int().positive().default(262_144),
  /**
   * Staleness bound, ms: a client whose real lag (ping/pong round trips behind its data) passes
   * half of it is sent the newest tick per key in rounds, so it reads no tick much older than this.
   */
  maxStalenessMs: z.number().int().min(20).default(250),
  /** A client behind the staleness bound (or with its send buffer full) this long is closed 1008. */
  slowConsumerMs: z.number().int().positive().default(10_000),
  /** A peer that has not answered our close frame within this is cut at the TCP level. */
  closeTimeoutMs: z.number().int().positive().default(3_000),
  /** Each HTTP request (headers and body) must arrive within this; idle keep-alive too. */
  requestTimeoutMs: z.number().int().positive().default(10_000),
  /** Open TCP connections from one address (WebSocket clients included); more are cut at accept. */
  maxConnectionsPerAddress: z.number().int().positive().default(2_000),
  /** Open TCP connections in total (WebSocket clients included); more are cut at accept. */
  maxConnections: z.number().int().positive().default(12_000),
  /** Milliseconds between batched frames, for clients that opted in to batching. */
  batchIntervalMs: z.number().int().min(1).max(1000).default(5),
  /** Incoming messages per second per client (token-bucket refill rate). */
  messagesPerSecond: z.number().int().positive().default(500),
  /** Token-bucket size: messages a client may send at once; also its most requests in flight. */
  messageBurst: z.number().int().positive().default(1000),
  /** Messages refused in a row (rate limited) after which the client is closed (1008). */
  floodCloseAfter: z.number().int().positive().default(10_000),
  /** Failed authentications per address per minute before RATE_LIMITED. */
  authFailuresPerMinute: z.number().int().positive().default(10),
  /** WebSocket ping after this many seconds idle; close if no pong within the same time. */
  idleTimeoutS: z.number().int().min(0).default(20),
  /** WebSocket clients connected at once; more are refused with HTTP 503. */
  maxClients: z.number().int().positive().default(10_000),
}).strict();

const MD = MARKET_DATA_DEFAULTS;

/** MarketDataService settings; defaults from the service's one defaults table. */
export const marketDataSchema = z.object({
  /** Milliseconds between safety-gate checks. */
  checkIntervalMs: z.number().int().positive().default(MD.checkIntervalMs),
  /** Milliseconds of silence (with subscriptions) before trade management pauses. */
  staleAfterMs: z.number().int().positive().default(MD.staleAfterMs),
  /** A price move beyond this many percent against the previous LTP is flagged. */
  maxJumpPercent: z.number().positive().default(MD.maxJumpPercent),
  /** Milliseconds: an exchange timestamp older than this is flagged. */
  maxExchangeAgeMs: z.number().int().positive().default(MD.maxExchangeAgeMs),
  /** Recent ticks kept per instrument. */
  ringSize: z.number().int().positive().default(MD.ring.size),
  /** Milliseconds a recent tick is kept. */
  ringMaxAgeMs: z.number().int().positive().default(MD.ring.maxAgeMs),
  /** Keep recent ticks for every streamed instrument, not only those in-process subscribers watch. */
  ringAllSymbols: z.boolean().default(MD.ringAllSymbols),
}).strict();

/** The candle history endpoint (`GET /api/v1/candles`). */
export const historySchema = z.object({
  /**
   * The recorder's recording: a folder holding `ticks.duckdb` and `parquet/` (the recorder's
   * default layout, `recordings`), or the path of its DuckDB file (`parquet/` beside it).
   */
  recordings: z.string().min(1).default("recordings"),
  /** The Parquet root of rolled days, when the recorder ran with another `--parquet`. */
  parquet: z.string().min(1).optional(),
  /** Most bars one request may span; a longer range is refused with INVALID_PARAMETERS. */
  maxBars: z.number().int().positive().max(1_000_000).default(20_000),
  /**
   * Closed bars each live candle series keeps in memory for the endpoint (the current session);
   * older bars come from the recording. 375 is a whole NSE day of 1m bars.
   */
  memoryBars: z.number().int().min(0).max(100_000).default(500),
}).strict();

/** Broker selection and credentials. */
export const brokerSchema = z.object({
  name: z.string().min(1).default("paper"),
  apiKey: z.string().optional(),
  accessToken: z.string().optional(),
  /** Broker-specific extras (client code, TOTP secret, ...). */
  extra: z.record(z.string(), z.string()).default({}),
  feedUrl: z.string().optional(),
  instruments: z.string().optional(),
  userId: z.string().default("local"),
  /** Adapter-specific options passed to the worker as-is (the adapter validates them). */
  options: z.record(z.string(), z.unknown()).default({}),
  /** May lower the adapter's declared limits. */
  maxSymbolsPerConnection: z.number().int().positive().optional(),
  maxConnections: z.number().int().positive().optional(),
}).strict();

const apiKeyText = z.string().refine(
  (k) => /^sha256:[0-9a-f]{64}$/.test(k) || (!k.startsWith("sha256:") && k.length >= 16),
  "API keys must be at least 16 characters, or sha256:<64 lowercase hex digits>",
);

/**
 * A named API key with its consumer class (see lib/budget). A bare string in `apiKeys` is a key
 * named after its position with class `trading`, which is how keys behaved before classes.
 */
export const apiKeyEntrySchema = z.object({
  /** Shown in `/api/v1/budget`, the dashboard and logs instead of the key. */
  name: z.string().min(1).max(64),
  /** The key: `sha256:<hex>` digest (preferred) or plaintext of at least 16 characters. */
  key: apiKeyText,
  class: consumerClassSchema.default("trading"),
  /** Streaming keys this API key may hold across all its clients (none = no per-key quota). */
  quota: z.number().int().positive().optional(),
}).strict();

/** The option chain service (`subscribe_option_chain`); the model is described in docs/option-model.md. */
export const optionChainSchema = z.object({
  /** One `option_chain` frame per chain per interval, ms. */
  intervalMs: z.number().int().min(100).max(60_000).default(1000),
  /** Continuously compounded risk-free rate for Black-76 (0.065 = 6.5 %). */
  rate: z.number().min(-0.05).max(0.5).default(0.065),
  /** Largest `strikes` (each side of ATM) a client may ask for. */
  maxStrikes: z.number().int().min(1).max(200).default(50),
  /** Chains one client may hold at once. */
  maxChainsPerClient: z.number().int().min(1).max(100).default(5),
  /**
   * How long a new chain waits for the underlying's first price before subscribing its first window
   * of strikes, ms (without a price the window starts mid-listing and moves a frame later).
   */
  firstPriceWaitMs: z.number().int().min(0).max(30_000).default(2000),
  /** How long an underlying's listing (expiries, strikes) is reused before asking the adapter again, ms. */
  listingTtlMs: z.number().int().min(0).default(600_000),
}).strict();

/** The parsed option chain section. */
export type OptionChainConfig = z.infer<typeof optionChainSchema>;

const natsServer = z.string().regex(
  /^(nats|tls):\/\/[^\s,]+$/,
  "must be a NATS server URL like nats://127.0.0.1:4222",
);

/**
 * NATS: the distributed bus (`--bus nats://…`) and, on an edge (`--upstream nats://…`), the link to
 * the primary. At most one way to authenticate: user and pass, a token, or an nkey seed file.
 */
export const natsSchema = z.object({
  /** Servers of one NATS cluster; the client picks one and fails over to the others. */
  servers: z.array(natsServer).min(1),
  /** Connection name shown by the NATS server's monitoring (default `tickplex-<role>`). */
  name: z.string().min(1).max(128).optional(),
  user: z.string().min(1).optional(),
  pass: z.string().min(1).optional(),
  token: z.string().min(1).optional(),
  /** Path of a file holding an nkey seed (`SU…`), for nkey authentication. */
  nkeySeedFile: z.string().min(1).optional(),
  /** TLS to the NATS server: PEM file paths (CA to trust; client certificate and key). */
  tls: z.object({
    caFile: z.string().min(1).optional(),
    certFile: z.string().min(1).optional(),
    keyFile: z.string().min(1).optional(),
  }).strict().refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), {
    message: "certFile and keyFile go together",
  }).optional(),
  /** First token(s) of every subject, e.g. one prefix per broker login sharing a cluster. */
  subjectPrefix: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/).default("tickplex"),
  /** Lease of an edge's subscriptions at the primary; the edge renews every third of it. */
  leaseMs: z.number().int().min(300).max(600_000).default(15_000),
  /** Deadline of one control request (subscribe, unsubscribe, renew) to the primary. */
  requestTimeoutMs: z.number().int().min(50).max(60_000).default(5_000),
  /**
   * A bounded JetStream stream of the bus (the NATS server must run with JetStream): the primary
   * creates or updates it; an edge that sees a `seq` gap on a key fetches the missed ticks from it.
   */
  jetstream: z.object({
    stream: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).default("TICKPLEX"),
    /** How long ticks are kept. */
    maxAgeMs: z.number().int().min(1000).max(86_400_000).default(300_000),
    /** Size bound of the stream; the oldest ticks go first. */
    maxBytes: z.number().int().min(1 << 20).default(256 << 20),
    storage: z.enum(["memory", "file"]).default("memory"),
  }).strict().optional(),
}).strict().refine((n) => (n.user === undefined) === (n.pass === undefined), {
  message: "user and pass go together",
}).refine(
  (n) => [n.user, n.token, n.nkeySeedFile].filter((v) => v !== undefined).length <= 1,
  { message: "choose one of user/pass, token, nkeySeedFile" },
);

/** Names of the keys that do not come from `apiKeys`: `TICKPLEX_API_KEY` and the key file. */
export const RESERVED_KEY_NAMES: readonly string[] = ["env", "key-file"];

/**
 * The name of a bare-string `apiKeys` entry: `key-<1-based position>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(apiKeyName(0), "key-1");
 * ```
 */
export function apiKeyName(index: number): string {
  return `key-${index + 1}`;
}

/** The whole configuration. */
export const configSchema = z.object({
  host: z.string().min(1).default("127.0.0.1"),
  port: portSchema.default(8765),
  bus: z.string().regex(
    /^(tcp|ipc|inproc):\/\/.+/,
    "must be a zeromq endpoint like tcp://127.0.0.1:5555",
  )
    .default("tcp://127.0.0.1:5555"),
  /**
   * API keys accepted from clients: `sha256:<64 hex>` digests (preferred — `tickplex hash-key`
   * prints one) or plaintext keys of at least 16 characters (hashed in memory at start).
   */
  apiKeys: z.array(z.union([apiKeyText, apiKeyEntrySchema])).superRefine((keys, ctx) => {
    const seen = new Map<string, number>();
    keys.forEach((k, i) => {
      const name = typeof k === "string" ? apiKeyName(i) : k.name;
      const first = seen.get(name);
      if (first !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: [i, ...(typeof k === "string" ? [] : ["name"])],
          message: `the name '${name}' is already used by apiKeys.${first}` +
            (typeof k === "string" ? " (a bare key is named key-<position>)" : "") +
            "; API key names must be unique",
        });
      } else if (RESERVED_KEY_NAMES.includes(name)) {
        ctx.addIssue({
          code: "custom",
          path: [i, "name"],
          message: `'${name}' is reserved for the ${
            name === "env" ? "TICKPLEX_API_KEY" : "key file"
          } key; choose another name`,
        });
      }
      seen.set(name, i);
    });
  }).default([]),
  /** TLS for :8765 (wss:// and https://): PEM file paths. */
  tls: z.object({ cert: z.string().min(1), key: z.string().min(1) }).strict().optional(),
  /**
   * Browser origins allowed to open a WebSocket (e.g. `https://dash.example.com`). Clients
   * without an Origin header (scripts, SDKs) and same-origin pages are always allowed.
   */
  allowedOrigins: z.array(z.string().url()).default([]),
  /**
   * Where bus readers request snapshots (a zeromq ROUTER, docs/bus.md). Default: the bus host on a
   * free port (announced in the bus heartbeat), or `<bus>-snapshot` for ipc/inproc.
   */
  busSnapshot: z.string().regex(
    /^(tcp|ipc|inproc):\/\/.+/,
    "must be a zeromq endpoint like tcp://127.0.0.1:5556",
  ).optional(),
  /** CURVE server keys (Z85); required when the bus binds a non-loopback address. */
  busCurve: z.object({ publicKey: z.string().length(40), secretKey: z.string().length(40) })
    .strict().optional(),
  /** Where the generated key is stored when no key is configured. */
  keyFile: z.string().default(".tickplex/api_key"),
  logLevel: z.enum(["debug", "info", "warning", "error"]).default("info"),
  /**
   * A client subscribing to a key the gateway already has a tick for gets that tick at once, as a
   * `market_data` frame whose `data` carries `"snapshot": true`; in-process MarketDataService
   * subscribers likewise get an update with `snapshot: true`.
   */
  snapshotOnSubscribe: z.boolean().default(true),
  broker: brokerSchema.default(() => brokerSchema.parse({})),
  /** MarketDataService: safety-gate monitor, validation bounds and the recent-tick ring buffer. */
  marketData: marketDataSchema.default(() => marketDataSchema.parse({})),
  limits: limitsSchema.default(() => limitsSchema.parse({})),
  /** Candle history: where the recording is, request and memory bounds. */
  history: historySchema.default(() => historySchema.parse({})),
  /** The subscription budget: trading reserve, pre-emption, stream-or-poll routing. */
  budget: budgetSchema.default(() => budgetSchema.parse({})),
  /** The option chain service (`subscribe_option_chain`). */
  optionChain: optionChainSchema.default(() => optionChainSchema.parse({})),
  /**
   * Share `port` with other processes that ask the same (Linux SO_REUSEPORT): the edges of
   * `--fanout-processes` and their primary all listen on one port and the kernel spreads clients.
   */
  reusePort: z.boolean().default(false),
  /** NATS, alongside the zeromq bus: ticks on `tickplex.v1.…` and the edges' leases. */
  nats: natsSchema.optional(),
  /**
   * Run as an edge (`--upstream nats://…`): no broker login; clients are served from the bus of the
   * primary reached over `nats`.
   */
  edge: z.boolean().default(false),
}).strict().refine((c) => !c.edge || c.nats !== undefined, {
  message: "an edge needs nats.servers (--upstream nats://host:4222)",
  path: ["nats"],
});

export type Config = z.infer<typeof configSchema>;
/** The NATS block of the configuration. */
export type NatsConfig = z.infer<typeof natsSchema>;
export type Limits = z.infer<typeof limitsSchema>;
/** One `apiKeys` entry in its named form. */
export type ApiKeyEntry = z.infer<typeof apiKeyEntrySchema>;

/** A configuration problem; `message` names the field. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Formats zod issues as `field.path: problem` lines. */
export function describeIssues(error: z.ZodError, prefix = ""): string {
  return error.issues.flatMap((i) => explain(i, [])).map((i) => {
    const path = [prefix, ...i.path.map(String)].filter(Boolean).join(".");
    return `${path || "(root)"}: ${i.message}`;
  }).join("\n");
}

type Issue = z.core.$ZodIssue;

/**
 * A union that failed says only "Invalid input"; when exactly one of its shapes matched the
 * value's type (e.g. the object form of an `apiKeys` entry), its own problems say more.
 */
function explain(i: Issue, base: PropertyKey[]): { path: PropertyKey[]; message: string }[] {
  const path = [...base, ...i.path];
  if (i.code === "invalid_union" && i.errors.length > 0) {
    const fitting = i.errors.filter((branch) =>
      !branch.some((b) => b.code === "invalid_type" && b.path.length === 0)
    );
    if (fitting.length === 1) return fitting[0].flatMap((b) => explain(b, path));
  }
  return [{ path, message: i.message }];
}

/** Flags and environment that override the file. */
export interface ConfigOverrides {
  host?: string;
  port?: string;
  /**
   * Bus endpoints (repeatable, or comma-separated): `nats://`/`tls://` URLs are NATS servers,
   * anything else the zeromq endpoint.
   */
  bus?: string | string[];
  /** NATS servers of the primary: run as an edge. */
  upstream?: string | string[];
  broker?: string;
  feedUrl?: string;
  instruments?: string;
}

const envSchema = z.object({
  TICKPLEX_API_KEY: z.string().min(16, "must be at least 16 characters").optional(),
  TICKPLEX_HOST: z.string().min(1).optional(),
  TICKPLEX_PORT: z.string().regex(/^\d+$/, "must be a port number").optional(),
  TICKPLEX_BUS: z.string().optional(),
  TICKPLEX_BROKER: z.string().min(1).optional(),
  TICKPLEX_BROKER_API_KEY: z.string().min(1).optional(),
  TICKPLEX_BROKER_ACCESS_TOKEN: z.string().min(1).optional(),
  TICKPLEX_LOG_LEVEL: z.enum(["debug", "info", "warning", "error"]).optional(),
});

/**
 * Builds the configuration from an optional JSON file, the environment and flags.
 * Throws {@link ConfigError} naming the bad field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // From a file, the environment and flags (here no file): `env: Deno.env.toObject()` in practice.
 * const { config } = await loadConfig({ env: { TICKPLEX_PORT: "9000" }, overrides: { host: "0.0.0.0" } });
 * assert.equal(config.port, 9000);
 * assert.equal(config.host, "0.0.0.0");
 * assert.equal(config.broker.name, "paper");
 * await assert.rejects(
 *   loadConfig({ env: { TICKPLEX_PORT: "http" }, overrides: {} }),
 *   ConfigError,
 * );
 * ```
 */
export async function loadConfig(opts: {
  file?: string;
  env: Record<string, string | undefined>;
  overrides: ConfigOverrides;
}): Promise<{ config: Config; envApiKey: string | null }> {
  let raw: Record<string, unknown> = {};
  if (opts.file) {
    let text: string;
    try {
      text = await Deno.readTextFile(opts.file);
    } catch (e) {
      throw new ConfigError(`config file ${opts.file}: ${e instanceof Error ? e.message : e}`);
    }
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new ConfigError(
        `config file ${opts.file}: invalid JSON (${e instanceof Error ? e.message : e})`,
      );
    }
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw new ConfigError(`config file ${opts.file}: must hold a JSON object`);
    }
  }
  const envKeys = Object.fromEntries(
    Object.entries(opts.env).filter(([k]) => k.startsWith("TICKPLEX_")),
  );
  const env = envSchema.safeParse(envKeys);
  if (!env.success) throw new ConfigError(describeIssues(env.error));
  const e = env.data;
  const o = opts.overrides;
  const broker: Record<string, unknown> = { ...(raw.broker as Record<string, unknown> ?? {}) };
  const set = (target: Record<string, unknown>, key: string, v: unknown) => {
    if (v !== undefined) target[key] = v;
  };
  set(broker, "name", o.broker ?? e.TICKPLEX_BROKER);
  set(broker, "apiKey", e.TICKPLEX_BROKER_API_KEY);
  set(broker, "accessToken", e.TICKPLEX_BROKER_ACCESS_TOKEN);
  set(broker, "feedUrl", o.feedUrl);
  set(broker, "instruments", o.instruments);
  // TICKPLEX_BROKER_<NAME> extras (client codes, TOTP secrets) for brokers that need them.
  const extra: Record<string, string> = { ...(broker.extra as Record<string, string> ?? {}) };
  for (const [k, v] of Object.entries(envKeys)) {
    const m = /^TICKPLEX_BROKER_(.+)$/.exec(k);
    if (m && v !== undefined && !["API_KEY", "ACCESS_TOKEN"].includes(m[1])) {
      extra[m[1].toLowerCase()] = v;
    }
  }
  if (Object.keys(extra).length > 0) broker.extra = extra;
  const merged: Record<string, unknown> = { ...raw, broker };
  set(merged, "host", o.host ?? e.TICKPLEX_HOST);
  const port = o.port ?? e.TICKPLEX_PORT;
  if (port !== undefined) {
    if (!/^\d+$/.test(port)) throw new ConfigError(`port: must be a number, got '${port}'`);
    merged.port = Number(port);
  }
  const split = (v: string | string[] | undefined): string[] =>
    (Array.isArray(v) ? v : v === undefined ? [] : [v]).flatMap((x) => x.split(","))
      .map((x) => x.trim()).filter((x) => x !== "");
  const isNats = (u: string) => /^(nats|tls):\/\//.test(u);
  // Flags win over the environment, each kind of bus on its own: `--bus nats://…` adds NATS and
  // keeps a zeromq endpoint given in TICKPLEX_BUS, and the other way round.
  const flagBus = split(o.bus);
  const envBus = split(e.TICKPLEX_BUS);
  const pick = (nats: boolean) => {
    const f = flagBus.filter((u) => isNats(u) === nats);
    return f.length > 0 ? f : envBus.filter((u) => isNats(u) === nats);
  };
  const zmq = pick(false);
  if (zmq.length > 1) {
    throw new ConfigError(`bus: one zeromq endpoint at most, got ${zmq.join(", ")}`);
  }
  set(merged, "bus", zmq[0]);
  const upstream = split(o.upstream);
  const natsServers = upstream.length > 0 ? upstream : pick(true);
  if (upstream.length > 0) merged.edge = true;
  if (natsServers.length > 0) {
    const file = raw.nats;
    merged.nats = {
      ...(typeof file === "object" && file !== null ? file : {}),
      servers: natsServers,
    };
  }
  set(merged, "logLevel", e.TICKPLEX_LOG_LEVEL);
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) throw new ConfigError(describeIssues(parsed.error));
  return { config: parsed.data, envApiKey: e.TICKPLEX_API_KEY ?? null };
}
