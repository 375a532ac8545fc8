// Decode cost of the Groww codec per payload kind: protobuf decode alone, and the whole message
// path (subject → instrument, decode, per-subject merge, tick). Run with
// `deno bench adapters/groww/codec_bench.ts`.

import {
  createDecodeStats,
  decodeMessage,
  decodePayload,
  encodeBook,
  encodeIndex,
  encodePrice,
  FeedCache,
} from "./codec.ts";

const TS = 1_760_000_000_000;
const snapshot = encodePrice({
  tsInMillis: TS,
  open: 2921.5,
  high: 2951.15,
  low: 2910.05,
  close: 2925.4,
  volume: 1234567,
  value: 3630000000.5,
  bidQty: 51234,
  offerQty: 48766,
  avgPrice: 2940.12,
  highPriceRange: 3217.9,
  lowPriceRange: 2632.9,
  ltp: 2940.7,
}, { symbol: "RELIANCE", exchange: 1 });
const update = encodePrice({ tsInMillis: TS + 1000, ltp: 2940.75, volume: 1234580 });
const levels = (from: number, step: number) =>
  [0, 1, 2, 3, 4].map((i) => ({ price: from + i * step, qty: 100 + i * 37 }));
const book = encodeBook({
  tsInMillis: TS,
  buy: levels(2940.65, -0.05),
  sell: levels(2940.75, 0.05),
});
const index = encodeIndex({ tsInMillis: TS, value: 25012.35 });

const ref = { exchange: "NSE", symbol: "RELIANCE" };
const lookup = () => ref;
const stats = createDecodeStats();
const cache = new FeedCache();
cache.setDepth("eq/nse/2885", true);
decodeMessage("/ld/eq/nse/price.2885", snapshot, lookup, cache, 0, stats);

const kinds: [string, string, Uint8Array][] = [
  ["price snapshot (13 fields)", "/ld/eq/nse/price.2885", snapshot],
  ["price update (3 fields)", "/ld/eq/nse/price.2885", update],
  ["book 5+5 levels", "/ld/eq/nse/book.2885", book],
  ["index value", "/ld/indices/nse/price.NIFTY", index],
];
for (const [name, subject, bytes] of kinds) {
  Deno.bench(`protobuf decode: ${name} (${bytes.length} B)`, { group: "payload" }, () => {
    decodePayload(bytes);
  });
  Deno.bench(`message → tick: ${name}`, { group: "message" }, () => {
    decodeMessage(subject, bytes, lookup, cache, 0, stats);
  });
}
