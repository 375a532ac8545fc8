// Independent check: the official kiteconnect client (KiteTicker, run under Deno's npm support)
// decodes the simulator's bytes to the same values as our codec, and connects to the simulator.

import assert from "node:assert/strict";
import { KiteTicker } from "kiteconnect";
import {
  createDecodeStats,
  decodeFrame,
  encodeFrame,
  encodePacket,
  encodeSetMode,
  encodeSubscribe,
  isTradable,
  type KiteMode,
  MODE_OF_KITE,
  packetKindFor,
} from "../../adapters/zerodha/codec.ts";
import { startZerodhaSimulator } from "../../adapters/zerodha/simulator.ts";
import type { Tick } from "../../lib/types.ts";
import { until } from "./harness.ts";

/** The parts of KiteTicker's tick objects we compare (brokers.md §1.8). */
interface KiteTick {
  tradable: boolean;
  mode: KiteMode;
  instrument_token: number;
  last_price: number;
  last_traded_quantity?: number;
  average_traded_price?: number;
  volume_traded?: number;
  total_buy_quantity?: number;
  total_sell_quantity?: number;
  ohlc?: { open: number; high: number; low: number; close: number };
  change?: number;
  last_trade_time?: Date | null;
  exchange_timestamp?: Date | null;
  oi?: number;
  depth?: {
    buy: { quantity: number; price: number; orders: number }[];
    sell: { quantity: number; price: number; orders: number }[];
  };
}

interface Ticker {
  connect(): void;
  disconnect(): void;
  subscribe(tokens: number[]): void;
  setMode(mode: KiteMode, tokens: number[]): void;
  parseBinary(buf: ArrayBuffer): KiteTick[];
  on(event: string, cb: (...args: unknown[]) => void): void;
}

function newTicker(o: Record<string, unknown>): Ticker {
  const Ctor = KiteTicker as unknown as new (o: Record<string, unknown>) => Ticker;
  return new Ctor(o);
}

// One instrument per segment and packet family: NSE, NFO, CDS, BSE, BFO, BCD, MCX, index.
const TOKENS = [738561, 12010754, 1054723, 128083204, 217600261, 204806, 66560263, 256265, 265];
const lookup = (token: number) => ({ exchange: "X", symbol: String(token) });

function close(a: number, b: number, what: string): void {
  assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a)), `${what}: ${a} vs ${b}`);
}

/** Compares one KiteTicker tick with our tick for the same packet, field by field. */
function compare(k: KiteTick, t: Tick): void {
  const w = `token ${k.instrument_token} ${k.mode}`;
  assert.equal(t.symbol, String(k.instrument_token), w);
  assert.equal(k.tradable, isTradable(k.instrument_token), w);
  assert.equal(t.mode, MODE_OF_KITE[k.mode], w);
  assert.equal(t.ltp, k.last_price, `${w} ltp`);
  if (k.mode === "ltp") return;
  assert.ok(k.ohlc !== undefined);
  assert.equal(t.open, k.ohlc.open, `${w} open`);
  assert.equal(t.high, k.ohlc.high, `${w} high`);
  assert.equal(t.low, k.ohlc.low, `${w} low`);
  assert.equal(t.close, k.ohlc.close, `${w} close`);
  // Kite's `change` is a percentage (0 when close is 0); ours is change_percent (null then).
  close(t.change_percent ?? 0, k.change ?? NaN, `${w} change%`);
  if (k.tradable) {
    assert.equal(t.last_trade_quantity, k.last_traded_quantity, `${w} ltq`);
    assert.equal(t.avg_trade_price, k.average_traded_price, `${w} atp`);
    assert.equal(t.volume, k.volume_traded, `${w} volume`);
    assert.equal(t.total_buy_quantity, k.total_buy_quantity, `${w} tbq`);
    assert.equal(t.total_sell_quantity, k.total_sell_quantity, `${w} tsq`);
  }
  if (k.mode !== "full") return;
  assert.equal(t.timestamp, k.exchange_timestamp?.getTime(), `${w} exchange_timestamp`);
  if (!k.tradable) return;
  assert.equal(t.ltt, k.last_trade_time?.getTime() ?? null, `${w} ltt`);
  assert.equal(t.oi, k.oi, `${w} oi`);
  assert.deepEqual(t.depth, k.depth, `${w} depth`);
}

