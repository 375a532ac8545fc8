// The v1 envelope: building, encoding, decoding, and the shipped JSON Schema staying in sync.

import assert from "node:assert/strict";
import type { DepthData, LtpData, QuoteData } from "../project.ts";
import { QUOTE_FIELDS, type Tick } from "../types.ts";
import {
  buildCandleEnvelope,
  buildEnvelope,
  BUS_VERSION,
  type BusEnvelope,
  decodeCandleEnvelope,
  decodeEnvelope,
  encodeEnvelope,
} from "./envelope.ts";
import {
  CANDLE_SCHEMA_PATH,
  renderCandleJsonSchema,
  renderEnvelopeJsonSchema,
  SCHEMA_PATH,
} from "./gen_schema.ts";

// The schema's data types and lib/project.ts must describe the same shapes.
type DataOf<M> = DataOfUnion<BusEnvelope, M>;
type DataOfUnion<E, M> = E extends { mode: M; data: infer D } ? D : never;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const typesAgree: [
  Same<DataOf<"LTP">, LtpData>,
  Same<DataOf<"QUOTE">, QuoteData>,
  Same<DataOf<"DEPTH">, DepthData>,
] = [true, true, true];

const LTP_KEYS = ["exchange", "ltp", "ltt", "symbol", "timestamp"];
const QUOTE_KEYS = [...LTP_KEYS, ...QUOTE_FIELDS].sort();
const DEPTH_KEYS = [...QUOTE_KEYS, "depth"].sort();

function depthTick(): Tick {
  return {
    exchange: "NSE",
    symbol: "RELIANCE",
    mode: 3,
    ltp: 2950.5,
    ltt: 1_700_000_000_000,
    timestamp: 1_700_000_000_123,
    open: 2900,
    high: 2960,
    low: 2890,
    close: 2910,
    volume: 123456,
    last_trade_quantity: 10,
    avg_trade_price: 2930.1,
    total_buy_quantity: 5000,
    total_sell_quantity: null,
    oi: null,
    change: 40.5,
    change_percent: 1.39,
    depth: {
      buy: [{ price: 2950.45, quantity: 100, orders: 3 }],
      sell: [{ price: 2950.55, quantity: 80, orders: null }],
    },
  };
}

const header = { seq: 7, session: "s-1", broker: "paper", published: 1_700_000_000_200 };

Deno.test("envelope types agree with lib/project.ts", () => {
  assert.deepEqual(typesAgree, [true, true, true]);
});

Deno.test("buildEnvelope: header and exactly the projected fields per mode", () => {
  const tick = depthTick();
  const expected = { 1: LTP_KEYS, 2: QUOTE_KEYS, 3: DEPTH_KEYS } as const;
  for (const mode of [1, 2, 3] as const) {
    const envelope = buildEnvelope(tick, mode, header);
    const wire = JSON.parse(encodeEnvelope(envelope));
    assert.deepEqual(Object.keys(wire), [
      "v",
      "seq",
      "session",
      "broker",
      "exchange",
      "symbol",
      "mode",
      "published",
      "data",
    ]);
    assert.equal(wire.v, BUS_VERSION);
    assert.equal(wire.mode, ["LTP", "QUOTE", "DEPTH"][mode - 1]);
    assert.deepEqual(Object.keys(wire.data).sort(), expected[mode]);
    assert.equal(wire.data.total_sell_quantity ?? null, null);
  }
});

Deno.test("decodeEnvelope: round trip from text and bytes", () => {
  const envelope = buildEnvelope(depthTick(), 3, header);
  const text = encodeEnvelope(envelope);
  for (const payload of [text, new TextEncoder().encode(text)]) {
    const result = decodeEnvelope(payload);
    assert.ok(result.ok);
    assert.deepEqual(result.envelope, envelope);
  }
});

