// Independent check of the Groww simulator with the official NATS client (@nats-io/nats-core over
// WebSocket, @nats-io/nkeys): the signed CONNECT is accepted, a bad signature or a JWT of an
// expired access token is refused, and payloads the simulator builds decode — with protobufjs and
// the schema alone — to the values the adapter's codec publishes.

import assert from "node:assert/strict";
import {
  AuthorizationError,
  jwtAuthenticator,
  type Msg,
  type NatsConnection,
  wsconnect,
} from "@nats-io/nats-core";
import { createUser, type KeyPair } from "@nats-io/nkeys";
import protobuf from "protobufjs";
import {
  createDecodeStats,
  decodeMessage,
  FeedCache,
  streamKey,
} from "../../adapters/groww/codec.ts";
import { loadGrowwMaster } from "../../adapters/groww/instruments.ts";
import { type GrowwSimulator, startGrowwSimulator } from "../../adapters/groww/mod.ts";
import { SOCKET_TOKEN_PATH } from "../../adapters/groww/options.ts";

const SCHEMA = await Deno.readTextFile(
  new URL("../../adapters/groww/groww.proto", import.meta.url),
);
const Response_ = protobuf.parse(SCHEMA, { keepCase: true }).root
  .lookupType("groww.StocksSocketResponseProtoDto");

