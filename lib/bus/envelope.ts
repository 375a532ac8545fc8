// The v1 bus envelope: the JSON payload frame of every bus message. Its zod schema is the contract;
// `docs/bus-envelope.schema.json` is generated from it by `gen_schema.ts`.

import { z } from "zod";
import { type Candle, CANDLE_INTERVALS, type CandleInterval } from "../candles/mod.ts";
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
 * ```ts
 * import assert from "node:assert/strict";
 * const payload = '{"v":1,"seq":0,"session":"s1","broker":"paper","exchange":"NSE",' +
 *   '"symbol":"TCS","published":1,"mode":"LTP","data":{"symbol":"TCS","exchange":"NSE",' +
 *   '"ltp":3500,"ltt":null,"timestamp":1},"future_field":true}';
 * const envelope = busEnvelopeSchema.parse(JSON.parse(payload));
 * assert.equal(envelope.mode, "LTP");
 * assert.equal(envelope.data.ltp, 3500);
 * assert.equal(busEnvelopeSchema.safeParse({ ...envelope, mode: "FULL" }).success, false);
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
 * ```ts
 * import assert from "node:assert/strict";
 * import { baseTick } from "../types.ts";
 * const tick = { ...baseTick("NSE", "TCS", 2, 3500, null, 1), volume: 10 };
 * const header = { seq: 0, session: "s1", broker: "zerodha", published: 2 };
 * const ltp = buildEnvelope(tick, 1, header);
 * assert.equal(ltp.mode, "LTP");
 * assert.equal("volume" in ltp.data, false, "an LTP envelope carries the LTP fields only");
 * assert.equal(buildEnvelope(tick, 2, header).mode, "QUOTE");
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
 * ```ts
 * import assert from "node:assert/strict";
 * import { baseTick } from "../types.ts";
 * const header = { seq: 3, session: "s1", broker: "paper", published: 2 };
 * const envelope = buildEnvelope(baseTick("NSE", "TCS", 1, 3500, null, 1), 1, header);
 * // The payload frame: `await socket.send([topic, encodeEnvelope(envelope)])`.
 * const frame = encodeEnvelope(envelope);
 * assert.deepEqual(decodeEnvelope(frame), { ok: true, envelope });
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
 * ```ts
 * import assert from "node:assert/strict";
 * const result = decodeEnvelope(new TextEncoder().encode('{"v":2}'));
 * assert.equal(result.ok, false); // never throws: bad frames are counted and skipped
 * assert.equal(decodeEnvelope(new Uint8Array([0xff, 0xfe])).ok, false);
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

// ---- candles ------------------------------------------------------------------------------------

/** `data` of a candle envelope: one closed OHLCV bar (the client protocol's candle `data`). */
export const candleDataSchema = z.object({
  time: z.number().describe("Bar start, epoch ms"),
  open: z.number(),
  high: z.number(),
  low: z.number(),
  close: z.number(),
  volume: z.number().describe("Change in cumulative volume across the bar; 0 for a flat bar"),
  closed: z.literal(true).describe("Only closed bars are published, each once"),
});

/**
 * The v1 candle envelope, published under `EXCHANGE_SYMBOL_CANDLE_<INTERVAL>` (see
 * `formatCandleTopic`). Header fields as in the tick envelope (`seq` counts per candle topic);
 * unknown fields are ignored, as there.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const payload = '{"v":1,"seq":0,"session":"s1","broker":"paper","exchange":"NSE",' +
 *   '"symbol":"TCS","interval":"1m","published":1,"data":{"time":0,"open":1,"high":2,' +
 *   '"low":1,"close":2,"volume":5,"closed":true}}';
 * const envelope = busCandleEnvelopeSchema.parse(JSON.parse(payload));
 * assert.equal(envelope.data.volume, 5);
 * const forming = { ...envelope, data: { ...envelope.data, closed: false } };
 * assert.equal(busCandleEnvelopeSchema.safeParse(forming).success, false);
 * ```
 */
export const busCandleEnvelopeSchema = z.object({
  ...headerFields,
  interval: z.enum(CANDLE_INTERVALS as [CandleInterval, ...CandleInterval[]]),
  data: candleDataSchema,
}).meta({
  title: "tickplex bus candle envelope v1",
  description: "Payload frame of a closed bar on the bus; the topic frame is " +
    "EXCHANGE_SYMBOL_CANDLE_<INTERVAL> (interval upper-cased, e.g. NSE_RELIANCE_CANDLE_1M).",
});

/** A parsed v1 candle envelope. */
export type BusCandleEnvelope = z.infer<typeof busCandleEnvelopeSchema>;

/**
 * Builds the envelope of a closed `bar` of (exchange, symbol, interval).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const bar = { time: 0, open: 1, high: 2, low: 1, close: 2, volume: 5, closed: true };
 * const header = { seq: 0, session: "s1", broker: "paper", published: 2 };
 * const envelope = buildCandleEnvelope("NSE", "TCS", "5m", bar, header);
 * assert.equal(envelope.interval, "5m");
 * assert.deepEqual(decodeCandleEnvelope(JSON.stringify(envelope)), { ok: true, envelope });
 * ```
 */
export function buildCandleEnvelope(
  exchange: string,
  symbol: string,
  interval: CandleInterval,
  bar: Candle,
  header: EnvelopeHeader,
): BusCandleEnvelope {
  return {
    v: BUS_VERSION,
    seq: header.seq,
    session: header.session,
    broker: header.broker,
    exchange,
    symbol,
    interval,
    published: header.published,
    data: {
      time: bar.time,
      open: bar.open,
      high: bar.high,
      low: bar.low,
      close: bar.close,
      volume: bar.volume,
      closed: true,
    },
  };
}

/** The result of decoding a candle payload frame. */
export type CandleDecodeResult =
  | { ok: true; envelope: BusCandleEnvelope }
  | { ok: false; error: string };

/** Parses a candle payload frame (UTF-8 bytes or text); never throws. */
export function decodeCandleEnvelope(payload: Uint8Array | string): CandleDecodeResult {
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === "string" ? payload : utf8.decode(payload));
  } catch (error) {
    return { ok: false, error: `not JSON: ${(error as Error).message}` };
  }
  const parsed = busCandleEnvelopeSchema.safeParse(value);
  if (parsed.success) return { ok: true, envelope: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, error: `${issue.path.join(".") || "(root)"}: ${issue.message}` };
}
