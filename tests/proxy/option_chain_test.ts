// Option chains over :8765 with a controlled upstream: a real ProxyServer on 127.0.0.1 whose
// registry streams from memory, the paper universe's listing, and ticks the test injects — so the
// window's re-centring, the frame's PCR / max pain and the release of every strike are exact.

import assert from "node:assert/strict";
import { limitsSchema, optionChainSchema } from "../../lib/config/mod.ts";
import { ApiKeyAuth, ProxyServer } from "../../lib/proxy/mod.ts";
import { parseRequest } from "../../lib/proxy/protocol.ts";
import { SubscriptionRegistry } from "../../lib/subscriptions/mod.ts";
import { black76Price } from "../../lib/options/mod.ts";
import { findOptionListing } from "../../lib/adapter/mod.ts";
import { baseTick, ERROR_CODES, type Tick } from "../../lib/types.ts";
import { buildUniverse } from "../../adapters/paper/mod.ts";
import { Prng } from "../../adapters/paper/market.ts";
import { TestClient, until } from "../helpers/gateway.ts";
import { MemoryUpstream } from "./helpers.ts";

type Frame = Record<string, unknown>;
type Side = Record<string, number | string | null>;
type Row = { strike: number; ce: Side | null; pe: Side | null };

const NOW = Date.UTC(2025, 11, 1, 5); // Mon 1 Dec 2025, 10:30 IST
const MONTHLY = "30DEC25";
const UNIVERSE = buildUniverse({ now: NOW });

async function withProxy(
  fn: (ctx: { proxy: ProxyServer; upstream: MemoryUpstream; lists: () => number }) => Promise<void>,
  config: Record<string, unknown> = {},
): Promise<void> {
  const upstream = new MemoryUpstream();
  let lists = 0;
  const proxy = await ProxyServer.start({ host: "127.0.0.1", port: 0 }, {
    registry: new SubscriptionRegistry(upstream),
    auth: await ApiKeyAuth.create(["test-key-0123456789abcdef"], {
      maxFailures: 10,
      windowMs: 60_000,
    }),
    limits: limitsSchema.parse({}),
    broker: "paper",
    userId: "local",
    supportedBrokers: ["paper"],
    feedStatus: () => [],
    optionChain: {
      listOptions: (exchange, underlying) => {
        lists++;
        return Promise.resolve({
          ok: true as const,
          listing: findOptionListing(UNIVERSE.instruments, exchange, underlying, NOW),
        });
      },
      config: optionChainSchema.parse({
        intervalMs: 100,
        maxChainsPerClient: 2,
        firstPriceWaitMs: 0,
        ...config,
      }),
      clock: () => NOW,
    },
  });
  try {
    await fn({ proxy, upstream, lists: () => lists });
  } finally {
    await proxy.close();
  }
}

async function client(port: number): Promise<TestClient> {
  const c = await TestClient.connect(port);
  await c.auth();
  return c;
}

const T = (Date.UTC(2025, 11, 30, 10) - NOW) / (365 * 86_400_000);

/** Model ticks (Depth mode, with a book and OI) for every option of the monthly and its future. */
function marketTicks(spot: number, rng: Prng): Tick[] {
  const fut = Math.round(spot * Math.exp(0.065 * T) * 20) / 20;
  const ticks: Tick[] = [
    baseTick("NSE_INDEX", "NIFTY", 3, spot, null, NOW),
    { ...baseTick("NFO", `NIFTY${MONTHLY}FUT`, 3, fut, null, NOW), oi: 1_000_000 },
  ];
  for (const i of UNIVERSE.instruments) {
    if (i.kind !== "option" || !i.symbol.startsWith(`NIFTY${MONTHLY}`)) continue;
    const p = black76Price(fut, i.strike!, T, 0.13, 0.065, i.optionType!);
    const ltp = Math.max(0.05, Math.round(p * 20) / 20);
    ticks.push({
      ...baseTick("NFO", i.symbol, 3, ltp, null, NOW),
      volume: 75 * rng.int(0, 1000),
      oi: 75 * rng.int(0, 20000),
      depth: {
        buy: [{ price: Math.max(0.05, ltp - 0.05), quantity: 75, orders: 1 }],
        sell: [{ price: ltp + 0.05, quantity: 75, orders: 1 }],
      },
    });
  }
  return ticks;
}

