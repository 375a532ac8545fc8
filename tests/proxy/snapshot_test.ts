// Last value on subscribe (issue 17) over real sockets on 127.0.0.1: a client subscribing to a key
// the gateway already has a tick for gets it at once, marked `"snapshot": true`. The fake broker
// only ticks on demand, so a market_data frame that arrives without a new emit is the snapshot.

import assert from "node:assert/strict";
import { startGateway, TestClient } from "../helpers/gateway.ts";
import { fakeFactory, makeTick } from "../helpers/fake_adapter.ts";
import type { Gateway } from "../../lib/gateway.ts";

const KNOWN = new Set(["NSE:RELIANCE", "NSE:TCS"]);

async function withGateway(
  fn: (ctx: { gw: Gateway; links: ReturnType<typeof fakeFactory>["links"] }) => Promise<void>,
  config: Record<string, unknown> = {},
): Promise<void> {
  const f = fakeFactory(KNOWN);
  const gw = await startGateway(config, { linkFactory: f.factory });
  try {
    await fn({ gw, links: f.links });
  } finally {
    await gw.stop();
  }
}

const isMarket = (f: Record<string, unknown>) => f.type === "market_data";

/** A first client that holds RELIANCE at Quote and has seen one tick of it. */
async function primed(gw: Gateway, links: ReturnType<typeof fakeFactory>["links"]) {
  const a = await TestClient.connect(gw);
  await a.auth();
  await a.request(
    { action: "subscribe", symbol: "RELIANCE", exchange: "NSE", mode: 2 },
    "subscribe",
  );
  const link = links.find((l) => l.streams.has("NSE:RELIANCE"));
  assert.ok(link, "RELIANCE streams on some connection");
  link.emit([makeTick("NSE", "RELIANCE", 2, 2500.5)]);
  await a.waitFor(isMarket);
  return a;
}

Deno.test("snapshot: a late subscriber gets the cached tick after its ack, before any new tick", async () => {
  await withGateway(async ({ gw, links }) => {
    const a = await primed(gw, links);
    const b = await TestClient.connect(gw);
    await b.auth();
    const from = b.frames.length;
    const ack = await b.request(
      { action: "subscribe", symbols: [{ symbol: "RELIANCE", exchange: "NSE" }], mode: "Quote" },
      "subscribe",
    );
    assert.equal(ack.status, "success");
    const snap = await b.waitFor(isMarket, 5000, from);
    assert.ok(b.frames.indexOf(ack) < b.frames.indexOf(snap), "the ack comes first");
    assert.equal(snap.symbol, "RELIANCE");
    assert.equal(snap.exchange, "NSE");
    assert.equal(snap.mode, 2);
    const data = snap.data as Record<string, unknown>;
    assert.equal(data.snapshot, true);
    assert.equal(data.ltp, 2500.5);
    assert.equal(data.volume, 1000);
    // The first client got nothing extra: the snapshot went only to the subscriber.
    assert.equal(a.frames.filter(isMarket).length, 1);
    // A fresh tick afterwards is an ordinary frame without the marker.
    links.find((l) => l.streams.has("NSE:RELIANCE"))!.emit([makeTick("NSE", "RELIANCE", 2, 2501)]);
    const live = await b.waitFor((f) => isMarket(f) && f !== snap, 5000, from);
    assert.equal((live.data as Record<string, unknown>).snapshot, undefined);
    assert.equal((live.data as Record<string, unknown>).ltp, 2501);
  });
});

Deno.test("snapshot: an LTP subscriber gets the LTP projection; no cached depth, no depth snapshot", async () => {
  await withGateway(async ({ gw, links }) => {
    await primed(gw, links);
    const b = await TestClient.connect(gw);
    await b.auth();
    await b.request(
      { action: "subscribe", symbol: "RELIANCE", exchange: "NSE", mode: 1 },
      "subscribe",
    );
    const snap = await b.waitFor(isMarket);
    assert.equal(snap.mode, 1);
    assert.equal((snap.data as Record<string, unknown>).volume, undefined);
    assert.equal((snap.data as Record<string, unknown>).snapshot, true);
    const c = await TestClient.connect(gw);
    await c.auth();
    await c.request(
      { action: "subscribe", symbol: "RELIANCE", exchange: "NSE", mode: 3 },
      "subscribe",
    );
    await c.request({ action: "ping" }, "pong"); // requests are answered in order
    assert.equal(c.frames.filter(isMarket).length, 0, "only a Quote tick is cached");
  });
});

Deno.test("snapshot: nothing is sent for a key never ticked, nor when snapshotOnSubscribe is off", async () => {
  await withGateway(async ({ gw }) => {
    const c = await TestClient.connect(gw);
    await c.auth();
    await c.request({ action: "subscribe", symbol: "TCS", exchange: "NSE" }, "subscribe");
    await c.request({ action: "ping" }, "pong");
    assert.equal(c.frames.filter(isMarket).length, 0);
  });
  await withGateway(async ({ gw, links }) => {
    await primed(gw, links);
    const b = await TestClient.connect(gw);
    await b.auth();
    await b.request({ action: "subscribe", symbol: "RELIANCE", exchange: "NSE" }, "subscribe");
    await b.request({ action: "ping" }, "pong");
    assert.equal(b.frames.filter(isMarket).length, 0);
  }, { snapshotOnSubscribe: false });
});
