// API-key authentication for clients: keys kept as SHA-256 digests, constant-time comparison,
// failure rate limiting per address, and the first-start key file.

import { addSecret, getLogger } from "../log.ts";
import { apiKeyName, type Config } from "../config/mod.ts";
import type { BudgetHolder } from "../budget/mod.ts";

const log = getLogger(["tickplex", "auth"]);

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** The `sha256:<hex>` form of a key, for storing keys hashed in the config. */
export async function hashKey(key: string): Promise<string> {
  const d = await digest(key);
  return "sha256:" + Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length && i < b.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** An accepted API key with whom it stands for (name, class, quota). */
export interface ApiKeyCredential {
  /** `sha256:<hex>` digest or plaintext. */
  key: string;
  holder: BudgetHolder;
}

/** Result of a key check: on success, the holder of the key that matched. */
export type AuthResult =
  | { ok: true; holder: BudgetHolder }
  | { ok: false; code: "AUTHENTICATION_ERROR" | "RATE_LIMITED"; message: string };

/** Rate limiting of failed attempts. */
export interface AuthLimits {
  /** Failures allowed per address per window before further failures are rate limited. */
  maxFailures: number;
  windowMs: number;
}

/**
 * Checks API keys. Only digests are held in memory; every check compares against every key so the
 * time taken does not depend on which key (if any) matched. A bare string key is holder
 * `key-<n>` (its 1-based position) of class `trading`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const auth = await ApiKeyAuth.create([
 *   "a-long-secret-key",
 *   { key: "the-dashboard-key", holder: { name: "wall", consumerClass: "display", kind: "api_key" } },
 * ], { maxFailures: 1, windowMs: 60_000 });
 * const ok = await auth.check("the-dashboard-key", "127.0.0.1");
 * assert.ok(ok.ok && ok.holder.name === "wall" && ok.holder.consumerClass === "display");
 * const first = await auth.check("a-long-secret-key", "127.0.0.1");
 * assert.ok(first.ok && first.holder.name === "key-1" && first.holder.consumerClass === "trading");
 * assert.equal((await auth.check("wrong", "127.0.0.1")).ok, false);
 * const limited = await auth.check("wrong-again", "127.0.0.1");
 * assert.ok(!limited.ok && limited.code === "RATE_LIMITED");
 * ```
 */
export class ApiKeyAuth {
  #digests: Uint8Array[];
  #holders: BudgetHolder[];
  #limits: AuthLimits;
  #failures = new Map<string, { count: number; since: number }>();
  #clock: () => number;
  /** Failed attempts seen, and attempts refused by the rate limit. */
  readonly counters = { failures: 0, limited: 0 };

  private constructor(
    digests: Uint8Array[],
    holders: BudgetHolder[],
    limits: AuthLimits,
    clock: () => number,
  ) {
    this.#digests = digests;
    this.#holders = holders;
    this.#limits = limits;
    this.#clock = clock;
  }

  /**
   * Builds the checker from keys: `sha256:<hex>` digests are used as they are, plaintext keys
   * are hashed and not kept.
   */
  static async create(
    keys: (string | ApiKeyCredential)[],
    limits: AuthLimits,
    clock: () => number = Date.now,
  ): Promise<ApiKeyAuth> {
    const credentials = keys.map((k, i): ApiKeyCredential =>
      typeof k === "string"
        ? { key: k, holder: { name: `key-${i + 1}`, consumerClass: "trading", kind: "api_key" } }
        : k
    );
    const digests = await Promise.all(credentials.map(({ key }) => {
      const m = /^sha256:([0-9a-f]{64})$/.exec(key);
      return m ? Promise.resolve(fromHex(m[1])) : digest(key);
    }));
    return new ApiKeyAuth(digests, credentials.map((c) => c.holder), limits, clock);
  }

  /** Whom the configured keys stand for, in configuration order. */
  get holders(): readonly BudgetHolder[] {
    return this.#holders;
  }

  /** Number of configured keys. */
  get size(): number {
    return this.#digests.length;
  }

  /** Checks `key` presented from `address`. */
  async check(key: string | null, address: string): Promise<AuthResult> {
    if (key === null) {
      return { ok: false, code: "AUTHENTICATION_ERROR", message: "API key is required" };
    }
    const d = await digest(key);
    // Every key is compared, and the index picked without a branch on the outcome.
    let match = -1;
    for (let i = 0; i < this.#digests.length; i++) {
      const equal = equalBytes(d, this.#digests[i]);
      match = equal && match < 0 ? i : match;
    }
    if (match >= 0) return { ok: true, holder: this.#holders[match] };
    this.counters.failures++;
    const now = this.#clock();
    let f = this.#failures.get(address);
    if (!f || now - f.since > this.#limits.windowMs) {
      f = { count: 0, since: now };
      this.#failures.set(address, f);
    }
    f.count++;
    if (f.count > this.#limits.maxFailures) {
      this.counters.limited++;
      if (f.count === this.#limits.maxFailures + 1) {
        log.warn("too many failed API keys from {address}; rate limiting", { address });
      }
      const retry = Math.ceil((f.since + this.#limits.windowMs - now) / 1000);
      return {
        ok: false,
        code: "RATE_LIMITED",
        message: `Too many failed authentication attempts; retry in ${retry} s`,
      };
    }
    log.info("invalid API key from {address}", { address });
    if (this.#failures.size > 10_000) this.#prune(now);
    return { ok: false, code: "AUTHENTICATION_ERROR", message: "Invalid API key" };
  }

  #prune(now: number): void {
    for (const [a, f] of this.#failures) {
      if (now - f.since > this.#limits.windowMs) this.#failures.delete(a);
    }
  }
}

/**
 * Returns the key stored in `path`, creating it (random, 0600 permissions) when it does not exist.
 * `created` tells the caller to print where it is.
 */
export async function loadOrCreateKeyFile(
  path: string,
): Promise<{ key: string; created: boolean }> {
  try {
    const key = (await Deno.readTextFile(path)).trim();
    if (key.length < 16) {
      throw new Error(`API key file ${path} holds a key shorter than 16 characters`);
    }
    return { key, created: false };
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const key = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  const dir = path.replace(/[/\\][^/\\]*$/, "");
  if (dir && dir !== path) await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await Deno.writeTextFile(path, key + "\n", { mode: 0o600, createNew: true });
  await Deno.chmod(path, 0o600);
  return { key, created: true };
}

/**
 * The client authentication of a gateway or edge from its configuration: each configured key with
 * its holder (name, class, quota), `TICKPLEX_API_KEY` as holder `env`, or else the key file
 * (created on first start) as holder `key-file` — both class trading. `keyFile` is the file used,
 * or null when keys were configured; `credentials` lets the gateway register the holders with its
 * budget.
 */
export async function clientAuth(
  config: Pick<Config, "apiKeys" | "keyFile" | "limits">,
  envApiKey: string | null | undefined,
): Promise<{ auth: ApiKeyAuth; keyFile: string | null; credentials: ApiKeyCredential[] }> {
  const credentials: ApiKeyCredential[] = config.apiKeys.map((k, i) =>
    typeof k === "string"
      ? { key: k, holder: { name: apiKeyName(i), consumerClass: "trading", kind: "api_key" } }
      : {
        key: k.key,
        holder: {
          name: k.name,
          consumerClass: k.class,
          kind: "api_key",
          ...(k.quota !== undefined ? { quota: k.quota } : {}),
        },
      }
  );
  if (envApiKey) {
    credentials.push({
      key: envApiKey,
      holder: { name: "env", consumerClass: "trading", kind: "api_key" },
    });
  }
  let keyFile: string | null = null;
  if (credentials.length === 0) {
    const { key, created } = await loadOrCreateKeyFile(config.keyFile);
    credentials.push({
      key,
      holder: { name: "key-file", consumerClass: "trading", kind: "api_key" },
    });
    keyFile = config.keyFile;
    log.info(
      created
        ? "no API key configured: generated one and stored it in {path} (permissions 0600)"
        : "using the API key stored in {path}",
      { path: Deno.realPathSync(config.keyFile) },
    );
  }
  for (const k of credentials) addSecret(k.key);
  const auth = await ApiKeyAuth.create(credentials, {
    maxFailures: config.limits.authFailuresPerMinute,
    windowMs: 60_000,
  });
  return { auth, keyFile, credentials };
}
