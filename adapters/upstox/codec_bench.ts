// Decode cost of the Upstox V3 codec per message kind: ltpc, full (5 levels), full_d30 (30 levels),
// one instrument per frame as Upstox sends single-key updates, and a 50-key full frame.
// Run with `deno bench adapters/upstox/codec_bench.ts`.

import { createDecodeStats, decodeFeedFrame, encodeFeedResponse, type PbFeed } from "./codec.ts";

const LTT = 1_711_000_000_000;
const ltpc = { ltp: 2940.7, ltt: LTT, ltq: 25, cp: 2925.4 };

function full(levels: number): PbFeed {
  return {
    fullFeed: {
      marketFF: {
        ltpc,
        marketLevel: {
          bidAskQuote: Array.from({ length: levels }, (_, i) => ({
            bidQ: 100 + i,
            bidP: 2940.65 - i * 0.05,
            askQ: 120 + i,
            askP: 2940.75 + i * 0.05,
          })),
        },
        optionGreeks: { delta: 0.5, theta: -10, gamma: 0.001, vega: 9, rho: 3 },
        marketOHLC: {
          ohlc: [
            { interval: "I1", open: 2940, high: 2941, low: 2939, close: 2940.7, vol: 500, ts: LTT },
            { interval: "1d", open: 2930, high: 2950, low: 2920, close: 2940.7, vol: 1e6, ts: LTT },
          ],
        },
        atp: 2935.12,
        vtt: 1_234_567,
        oi: 0,
        iv: 0,
        tbq: 456_000,
        tsq: 389_000,
      },
    },
    requestMode: levels === 30 ? 3 : 1,
  };
}

function frame(feeds: Record<string, PbFeed>): Uint8Array {
  return encodeFeedResponse({ type: 1, feeds, currentTs: LTT });
}

const KEY = "NSE_EQ|INE002A01018";
const ref = { exchange: "NSE", symbol: "RELIANCE" };
const lookup = () => ref;
const stats = createDecodeStats();

const kinds: [string, Uint8Array][] = [
  ["ltpc", frame({ [KEY]: { ltpc } })],
  ["full", frame({ [KEY]: full(5) })],
  ["full_d30", frame({ [KEY]: full(30) })],
];
for (const [name, bytes] of kinds) {
  Deno.bench(`decode ${name} (${bytes.length} bytes, 1 key)`, { group: name }, () => {
    decodeFeedFrame(bytes, lookup, 0, stats);
  });
}
const many = frame(
  Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`NSE_EQ|K${i}`, full(5)])),
);
Deno.bench(`decode full × 50 keys (${many.length} bytes)`, () => {
  decodeFeedFrame(many, lookup, 0, stats);
});
