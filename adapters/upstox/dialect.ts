// The Upstox V3 session dialect: authorise over REST on every (re)connect, JSON requests in binary
// frames with the mode each instrument streams at, and protobuf frames decoded into ticks.

import { z } from "zod";
import {
  AuthError,
  type BrokerSpec,
  type Decoded,
  type Dialect,
  type DialectContext,
  type Frame,
  NOTHING,
  type Wanted,
} from "../../lib/adapter/mod.ts";
import type { Mode } from "../../lib/types.ts";
import {
  createDecodeStats,
  decodeFeedFrame,
  decodeTextReply,
  encodeRequest,
  type RequestMethod,
  type UpstoxMode,
} from "./codec.ts";
import { loadUpstoxMaster, type UpstoxInstrument } from "./instruments.ts";
import {
  brokenLimit,
  parseUpstoxOptions,
  upstoxCapabilities,
  type UpstoxOptions,
} from "./options.ts";

/** Path of the authorise endpoint under the REST base. */
export const AUTHORIZE_PATH = "/v3/feed/market-data-feed/authorize";

/** Depth requests of at least this many levels stream `full_d30` (when enabled). */
const D30_FROM = 30;

const authorizeReply = z.object({
  status: z.literal("success"),
  data: z.object({
    authorized_redirect_uri: z.string().refine((s) => /^wss?:\/\//.test(s), "not a ws(s) URL"),
  }),
});

/**
 * Asks Upstox for a single-use feed URL with the current token (the platform's WebSocket does not
 * follow the redirect of the plain feed URL). A 401/403 throws {@link AuthError}; other failures
 * throw an Error with the HTTP status and Upstox's message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) =>
 *   req.headers.get("authorization") === "Bearer good"
 *     ? Response.json({ status: "success", data: { authorized_redirect_uri: "ws://127.0.0.1:1/f?code=1" } })
 *     : new Response("{}", { status: 401 }));
 * const base = `http://127.0.0.1:${server.addr.port}`;
 * assert.equal(await authorizeFeed(base, "good"), "ws://127.0.0.1:1/f?code=1");
 * await assert.rejects(() => authorizeFeed(base, "bad"), { name: "AuthError" });
 * ```
 */
export async function authorizeFeed(
  feedUrl: string,
  accessToken: string,
  signal?: AbortSignal,
): Promise<string> {
  const url = `${feedUrl.replace(/\/+$/, "")}${AUTHORIZE_PATH}`;
  const res = await fetch(url, {
    headers: { Authorization: `Bearer ${accessToken}`, Accept: "application/json" },
    signal,
  });
  const body = await res.text();
  if (!res.ok) {
    const msg = `feed authorise: HTTP ${res.status} ${body.slice(0, 300)}`.trim();
    if (res.status === 401 || res.status === 403) throw new AuthError(msg);
    throw new Error(msg);
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new Error(`feed authorise: reply is not JSON: ${body.slice(0, 200)}`);
  }
  const r = authorizeReply.safeParse(json);
  if (!r.success) {
    throw new Error(`feed authorise: unexpected reply: ${body.slice(0, 300)}`);
  }
  return r.data.data.authorized_redirect_uri;
}

/**
 * The Upstox stream an OpenAlgo mode and depth are delivered on: LTP → `ltpc`; Quote and Depth
 * (5 levels) → `full`; Depth of 30 levels or more → `full_d30` when enabled.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(upstoxModeFor(2, 5, true), "full");
 * assert.equal(upstoxModeFor(3, 5, true), "full");
 * assert.equal(upstoxModeFor(3, 50, true), "full_d30");
 * assert.equal(upstoxModeFor(3, 50, false), "full");
 * ```
 */
export function upstoxModeFor(mode: Mode, depth: number, fullD30: boolean): UpstoxMode {
  if (mode === 1) return "ltpc";
  return mode === 3 && fullD30 && depth >= D30_FROM ? "full_d30" : "full";
}

/** The dialect of one Upstox connection. */
export function upstoxDialect(
  options: () => UpstoxOptions,
  context: DialectContext<UpstoxInstrument>,
): Dialect<UpstoxInstrument> {
  let sequence = 0;
  const stats = createDecodeStats();
  const lookup = (key: string) => context.lookup(key);
  const modeOf = (w: { mode: Mode; depth: number }) =>
    upstoxModeFor(w.mode, w.depth, options().fullD30);

  const request = (method: RequestMethod, keys: string[], mode?: UpstoxMode): Frame =>
    encodeRequest({
      guid: `tickplex-${context.connection}-${++sequence}`,
      method,
      data: mode === undefined ? { instrumentKeys: keys } : { mode, instrumentKeys: keys },
    });

  /** One request per Upstox mode among `items`. */
  const perMode = (method: RequestMethod, items: readonly Wanted<UpstoxInstrument>[]): Frame[] => {
    const byMode = new Map<UpstoxMode, string[]>();
    for (const w of items) {
      const m = modeOf(w);
      const keys = byMode.get(m);
      if (keys === undefined) byMode.set(m, [w.instrument.token]);
      else keys.push(w.instrument.token);
    }
    return [...byMode].map(([mode, keys]) => request(method, keys, mode));
  };

  return {
    async endpoint(signal) {
      const o = options();
      return { url: await authorizeFeed(o.feedUrl, o.accessToken, signal) };
    },
    subscribe: (items) => perMode("sub", items),
    unsubscribe: (items) => [request("unsub", items.map((w) => w.instrument.token))],
    changeMode: (items) => perMode("change_mode", items),
    streamMode: (mode, depth) => upstoxModeFor(mode, depth, options().fullD30),
    overLimit: brokenLimit,
    decode(data, now): Decoded {
      if (typeof data === "string") {
        const reply = decodeTextReply(data);
        if (!reply.ok) return { malformed: "text" };
        return { log: { level: reply.failed ? "warning" : "info", message: reply.text } };
      }
      // Upstox's WebSocket delivers text or binary, never subject-addressed messages.
      if (!(data instanceof Uint8Array || data instanceof ArrayBuffer)) {
        return { malformed: "frame" };
      }
      const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
      const frame = decodeFeedFrame(bytes, lookup, now, stats);
      if (!frame.ok) return { malformed: frame.reason };
      if (frame.segmentStatus !== null) {
        const status = Object.entries(frame.segmentStatus).map(([s, v]) => `${s} ${v}`);
        return {
          ticks: frame.ticks,
          log: { level: "info", message: `market status: ${status.join(", ") || "none"}` },
        };
      }
      return frame.ticks.length > 0 ? { ticks: frame.ticks } : NOTHING;
    },
  };
}

/** The Upstox adapter as the kit runs it. */
export const upstoxSpec: BrokerSpec<UpstoxOptions, UpstoxInstrument> = {
  broker: "upstox",
  parseOptions: parseUpstoxOptions,
  capabilities: upstoxCapabilities,
  loadInstruments: (o, signal) => loadUpstoxMaster(o.instruments, signal),
  dialect: upstoxDialect,
};
