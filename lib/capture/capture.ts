// Capture mode: subscriptions held by the gateway itself on behalf of a recorder, so symbols keep
// streaming onto the bus with no UI or strategy watching. `POST/GET/DELETE /api/v1/capture`,
// API-key protected like `/api/v1/subscriptions`. Each capture owner is one registry consumer, so
// captures are listed, shared and released like any other consumer's subscriptions.

import { z } from "zod";
import { getLogger } from "../log.ts";
import { parseMode } from "../mode.ts";
import type { HttpRoutes } from "../proxy/mod.ts";
import type { Consumer, SubscriptionRegistry } from "../subscriptions/mod.ts";
import { type ErrorCode, type Mode, MODE_LABEL, subscriptionKey } from "../types.ts";

const log = getLogger(["tickplex", "capture"]);

/** The path of the capture API. */
export const CAPTURE_PATH = "/api/v1/capture";

/** Most symbols one request may name. */
export const MAX_CAPTURE_SYMBOLS = 10_000;

const modeSchema = z.unknown().transform((value, ctx): Mode => {
  const m = parseMode(value);
  if (typeof m === "string") {
    ctx.addIssue({ code: "custom", message: m, params: { code: "INVALID_MODE" } });
    return z.NEVER;
  }
  return m;
});

const ownerSchema = z.string().trim().min(1).max(64).regex(
  /^[A-Za-z0-9_.:-]+$/,
  "owner may contain letters, digits and _ . : - only",
);

const instrumentSchema = z.object({
  exchange: z.string().trim().min(1).max(32).transform((s) => s.toUpperCase()),
  symbol: z.string().trim().min(1).max(64),
});

/** Body of `POST /api/v1/capture`. */
export const captureRequestSchema = z.strictObject({
  symbols: z.array(instrumentSchema.extend({ mode: modeSchema.optional() }).strict()).min(1).max(
    MAX_CAPTURE_SYMBOLS,
  ),
  /** Default mode of entries without one: LTP, Quote, Depth or 1–3. */
  mode: modeSchema.optional(),
  /** Depth levels asked of the broker for Depth captures. */
  depth: z.number().int().min(1).max(50).default(5),
  /** Who holds the capture (e.g. one name per recorder); default `default`. */
  owner: ownerSchema.default("default"),
});

/** Body of `DELETE /api/v1/capture` (no body: release everything of every owner). */
export const releaseRequestSchema = z.strictObject({
  /** Entries to release; without `mode`, every mode of the symbol. Omitted: all of the owner. */
  symbols: z.array(instrumentSchema.extend({ mode: modeSchema.optional() }).strict()).min(1).max(
    MAX_CAPTURE_SYMBOLS,
  ).optional(),
  /** Whose captures; omitted: every owner. */
  owner: ownerSchema.optional(),
});

/** One held capture as `GET` lists it. */
export interface CaptureRow {
  owner: string;
  exchange: string;
  symbol: string;
  mode: "LTP" | "Quote" | "Depth";
  depth: number;
  /** When it was taken, ISO time. */
  since: string;
}

/** Per-symbol outcome of a POST or DELETE. */
export type CaptureResult =
  & { exchange: string; symbol: string; mode: string | null }
  & ({ status: "success"; depth?: number } | { status: "error"; code: ErrorCode; message: string });

interface Held {
  exchange: string;
  symbol: string;
  mode: Mode;
  depth: number;
  since: number;
}

interface Owner {
  consumer: Consumer;
  held: Map<string, Held>;
}

/**
 * The capture consumers and their holdings; the HTTP layer ({@link captureRoute}) is a thin shell
 * over it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Gateway } from "../gateway.ts";
 * import { ADAPTERS, adapterOptionsFor } from "../../adapters/mod.ts";
 * import { configSchema } from "../config/mod.ts";
 * // The paper market on free ports; `deno task start` runs the same with your config.
 * const gw = await Gateway.start({
 *   config: configSchema.parse({
 *     port: 0, bus: "tcp://127.0.0.1:*", apiKeys: ["a-long-random-client-key"], logLevel: "error",
 *   }),
 *   adapters: ADAPTERS,
 *   adapterOptions: adapterOptionsFor,
 * });
 * const captures = new CaptureManager(gw.registry);
 * const [r] = await captures.acquire("recorder", [{ exchange: "NSE", symbol: "RELIANCE", mode: 2 }], 5);
 * assert.equal(r.status, "success");
 * assert.deepEqual(captures.list().map((c) => `${c.owner} ${c.symbol} ${c.mode}`), [
 *   "recorder RELIANCE Quote",
 * ]);
 * await captures.release("recorder");
 * assert.deepEqual(captures.list(), []);
 * await gw.stop();
 * ```
 */