/** Max pain recomputed from a frame's own rows, independently of the gateway's code. */
function maxPainOf(rows: Row[]): number | null {
  let best: number | null = null, least = Infinity;
  for (const { strike: s } of rows) {
    const paid = rows.reduce(
      (sum, r) =>
        sum + Number(r.ce?.oi ?? 0) * Math.max(0, s - r.strike) +
        Number(r.pe?.oi ?? 0) * Math.max(0, r.strike - s),
      0,
    );
    if (paid < least) [best, least] = [s, paid];
  }
  return rows.some((r) => Number(r.ce?.oi ?? 0) + Number(r.pe?.oi ?? 0) > 0) ? best : null;
}

function chainKeys(upstream: MemoryUpstream): string[] {
  return [...upstream.streaming].filter((k) => k.startsWith("NFO:NIFTY") && !k.includes("FUT"))
    .sort();
}

const chainFrames = (c: TestClient) => c.frames.filter((f) => f.type === "option_chain");

Deno.test("option chain over :8765: frame shape, PCR and max pain from its rows, re-centring across a strike, every strike released", async () => {
  await withProxy(async ({ proxy, upstream, lists }) => {
    const rng = new Prng(3);
    const a = await client(proxy.addr.port);
    const b = await client(proxy.addr.port);
    const sub = {
      action: "subscribe_option_chain",
      underlying: "nifty",
      exchange: "nfo",
      expiry: "2025-12-30",
      strikes: 3,
    };
    const ack = await a.request(sub, "subscribe_option_chain");
    assert.equal(ack.status, "success", JSON.stringify(ack));
    assert.equal(ack.expiry, MONTHLY);
    assert.deepEqual(ack.expiries, ["02DEC25", "30DEC25", "27JAN26"]);
    assert.equal(ack.interval_ms, 100);
    // The second client shares the chain: no second listing, no second upstream key.
    assert.equal((await b.request(sub, "subscribe_option_chain")).status, "success");
    assert.equal(lists(), 1);
    // No price yet: the window is the middle of the listed strikes (25950 ± 3 strikes).
    assert.equal(chainKeys(upstream).length, 7 * 2);
    assert.ok(
      upstream.streaming.has("NSE_INDEX:NIFTY:3") &&
        upstream.streaming.has(`NFO:NIFTY${MONTHLY}FUT:3`),
    );

    proxy.onTicks(marketTicks(25_010, rng));
    await a.waitFor((f) => f.type === "option_chain" && (f.data as Frame).atm_strike === 25_000);
    // The window moved to 25000 ± 3: the strikes it just took get their ticks from now on.
    proxy.onTicks(marketTicks(25_010, rng));
    const first = await a.waitFor((f) =>
      f.type === "option_chain" &&
      (f.data as { strikes: Row[] }).strikes.every((r) => r.ce?.ltp !== null && r.pe?.ltp !== null)
    );
    assert.deepEqual(Object.keys(first).sort(), [
      "data",
      "exchange",
      "expiry",
      "timestamp",
      "type",
      "underlying",
    ]);
    assert.equal(first.underlying, "NIFTY");
    assert.equal(first.exchange, "NFO");
    assert.equal(first.expiry, MONTHLY);
    let data = first.data as Frame & { strikes: Row[] };
    assert.equal(data.atm_strike, 25_000);
    assert.equal(data.priced_on, "future");
    assert.deepEqual(data.strikes.map((r) => r.strike), [
      24850,
      24900,
      24950,
      25000,
      25050,
      25100,
      25150,
    ]);
    for (const r of data.strikes) {
      for (const [type, side] of [["CE", r.ce], ["PE", r.pe]] as const) {
        assert.ok(side !== null);
        assert.deepEqual(Object.keys(side), [
          "symbol",
          "ltp",
          "bid",
          "ask",
          "volume",
          "oi",
          "oi_change",
          "iv",
          "delta",
          "gamma",
          "theta",
          "vega",
        ]);
        assert.equal(side.symbol, `NIFTY${MONTHLY}${r.strike}${type}`);
        assert.ok(Math.abs(Number(side.iv) - 13) < 0.6, `${side.symbol} iv ${side.iv}`);
        assert.ok(type === "CE" ? Number(side.delta) > 0 : Number(side.delta) < 0);
        assert.ok(Number(side.gamma) > 0 && Number(side.theta) < 0 && Number(side.vega) > 0);
        assert.equal(typeof side.oi_change, "number");
      }
    }
    const ceOi = data.strikes.reduce((s, r) => s + Number(r.ce!.oi), 0);
    const peOi = data.strikes.reduce((s, r) => s + Number(r.pe!.oi), 0);
    assert.equal(data.pcr, Math.round((peOi / ceOi) * 1e4) / 1e4);
    assert.equal(data.max_pain, maxPainOf(data.strikes));

    // The underlying crosses the 25025 midpoint: ATM 25050, one strike in, one out.
    proxy.onTicks(marketTicks(25_030, rng));
    const moved = await a.waitFor((f) =>
      f.type === "option_chain" && (f.data as Frame).atm_strike === 25_050
    );
    data = moved.data as Frame & { strikes: Row[] };
    assert.deepEqual(data.strikes.map((r) => r.strike), [
      24900,
      24950,
      25000,
      25050,
      25100,
      25150,
      25200,
    ]);
    await until(
      () => !upstream.streaming.has(`NFO:NIFTY${MONTHLY}24850CE:3`),
      2000,
      "24850 released",
    );
    assert.ok(upstream.streaming.has(`NFO:NIFTY${MONTHLY}25200PE:3`));
    assert.equal(chainKeys(upstream).length, 7 * 2);
    // Rows of strikes just taken show up once their ticks come.
    proxy.onTicks(marketTicks(25_030, rng));
    const filled = await a.waitFor((f) =>
      f.type === "option_chain" &&
      (f.data as { strikes: Row[] }).strikes.at(-1)?.ce?.ltp !== null &&
      (f.data as Frame).atm_strike === 25_050
    );
    data = filled.data as Frame & { strikes: Row[] };
    assert.equal(data.max_pain, maxPainOf(data.strikes));
    assert.ok(chainFrames(b).length > 0, "the sharing client gets frames too");

    // Unsubscribing one client keeps the chain for the other; the last one releases every strike.
    const un = await a.request({
      action: "unsubscribe_option_chain",
      underlying: "NIFTY",
      exchange: "NFO",
    }, "unsubscribe_option_chain");
    assert.equal(un.status, "success");
    assert.deepEqual(un.expiries, [MONTHLY]);
    assert.equal(chainKeys(upstream).length, 14);
    const again = await a.request({
      action: "unsubscribe_option_chain",
      underlying: "NIFTY",
      exchange: "NFO",
    }, "unsubscribe_option_chain");
    assert.equal(again.code, "NOT_SUBSCRIBED");
    const seen = chainFrames(a).length;
    await b.request({
      action: "unsubscribe_option_chain",
      underlying: "NIFTY",
      exchange: "NFO",
      expiry: MONTHLY,
    }, "unsubscribe_option_chain");
    assert.deepEqual(
      [...upstream.streaming],
      [],
      "every strike, the future and the index released",
    );
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(chainFrames(a).length, seen, "no frames after unsubscribing");
    await a.close();
    await b.close();
  });
});

