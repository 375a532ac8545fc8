// Fault injection: what production does to a gateway left running all day. Each test says what it
// injects and asserts what must hold — no crash, no lost subscription, and registry ⇔ pool ⇔ broker
// agreement (assertConsistent) after the fault.

import assert from "node:assert/strict";
import {
  freePort,
  RawClient,
  startGateway,
  TEST_KEY,
  TestClient,
  until,
} from "../helpers/gateway.ts";
import { spawnGateway, waitHealthy } from "../helpers/process.ts";
import { assertConsistent, kiteView } from "../helpers/invariant.ts";
import {
  SIM_ACCESS_TOKEN,
  SIM_API_KEY,
  startZerodhaSimulator,
} from "../../adapters/zerodha/mod.ts";
import type { Gateway, GatewayOptions } from "../../lib/gateway.ts";

const INSTRUMENTS =
  new URL("../../adapters/zerodha/testdata/instruments.csv", import.meta.url).pathname;
type Sim = Awaited<ReturnType<typeof startZerodhaSimulator>>;

async function kite(
  fn: (ctx: { gw: Gateway; sim: Sim; client: TestClient }) => Promise<void>,
  adapter: Record<string, unknown> = {},
  gateway: Record<string, unknown> = {},
  extra: Partial<GatewayOptions> = {},
): Promise<void> {
  const sim = await startZerodhaSimulator({ tickIntervalMs: 50 });
  const gw = await startGateway({
    broker: {
      name: "zerodha",
      apiKey: SIM_API_KEY,
      accessToken: SIM_ACCESS_TOKEN,
      feedUrl: sim.url,
      instruments: (gateway.instruments as string | undefined) ?? INSTRUMENTS,
      options: { reconnectBaseMs: 50, reconnectMaxMs: 200, authRetryMinMs: 0, ...adapter },
    },
    ...Object.fromEntries(Object.entries(gateway).filter(([k]) => k !== "instruments")),
  }, extra);
  const client = await TestClient.connect(gw);
  try {
    await client.auth();
    const ack = await client.request({
      action: "subscribe",
      symbols: [{ symbol: "RELIANCE", exchange: "NSE", mode: 3 }, {
        symbol: "TCS",
        exchange: "NSE",
        mode: 2,
      }, { symbol: "NIFTY", exchange: "NSE_INDEX", mode: 1 }],
    }, "subscribe");
    assert.equal(ack.status, "success");
    await client.waitFor((f) => f.type === "market_data", 5000);
    assertConsistent(gw, kiteView(sim));
    await fn({ gw, sim, client });
    assert.equal(client.closeEvent, null, "the client was never disconnected by a broker fault");
    assert.equal(
      (await client.request({ action: "get_subscriptions" }, "subscriptions")).count,
      3,
      "no subscription lost",
    );
    assertConsistent(gw, kiteView(sim));
  } finally {
    await client.close();
    await gw.stop();
    await sim.close();
  }
}

const ticksAfter = (c: TestClient, symbol: string, ms = 15_000) =>
  c.waitFor((f) => f.type === "market_data" && f.symbol === symbol, ms, c.frames.length);

const streamedByBroker = (sim: Sim) => kiteView(sim).streamed();

Deno.test("fault: broker drops the socket mid-stream → reconnect, every token resubscribed in its mode", async () => {
  await kite(async ({ sim, client }) => {
    const before = sim.stats.handshakes;
    sim.faults.drop();
    await until(
      () => sim.stats.handshakes > before && streamedByBroker(sim) === 3,
      5000,
      "resubscribed",
    );
    await ticksAfter(client, "RELIANCE");
    await ticksAfter(client, "NIFTY");
  });
});

Deno.test("fault: broker stalls (socket open, nothing sent) → stalled, reconnect, data resumes", async () => {
  await kite(async ({ gw, sim, client }) => {
    const states: string[] = [];
    gw.statusListeners.push((_i, s) => states.push(s));
    const before = sim.stats.handshakes;
    sim.faults.stall();
    await until(() => states.includes("stalled"), 5000, "stall detected");
    await until(
      () => sim.stats.handshakes > before && streamedByBroker(sim) === 3,
      5000,
      "reconnected",
    );
    await ticksAfter(client, "TCS");
    assert.equal(gw.pool.status()[0].state, "connected");
  }, { silenceTimeoutMs: 400 });
});