export class CaptureManager {
  #registry: SubscriptionRegistry;
  #owners = new Map<string, Owner>();
  #clock: () => number;

  constructor(registry: SubscriptionRegistry, clock: () => number = Date.now) {
    this.#registry = registry;
    this.#clock = clock;
  }

  #owner(name: string): Owner {
    let o = this.#owners.get(name);
    if (o === undefined) {
      o = {
        consumer: {
          id: `capture:${name}`,
          holder: { name: `capture:${name}`, consumerClass: "capture", kind: "in_process" },
        },
        held: new Map(),
      };
      this.#owners.set(name, o);
    }
    return o;
  }

  /** Takes the subscriptions for `owner` (idempotent per key). */
  async acquire(
    owner: string,
    items: { exchange: string; symbol: string; mode: Mode }[],
    depth: number,
  ): Promise<CaptureResult[]> {
    const o = this.#owner(owner);
    return await Promise.all(items.map(async (item): Promise<CaptureResult> => {
      const label = MODE_LABEL[item.mode];
      const key = subscriptionKey(item.exchange, item.symbol, item.mode);
      const r = await this.#registry.acquire(
        o.consumer,
        item.exchange,
        item.symbol,
        item.mode,
        depth,
      );
      if (!r.ok) {
        return {
          exchange: item.exchange,
          symbol: item.symbol,
          mode: label,
          status: "error",
          code: r.code,
          message: r.message,
        };
      }
      if (!o.held.has(key)) {
        o.held.set(key, { ...item, depth: r.depth, since: this.#clock() });
      }
      return {
        exchange: item.exchange,
        symbol: item.symbol,
        mode: label,
        status: "success",
        depth: r.depth,
      };
    }));
  }

  /**
   * Releases captures: the given entries (no mode: every mode held) of `owner`, or everything
   * of `owner`, or of every owner.
   */
  async release(
    owner: string | undefined,
    items?: { exchange: string; symbol: string; mode?: Mode }[],
  ): Promise<CaptureResult[]> {
    const owners = owner === undefined
      ? [...this.#owners.keys()]
      : this.#owners.has(owner)
      ? [owner]
      : [];
    if (items === undefined) {
      const results: CaptureResult[] = [];
      for (const name of owners) {
        const o = this.#owners.get(name)!;
        for (const h of [...o.held.values()]) results.push(await this.#releaseOne(name, h));
      }
      return results;
    }
    return await Promise.all(items.map(async (item): Promise<CaptureResult> => {
      const targets: [string, Held][] = [];
      for (const name of owners) {
        for (const h of this.#owners.get(name)!.held.values()) {
          if (
            h.exchange === item.exchange && h.symbol === item.symbol &&
            (item.mode === undefined || h.mode === item.mode)
          ) targets.push([name, h]);
        }
      }
      if (targets.length === 0) {
        return {
          exchange: item.exchange,
          symbol: item.symbol,
          mode: item.mode === undefined ? null : MODE_LABEL[item.mode],
          status: "error",
          code: "NOT_SUBSCRIBED",
          message: `No capture of ${item.symbol} on ${item.exchange}${
            item.mode === undefined ? "" : ` in mode ${MODE_LABEL[item.mode]}`
          }${owner === undefined ? "" : ` held by ${owner}`}`,
        };
      }
      const results = [];
      for (const [name, h] of targets) results.push(await this.#releaseOne(name, h));
      return results.find((r) => r.status === "error") ?? results[0];
    }));
  }

  async #releaseOne(owner: string, h: Held): Promise<CaptureResult> {
    const o = this.#owners.get(owner)!;
    o.held.delete(subscriptionKey(h.exchange, h.symbol, h.mode));
    if (o.held.size === 0) this.#owners.delete(owner);
    const r = await this.#registry.release(o.consumer, h.exchange, h.symbol, h.mode);
    const base = { exchange: h.exchange, symbol: h.symbol, mode: MODE_LABEL[h.mode] };
    // NOT_SUBSCRIBED would mean the registry already dropped it: released either way. Any other
    // failure is an upstream release the registry keeps retrying (orphan); the capture is gone.
    if (r.ok || r.code === "NOT_SUBSCRIBED") return { ...base, status: "success" };
    return { ...base, status: "error", code: r.code, message: r.message };
  }

  /** Every held capture, by owner then instrument. */
  list(): CaptureRow[] {
    const rows: CaptureRow[] = [];
    for (const [owner, o] of this.#owners) {
      for (const h of o.held.values()) {
        rows.push({
          owner,
          exchange: h.exchange,
          symbol: h.symbol,
          mode: MODE_LABEL[h.mode],
          depth: h.depth,
          since: new Date(h.since).toISOString(),
        });
      }
    }
    return rows.sort((a, b) =>
      a.owner.localeCompare(b.owner) || a.exchange.localeCompare(b.exchange) ||
      a.symbol.localeCompare(b.symbol) || a.mode.localeCompare(b.mode)
    );
  }
}

/** An HTTP route of the gateway: null when the request is not for it. */
export type HttpRoute = (
  req: Request,
  info: { address: string },
) => Promise<Response | null>;

/** What the capture route needs from the gateway. */
export interface CaptureDeps {
  registry: SubscriptionRegistry;
  /** Null when the request carries a valid API key, else the 401/429 response to return. */
  authorize(req: Request, info: { address: string }): Promise<Response | null>;
  /** Use an existing manager (tests); default a new one over `registry`. */
  captures?: CaptureManager;
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

function error(code: ErrorCode, message: string, status: number): Response {
  return json({ status: "error", code, message }, status);
}

function overall(results: CaptureResult[]): "success" | "partial" | "error" {
  const failed = results.filter((r) => r.status === "error").length;
  return failed === 0 ? "success" : failed === results.length ? "error" : "partial";
}

async function readJson(req: Request, optional: boolean): Promise<unknown | Response> {
  const text = await req.text();
  if (text.trim() === "") {
    return optional ? undefined : error("INVALID_JSON", "Request body must be JSON", 400);
  }
  if (text.length > 4 * 1024 * 1024) {
    return error("INVALID_PARAMETERS", "Request body larger than 4 MiB", 413);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    return error("INVALID_JSON", `Request body is not valid JSON: ${(e as Error).message}`, 400);
  }
}

function invalid(issues: z.core.$ZodIssue[]): Response {
  const issue = issues[0];
  const where = issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ` : "";
  const code: ErrorCode = (issue as { params?: { code?: string } }).params?.code === "INVALID_MODE"
    ? "INVALID_MODE"
    : "INVALID_PARAMETERS";
  return error(code, `${where}${issue.message}`, 400);
}

/**
 * The capture API as a gateway HTTP route (`Gateway.routes`): answers
 * `/api/v1/capture` and returns null for any other path.
 *
 * - `POST` `{symbols:[{exchange,symbol,mode?}], mode?, depth?, owner?}` → per-symbol results;
 *   200 when any succeeded (`status` success|partial), 422 when all failed.
 * - `GET` → `{captures:[{owner,exchange,symbol,mode,depth,since}]}`.
 * - `DELETE` with no body (all), or `{owner?, symbols?}` → per-symbol results.
 *
 * Errors carry catalogue codes: AUTHENTICATION_ERROR (401), RATE_LIMITED (429), INVALID_JSON,
 * INVALID_PARAMETERS, INVALID_MODE (400); per symbol SYMBOL_NOT_FOUND, MAX_CAPACITY_REACHED,
 * BROKER_ERROR, NOT_SUBSCRIBED.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Gateway } from "../gateway.ts";
 * import { ADAPTERS, adapterOptionsFor } from "../../adapters/mod.ts";
 * import { configSchema } from "../config/mod.ts";
 * // The paper market on free ports; `deno task start` runs the same with your config.
 * const gw = await Gateway.start({
 *   config: configSchema.parse({
 *     port: 0, bus: "tcp://127.0.0.1:*", apiKeys: ["a-long-random-client-key"], logLevel: "error",
 *   }),
 *   adapters: ADAPTERS,
 *   adapterOptions: adapterOptionsFor,
 * });
 * const route = captureRoute({ registry: gw.registry, authorize: (req, info) => gw.authorize(req, info) });
 * const headers = { authorization: "Bearer a-long-random-client-key" };
 * const res = await route(new Request("http://127.0.0.1/api/v1/capture", { headers }), {
 *   address: "127.0.0.1",
 * });
 * assert.deepEqual(await res?.json(), { status: "success", captures: [] });
 * const other = new Request("http://127.0.0.1/api/v1/other", { headers });
 * assert.equal(await route(other, { address: "127.0.0.1" }), null); // not its path
 * await gw.stop();
 * ```
 */
export function captureRoute(deps: CaptureDeps): HttpRoute {
  const captures = deps.captures ?? new CaptureManager(deps.registry);
  return async (req, info) => {
    const url = new URL(req.url);
    if (url.pathname !== CAPTURE_PATH) return null;
    const denied = await deps.authorize(req, info);
    if (denied) return denied;
    switch (req.method) {
      case "GET":
        return json({ status: "success", captures: captures.list() });
      case "POST": {
        const body = await readJson(req, false);
        if (body instanceof Response) return body;
        const parsed = captureRequestSchema.safeParse(body);
        if (!parsed.success) return invalid(parsed.error.issues);
        const { symbols, mode, depth, owner } = parsed.data;
        const missing = symbols.findIndex((s) => s.mode === undefined && mode === undefined);
        if (missing !== -1) {
          return error(
            "INVALID_MODE",
            `symbols.${missing}: no mode (give "mode" for the request or per symbol)`,
            400,
          );
        }
        const items = symbols.map((s) => ({
          exchange: s.exchange,
          symbol: s.symbol,
          mode: (s.mode ?? mode)!,
        }));
        const results = await captures.acquire(owner, items, depth);
        const status = overall(results);
        log.info("capture by {owner}: {n} symbols, {status}", {
          owner,
          n: items.length,
          status,
        });
        return json({ status, owner, results }, status === "error" ? 422 : 200);
      }
      case "DELETE": {
        const body = await readJson(req, true);
        if (body instanceof Response) return body;
        const parsed = releaseRequestSchema.safeParse(body ?? {});
        if (!parsed.success) return invalid(parsed.error.issues);
        const results = await captures.release(parsed.data.owner, parsed.data.symbols);
        const status = results.length === 0 ? "success" : overall(results);
        return json({ status, results }, status === "error" ? 422 : 200);
      }
      default: {
        const r = error("INVALID_ACTION", `${req.method} is not allowed on ${CAPTURE_PATH}`, 405);
        r.headers.set("allow", "GET, POST, DELETE");
        return r;
      }
    }
  };
}

/** Where the capture API is installed: the gateway's registry, HTTP routes and API-key check. */
export interface CaptureHost {
  /** The registry captures subscribe through. */
  readonly registry: SubscriptionRegistry;
  /** The HTTP route table of the gateway's port; the capture path is added. */
  readonly routes: Pick<HttpRoutes, "addAll">;
  /** Null when the request carries a valid API key, else the 401/429 response to return. */
  authorize(req: Request, info: { address: string }): Promise<Response | null>;
}

/**
 * Installs the capture API on a running gateway (its registry and API-key check). Returns the
 * manager, e.g. to inspect captures in-process.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Gateway } from "../gateway.ts";
 * import { ADAPTERS, adapterOptionsFor } from "../../adapters/mod.ts";
 * import { configSchema } from "../config/mod.ts";
 * // The paper market on free ports; `deno task start` runs the same with your config.
 * const gw = await Gateway.start({
 *   config: configSchema.parse({
 *     port: 0, bus: "tcp://127.0.0.1:*", apiKeys: ["a-long-random-client-key"], logLevel: "error",
 *   }),
 *   adapters: ADAPTERS,
 *   adapterOptions: adapterOptionsFor,
 * });
 * // Gateway.start installs it (the manager is then in-process too); over HTTP:
 * const res = await fetch(`http://127.0.0.1:${gw.proxy.addr.port}/api/v1/capture`, {
 *   method: "POST",
 *   headers: { "x-api-key": "a-long-random-client-key" },
 *   body: JSON.stringify({ symbols: [{ exchange: "NSE", symbol: "TCS" }], mode: "LTP", owner: "rec" }),
 * });
 * assert.equal((await res.json()).status, "success");
 * assert.deepEqual(gw.registry.list().map((k) => k.symbol), ["TCS"]);
 * await gw.stop();
 * ```
 */
export function installCapture(host: CaptureHost): CaptureManager {
  const captures = new CaptureManager(host.registry);
  host.routes.addAll(
    [CAPTURE_PATH],
    ["GET", "POST", "DELETE"],
    captureRoute({
      registry: host.registry,
      authorize: (req, info) => host.authorize(req, info),
      captures,
    }),
  );
  return captures;
}