Deno.test("option chain: a client that disconnects releases its chain; a new window size replaces the old one", async () => {
  await withProxy(async ({ proxy, upstream }) => {
    const a = await client(proxy.addr.port);
    const sub = {
      action: "subscribe_option_chain",
      underlying: "NIFTY",
      exchange: "NFO",
      strikes: 2,
    };
    const ack = await a.request(sub, "subscribe_option_chain");
    assert.equal(ack.expiry, "02DEC25", "nearest expiry when none is named");
    assert.equal(chainKeys(upstream).length, 5 * 2);
    // No future for the weekly: the spot (and options) only.
    assert.ok(![...upstream.streaming].some((k) => k.includes("FUT")));
    await a.request({ ...sub, strikes: 4 }, "subscribe_option_chain");
    assert.equal(chainKeys(upstream).length, 9 * 2, "one chain per expiry per client");
    const subs = await a.request({ action: "get_subscriptions" }, "subscriptions");
    assert.deepEqual(subs.option_chains, [{
      underlying: "NIFTY",
      exchange: "NFO",
      expiry: "02DEC25",
      strikes: 4,
    }]);
    await a.close();
    await until(() => upstream.streaming.size === 0, 5000, "released on disconnect");
  });
});

Deno.test("option chain: a new chain waits for the underlying's first price, so its first window is already centred", async () => {
  await withProxy(async ({ proxy, upstream }) => {
    const subscribed: string[] = [];
    const plain = upstream.subscribe.bind(upstream);
    upstream.subscribe = (exchange, symbol, mode, depth) => {
      subscribed.push(symbol);
      return plain(exchange, symbol, mode, depth);
    };
    const a = await client(proxy.addr.port);
    const ack = a.request(
      {
        action: "subscribe_option_chain",
        underlying: "NIFTY",
        exchange: "NFO",
        expiry: MONTHLY,
        strikes: 2,
      },
      "subscribe_option_chain",
    );
    await until(() => upstream.streaming.has("NSE_INDEX:NIFTY:3"), 5000, "the index held");
    proxy.onTicks([baseTick("NSE_INDEX", "NIFTY", 3, 25_210, null, NOW)]);
    assert.equal((await ack).status, "success");
    const options = subscribed.filter((s) => s.endsWith("CE") || s.endsWith("PE"));
    assert.deepEqual(
      [...new Set(options.map((s) => Number(s.slice(`NIFTY${MONTHLY}`.length, -2))))].sort(),
      [25100, 25150, 25200, 25250, 25300],
      "no strike of a guessed window was ever subscribed",
    );
    await a.close();
  }, { firstPriceWaitMs: 10_000 });
});

