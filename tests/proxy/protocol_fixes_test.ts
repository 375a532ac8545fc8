// Protocol behaviours clarified by issues 10 and 19, over real sockets on 127.0.0.1 with the
// in-process fake broker: duplicate entries, the modes an unsubscribe released, depth acks.

import assert from "node:assert/strict";
import { startGateway, TestClient } from "../helpers/gateway.ts";
import { fakeFactory } from "../helpers/fake_adapter.ts";
import type { Gateway } from "../../lib/gateway.ts";

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
