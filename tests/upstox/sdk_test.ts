// Independent check: the official upstox-js-sdk (MarketDataStreamerV3, its own bundled .proto and
// protobufjs) connects to the simulator through the redirecting feed URL, subscribes, and decodes
// every frame to the same values our codec produces from the same bytes.

import assert from "node:assert/strict";
// Inline on purpose: a test-only dependency.
// deno-lint-ignore no-import-prefix
import { ApiClient, MarketDataStreamerV3 } from "npm:upstox-js-sdk@2.31.0";
// deno-lint-ignore no-import-prefix
import { MarketDataFeederV3 } from "npm:upstox-js-sdk@2.31.0/dist/feeder/MarketDataFeederV3.js";
import { createDecodeStats, decodeFeedFrame } from "../../adapters/upstox/codec.ts";
import { parseUpstoxMaster } from "../../adapters/upstox/instruments.ts";
import {
  SIM_ACCESS_TOKEN,
  SIM_INSTRUMENTS,
  startUpstoxSimulator,
} from "../../adapters/upstox/simulator.ts";
import type { Tick } from "../../lib/types.ts";

const SDK_FEED_URL = "wss://api.upstox.com/v3/feed/market-data-feed";

async function until(cond: () => boolean, label: string, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The SDK's decoded FeedResponse as JSON (int64 as strings, enums as names). */
interface SdkLtpc {
  ltp?: number;
  ltt?: string;
  ltq?: string;
  cp?: number;
}
interface SdkFeed {
  ltpc?: SdkLtpc;
  fullFeed?: {
    marketFF?: {
      ltpc?: SdkLtpc;
      marketLevel?: {
        bidAskQuote?: { bidQ?: string; bidP?: number; askQ?: string; askP?: number }[];
      };
      marketOHLC?: { ohlc?: { interval?: string; open?: number; high?: number; low?: number }[] };
      atp?: number;
      vtt?: string;
      oi?: number;
      tbq?: number;
      tsq?: number;
    };
    indexFF?: { ltpc?: SdkLtpc };
  };
  requestMode?: string;
}
interface SdkResponse {
  type?: string;
  feeds?: Record<string, SdkFeed>;
  currentTs?: string;
}

/** The values the SDK decoded, in the tick's terms (written from the SDK's field names). */
function expectedFromSdk(f: SdkFeed): Partial<Tick> {
  const ff = f.fullFeed?.marketFF;
  const l = f.ltpc ?? ff?.ltpc ?? f.fullFeed?.indexFF?.ltpc ?? {};
  const out: Partial<Tick> = {
    ltp: l.ltp ?? 0,
    ltt: l.ltt === undefined ? null : Number(l.ltt),
    close: l.cp ?? null,
  };
  if (ff !== undefined) {
    const day = ff.marketOHLC?.ohlc?.find((c) => c.interval === "1d");
    out.open = day?.open ?? null;
    out.high = day?.high ?? null;
    out.low = day?.low ?? null;
    out.volume = Number(ff.vtt ?? 0);
    out.avg_trade_price = ff.atp ?? null;
    out.total_buy_quantity = ff.tbq ?? null;
    out.total_sell_quantity = ff.tsq ?? null;
    const levels = ff.marketLevel?.bidAskQuote ?? [];
    out.depth = {
      buy: levels.map((q) => ({ price: q.bidP ?? 0, quantity: Number(q.bidQ ?? 0), orders: null })),
      sell: levels.map((q) => ({
        price: q.askP ?? 0,
        quantity: Number(q.askQ ?? 0),
        orders: null,
      })),
    };
  }
  return out;
}

interface FeederProto {
  connectWebSocket(url: string, token: string): Promise<unknown>;
  decodeProtobuf(buffer: Uint8Array): { toJSON(): SdkResponse } | null;
}

Deno.test("upstox-js-sdk MarketDataStreamerV3 decodes the simulator's feed to our values", async () => {
  await using sim = await startUpstoxSimulator({ tickEveryMs: 50 });
  const master = parseUpstoxMaster(await Deno.readTextFile(SIM_INSTRUMENTS));
  const keys = ["NSE_EQ|INE002A01018", "NSE_FO|43885", "NSE_INDEX|Nifty 50"];

  // The SDK's feed URL is a constant inside connect(); the only override is wrapping
  // connectWebSocket (brokers.md §8). It then follows the simulator's 302 like Upstox's.
  const proto = (MarketDataFeederV3 as unknown as { prototype: FeederProto }).prototype;
  const connect = proto.connectWebSocket;
  const decode = proto.decodeProtobuf;
  const pairs: { bytes: Uint8Array; sdk: SdkResponse }[] = [];
  proto.connectWebSocket = function (url, token) {
    assert.equal(url, SDK_FEED_URL);
    return connect.call(
      this,
      sim.restUrl.replace(/^http/, "ws") + "/v3/feed/market-data-feed",
      token,
    );
  };
  proto.decodeProtobuf = function (buffer) {
    const m = decode.call(this, buffer);
    if (m !== null) {
      const sdk = m.toJSON();
      // JSON leaves out proto3 zeros: type initial_feed is the enum's zero.
      pairs.push({
        bytes: new Uint8Array(buffer),
        sdk: { ...sdk, type: sdk.type ?? "initial_feed" },
      });
    }
    return m;
  };
  const api = ApiClient as unknown as {
    instance: { authentications: { OAUTH2: { accessToken: string } } };
  };
  api.instance.authentications.OAUTH2.accessToken = SIM_ACCESS_TOKEN;
  const Streamer = MarketDataStreamerV3 as unknown as new (keys: string[], mode: string) => {
    connect(): Promise<void>;
    disconnect(): void;
    autoReconnect(enable: boolean): void;
    changeMode(keys: string[], mode: string): void;
    on(event: string, cb: (...a: unknown[]) => void): void;
  };
  const streamer = new Streamer(keys, "full");
  streamer.autoReconnect(false);
  let opened = false;
  streamer.on("open", () => opened = true);
  try {
    await streamer.connect();
    await until(() => opened, "the SDK's connection to open");
    assert.ok(sim.handshakes >= 2, "the SDK followed the redirect to the single-use URL");
    await until(() => pairs.filter((p) => p.sdk.type === "live_feed").length >= 5, "live feeds");
    assert.deepEqual(sim.requests[0], { method: "sub", mode: "full", instrumentKeys: keys });
    streamer.changeMode([keys[0]], "ltpc");
    await until(
      // requestMode ltpc is the enum's zero: proto3 leaves it out; the ltpc feed says it.
      () => pairs.some((p) => p.sdk.feeds?.[keys[0]]?.ltpc !== undefined),
      "ltpc after the SDK's changeMode",
    );
  } finally {
    streamer.disconnect();
    proto.connectWebSocket = connect;
    proto.decodeProtobuf = decode;
  }

  assert.equal(pairs[0].sdk.type, "market_info", "market_info comes first");
  assert.equal(pairs[1].sdk.type, "initial_feed", "then the snapshot");
  const lookup = (k: string) => master.byToken(k);
  const stats = createDecodeStats();
  let compared = 0;
  const kinds = new Set<string>();
  for (const { bytes, sdk } of pairs) {
    const ours = decodeFeedFrame(bytes, lookup, 0, stats);
    assert.ok(ours.ok);
    assert.equal(ours.type, sdk.type);
    for (const [key, feed] of Object.entries(sdk.feeds ?? {})) {
      const ins = master.byToken(key)!;
      const tick: Tick | undefined = ours.ticks.find((t) =>
        t.symbol === ins.symbol && t.exchange === ins.exchange
      );
      assert.ok(tick !== undefined, `our tick for ${key}`);
      assert.equal(tick.timestamp, Number(sdk.currentTs));
      const want = expectedFromSdk(feed);
      for (const [field, value] of Object.entries(want)) {
        assert.deepEqual(tick[field as keyof Tick], value, `${key} ${field}`);
      }
      kinds.add(`${feed.requestMode ?? "ltpc"}${feed.fullFeed?.indexFF ? "/index" : ""}`);
      compared++;
    }
  }
  assert.equal(stats.errors, 0);
  assert.ok(compared >= 15, `${compared} feeds compared`);
  assert.deepEqual([...kinds].sort(), ["full_d5", "full_d5/index", "ltpc"]);
});
