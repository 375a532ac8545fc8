// The v1 bus envelope: the JSON payload frame of every bus message. Its zod schema is the contract;
// `docs/bus-envelope.schema.json` is generated from it by `gen_schema.ts`.

import { z } from "zod";
import { projectTick, type TickData } from "../project.ts";
import { type Mode, MODE_TOPIC, type Tick } from "../types.ts";

/** The envelope version this code writes and reads. A change that breaks readers bumps it. */
export const BUS_VERSION = 1;

/** Mode names as they appear in topics and in `envelope.mode`. */
export type BusMode = "LTP" | "QUOTE" | "DEPTH";

const nullableNumber = z.number().nullable();

const ltpFields = {
  symbol: z.string(),
  exchange: z.string(),
  ltp: z.number(),
  ltt: nullableNumber.describe("Exchange last-trade time, epoch ms"),
  timestamp: z.number().describe("Packet time, epoch ms"),
};

const quoteFields = {
  ...ltpFields,
  open: nullableNumber,
  high: nullableNumber,
  low: nullableNumber,
  close: nullableNumber.describe("Previous session close"),
  volume: nullableNumber,
  last_trade_quantity: nullableNumber,
  avg_trade_price: nullableNumber,
  total_buy_quantity: nullableNumber,
  total_sell_quantity: nullableNumber,
  oi: nullableNumber,
  change: nullableNumber,
  change_percent: nullableNumber,
};

const depthLevelSchema = z.object({
  price: z.number(),
  quantity: z.number(),
  orders: nullableNumber.describe("null when the broker does not send order counts"),
});

/** `data` of an LTP envelope: the fields of `LtpData` in lib/project.ts. */
export const ltpDataSchema = z.object(ltpFields);
/** `data` of a QUOTE envelope: the fields of `QuoteData`. */
export const quoteDataSchema = z.object(quoteFields);
/** `data` of a DEPTH envelope: the fields of `DepthData`, best level first on each side. */
export const depthDataSchema = z.object({
  ...quoteFields,
  depth: z.object({ buy: z.array(depthLevelSchema), sell: z.array(depthLevelSchema) }),
});

const headerFields = {
  v: z.literal(BUS_VERSION),
  seq: z.number().int().min(0).describe(
    "Per publisher session and topic: 0 for the first message of a topic, then +1 per message. " +
      "A topic not published for the publisher's topicIdleMs (default 10 min) starts again at 0.",
  ),
  session: z.string().min(1).describe("Random id chosen at every gateway start"),
  broker: z.string(),
  exchange: z.string().min(1),
  symbol: z.string().min(1),
  published: z.number().describe("Publish time, epoch ms"),
};

/**
 * The v1 bus envelope, discriminated by `mode`. Readers ignore fields they do not know, so adding
 * a field is not a breaking change; removing or retyping one bumps `v`.
 *
 * @example
 * ```ts ignore
 * const envelope = busEnvelopeSchema.parse(JSON.parse(payload));
 * if (envelope.mode === "DEPTH") console.log(envelope.data.depth.buy[0]);
 * ```
 */
export const busEnvelopeSchema = z.discriminatedUnion("mode", [
  z.object({ ...headerFields, mode: z.literal("LTP"), data: ltpDataSchema }),
  z.object({ ...headerFields, mode: z.literal("QUOTE"), data: quoteDataSchema }),
  z.object({ ...headerFields, mode: z.literal("DEPTH"), data: depthDataSchema }),
]).meta({
  title: "tickplex bus envelope v1",
  description: "Payload frame of a tickplex bus message; the topic frame is EXCHANGE_SYMBOL_MODE.",
});

/** A parsed v1 bus envelope. */
export type BusEnvelope = z.infer<typeof busEnvelopeSchema>;

/** The header fields a publisher stamps on every envelope. */
export interface EnvelopeHeader {
  seq: number;
  session: string;
  broker: string;
  published: number;
}

/**
 * Builds the envelope of `tick` for a consumer at `mode` (`tick.mode >= mode`).
 *
 * @example
 * ```ts ignore
 * const envelope = buildEnvelope(tick, 1, { seq: 0, session, broker: "zerodha", published: Date.now() });
 * ```
 */
export function buildEnvelope(tick: Tick, mode: Mode, header: EnvelopeHeader): BusEnvelope {
  // Key order is the wire order; keep it stable for people reading captures.
  const envelope: {
    v: 1;
    seq: number;
    session: string;
    broker: string;
    exchange: string;
    symbol: string;
    mode: BusMode;
    published: number;
    data: TickData;
  } = {
    v: BUS_VERSION,
    seq: header.seq,
    session: header.session,
    broker: header.broker,
    exchange: tick.exchange,
    symbol: tick.symbol,
    mode: MODE_TOPIC[mode],
    published: header.published,
    data: projectTick(tick, mode),
  };
  // projectTick returns the data type matching `mode`, which TypeScript cannot correlate.
  return envelope as BusEnvelope;
}

/**
 * Serialises an envelope for the payload frame (one `JSON.stringify`).
 *
 * @example
 * ```ts ignore
 * await socket.send([topic, encodeEnvelope(envelope)]);
 * ```
 */
export function encodeEnvelope(envelope: BusEnvelope): string {
  return JSON.stringify(envelope);
}

/** The result of decoding a payload frame. */
export type DecodeResult = { ok: true; envelope: BusEnvelope } | { ok: false; error: string };

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses a payload frame (UTF-8 bytes or text) into an envelope; never throws.
 *
 * @example
 * ```ts ignore
 * const result = decodeEnvelope(frame);
 * if (result.ok) handle(result.envelope); else console.warn(result.error);
 * ```
 */
export function decodeEnvelope(payload: Uint8Array | string): DecodeResult {
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === "string" ? payload : utf8.decode(payload));
  } catch (error) {
    return { ok: false, error: `not JSON: ${(error as Error).message}` };
  }
  const parsed = busEnvelopeSchema.safeParse(value);
  if (parsed.success) return { ok: true, envelope: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, error: `${issue.path.join(".") || "(root)"}: ${issue.message}` };
}