Deno.test("fault: reconnect rejected with an expired token (403), then a fresh token is accepted", async () => {
  await kite(async ({ gw, sim, client }) => {
    sim.setCredentials({ accessToken: "fresh-token-after-rollover" });
    sim.faults.drop();
    await until(() => gw.pool.status()[0].state === "auth_failed", 5000, "auth_failed");
    const rejected = sim.stats.rejected403;
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(sim.stats.rejected403 - rejected <= 1, "no retry storm while the token is dead");
    gw.pool.updateToken("fresh-token-after-rollover");
    await until(
      () => gw.pool.status()[0].state === "connected" && streamedByBroker(sim) === 3,
      5000,
      "recovered",
    );
    await ticksAfter(client, "RELIANCE");
  }, { authRetryMs: 60_000 });
});

Deno.test("fault: broker sends garbage frames → counted and skipped, no crash, feed continues", async () => {
  await kite(async ({ gw, sim, client }) => {
    const handshakes = sim.stats.handshakes;
    for (let i = 0; i < 20; i++) sim.faults.garbage();
    await ticksAfter(client, "RELIANCE");
    assert.equal(sim.stats.handshakes, handshakes, "garbage does not force a reconnect");
    assert.equal(gw.pool.status()[0].restarts, 0, "the worker did not crash");
    assert.equal(gw.pool.counters.ticksRejected, 0, "no invalid tick reached the pool");
  });
});

Deno.test("fault: subscribe accepted but one symbol never ticks → others flow, the silent one is stale, nothing lost", async () => {
  // The market data service runs on real time plus an offset the test moves, so "stale" does not
  // depend on how long this machine takes to deliver the next tick.
  let offset = 0;
  await kite(
    async ({ gw, sim, client }) => {
      const tcs = [...sim.subscriptions().find((c) => c.open)!.tokens.keys()].find((t) =>
        t === 2953217
      )!;
      sim.faults.silence(tcs);
      // Ticks sent before the silence may still be on their way; once RELIANCE has ticked three
      // times after the last TCS frame, TCS has stopped (unsilenced, the two alternate).
      const md = (from: number, symbol: string) =>
        client.frames.slice(from).filter((f) => f.type === "market_data" && f.symbol === symbol);
      const lastTcs = () => client.frames.findLastIndex((f) => f.symbol === "TCS");
      await client.waitFor(() => md(lastTcs() + 1, "RELIANCE").length >= 3, 10_000);
      // 31 s later for the service (staleAfterMs is 30 s): only RELIANCE ticks after that.
      offset = 31_000;
      await ticksAfter(client, "RELIANCE");
      await ticksAfter(client, "RELIANCE");
      assert.equal(gw.marketData.isFresh("NSE", "TCS"), false, "the service sees TCS is stale");
      assert.equal(gw.marketData.isFresh("NSE", "RELIANCE"), true);
      sim.faults.unsilence(tcs);
      await ticksAfter(client, "TCS");
      assert.equal(gw.marketData.isFresh("NSE", "TCS"), true, "fresh again");
    },
    {},
    {},
    { marketDataClock: () => Date.now() + offset },
  );
});

Deno.test("fault: the adapter worker is terminated → restarted with its tokens; clients do nothing", async () => {
  await kite(async ({ gw, sim, client }) => {
    gw.pool.testing.killWorker(0);
    await until(
      () => gw.pool.status()[0].state === "connected" && streamedByBroker(sim) === 3,
      10_000,
      "restart",
    );
    await ticksAfter(client, "NIFTY");
    assert.equal(gw.pool.status()[0].restarts, 1);
  });
});

