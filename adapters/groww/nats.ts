// Groww's link: a socket token minted over REST for a fresh NKey user, then the official NATS
// client (@nats-io/nats-core over its WebSocket transport) wrapped as the kit's Transport. The
// kit owns reconnects, backoff and auth policy, so the client never reconnects by itself.

import {
  AuthorizationError,
  jwtAuthenticator,
  type NatsConnection,
  type Subscription,
  UserAuthenticationExpiredError,
  wsconnect,
} from "@nats-io/nats-core";
import { createUser } from "@nats-io/nkeys";
import { z } from "zod";
import {
  AuthError,
  type Frame,
  type Transport,
  type TransportEvents,
} from "../../lib/adapter/mod.ts";

/** What a socket connection authenticates with: the minted user JWT and the NKey seed. */
export interface SocketCredentials {
  /** NATS user JWT whose `sub` is the NKey public key. */
  jwt: string;
  /** The user NKey seed (`SU…`), signs the server's nonce. */
  seed: Uint8Array;
  /** Groww's id for order/position subjects (unused for market data). */
  subscriptionId?: string;
}

const mintResponse = z.object({
  token: z.string().min(1),
  subscriptionId: z.union([z.string(), z.number()]).optional(),
});

/**
 * Makes a fresh NKey user key pair and mints a socket token for it with the access token
 * (`POST …/socket/token/create/`). A 401/403 throws {@link AuthError} (the access token is dead);
 * any other failure throws an Error naming it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * await assert.rejects(
 *   mintSocketCredentials("http://127.0.0.1:1/v1/api/apex/v1/socket/token/create/", "t"),
 *   /socket token/,
 * );
 * ```
 */
export async function mintSocketCredentials(
  url: string,
  accessToken: string,
  signal?: AbortSignal,
): Promise<SocketCredentials> {
  const kp = createUser();
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: {
        "Authorization": `Bearer ${accessToken}`,
        "Content-Type": "application/json",
        "Accept": "application/json",
        "x-api-version": "1.0",
        "x-client-id": "growwapi",
        "x-request-id": crypto.randomUUID(),
      },
      body: JSON.stringify({ socketKey: kp.getPublicKey() }),
      signal,
    });
  } catch (err) {
    throw new Error(`socket token request failed: ${err instanceof Error ? err.message : err}`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    const msg = `socket token refused: HTTP ${res.status}`;
    if (res.status === 401 || res.status === 403) throw new AuthError(msg);
    throw new Error(msg);
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new Error("socket token response is not JSON");
  }
  const parsed = mintResponse.safeParse(body);
  if (!parsed.success) throw new Error("socket token response has no token");
  const sid = parsed.data.subscriptionId;
  return {
    jwt: parsed.data.token,
    seed: kp.getSeed(),
    ...(sid !== undefined ? { subscriptionId: String(sid) } : {}),
  };
}

// ---- frames between the dialect and the link --------------------------------------------------

/** The keep-alive frame: a NATS PING round trip; the link answers with {@link PONG}. */
export const PING_FRAME = "PING";
/** What the link hands `decode` when a keep-alive round trip completed. */
export const PONG = "PONG";

/**
 * A frame subscribing `subjects` (one NATS SUB each).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(subFrame(["/ld/eq/nse/price.2885"]), "SUB /ld/eq/nse/price.2885");
 * ```
 */
export function subFrame(subjects: readonly string[]): string {
  return subjects.map((s) => `SUB ${s}`).join("\n");
}

/**
 * A frame unsubscribing `subjects`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(unsubFrame(["a", "b"]), "UNSUB a\nUNSUB b");
 * ```
 */
export function unsubFrame(subjects: readonly string[]): string {
  return subjects.map((s) => `UNSUB ${s}`).join("\n");
}

/** Options of {@link openNats}. */
export interface NatsLinkOptions {
  /** The WebSocket open, INFO and CONNECT/PONG must complete within this. */
  timeoutMs: number;
}

function isAuthError(err: unknown): boolean {
  return err instanceof AuthorizationError || err instanceof UserAuthenticationExpiredError;
}

/**
 * Connects the official NATS client over WebSocket with the socket credentials and returns it as
 * a kit Transport. Frames are {@link subFrame} / {@link unsubFrame} / {@link PING_FRAME}; NATS
 * messages reach `events.message` as `{subject, data}`, server errors as `-ERR '<text>'` strings.
 * A refused CONNECT throws {@link AuthError}; credentials that expire mid-session arrive as
 * `-ERR` text (the dialect turns them into `auth_failed`); any other end is `events.close`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createUser } from "@nats-io/nkeys";
 * const creds = { jwt: "x", seed: createUser().getSeed() };
 * await assert.rejects(openNats("ws://127.0.0.1:1", creds, { timeoutMs: 500 }, {
 *   open: () => {}, message: () => {}, close: () => {},
 * }));
 * ```
 */
export async function openNats(
  url: string,
  creds: SocketCredentials,
  options: NatsLinkOptions,
  events: TransportEvents,
): Promise<Transport> {
  let nc: NatsConnection;
  try {
    nc = await wsconnect({
      servers: url,
      authenticator: jwtAuthenticator(creds.jwt, creds.seed),
      name: "tickplex",
      reconnect: false,
      maxReconnectAttempts: 0,
      timeout: options.timeoutMs,
      noEcho: true,
      ignoreClusterUpdates: true,
    });
  } catch (err) {
    if (isAuthError(err)) {
      throw new AuthError(`NATS refused the socket token: ${(err as Error).message}`);
    }
    throw err;
  }
  let closing = false;
  const subs = new Map<string, Subscription>();
  void (async () => {
    for await (const s of nc.status()) {
      // Auth errors end the connection and are reported once, from `closed()` below.
      if (s.type === "error" && !isAuthError(s.error)) events.message(`-ERR '${s.error.message}'`);
    }
  })().catch(() => {});
  void nc.closed().then((ended) => {
    if (closing) return;
    const err = ended instanceof Error ? ended : undefined;
    if (err !== undefined && isAuthError(err)) events.message(`-ERR '${err.message}'`);
    else {
      events.close({
        opened: true,
        code: err !== undefined ? 1006 : 1000,
        reason: err?.message ?? "closed by the server",
        error: "",
      });
    }
  });
  events.open();
  const deliver =
    (subject: string) => (err: Error | null, msg: { subject: string; data: Uint8Array }) => {
      if (err !== null) events.message(`-ERR '${err.message}' (${subject})`);
      else events.message(msg);
    };
  return {
    send(frame: Frame): void {
      if (typeof frame !== "string" || nc.isClosed()) return;
      for (const line of frame.split("\n")) {
        const space = line.indexOf(" ");
        const op = space < 0 ? line : line.slice(0, space);
        const subject = line.slice(space + 1);
        if (op === "SUB") {
          if (!subs.has(subject)) {
            subs.set(subject, nc.subscribe(subject, { callback: deliver(subject) }));
          }
        } else if (op === "UNSUB") {
          subs.get(subject)?.unsubscribe();
          subs.delete(subject);
        } else if (op === PING_FRAME) {
          nc.flush().then(() => events.message(PONG), () => {});
        }
      }
    },
    close(): void {
      closing = true;
      void nc.close().catch(() => {});
    },
  };
}
