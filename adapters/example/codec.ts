// The example broker's wire format: JSON text frames. It exists to show the adapter kit with the
// least broker-specific code — a real broker's codec has the same shape (pure, never throws).

import { z } from "zod";
import { baseTick, type Mode, type Tick } from "../../lib/types.ts";

/** Example-broker mode names. */
export const WIRE_MODE = { 1: "ltp", 2: "quote", 3: "depth" } as const satisfies Record<
  Mode,
  string
>;
type WireMode = (typeof WIRE_MODE)[Mode];
const MODE_OF: Record<WireMode, Mode> = { ltp: 1, quote: 2, depth: 3 };

const level = z.object({ p: z.number(), q: z.number(), o: z.number() });
const serverMessage = z.discriminatedUnion("op", [
  z.object({ op: z.literal("login"), ok: z.boolean(), reason: z.string().optional() }),
  z.object({ op: z.literal("hb") }),
  z.object({ op: z.literal("expired") }),
  z.object({
    op: z.literal("tick"),
    id: z.number().int(),
    mode: z.enum(["ltp", "quote", "depth"]),
    ltp: z.number().positive(),
    t: z.number(),
    o: z.number().optional(),
    h: z.number().optional(),
    l: z.number().optional(),
    c: z.number().optional(),
    v: z.number().optional(),
    bids: z.array(level).optional(),
    asks: z.array(level).optional(),
  }),
]);
/** A message from the example broker. */
export type ServerMessage = z.infer<typeof serverMessage>;

/** A message to the example broker. */
export type ClientMessage =
  | { op: "login"; token: string }
  | { op: "sub"; mode: WireMode; ids: number[] }
  | { op: "unsub"; ids: number[] };

/**
 * Parses one server frame; a string names what was wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseServer('{"op":"hb"}'), { op: "hb" });
 * assert.equal(typeof parseServer("{"), "string");
 * ```
 */
export function parseServer(text: string): ServerMessage | string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return "json";
  }
  const r = serverMessage.safeParse(raw);
  return r.success ? r.data : "shape";
}

/**
 * Parses one client frame (simulator side).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseClient('{"op":"unsub","ids":[1]}'), { op: "unsub", ids: [1] });
 * ```
 */
export function parseClient(text: string): ClientMessage | null {
  try {
    const m = JSON.parse(text);
    if (m?.op === "login" && typeof m.token === "string") return m;
    if ((m?.op === "sub" || m?.op === "unsub") && Array.isArray(m.ids)) {
      if (m.op === "sub" && !(m.mode in MODE_OF)) return null;
      if (m.ids.every((x: unknown) => Number.isInteger(x))) return m;
    }
    return null;
  } catch {
    return null;
  }
}

/**
 * A tick from a tick message for the instrument it names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const t = toTick({ op: "tick", id: 1, mode: "ltp", ltp: 10, t: 5000 }, { exchange: "NSE", symbol: "A" }, 6000);
 * assert.equal(t.ltp, 10);
 * assert.equal(t.open, null);
 * ```
 */
export function toTick(
  m: Extract<ServerMessage, { op: "tick" }>,
  ref: { exchange: string; symbol: string },
  now: number,
): Tick {
  const mode = MODE_OF[m.mode];
  const tick = baseTick(ref.exchange, ref.symbol, mode, m.ltp, m.t, now);
  if (mode >= 2) {
    tick.open = m.o ?? null;
    tick.high = m.h ?? null;
    tick.low = m.l ?? null;
    tick.close = m.c ?? null;
    tick.volume = m.v ?? null;
    if (tick.close !== null && tick.close > 0) {
      tick.change = Math.round((m.ltp - tick.close) * 100) / 100;
      tick.change_percent = Math.round(((m.ltp - tick.close) / tick.close) * 10_000) / 100;
    }
  }
  if (mode === 3 && m.bids !== undefined && m.asks !== undefined) {
    const lv = (x: { p: number; q: number; o: number }) => ({
      price: x.p,
      quantity: x.q,
      orders: x.o,
    });
    tick.depth = { buy: m.bids.map(lv), sell: m.asks.map(lv) };
  }
  return tick;
}
