// Independent check: the official `smartapi-javascript` WebSocketV2 client (run under Deno's npm
// support), pointed at the Angel simulator, connects with the same headers our adapter sends and
// parses the simulator's LTP, Quote and SnapQuote packets to the values our codec decodes from the
// same bytes. Its URL is overridable only by mutating its shared constants module (brokers.md §8).

import assert from "node:assert/strict";
// Inline on purpose: test-only dependencies (an import-map entry would do as well).
// deno-lint-ignore no-import-prefix
import WebSocketV2 from "npm:smartapi-javascript@1.0.27/lib/websocket2.0.js";
// deno-lint-ignore no-import-prefix
import smartapiConstants from "npm:smartapi-javascript@1.0.27/config/constant.js";
import { BrokerAdapter } from "../../lib/adapter/mod.ts";
import type { Tick } from "../../lib/types.ts";
import { createDecodeStats, decodePacket, tokenKey } from "../../adapters/angel/codec.ts";
import { angelSpec } from "../../adapters/angel/dialect.ts";
import { parseAngelMaster } from "../../adapters/angel/instruments.ts";
import { SAMPLE_INSTRUMENTS, startAngelSimulator } from "../../adapters/angel/simulator.ts";
import { RecordingOutput, until } from "../helpers/recording_output.ts";

/** The parts of WebSocketV2's parsed packets we compare; every value is a string. */
interface Parsed {
  subscription_mode: string;
  exchange_type: string;
  token: string;
  exchange_timestamp: string;
  last_traded_price: string;
  last_traded_quantity?: string;
  avg_traded_price?: string;
  vol_traded?: string;
  total_buy_quantity?: string;
  total_sell_quantity?: string;
  open_price_day?: string;
  high_price_day?: string;
  low_price_day?: string;
  close_price?: string;
  last_traded_timestamp?: string;
  open_interest?: string;
  best_5_buy_data?: { flag: string; quantity: string; price: string; no_of_orders: string }[];
  best_5_sell_data?: { flag: string; quantity: string; price: string; no_of_orders: string }[];
}

interface Client {
  connect(): Promise<unknown>;
  fetchData(req: Record<string, unknown>): void;
  on(event: string, cb: (data: unknown) => void): void;
  close(): void;
}

const CONSTANTS = (smartapiConstants as { CONSTANTS: Record<string, unknown> }).CONSTANTS;

/** Paise as the client prints them → rupees. */
const rupees = (s: string | undefined) => Number(s) / 100;

function compare(p: Parsed, t: Tick): void {
  const what = `${p.token} mode ${p.subscription_mode}`;
  assert.equal(t.ltp, rupees(p.last_traded_price), `${what} ltp`);
  assert.equal(t.timestamp, Number(p.exchange_timestamp), `${what} exchange time`);
  if (p.subscription_mode === "1") return;
  assert.equal(t.last_trade_quantity, Number(p.last_traded_quantity), `${what} ltq`);
  assert.equal(t.avg_trade_price, rupees(p.avg_traded_price), `${what} atp`);
  assert.equal(t.volume, Number(p.vol_traded), `${what} volume`);
  assert.equal(t.total_buy_quantity, Number(p.total_buy_quantity), `${what} tbq`);
  assert.equal(t.total_sell_quantity, Number(p.total_sell_quantity), `${what} tsq`);
  assert.equal(t.open, rupees(p.open_price_day), `${what} open`);
  assert.equal(t.high, rupees(p.high_price_day), `${what} high`);
  assert.equal(t.low, rupees(p.low_price_day), `${what} low`);
  assert.equal(t.close, rupees(p.close_price), `${what} close`);
  if (p.subscription_mode === "2") return;
  assert.equal(t.ltt, Number(p.last_traded_timestamp) * 1000, `${what} ltt`);
  if (t.oi !== null) assert.equal(t.oi, Number(p.open_interest), `${what} oi`);
  // The client splits best five by position (first five buy), as our codec does.
  for (
    const [side, theirs] of [["buy", p.best_5_buy_data], ["sell", p.best_5_sell_data]] as const
  ) {
    assert.equal(theirs?.length, 5, `${what} ${side} levels`);
    theirs!.forEach((l, i) => {
      const ours = t.depth![side][i];
      assert.equal(ours.price, rupees(l.price), `${what} ${side}[${i}] price`);
      assert.equal(ours.quantity, Number(l.quantity), `${what} ${side}[${i}] quantity`);
      assert.equal(ours.orders, Number(l.no_of_orders), `${what} ${side}[${i}] orders`);
      assert.equal(l.flag, side === "buy" ? "1" : "0");
    });
  }
}

Deno.test({
  name: "smartapi-javascript WebSocketV2 parses the simulator's packets to our codec's values",
  // The ws-based client keeps a ping interval and socket internals we cannot await.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const sim = await startAngelSimulator({ tickEveryMs: 0, recordPackets: true });
    const master = parseAngelMaster(await Deno.readTextFile(SAMPLE_INSTRUMENTS));
    // The client reads its URL from this shared module when it is constructed.
    CONSTANTS.websocketURL = sim.url;
    CONSTANTS.Interval = 200;
    const c = sim.credentials;
    const Ctor = WebSocketV2 as unknown as new (o: Record<string, string>) => Client;
    const client = new Ctor({
      clientcode: c.clientCode,
      jwttoken: `Bearer ${c.accessToken}`,
      apikey: c.apiKey,
      feedtype: c.feedToken,
    });
    const parsed: Parsed[] = [];
    client.on("tick", (d) => {
      if (typeof d === "object" && d !== null && "subscription_mode" in d) parsed.push(d as Parsed);
    });
    const out = new RecordingOutput();
    const adapter = new BrokerAdapter(angelSpec);
    try {
      await client.connect();
      // LTP, Quote and SnapQuote, cash and derivatives.
      const asks: [number, number, string][] = [
        [1, 1, "2885"],
        [2, 1, "1594"],
        [3, 1, "11536"],
        [2, 2, "35001"],
        [3, 2, "43650"],
        [3, 5, "234230"],
      ];
      for (const [mode, exchangeType, token] of asks) {
        client.fetchData({
          correlationID: "abcde12345",
          action: 1,
          mode,
          exchangeType,
          tokens: [token],
        });
      }
      await until(() => parsed.length === asks.length, `${asks.length} parsed packets`);
      await until(() => sim.requests().some((r) => r.text === "ping"), "the client's text ping");
      const packets = sim.packets();
      assert.equal(packets.length, asks.length);
      const lookup = (key: number) => master.byToken(key);
      for (let i = 0; i < packets.length; i++) {
        const p = parsed[i];
        // The client's token quirk: a JSON-quoted string with the NUL padding stripped.
        assert.equal(p.token, JSON.stringify(asks[i][2]));
        const r = decodePacket(packets[i], lookup, 0, createDecodeStats());
        assert.equal(r.kind, "tick");
        if (r.kind !== "tick") continue;
        assert.equal(r.key, tokenKey(Number(p.exchange_type), Number(JSON.parse(p.token))));
        assert.equal(r.tick.mode, Number(p.subscription_mode));
        compare(p, r.tick);
      }

      // Our adapter's handshake carries the same four headers with the same values.
      await adapter.init(0, sim.adapterOptions, out);
      await until(() => out.state === "connected", "adapter connected");
      const [theirs, ours] = sim.handshakeHeaders();
      for (const h of ["authorization", "x-api-key", "x-client-code", "x-feed-token"]) {
        assert.equal(ours[h], theirs[h], h);
      }
    } finally {
      client.close();
      await adapter.close();
      await sim.close();
    }
  },
});