Deno.test("fault: a client that never reads → conflated, closed 1008; the others and the pool unaffected", async () => {
  // A fast paper feed fills the silent client's socket quickly; Kite's test feed is too gentle.
  const gw = await startGateway({
    broker: { name: "paper", options: { totalRate: 20_000, intervalMs: 10, seed: 1 } },
    // The reading client shares this process with the gateway, so under load it lags too (a few
    // hundred ms under a CPU hog): a wide staleness bound and a 2 s slow-consumer limit keep the
    // verdict for the one that never reads.
    limits: { sendHighWaterBytes: 65_536, slowConsumerMs: 2000, maxStalenessMs: 3000 },
  });
  try {
    const raw = await RawClient.connect(gw.proxy.addr.port);
    await raw.sendText(JSON.stringify({ action: "authenticate", api_key: TEST_KEY }));
    await raw.sendText(JSON.stringify({
      action: "subscribe",
      symbols: ["RELIANCE", "TCS", "INFY", "SBIN", "ITC"].map((symbol) => ({
        symbol,
        exchange: "NSE",
      })),
      mode: 3,
    }));
    const good = await TestClient.connect(gw);
    await good.auth();
    await good.request(
      { action: "subscribe", symbol: "RELIANCE", exchange: "NSE", mode: 3 },
      "subscribe",
    );
    // How soon depends on how fast this machine fills a loopback socket right now: bounded, not tight.
    await until(() => gw.proxy.counters.slowConsumersClosed >= 1, 120_000, "slow consumer closed");
    assert.equal(
      gw.proxy.counters.slowConsumersClosed,
      1,
      `only the silent client is a slow consumer (reader closed: ${good.closeEvent?.code})`,
    );
    await until(() => gw.registry.list().length === 1, 3000, "its subscriptions released");
    assertConsistent(gw);
    await ticksAfter(good, "RELIANCE");
    assert.equal(good.closeEvent, null);
    raw.close();
    await good.close();
  } finally {
    await gw.stop();
  }
});

