// The control messages between edges and the primary over NATS request/reply (docs/nats.md): zod
// schemas for every message either side reads, and a decoder that never throws.

import { z } from "zod";
import { ERROR_CODES } from "../types.ts";

/** The control protocol version; a change that breaks either side bumps it (and the subjects). */
export const CONTROL_VERSION = 1;

const modeSchema = z.union([z.literal(1), z.literal(2), z.literal(3)]);
const edgeId = z.string().min(1).max(64);
const name = z.string().min(1).max(128);
/** Leases an edge may ask for: long enough to renew over a slow link, short enough to matter. */
const leaseMs = z.number().int().min(300).max(600_000);

/** One key an edge holds: what its registry asked of its upstream. */
export const leaseKeySchema = z.object({
  exchange: name,
  symbol: name,
  mode: modeSchema,
  depth: z.number().int().min(0).max(1000),
});

/** `<prefix>.ctl.v1.subscribe`: an edge's first consumer of a key arrived. */
export const subscribeRequestSchema = z.object({
  v: z.literal(CONTROL_VERSION),
  edge: edgeId,
  leaseMs,
  ...leaseKeySchema.shape,
});

/** `<prefix>.ctl.v1.unsubscribe`: an edge's last consumer of a key left. */
export const unsubscribeRequestSchema = z.object({
  v: z.literal(CONTROL_VERSION),
  edge: edgeId,
  exchange: name,
  symbol: name,
  mode: modeSchema,
});

/**
 * `<prefix>.ctl.v1.renew`: every lease/3, and at once when a primary says hello. It carries every
 * key the edge holds, so the primary (re)acquires what it lacks and releases what the edge dropped:
 * a restarted primary re-learns the edge's leases from the first renew.
 */
export const renewRequestSchema = z.object({
  v: z.literal(CONTROL_VERSION),
  edge: edgeId,
  leaseMs,
  keys: z.array(leaseKeySchema).max(200_000),
});

/** `<prefix>.ctl.v1.hello`: a primary started (edges renew at once). */
export const helloSchema = z.object({
  v: z.literal(CONTROL_VERSION),
  session: z.string().min(1).max(64),
});

const errorReply = z.object({
  ok: z.literal(false),
  code: z.enum(ERROR_CODES),
  message: z.string().max(1000),
});

/** The primary's answer to a subscribe. */
export const subscribeReplySchema = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), depth: z.number().int().min(0).max(1000) }),
  errorReply,
]);

/** The primary's answer to an unsubscribe. */
export const unsubscribeReplySchema = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true) }),
  errorReply,
]);

/** The primary's answer to a renew: who it is, and how many keys it could not (re)acquire. */
export const renewReplySchema = z.discriminatedUnion("ok", [
  z.object({
    ok: z.literal(true),
    session: z.string().min(1).max(64),
    broker: name,
    userId: z.string().max(128),
    failed: z.number().int().min(0),
  }),
  errorReply,
]);

/** A parsed subscribe request. */
export type SubscribeRequest = z.infer<typeof subscribeRequestSchema>;
/** A parsed unsubscribe request. */
export type UnsubscribeRequest = z.infer<typeof unsubscribeRequestSchema>;
/** A parsed renew request. */
export type RenewRequest = z.infer<typeof renewRequestSchema>;
/** One key of a renew. */
export type LeaseKey = z.infer<typeof leaseKeySchema>;
/** A parsed renew reply. */
export type RenewReply = z.infer<typeof renewReplySchema>;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses a control message (UTF-8 JSON) with `schema`; never throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const ok = decodeControl(helloSchema, new TextEncoder().encode('{"v":1,"session":"s"}'));
 * assert.deepEqual(ok, { ok: true, value: { v: 1, session: "s" } });
 * assert.equal(decodeControl(helloSchema, new Uint8Array([0xff])).ok, false);
 * ```
 */
export function decodeControl<T>(
  schema: z.ZodType<T>,
  payload: Uint8Array,
): { ok: true; value: T } | { ok: false; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(payload));
  } catch (error) {
    return { ok: false, error: `not JSON: ${(error as Error).message}` };
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, error: `${issue.path.join(".") || "(root)"}: ${issue.message}` };
}
