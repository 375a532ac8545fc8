// Decode cost of the Dhan codec per packet kind: Ticker 16 B, Quote 50 B, Full 162 B, a
// previous-close + OI + Quote message (merged into one tick), and a message of 20 Quote packets.
// Run with `deno bench adapters/dhan/codec_bench.ts`.

import {
  createDecodeStats,
  decodeFrame,
  encodeFull,
  encodeOi,
  encodePrevClose,
  encodeQuote,
  encodeTicker,
  joinPackets,
  type MergeState,
} from "./codec.ts";

const ref = { exchange: "NFO", symbol: "BANKNIFTY24APR24FUT" };
const lookup = () => ref;
const stats = createDecodeStats();
const state: MergeState = new Map();
const quote = {
  ltp: 47812.35,
  lastQuantity: 15,
  ltt: 1_700_000_000,
  averagePrice: 47790.1,
  volume: 1_234_567,
  totalSellQuantity: 48_000,
  totalBuyQuantity: 50_000,
  open: 47650,
  close: 0,
  high: 47900.5,
  low: 47600.25,
};
const depth = Array.from({ length: 5 }, (_, i) => ({
  bidQuantity: 100 + i,
  askQuantity: 200 + i,
  bidOrders: 3 + i,
  askOrders: 7 + i,
  bidPrice: 47812.3 - i * 0.05,
  askPrice: 47812.4 + i * 0.05,
}));
const messages = {
  "Ticker (16 B)": encodeTicker(2, 35001, quote.ltp, quote.ltt),
  "Quote (50 B)": encodeQuote(2, 35001, quote),
  "Full (162 B)": encodeFull(2, 35001, { ...quote, oi: 777_777, oiDayHigh: 1, oiDayLow: 1, depth }),
  "prev close + OI + Quote (78 B)": joinPackets([
    encodePrevClose(2, 35001, 47700, 700_000),
    encodeOi(2, 35001, 777_777),
    encodeQuote(2, 35001, quote),
  ]),
  "20 × Quote in one message (1000 B)": joinPackets(
    Array.from({ length: 20 }, (_, i) => encodeQuote(2, 35001 + i, quote)),
  ),
};

for (const [name, bytes] of Object.entries(messages)) {
  Deno.bench(`dhan decode ${name}`, { group: "dhan" }, () => {
    decodeFrame(bytes, lookup, 0, state, stats);
  });
}