Deno.test("fault: one client asks for 100 000 symbols → refused, capped per client; the pool is not exhausted", async () => {
  const dir = await Deno.makeTempDir();
  const csv = [
    "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange",
  ];
  for (let i = 0; i < 10_000; i++) {
    csv.push(`${5_000_000 + i * 256},${i},X${i},"X ${i}",0,,0,0.05,1,EQ,NSE,NSE`);
  }
  await Deno.writeTextFile(
    `${dir}/i.csv`,
    [...csv, ...(await Deno.readTextFile(INSTRUMENTS)).split("\n").slice(1)].join("\n"),
  );
  try {
    await kite(
      async ({ gw, sim }) => {
        const greedy = await TestClient.connect(gw);
        await greedy.auth();
        const symbols = Array.from(
          { length: 100_000 },
          (_, i) => ({ symbol: `X${i}`, exchange: "NSE" }),
        );
        const r = await greedy.request(
          { action: "subscribe", symbols, mode: 1 },
          "subscribe",
          20_000,
        );
        assert.equal(r.status, "error");
        assert.equal(r.message, "Too many symbols in one request: 100000 (limit 5000)");
        const first = await greedy.request(
          { action: "subscribe", symbols: symbols.slice(0, 5000), mode: 1 },
          "subscribe",
          30_000,
        );
        assert.equal(first.status, "success");
        const second = await greedy.request(
          { action: "subscribe", symbols: symbols.slice(5000, 10_000), mode: 1 },
          "subscribe",
          30_000,
        );
        assert.equal(second.status, "error");
        const entries = second.subscriptions as { code: string; message: string }[];
        assert.ok(entries.every((e) =>
          e.code === "MAX_CAPACITY_REACHED" &&
          e.message === "Per-client limit reached: 5000 subscriptions"
        ));
        assert.equal(gw.pool.symbolCount, 5003, "capped below the broker's 9000");
        const other = await TestClient.connect(gw);
        await other.auth();
        const ok = await other.request(
          { action: "subscribe", symbol: "X9999", exchange: "NSE" },
          "subscribe",
        );
        assert.equal(ok.status, "success", "other clients can still subscribe");
        await until(
          () => kiteView(sim).streamed() === 5004,
          10_000,
          "broker view",
        );
        assertConsistent(gw, kiteView(sim));
        await other.close();
        await greedy.close();
        await until(() => streamedByBroker(sim) === 3, 10_000, "released");
      },
      {},
      { instruments: `${dir}/i.csv`, limits: { maxFrameBytes: 8_388_608 } },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fault: 1000 clients connect and subscribe at once → one upstream subscription, all served", async () => {
  await kite(async ({ gw, sim }) => {
    const requestsBefore = sim.requests().length;
    const clients = await Promise.all(Array.from({ length: 1000 }, () => TestClient.connect(gw)));
    try {
      await Promise.all(clients.map((c) => c.auth()));
      const acks = await Promise.all(
        clients.map((c) =>
          c.request(
            { action: "subscribe", symbol: "INFY", exchange: "NSE", mode: 2 },
            "subscribe",
            20_000,
          )
        ),
      );
      assert.ok(acks.every((a) => a.status === "success"));
      const infy = gw.registry.list().find((r) => r.symbol === "INFY")!;
      assert.equal(infy.consumers, 1000);
      const upstream = sim.requests().slice(requestsBefore).filter((r) =>
        r.text.includes('"subscribe"')
      );
      assert.equal(upstream.length, 1, "one broker subscribe for 1000 clients");
      await Promise.all(
        clients.slice(0, 50).map((c) => c.waitFor((f) => f.type === "market_data", 10_000)),
      );
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
    await until(() => !gw.registry.list().some((r) => r.symbol === "INFY"), 10_000, "all released");
  });
});

Deno.test("fault: 100 wrong API keys from one address → rate limited; a valid client is unaffected", async () => {
  await kite(async ({ gw }) => {
    const attacker = await TestClient.connect(gw);
    const codes = new Map<string, number>();
    for (let i = 0; i < 100; i++) {
      const r = await attacker.request({
        action: "authenticate",
        api_key: `guess-${i}-${"x".repeat(20)}`,
      }, "auth");
      codes.set(r.code as string, (codes.get(r.code as string) ?? 0) + 1);
    }
    assert.equal(codes.get("AUTHENTICATION_ERROR"), 10);
    assert.equal(codes.get("RATE_LIMITED"), 90);
    const valid = await TestClient.connect(gw);
    assert.equal((await valid.auth()).status, "success");
    await valid.close();
    await attacker.close();
  });
});

Deno.test("fault: SIGTERM under load → every client gets 1001, upstream unsubscribed, exit 0 in bound", async () => {
  const sim = await startZerodhaSimulator({ tickIntervalMs: 20 });
  const port = freePort();
  const proc = spawnGateway([
    "--broker",
    "zerodha",
    "--feed-url",
    sim.url,
    "--instruments",
    INSTRUMENTS,
    "--port",
    String(port),
    "--bus",
    `tcp://127.0.0.1:${freePort()}`,
  ], {
    env: {
      TICKPLEX_API_KEY: TEST_KEY,
      TICKPLEX_BROKER_API_KEY: SIM_API_KEY,
      TICKPLEX_BROKER_ACCESS_TOKEN: SIM_ACCESS_TOKEN,
      TICKPLEX_LOG_LEVEL: "debug",
    },
    // The broker here is the simulator on 127.0.0.1, so the gateway set's net list suffices.
  });
  const clients: TestClient[] = [];
  try {
    await waitHealthy(port, proc);
    const symbols = ["RELIANCE", "INFY", "TCS", "HDFCBANK", "SBIN"];
    for (let i = 0; i < 50; i++) {
      const c = await TestClient.connect(port);
      await c.auth();
      await c.request({
        action: "subscribe",
        symbol: symbols[i % 5],
        exchange: "NSE",
        mode: (i % 3) + 1,
      }, "subscribe");
      clients.push(c);
    }
    await Promise.all(clients.map((c) => c.waitFor((f) => f.type === "market_data", 10_000)));
    assert.equal(kiteView(sim).streamed(), 5);
    const started = Date.now();
    proc.child.kill("SIGTERM");
    const closes = await Promise.all(clients.map((c) => c.waitClose(10_000)));
    assert.ok(
      closes.every((e) => e.code === 1001),
      `close codes ${[...new Set(closes.map((e) => e.code))]}`,
    );
    const status = await proc.status;
    assert.equal(status.code, 0, proc.output());
    assert.ok(Date.now() - started < 10_000, "exited within 10 s");
    const unsubscribed = sim.requests().filter((r) => r.text.includes('"unsubscribe"'));
    const tokens = new Set(unsubscribed.flatMap((r) => JSON.parse(r.text).v as number[]));
    assert.equal(tokens.size, 5, "every streamed token was unsubscribed upstream before exit");
    for (const secret of [TEST_KEY, SIM_API_KEY, SIM_ACCESS_TOKEN]) {
      assert.ok(
        !proc.output().includes(secret),
        `debug logs must not contain the secret ${secret.slice(0, 3)}…`,
      );
    }
  } finally {
    try {
      proc.child.kill("SIGKILL");
    } catch {
      // already exited
    }
    await proc.status;
    await sim.close();
  }
});