Deno.test("decodeEnvelope: ignores unknown fields (additive changes are not breaking)", () => {
  const wire = JSON.parse(encodeEnvelope(buildEnvelope(depthTick(), 1, header)));
  const result = decodeEnvelope(
    JSON.stringify({ ...wire, extra: 1, data: { ...wire.data, x: 2 } }),
  );
  assert.ok(result.ok);
  assert.equal("extra" in result.envelope, false);
  assert.deepEqual(Object.keys(result.envelope.data).sort(), LTP_KEYS);
});

Deno.test("decodeEnvelope: rejects without throwing", () => {
  const good = JSON.parse(encodeEnvelope(buildEnvelope(depthTick(), 2, header)));
  const bad: [string, unknown][] = [
    ["not json", "{"],
    ["not utf-8", new Uint8Array([0xff, 0xfe])],
    ["other version", { ...good, v: 2 }],
    ["negative seq", { ...good, seq: -1 }],
    ["fractional seq", { ...good, seq: 1.5 }],
    ["unknown mode", { ...good, mode: "FULL" }],
    ["mode/data mismatch", { ...good, mode: "DEPTH" }],
    ["string price", { ...good, data: { ...good.data, ltp: "1" } }],
    ["missing nullable", { ...good, data: { ...good.data, oi: undefined } }],
    ["empty session", { ...good, session: "" }],
  ];
  for (const [name, value] of bad) {
    const payload = typeof value === "string" || value instanceof Uint8Array
      ? value
      : JSON.stringify(value);
    const result = decodeEnvelope(payload);
    assert.equal(result.ok, false, name);
    assert.ok(!result.ok && result.error.length > 0, name);
  }
});

Deno.test("docs/bus-envelope.schema.json matches the zod schema (run gen_schema.ts)", async () => {
  const shipped = JSON.parse(await Deno.readTextFile(SCHEMA_PATH));
  assert.deepEqual(
    shipped,
    JSON.parse(renderEnvelopeJsonSchema()),
    "docs/bus-envelope.schema.json is stale: run `deno run -P=test lib/bus/gen_schema.ts`",
  );
  assert.equal(shipped.oneOf.length, 3);
});

Deno.test("docs/bus-candle.schema.json matches the zod schema (run gen_schema.ts)", async () => {
  const shipped = JSON.parse(await Deno.readTextFile(CANDLE_SCHEMA_PATH));
  assert.deepEqual(
    shipped,
    JSON.parse(renderCandleJsonSchema()),
    "docs/bus-candle.schema.json is stale: run `deno run -P=test lib/bus/gen_schema.ts`",
  );
  assert.deepEqual(shipped.properties.data.properties.closed, {
    type: "boolean",
    const: true,
    description: "Only closed bars are published, each once",
  });
});

Deno.test("candle envelopes round-trip; bad, forming, truncated and random frames are refused without throwing", () => {
  const bar = {
    time: 1_700_000_040_000,
    open: 10,
    high: 12,
    low: 9,
    close: 11,
    volume: 300,
    closed: true,
  };
  const header = { seq: 4, session: "s1", broker: "paper", published: 1_700_000_100_000 };
  const envelope = buildCandleEnvelope("NSE_INDEX", "NIFTY", "15m", bar, header);
  const text = JSON.stringify(envelope);
  assert.deepEqual(decodeCandleEnvelope(new TextEncoder().encode(text)), { ok: true, envelope });
  assert.equal(decodeEnvelope(text).ok, false, "a candle is no tick envelope");
  const bad: Record<string, unknown>[] = [
    { ...envelope, data: { ...bar, closed: false } },
    { ...envelope, interval: "2m" },
    { ...envelope, v: 2 },
    { ...envelope, data: { ...bar, volume: "300" } },
    { ...envelope, exchange: "" },
  ];
  for (const b of bad) assert.equal(decodeCandleEnvelope(JSON.stringify(b)).ok, false);
  for (let cut = 0; cut < text.length; cut++) {
    assert.equal(decodeCandleEnvelope(text.slice(0, cut)).ok, false, `cut at ${cut}`);
  }
  for (let i = 0; i < 500; i++) {
    const bytes = crypto.getRandomValues(new Uint8Array(1 + (i % 64)));
    assert.equal(decodeCandleEnvelope(bytes).ok, false);
  }
});