/** Mints a socket JWT by hand (not through the adapter's code). */
async function mint(sim: GrowwSimulator, kp: KeyPair, token = sim.accessToken): Promise<Response> {
  return await fetch(`${sim.httpBase}${SOCKET_TOKEN_PATH}`, {
    method: "POST",
    headers: { "Authorization": `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ socketKey: kp.getPublicKey() }),
  });
}

async function jwtFor(sim: GrowwSimulator, kp: KeyPair): Promise<string> {
  const res = await mint(sim, kp);
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(typeof body.token, "string");
  return body.token;
}

async function connect(
  sim: GrowwSimulator,
  jwt: string,
  seed: Uint8Array,
): Promise<NatsConnection> {
  return await wsconnect({
    servers: sim.url,
    authenticator: jwtAuthenticator(jwt, seed),
    reconnect: false,
    timeout: 3000,
  });
}

/** Collects `n` messages from a subscription, bounded in time. */
async function take(nc: NatsConnection, subject: string, n: number): Promise<Msg[]> {
  const sub = nc.subscribe(subject, { max: n, timeout: 5000 });
  const out: Msg[] = [];
  for await (const m of sub) out.push(m);
  return out;
}

Deno.test("official client: the signed CONNECT is accepted and MSGs arrive (split frames too)", async () => {
  await using sim = await startGrowwSimulator({ tickIntervalMs: 20, splitEvery: 2 });
  const kp = createUser();
  const nc = await connect(sim, await jwtFor(sim, kp), kp.getSeed());
  try {
    const msgs = await take(nc, "/ld/eq/nse/price.2885", 12);
    assert.equal(msgs.length, 12);
    assert.deepEqual(sim.subjects(), [[]], "max reached: the client unsubscribed");
    assert.deepEqual(sim.refusals, []);
    // The first message carries the whole state (ltp, OHLC, volume); updates only changes.
    const first = Response_.decode(msgs[0].data) as unknown as {
      stockLivePrice: Record<string, number>;
    };
    for (const f of ["ltp", "open", "high", "low", "close", "volume", "tsInMillis"]) {
      assert.ok(Object.hasOwn(first.stockLivePrice, f), `first message has ${f}`);
    }
    const later = msgs.slice(1).map((m) =>
      Object.keys(
        (Response_.decode(m.data) as unknown as { stockLivePrice: object }).stockLivePrice,
      )
        .length
    );
    assert.ok(later.some((n) => n < Object.keys(first.stockLivePrice).length), "partial updates");
  } finally {
    await nc.close();
  }
});

Deno.test("official client: a bad signature, a foreign JWT and an expired access token are refused", async () => {
  await using sim = await startGrowwSimulator({ tickIntervalMs: 0 });
  const kp = createUser();
  const jwt = await jwtFor(sim, kp);
  // Signed with another user's seed: the signature does not match the JWT's subject.
  await assert.rejects(connect(sim, jwt, createUser().getSeed()), AuthorizationError);
  assert.deepEqual(sim.refusals, ["bad signature"]);
  // A JWT the simulator never issued.
  const [h, c] = jwt.split(".");
  await assert.rejects(connect(sim, `${h}.${c}.AAAA`, kp.getSeed()), AuthorizationError);
  assert.deepEqual(sim.refusals, ["bad signature", "unknown jwt"]);
  // The right pair works.
  const nc = await connect(sim, jwt, kp.getSeed());
  const closed = nc.closed();
  // Expiring the access token ends the live session and kills its JWT.
  const fresh = sim.expireToken();
  const err = await closed;
  assert.ok(err instanceof Error && /authentication expired/i.test(err.message), String(err));
  await assert.rejects(connect(sim, jwt, kp.getSeed()), AuthorizationError);
  assert.equal(sim.refusals.at(-1), "jwt of an expired access token");
  assert.equal((await mint(sim, createUser(), "groww-sim-access-token")).status, 401);
  const kp2 = createUser();
  const res = await mint(sim, kp2, fresh);
  assert.equal(res.status, 200);
  const nc2 = await connect(sim, (await res.json()).token, kp2.getSeed());
  await nc2.close();
});

Deno.test("payloads the simulator builds decode with the schema to what the adapter publishes", async () => {
  await using sim = await startGrowwSimulator({ tickIntervalMs: 0 });
  const master = await loadGrowwMaster(
    new URL("../../adapters/groww/testdata/instruments.csv", import.meta.url).pathname,
  );
  const kp = createUser();
  const nc = await connect(sim, await jwtFor(sim, kp), kp.getSeed());
  try {
    const subjects = {
      price: "/ld/eq/nse/price.2885",
      book: "/ld/eq/nse/book.2885",
      index: "/ld/indices/nse/price.NIFTY",
      fo: "/ld/fo/nse/price.60123",
    };
    const got = new Map<string, Msg[]>();
    const subs = Object.values(subjects).map((s) => {
      got.set(s, []);
      return nc.subscribe(s, {
        callback: (_e, m) => {
          got.get(s)!.push(m);
        },
      });
    });
    await nc.flush();
    for (let i = 0; i < 3; i++) sim.publish();
    await nc.flush();
    const end = Date.now() + 5000;
    while ([...got.values()].some((l) => l.length < 1) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 10));
    }
    // The adapter's view: its codec with the master's lookup, Depth wanted for RELIANCE.
    const cache = new FeedCache();
    cache.setDepth("eq/nse/2885", true);
    const stats = createDecodeStats();
    const lookup = (k: string) => master.byToken(k);
    let last = new Map<string, ReturnType<typeof decodeMessage>>();
    for (const s of Object.values(subjects)) {
      for (const m of got.get(s)!) {
        const r = decodeMessage(m.subject, m.data, lookup, cache, Date.now(), stats);
        last = new Map(last).set(s, r);
      }
    }
    assert.equal(stats.errors, 0);
    // Oracle: protobufjs + the schema alone, merged by hand ("absent = unchanged").
    const merged = (s: string, part: string) => {
      const acc: Record<string, unknown> = {};
      for (const m of got.get(s)!) {
        const o = Response_.toObject(Response_.decode(m.data), { longs: Number }) as Record<
          string,
          Record<string, unknown>
        >;
        Object.assign(acc, o[part] ?? {});
      }
      return acc;
    };
    const q = sim.quote("eq/nse/2885");
    const p = merged(subjects.price, "stockLivePrice");
    const t = last.get(subjects.book)!.tick!;
    assert.equal(t.mode, 3);
    assert.deepEqual(
      [t.ltp, t.open, t.high, t.low, t.close, t.volume, t.avg_trade_price, t.ltt],
      [p.ltp, p.open, p.high, p.low, p.close, p.volume, p.avgPrice, p.tsInMillis],
    );
    assert.deepEqual(
      [t.ltp, t.volume, t.total_buy_quantity, t.total_sell_quantity],
      [q.ltp, q.volume, q.totalBuyQuantity, q.totalSellQuantity],
    );
    const book = merged(subjects.book, "stocksMarketDepth") as {
      buyBook: Record<string, { price: number; qty: number }>;
      sellBook: Record<string, { price: number; qty: number }>;
    };
    assert.deepEqual(
      t.depth?.buy.map((l) => [l.price, l.quantity]),
      Object.values(book.buyBook).map((l) => [l.price, l.qty]).sort((a, b) => b[0] - a[0]),
    );
    assert.deepEqual(
      t.depth?.sell.map((l) => [l.price, l.quantity]),
      q.asks.map((l) => [l.price, l.quantity]),
    );
    assert.ok(t.depth?.buy.every((l) => l.orders === null), "Groww sends no order counts");
    const idx = last.get(subjects.index)!.tick!;
    assert.deepEqual(
      [idx.exchange, idx.symbol, idx.ltp, idx.ltp],
      [
        "NSE_INDEX",
        "NIFTY",
        merged(subjects.index, "stocksLiveIndices").value,
        sim.quote("indices/nse/NIFTY").ltp,
      ],
    );
    const fo = last.get(subjects.fo)!.tick!;
    assert.equal(fo.symbol, "BANKNIFTY24DEC2551000CE");
    assert.equal(fo.oi, sim.quote(streamKey("fo", "nse", "60123")).oi);
    for (const s of subs) s.unsubscribe();
  } finally {
    await nc.close();
  }
});
