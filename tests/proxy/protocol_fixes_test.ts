// Protocol behaviours clarified by issues 10 and 19, over real sockets on 127.0.0.1 with the
// in-process fake broker: duplicate entries, the modes an unsubscribe released, depth acks.

import assert from "node:assert/strict";
import { startGateway, TestClient } from "../helpers/gateway.ts";
import { fakeFactory } from "../helpers/fake_adapter.ts";
import type { Gateway } from "../../lib/gateway.ts";
import { startProxy } from "./helpers.ts";

const KNOWN = new Set(["NSE:RELIANCE", "NSE:TCS", "NSE_INDEX:NIFTY"]);

async function withGateway(
  fn: (ctx: { gw: Gateway; links: ReturnType<typeof fakeFactory>["links"] }) => Promise<void>,
): Promise<void> {
  const f = fakeFactory(KNOWN);
  const gw = await startGateway({}, { linkFactory: f.factory });
  try {
    await fn({ gw, links: f.links });
  } finally {
    await gw.stop();
  }
}

const subscribeCalls = (links: ReturnType<typeof fakeFactory>["links"]) =>
  links.flatMap((l) => l.calls).filter((c) => c.type === "subscribe").length;

Deno.test("subscribe: the same entry twice gets one consistent answer per entry (issue 10, bug 3)", async () => {
  await withGateway(async ({ gw, links }) => {
    const c = await TestClient.connect(gw);
    await c.auth();
    const bogus = await c.request({
      action: "subscribe",
      symbols: [{ symbol: "BOGUS", exchange: "NSE" }, { symbol: "BOGUS", exchange: "NSE" }],
    }, "subscribe");
    const bs = bogus.subscriptions as Record<string, unknown>[];
    assert.deepEqual(bs.map((s) => [s.status, s.code]), [
      ["error", "SYMBOL_NOT_FOUND"],
      ["error", "SYMBOL_NOT_FOUND"],
    ]);
    assert.equal(bogus.status, "error");
    assert.equal((await c.request({ action: "get_subscriptions" }, "subscriptions")).count, 0);

    const before = subscribeCalls(links);
    const twice = await c.request({
      action: "subscribe",
      symbols: [{ symbol: "RELIANCE", exchange: "NSE" }, { symbol: " RELIANCE", exchange: "nse" }],
      mode: 2,
    }, "subscribe");
    assert.equal(twice.status, "success");
    const ts = twice.subscriptions as Record<string, unknown>[];
    assert.deepEqual(ts[0], ts[1]);
    assert.equal(ts[0].depth, 5);

    const same = await c.request({
      action: "subscribe",
      symbols: [
        { symbol: "TCS", exchange: "NSE", mode: "LTP" },
        { symbol: "TCS", exchange: "NSE", mode: 1 },
      ],
    }, "subscribe");
    assert.equal(same.status, "success");
    const ss = same.subscriptions as Record<string, unknown>[];
    assert.deepEqual(ss[0], ss[1]);
    assert.deepEqual(ss[0], {
      symbol: "TCS",
      exchange: "NSE",
      status: "success",
      mode: "LTP",
      depth: 5,
      broker: "paper",
    });
    const subs = await c.request({ action: "get_subscriptions" }, "subscriptions");
    assert.equal(subs.count, 2, JSON.stringify(subs));
    // RELIANCE once, TCS once: duplicates never reach the broker twice.
    assert.equal(subscribeCalls(links) - before, 2);
    await c.close();
  });
});

Deno.test("unsubscribe replies name the modes each entry released", async () => {
  await withGateway(async ({ gw }) => {
    const c = await TestClient.connect(gw);
    await c.auth();
    for (const mode of [1, 3]) {
      await c.request(
        { action: "subscribe", symbol: "RELIANCE", exchange: "NSE", mode },
        "subscribe",
      );
    }
    await c.request({ action: "subscribe", symbol: "TCS", exchange: "NSE", mode: 2 }, "subscribe");
    const modeless = await c.request(
      { action: "unsubscribe", symbols: [{ symbol: "RELIANCE", exchange: "NSE" }] },
      "unsubscribe",
    );
    assert.deepEqual(modeless.successful, [{
      symbol: "RELIANCE",
      exchange: "NSE",
      status: "success",
      modes: ["LTP", "Depth"],
      broker: "paper",
    }]);
    await c.request(
      { action: "subscribe", symbol: "RELIANCE", exchange: "NSE", mode: 1 },
      "subscribe",
    );
    const one = await c.request(
      { action: "unsubscribe", symbol: "TCS", exchange: "NSE", mode: "Quote" },
      "unsubscribe",
    );
    assert.deepEqual((one.successful as { modes: string[] }[])[0].modes, ["Quote"]);
    await c.request({ action: "subscribe", symbol: "TCS", exchange: "NSE", mode: 3 }, "subscribe");
    await c.request({ action: "subscribe", symbol: "TCS", exchange: "NSE", mode: 2 }, "subscribe");
    const all = await c.request({ action: "unsubscribe_all" }, "unsubscribe");
    const byName = Object.fromEntries(
      (all.successful as { symbol: string; modes: string[] }[]).map((e) => [e.symbol, e.modes]),
    );
    assert.deepEqual(byName, { RELIANCE: ["LTP"], TCS: ["Quote", "Depth"] });
    await c.close();
  });
});

Deno.test("subscribe: an instrument without a book is acked depth 0 with a message", async () => {
  const t = await startProxy();
  try {
    t.upstream.depths.set("NSE_INDEX:NIFTY", 0);
    const c = await TestClient.connect(t.port);
    await c.auth();
    const ack = await c.request({
      action: "subscribe",
      symbols: [
        { symbol: "NIFTY", exchange: "NSE_INDEX", mode: 3 },
        { symbol: "RELIANCE", exchange: "NSE", mode: 3 },
      ],
      depth: 5,
    }, "subscribe");
    assert.equal(ack.status, "success");
    assert.deepEqual(ack.subscriptions, [
      {
        symbol: "NIFTY",
        exchange: "NSE_INDEX",
        status: "success",
        mode: "Depth",
        depth: 0,
        message: "No market depth is available for NIFTY on NSE_INDEX",
        broker: "paper",
      },
      {
        symbol: "RELIANCE",
        exchange: "NSE",
        status: "success",
        mode: "Depth",
        depth: 5,
        broker: "paper",
      },
    ]);
    const list = await c.request({ action: "get_subscriptions" }, "subscriptions");
    assert.deepEqual(
      (list.subscriptions as { symbol: string; depth: number }[]).map((s) => [s.symbol, s.depth]),
      [["NIFTY", 0], ["RELIANCE", 5]],
    );
    await c.close();
  } finally {
    await t.close();
  }
});
