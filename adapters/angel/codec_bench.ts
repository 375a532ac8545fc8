// Decode cost of the Angel codec per packet kind (one packet per message): LTP 51 B, Quote 123 B,
// SnapQuote 379 B, Depth-20 443 B. Run with `deno bench adapters/angel/codec_bench.ts`.

import { createDecodeStats, decodePacket, encodeDepth20, encodePacket, tokenKey } from "./codec.ts";

const ref = { exchange: "NSE", symbol: "RELIANCE" };
const key = tokenKey(1, 2885);
const lookup = (k: number) => (k === key ? ref : undefined);
const stats = createDecodeStats();
const book = (side: number) =>
  Array.from({ length: 20 }, (_, i) => ({
    quantity: 100 + i,
    price: 294070 + side * 5 * (i + 1),
    orders: 1 + i,
  }));
const base = {
  exchangeType: 1,
  token: "2885",
  sequence: 1,
  exchangeTimestamp: 1_700_000_000_123,
  ltp: 294070,
  lastTradedQuantity: 10,
  averagePrice: 293812,
  volume: 123456,
  totalBuyQuantity: 5000,
  totalSellQuantity: 4800,
  open: 293000,
  high: 295050,
  low: 292100,
  close: 292540,
  lastTradedTimestamp: 1_700_000_000,
  oi: 0,
  bestFive: { buy: book(-1).slice(0, 5), sell: book(1).slice(0, 5) },
};
const packets = {
  "LTP (51 B)": encodePacket({ ...base, mode: 1 }),
  "Quote (123 B)": encodePacket({ ...base, mode: 2 }),
  "SnapQuote (379 B)": encodePacket({ ...base, mode: 3 }),
  "Depth-20 (443 B)": encodeDepth20({
    exchangeType: 1,
    token: "2885",
    exchangeTimestamp: 1_700_000_000_123,
    bids: book(-1),
    asks: book(1),
  }),
};

for (const [name, bytes] of Object.entries(packets)) {
  Deno.bench(`angel decode ${name}`, { group: "angel" }, () => {
    decodePacket(bytes, lookup, 0, stats);
  });
}
