// Decode throughput of the Kite codec: full-mode frames of 1, 50 and 200 packets, and a
// 200-packet quote frame. Run with `deno bench adapters/zerodha/codec_bench.ts`.

import { createDecodeStats, decodeFrame, encodeFrame, encodePacket } from "./codec.ts";

function fullFrame(n: number, kind: "full" | "quote" = "full"): Uint8Array {
  const depth = {
    buy: [1, 2, 3, 4, 5].map((i) => ({ quantity: 100 * i, price: 294070 - 5 * i, orders: i })),
    sell: [1, 2, 3, 4, 5].map((i) => ({ quantity: 90 * i, price: 294070 + 5 * i, orders: i })),
  };
  const packets = [];
  for (let i = 0; i < n; i++) {
    packets.push(encodePacket({
      kind,
      token: ((1000 + i) << 8) | 1,
      lastPrice: 294070 + i,
      lastQuantity: 10,
      averagePrice: 293812,
      volume: 123456,
      buyQuantity: 5000,
      sellQuantity: 4800,
      open: 293000,
      high: 295050,
      low: 292100,
      close: 292540,
      lastTradeTime: 1_700_000_000,
      oi: 0,
      exchangeTimestamp: 1_700_000_001,
      depth,
    }));
  }
  return encodeFrame(packets);
}

const ref = { exchange: "NSE", symbol: "SYM" };
const lookup = () => ref;
const stats = createDecodeStats();

for (const n of [1, 50, 200]) {
  const frame = fullFrame(n);
  Deno.bench(`decode full frame × ${n} packets`, { group: `full${n}` }, () => {
    decodeFrame(frame, lookup, 0, stats);
  });
}
const quotes = fullFrame(200, "quote");
Deno.bench("decode quote frame × 200 packets", () => {
  decodeFrame(quotes, lookup, 0, stats);
});
