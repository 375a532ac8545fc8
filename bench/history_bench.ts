// Candle history benchmark: how long GET /api/v1/candles takes to answer one symbol's whole NSE day
// of 1m bars from a recording — the DuckDB file, then the same day rolled to Parquet — through a
// real gateway over HTTP. The recording is synthetic: `--symbols` instruments, one Quote tick each
// per `--every` ms over the session, each with its LTP copy as the bus carries it. Prints a
// markdown table; nothing fails on the figures.
//
//   deno task bench:history
//   deno task bench:history --symbols 50 --every 500 --runs 9

import { parseArgs } from "node:util";
import type { BusEnvelope } from "../lib/bus/envelope.ts";
import { configSchema } from "../lib/config/mod.ts";
import { Gateway } from "../lib/gateway.ts";
import { adapterOptionsFor, ADAPTERS } from "../adapters/mod.ts";
import { type PendingTick, TickStore } from "../lib/recorder/store.ts";
import { rollToParquet } from "../lib/recorder/roll.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    symbols: { type: "string", default: "20" },
    every: { type: "string", default: "1000" },
    runs: { type: "string", default: "5" },
  },
});
const SYMBOLS = Number(values.symbols);
const EVERY_MS = Number(values.every);
const RUNS = Number(values.runs);
const KEY = "bench-key-0123456789abcdef";
const OPEN = Date.parse("2024-06-03T09:15:00+05:30");
const CLOSE = Date.parse("2024-06-03T15:30:00+05:30");

async function writeDay(db: string): Promise<number> {
  const store = await TickStore.open(db);
  let ingestSeq = 0;
  let rows: PendingTick[] = [];
  const volume = new Array(SYMBOLS).fill(1_000_000);
  const price = new Array(SYMBOLS).fill(500);
  let written = 0;
  for (let t = OPEN; t < CLOSE; t += EVERY_MS) {
    for (let s = 0; s < SYMBOLS; s++) {
      const symbol = `SYM${s}`;
      price[s] = Math.max(1, price[s] + (Math.random() - 0.5));
      volume[s] += Math.floor(Math.random() * 300);
      const at = t + s; // one ms apart so each symbol's ticks stay ordered
      const head = { v: 1, seq: 0, session: "b", broker: "bench", exchange: "NSE", symbol };
      const ltp = { symbol, exchange: "NSE", ltp: price[s], ltt: at, timestamp: at };
      rows.push({
        ingestSeq: ingestSeq++,
        received: at + 2,
        topic: `NSE_${symbol}_QUOTE`,
        envelope: {
          ...head,
          mode: "QUOTE",
          published: at + 1,
          data: {
            ...ltp,
            open: 500,
            high: 510,
            low: 490,
            close: 499,
            volume: volume[s],
            last_trade_quantity: 1,
            avg_trade_price: 500,
            total_buy_quantity: 1,
            total_sell_quantity: 1,
            oi: null,
            change: 0,
            change_percent: 0,
          },
        } as BusEnvelope,
      });
      rows.push({
        ingestSeq: ingestSeq++,
        received: at + 2,
        topic: `NSE_${symbol}_LTP`,
        envelope: { ...head, mode: "LTP", published: at + 1, data: ltp } as BusEnvelope,
      });
    }
    if (rows.length >= 50_000) {
      store.writeTicks(rows);
      written += rows.length;
      rows = [];
    }
  }
  store.writeTicks(rows);
  written += rows.length;
  store.close();
  return written;
}

async function timeRequests(port: number): Promise<{ cold: number; p50: number; bars: number }> {
  const url = `http://127.0.0.1:${port}/api/v1/candles?exchange=NSE&symbol=SYM${
    Math.floor(SYMBOLS / 2)
  }&interval=1m&from=2024-06-03&to=2024-06-04`;
  const times: number[] = [];
  let bars = 0;
  for (let i = 0; i < RUNS + 1; i++) {
    const t0 = performance.now();
    const res = await fetch(url, { headers: { authorization: `Bearer ${KEY}` } });
    const body = await res.json();
    times.push(performance.now() - t0);
    bars = body.data.candles.length;
  }
  const warm = times.slice(1).sort((a, b) => a - b);
  return { cold: times[0], p50: warm[Math.floor(warm.length / 2)], bars };
}

const dir = await Deno.makeTempDir({ prefix: "tickplex-history-bench-" });
try {
  const db = `${dir}/ticks.duckdb`;
  const t0 = performance.now();
  const rows = await writeDay(db);
  const writeMs = performance.now() - t0;
  const gw = await Gateway.start({
    config: configSchema.parse({
      port: 0,
      bus: "tcp://127.0.0.1:*",
      apiKeys: [KEY],
      logLevel: "error",
      history: { recordings: dir },
    }),
    adapters: ADAPTERS,
    adapterOptions: adapterOptionsFor,
  });
  try {
    const fromDb = await timeRequests(gw.proxy.addr.port);
    const store = await TickStore.open(db);
    await rollToParquet(store.background, `${dir}/parquet`, {
      cutoff: CLOSE + 86_400_000,
      maxIngestSeq: store.nextIngestSeq - 1,
    });
    store.close();
    const fromParquet = await timeRequests(gw.proxy.addr.port);
    const perSymbol = Math.round((CLOSE - OPEN) / EVERY_MS);
    console.log(
      `\nRecording: ${SYMBOLS} symbols × ${perSymbol} Quote ticks (+ LTP copies) = ${rows} rows, ` +
        `written in ${(writeMs / 1000).toFixed(1)} s\n`,
    );
    console.log("| source  | bars | first request (ms) | p50 of next " + RUNS + " (ms) |");
    console.log("| ------- | ---- | ------------------ | ---------------- |");
    for (const [name, r] of [["DuckDB", fromDb], ["Parquet", fromParquet]] as const) {
      console.log(`| ${name} | ${r.bars} | ${r.cold.toFixed(1)} | ${r.p50.toFixed(1)} |`);
    }
  } finally {
    await gw.stop();
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