Deno.test("option chain: errors carry catalogue codes", async () => {
  await withProxy(async ({ proxy }) => {
    const anon = await TestClient.connect(proxy.addr.port);
    const refused = await anon.request(
      { action: "subscribe_option_chain", underlying: "NIFTY", exchange: "NFO" },
      "subscribe_option_chain",
    );
    assert.equal(refused.code, "NOT_AUTHENTICATED");
    await anon.close();
    const a = await client(proxy.addr.port);
    const ask = (extra: Frame) =>
      a.request({
        action: "subscribe_option_chain",
        underlying: "NIFTY",
        exchange: "NFO",
        ...extra,
      }, "subscribe_option_chain");
    assert.equal((await ask({ underlying: "NOSUCH" })).code, "SYMBOL_NOT_FOUND");
    const noExpiry = await ask({ expiry: "31DEC25" });
    assert.equal(noExpiry.code, "SYMBOL_NOT_FOUND");
    assert.match(String(noExpiry.message), /listed: 02DEC25, 30DEC25, 27JAN26/);
    assert.equal((await ask({ strikes: 0 })).code, "INVALID_PARAMETERS");
    assert.equal((await ask({ strikes: 51 })).code, "INVALID_PARAMETERS");
    assert.equal((await ask({ expiry: "someday" })).code, "INVALID_PARAMETERS");
    assert.equal((await ask({ exchange: 7 })).code, "INVALID_PARAMETERS");
    // The per-client limit (2 here) counts chains, not requests.
    assert.equal((await ask({ expiry: "02DEC25" })).status, "success");
    assert.equal((await ask({ expiry: "30DEC25" })).status, "success");
    assert.equal((await ask({ expiry: "30DEC25", strikes: 5 })).status, "success");
    assert.equal((await ask({ expiry: "27JAN26" })).code, "MAX_CAPACITY_REACHED");
    await a.close();
  });
});

Deno.test("protocol fuzz: random option chain requests parse to a request or a catalogue error, never throw", () => {
  const rng = new Prng(77);
  const limits = { maxFrameBytes: 1 << 16, maxEntriesPerRequest: 100 };
  const values: unknown[] = [
    "NIFTY",
    "nfo",
    "",
    " ",
    "30DEC25",
    "2025-12-30",
    "31FEB25",
    null,
    0,
    -1,
    1,
    2.5,
    10,
    51,
    1e9,
    true,
    [],
    {},
    ["NIFTY"],
    { a: 1 },
    "x".repeat(100),
    "A&B-C_D",
    "\u0000",
    NaN,
  ];
  const pick = () => values[rng.int(0, values.length - 1)];
  for (let i = 0; i < 5000; i++) {
    const req: Record<string, unknown> = {
      action: rng.next() < 0.5 ? "subscribe_option_chain" : "unsubscribe_option_chain",
    };
    for (const k of ["underlying", "exchange", "expiry", "strikes", "request_id"]) {
      if (rng.next() < 0.7) req[k] = pick();
    }
    let text = JSON.stringify(req);
    if (rng.next() < 0.2) text = text.slice(0, rng.int(0, text.length)); // truncated
    const r = parseRequest(text, limits);
    if ("code" in r) {
      assert.ok((ERROR_CODES as readonly string[]).includes(r.code));
      continue;
    }
    assert.ok(r.action === "subscribe_option_chain" || r.action === "unsubscribe_option_chain");
    assert.match(r.underlying, /^[A-Z0-9&_-]{1,32}$/);
    assert.match(r.exchange, /^[A-Z0-9&_-]{1,16}$/);
    assert.ok(r.expiry === null || /^\d{2}[A-Z]{3}\d{2}$/.test(r.expiry));
    if (r.action === "subscribe_option_chain") {
      assert.ok(Number.isInteger(r.strikes) && r.strikes >= 1 && r.strikes <= 50);
    }
  }
});