Deno.test("kiteconnect parseBinary agrees with our codec on the simulator's frames", async () => {
  const sim = await startZerodhaSimulator({ tickIntervalMs: 0, heartbeatIntervalMs: 0 });
  const ws = new WebSocket(`${sim.url}?api_key=${sim.apiKey}&access_token=${sim.accessToken}`);
  ws.binaryType = "arraybuffer";
  const frames: ArrayBuffer[] = [];
  ws.onmessage = (e) => {
    if (e.data instanceof ArrayBuffer && e.data.byteLength > 1) frames.push(e.data);
  };
  try {
    await until(() => ws.readyState === WebSocket.OPEN, 3000, "open");
    const modeOf = (t: number) => sim.subscriptions()[0]?.tokens.get(t);
    ws.send(encodeSubscribe(TOKENS));
    ws.send(encodeSetMode("ltp", [TOKENS[0]]));
    await until(() => modeOf(TOKENS[0]) === "ltp" && modeOf(TOKENS[8]) === "quote", 3000, "sub");
    for (let i = 0; i < 5; i++) sim.tick();
    ws.send(encodeSetMode("full", TOKENS));
    await until(() => TOKENS.every((t) => modeOf(t) === "full"), 3000, "full");
    for (let i = 0; i < 5; i++) sim.tick();
    await until(() => frames.length >= 12, 3000, "frames");
    const ticker = newTicker({ api_key: "k", access_token: "t" });
    let packets = 0;
    const kinds = new Set<string>();
    for (const f of frames) {
      const ours = decodeFrame(new Uint8Array(f), lookup, 0, createDecodeStats());
      const theirs = ticker.parseBinary(f);
      assert.equal(ours.length, theirs.length);
      for (let i = 0; i < ours.length; i++) {
        compare(theirs[i], ours[i]);
        kinds.add(`${theirs[i].tradable}:${theirs[i].mode}`);
        packets++;
      }
    }
    assert.deepEqual([...kinds].sort(), [
      "false:full",
      "false:quote",
      "true:full",
      "true:ltp",
      "true:quote",
    ]);
    assert.ok(packets >= 90, `${packets} packets compared`);
    // The comparison itself must be able to fail.
    const [k] = ticker.parseBinary(frames[frames.length - 1]);
    const [t] = decodeFrame(
      new Uint8Array(frames[frames.length - 1]),
      lookup,
      0,
      createDecodeStats(),
    );
    assert.throws(() => compare(k, { ...t, oi: (t.oi ?? 0) + 1 }));
    assert.throws(() => compare(k, { ...t, ltp: t.ltp + 0.05 }));
  } finally {
    ws.close();
    await until(() => ws.readyState === WebSocket.CLOSED, 3000, "closed").catch(() => {});
    await sim.close();
  }
});

Deno.test({
  name: "kiteconnect KiteTicker connects to the simulator, subscribes and receives our values",
  // The ws-based client keeps a read timer and socket internals we cannot await.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const sim = await startZerodhaSimulator({ tickIntervalMs: 0, heartbeatIntervalMs: 500 });
    const ticker = newTicker({
      api_key: sim.apiKey,
      access_token: sim.accessToken,
      root: sim.url,
      reconnect: false,
    });
    const received: KiteTick[] = [];
    const events: string[] = [];
    ticker.on("connect", () => {
      events.push("connect");
      ticker.subscribe(TOKENS);
      ticker.setMode("full", TOKENS.slice(0, 4));
      ticker.setMode("ltp", [TOKENS[4]]);
    });
    ticker.on("ticks", (ticks) => received.push(...(ticks as KiteTick[])));
    ticker.on("error", (e) => events.push(`error ${String(e)}`));
    try {
      ticker.connect();
      await until(
        () => received.filter((t) => t.mode === "full").length >= 4,
        5000,
        "full ticks from KiteTicker",
      );
      assert.equal(events[0], "connect");
      const view = sim.subscriptions();
      assert.equal(view.length, 1);
      assert.equal(view[0].tokens.size, TOKENS.length);
      assert.equal(view[0].tokens.get(TOKENS[0]), "full");
      assert.equal(view[0].tokens.get(TOKENS[4]), "ltp");
      assert.equal(view[0].tokens.get(TOKENS[8]), "quote");
      // The market does not move (tickIntervalMs 0), so each tick must equal our decode of the
      // simulator's state in that mode.
      for (const k of received) {
        const token = k.instrument_token;
        const packet = encodePacket({
          ...sim.quote(token),
          kind: packetKindFor(token, k.mode),
          token,
        });
        const [ours] = decodeFrame(encodeFrame([packet]), lookup, 0, createDecodeStats());
        compare(k, ours);
      }
      assert.ok(received.some((t) => t.instrument_token === 265 && t.tradable === false));
    } finally {
      ticker.disconnect();
      await sim.close();
    }
  },
});

Deno.test({
  name: "kiteconnect KiteTicker gets a 403 from the simulator with a bad token",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const sim = await startZerodhaSimulator({ tickIntervalMs: 0 });
    const ticker = newTicker({
      api_key: sim.apiKey,
      access_token: "expired",
      root: sim.url,
      reconnect: false,
    });
    const errors: string[] = [];
    ticker.on("error", (e) => errors.push(String((e as Error)?.message ?? e)));
    try {
      ticker.connect();
      await until(() => errors.length > 0, 5000, "error event");
      assert.match(errors[0], /403/);
      assert.equal(sim.stats.rejected403, 1);
    } finally {
      ticker.disconnect();
      await sim.close();
    }
  },
});
