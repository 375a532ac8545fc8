// The Noren adapter (kit BrokerAdapter + Noren dialect, in process) against the Noren simulator:
// both logins, connected only after the ack, LTP↔Quote sending nothing, chunking to the broker's
// per-message cap, per-scrip state cleared on unsubscribe, heartbeats, merged sparse updates.

import assert from "node:assert/strict";
import { BrokerAdapter } from "../../lib/adapter/broker.ts";
import type { AdapterOutput } from "../../lib/adapter/contract.ts";
import { parseTick } from "../../lib/adapter/messages.ts";
import type { FeedState, Mode, Tick } from "../../lib/types.ts";
import { NOREN_BROKERS, type NorenBrokerConfig } from "./brokers.ts";
import { NorenDialect, norenSpec } from "./dialect.ts";
import { norenDescriptor } from "./mod.ts";
import type { NorenInstrument } from "./instruments.ts";
import type { NorenOptions } from "./options.ts";
import {
  type NorenSimulator,
  type NorenSimulatorOptions,
  startNorenSimulator,
} from "./simulator.ts";

async function until(cond: () => boolean, label: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

class Rig {
  readonly ticks: Tick[] = [];
  readonly states: FeedState[] = [];
  readonly logs: string[] = [];
  dialect: NorenDialect | null = null;
  readonly adapter: BrokerAdapter<NorenOptions, NorenInstrument>;

  constructor(readonly sim: NorenSimulator, config: NorenBrokerConfig) {
    const spec = norenSpec(config);
    this.adapter = new BrokerAdapter({
      ...spec,
      dialect: (options, context) => {
        this.dialect = spec.dialect(options, context) as NorenDialect;
        return this.dialect;
      },
    });
  }

  readonly out: AdapterOutput = {
    ticks: (ticks) => {
      for (const t of ticks) {
        assert.equal(typeof parseTick(t), "object", "every tick is well-formed");
        this.ticks.push(t);
      }
    },
    status: (state) => this.states.push(state),
    log: (level, message) => this.logs.push(`${level}: ${message}`),
  };

  sub(symbol: string, mode: Mode, exchange = "NSE") {
    return this.adapter.subscribe([{ exchange, symbol, mode, depth: 5 }]);
  }

  /** Requests the simulator received after the login. */
  requests(): string[] {
    return this.sim.requests.map((r) => r.text).filter((t) => !t.startsWith('{"t":"h"'));
  }
}

async function withRig(
  config: NorenBrokerConfig,
  simOpts: NorenSimulatorOptions,
  extra: Record<string, unknown>,
  fn: (r: Rig) => Promise<void>,
): Promise<void> {
  const sim = await startNorenSimulator(config, { tickEveryMs: 0, ...simOpts });
  const r = new Rig(sim, config);
  try {
    await r.adapter.init(0, { ...sim.adapterOptions, ...extra }, r.out);
    await fn(r);
    assert.deepEqual(sim.violations, {
      tooManyKeys: 0,
      overCapacity: 0,
      tooManyConnections: 0,
      beforeLogin: 0,
      badRequest: 0,
    });
  } finally {
    await r.adapter.close();
    await sim.close();
  }
}

Deno.test("flattrade logs in with t:a and its access token; connected only after the ak", () =>
  withRig(NOREN_BROKERS.flattrade, {}, { accountId: "ACC9" }, (r) => {
    assert.deepEqual(r.states, ["connecting", "connected"]);
    assert.deepEqual(JSON.parse(r.sim.requests[0].text), {
      t: "a",
      uid: "SIMUSER1",
      actid: "ACC9",
      source: "API",
      accesstoken: r.sim.accessToken,
    });
    assert.equal(r.sim.logins.accepted, 1);
    return Promise.resolve();
  }));

Deno.test("shoonya's legacy login: t:c with the session token, ck ack", () =>
  withRig(NOREN_BROKERS.shoonya, { login: "c", acceptLogins: ["c"] }, {}, (r) => {
    assert.equal(r.states.at(-1), "connected");
    const login = JSON.parse(r.sim.requests[0].text);
    assert.equal(login.t, "c");
    assert.equal(login.susertoken, r.sim.accessToken);
    assert.equal(login.actid, "SIMUSER1", "account id defaults to the user id");
    return Promise.resolve();
  }));

Deno.test("a rejected login is auth_failed, never connected; Flattrade's open socket is closed", () =>
  withRig(NOREN_BROKERS.flattrade, {}, { accessToken: "stale" }, async (r) => {
    assert.ok(r.states.includes("auth_failed"));
    assert.ok(!r.states.includes("connected"));
    assert.equal(r.sim.logins.rejected, 1);
    // The simulator (like Flattrade) keeps the socket after NOT_OK; the adapter closes it.
    await until(() => r.sim.server.connections().length === 0, "socket closed by the adapter");
    const res = await r.sub("RELIANCE", 2);
    assert.ok(res[0].ok, "subscriptions are kept for when the token is fixed");
    assert.deepEqual(r.requests().filter((t) => t.includes('"k"')), []);
  }));

Deno.test("a login variant the broker does not take is refused: auth_failed", () =>
  withRig(NOREN_BROKERS.shoonya, { acceptLogins: ["c"] }, { login: "a" }, (r) => {
    assert.ok(r.states.includes("auth_failed"));
    assert.ok(!r.states.includes("connected"));
    assert.equal(JSON.parse(r.sim.requests[0].text).t, "a");
    assert.equal(r.sim.logins.rejected, 1);
    return Promise.resolve();
  }));

Deno.test("LTP↔Quote changes send nothing; Depth moves between touchline and depth", () =>
  withRig(NOREN_BROKERS.flattrade, {}, {}, async (r) => {
    await r.sub("RELIANCE", 1);
    await r.adapter.setMode([{ exchange: "NSE", symbol: "RELIANCE", mode: 2, depth: 5 }]);
    await r.adapter.setMode([{ exchange: "NSE", symbol: "RELIANCE", mode: 1, depth: 5 }]);
    await r.adapter.setMode([{ exchange: "NSE", symbol: "RELIANCE", mode: 3, depth: 5 }]);
    await r.adapter.setMode([{ exchange: "NSE", symbol: "RELIANCE", mode: 2, depth: 5 }]);
    await r.adapter.unsubscribe([{ exchange: "NSE", symbol: "RELIANCE" }]);
    await until(() => r.requests().length === 7, "requests");
    assert.deepEqual(r.requests().slice(1), [
      '{"t":"t","k":"NSE|2885"}',
      '{"t":"u","k":"NSE|2885"}',
      '{"t":"d","k":"NSE|2885"}',
      '{"t":"ud","k":"NSE|2885"}',
      '{"t":"t","k":"NSE|2885"}',
      '{"t":"u","k":"NSE|2885"}',
    ]);
  }));

Deno.test("subscriptions are chunked to the broker's per-message cap", () => {
  const config = { ...NOREN_BROKERS.shoonya, maxTokensPerFrame: 2 };
  return withRig(config, { maxTokensPerMessage: 2 }, {}, async (r) => {
    const res = await r.adapter.subscribe(
      ["RELIANCE", "INFY", "TCS", "SBIN", "NTPC"].map((symbol) => ({
        exchange: "NSE",
        symbol,
        mode: 2 as Mode,
        depth: 5,
      })),
    );
    assert.ok(res.every((x) => x.ok));
    await until(() => r.sim.streams()[0]?.size === 5, "five streamed");
    assert.deepEqual(r.requests().slice(1).map((t) => JSON.parse(t).k.split("#").length), [
      2,
      2,
      1,
    ]);
  });
});

Deno.test("unsubscribe forgets the scrip's state; resubscribing starts from a new snapshot", () =>
  withRig(NOREN_BROKERS.flattrade, {}, {}, async (r) => {
    await r.sub("RELIANCE", 2);
    await until(() => r.ticks.length > 0, "snapshot tick");
    assert.notEqual(r.dialect!.decoder.state("NSE|2885"), null);
    await r.adapter.unsubscribe([{ exchange: "NSE", symbol: "RELIANCE" }]);
    assert.equal(r.dialect!.decoder.state("NSE|2885"), null);
    assert.equal(r.dialect!.decoder.size, 0);
    // A late update for the scrip produces nothing.
    const n = r.ticks.length;
    r.sim.tick();
    await new Promise((res) => setTimeout(res, 50));
    assert.equal(r.ticks.length, n);
  }));

Deno.test("sparse updates merge: every Quote and Depth tick carries every field, none zeroed", () =>
  withRig(NOREN_BROKERS.shoonya, {}, {}, async (r) => {
    await r.sub("RELIANCE", 2);
    await r.sub("INFY", 3);
    await r.sub("NIFTY", 1, "NSE_INDEX");
    await until(() => r.sim.streams()[0]?.size === 3, "subscribed at the simulator");
    for (let i = 0; i < 30; i++) r.sim.tick();
    // Volume moves on every step, so the last update of each stock carries the final volume.
    const last = (s: string) => r.ticks.findLast((t) => t.symbol === s);
    const infy = r.sim.market.quote("NSE|1594");
    const rel = r.sim.market.quote("NSE|2885");
    await until(
      () => last("INFY")?.volume === infy.volume && last("RELIANCE")?.volume === rel.volume,
      "the last updates",
    );
    assert.ok(r.ticks.length >= 63, `${r.ticks.length} ticks`);
    for (const t of r.ticks) {
      if (t.exchange === "NSE_INDEX") {
        assert.equal(t.volume, null, "indices have no volume: null, not 0");
        assert.ok(t.open! > 0 && t.close! > 0);
        continue;
      }
      for (const f of ["open", "high", "low", "close", "volume", "avg_trade_price"] as const) {
        assert.ok((t[f] ?? 0) > 0, `${t.symbol} ${f} = ${t[f]}`);
      }
      if (t.mode === 3) {
        assert.ok(t.ltt! > 0 && t.total_buy_quantity! > 0 && t.last_trade_quantity! > 0);
        assert.equal(t.depth!.buy.length, 5);
        assert.ok(t.depth!.buy.every((l) => l.price > 0 && l.quantity > 0 && l.orders! > 0));
      }
    }
    // The last tick of each stock equals the simulator's current quote.
    assert.equal(last("INFY")!.ltp, infy.ltp);
    assert.deepEqual(last("INFY")!.depth!.sell, infy.asks);
    assert.deepEqual(last("INFY")!.depth!.buy, infy.bids);
    assert.equal(last("RELIANCE")!.ltp, rel.ltp);
    assert.equal(last("RELIANCE")!.high, rel.high);
    assert.equal(last("RELIANCE")!.avg_trade_price, rel.averagePrice);
  }));

Deno.test('the client heartbeat {"t":"h"} is sent while connected', () =>
  withRig(NOREN_BROKERS.flattrade, {}, { heartbeatMs: 1000 }, async (r) => {
    await until(() => r.sim.heartbeats >= 1, "a heartbeat", 3000);
    assert.ok(r.sim.requests.some((x) => x.text === '{"t":"h"}'));
  }));

Deno.test("a new connection starts the decoder afresh and resubscribes at each mode", () =>
  withRig(NOREN_BROKERS.flattrade, {}, {}, async (r) => {
    await r.sub("RELIANCE", 1);
    await r.sub("INFY", 3);
    await until(() => r.sim.streams()[0]?.size === 2, "streaming");
    r.sim.drop();
    await until(
      () => r.sim.logins.accepted === 2 && r.sim.streams()[0]?.size === 2,
      "resubscribed",
    );
    assert.deepEqual(
      [...r.sim.streams()[0]],
      [["NSE:RELIANCE", 2], ["NSE:INFY", 3]],
    );
  }));

Deno.test("options: login variant picks the endpoint; TradeSmart has no t:c endpoint", () => {
  const base = { accessToken: "t", userId: "U", instruments: "x.txt" };
  const d = new NorenDialect(NOREN_BROKERS.zebu, () => ({ feedUrl: "wss://x/" }) as NorenOptions);
  assert.equal(d.endpoint().url, "wss://x/");
  assert.throws(
    () => norenSpec(NOREN_BROKERS.tradesmart).parseOptions({ ...base, login: "c" }),
    /tradesmart has no t:c login endpoint/,
  );
  const o = norenSpec(NOREN_BROKERS.flattrade).parseOptions({ ...base, login: "c" });
  assert.equal(o.feedUrl, "wss://piconnect.flattrade.in/PiConnectWSTp/");
});

Deno.test("every Noren config: a descriptor with its worker module, logs in by default, streams", async () => {
  for (const config of Object.values(NOREN_BROKERS)) {
    const d = norenDescriptor(config);
    assert.ok((await Deno.stat(d.workerUrl)).isFile, `${d.workerUrl}`);
    assert.ok(d.hosts.length > 0 && d.hosts.every((h) => h.endsWith(":443")));
    await withRig(config, { acceptLogins: [config.defaultLogin] }, {}, async (r) => {
      assert.equal(r.states.at(-1), "connected", config.name);
      await r.sub("RELIANCE", 3);
      await until(() => r.ticks.some((t) => t.mode === 3), `${config.name} depth tick`);
    });
  }
});
