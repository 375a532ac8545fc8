// The Groww dialect without a network: which subjects each mode subscribes, mode changes that
// touch only the book subject, link notices (keep-alive, server errors, expired credentials) and
// subject-addressed messages turned into ticks.

import assert from "node:assert/strict";
import type { Wanted } from "../../lib/adapter/mod.ts";
import { encodeBook, encodePrice } from "./codec.ts";
import { GrowwDialect } from "./dialect.ts";
import { type GrowwInstrument, loadGrowwMaster } from "./instruments.ts";
import { PONG } from "./nats.ts";
import { parseGrowwOptions } from "./options.ts";

const master = await loadGrowwMaster(
  new URL("./testdata/instruments.csv", import.meta.url).pathname,
);
const options = parseGrowwOptions({ accessToken: "t", feedUrl: "ws://127.0.0.1:9" });

function wanted(exchange: string, symbol: string, mode: 1 | 2 | 3): Wanted<GrowwInstrument> {
  const r = master.resolve(exchange, symbol);
  assert.ok(r.ok);
  return { instrument: r.instrument, mode, depth: mode === 3 ? 5 : 0 };
}

function dialect(): GrowwDialect {
  return new GrowwDialect(() => options, { connection: 0, lookup: (k) => master.byToken(k) });
}

Deno.test("subjects per mode: price for LTP/Quote, price + book for Depth, indices have no book", () => {
  const d = dialect();
  assert.deepEqual(d.subscribe([wanted("NSE", "RELIANCE", 1), wanted("BSE", "RELIANCE", 1)], 1), [
    "SUB /ld/eq/nse/price.2885\nSUB /ld/eq/bse/price.500325",
  ]);
  assert.deepEqual(d.subscribe([wanted("NFO", "BANKNIFTY24DEC2551000CE", 3)], 3), [
    "SUB /ld/fo/nse/price.60123\nSUB /ld/fo/nse/book.60123",
  ]);
  assert.deepEqual(d.subscribe([wanted("NSE_INDEX", "NIFTY", 3)], 3), [
    "SUB /ld/indices/nse/price.NIFTY",
  ]);
  assert.deepEqual(d.unsubscribe([wanted("NFO", "BANKNIFTY24DEC2551000CE", 3)], 3), [
    "UNSUB /ld/fo/nse/price.60123\nUNSUB /ld/fo/nse/book.60123",
  ]);
  assert.equal(d.streamMode(1), 2);
  assert.equal(d.streamMode(2), 2);
  assert.equal(d.streamMode(3), 3);
});

Deno.test("mode changes add or drop only the book subject", () => {
  const d = dialect();
  const rel = [wanted("NSE", "RELIANCE", 2)];
  assert.deepEqual(d.changeMode(rel, 2, 3), ["SUB /ld/eq/nse/book.2885"]);
  assert.deepEqual(d.changeMode(rel, 3, 1), ["UNSUB /ld/eq/nse/book.2885"]);
  assert.deepEqual(d.changeMode([wanted("NSE_INDEX", "NIFTY", 2)], 2, 3), []);
});

Deno.test("messages become ticks; Depth instruments get merged price + book ticks", () => {
  const d = dialect();
  d.subscribe([wanted("NSE", "RELIANCE", 3)], 3);
  assert.deepEqual(
    d.decode(
      { subject: "/ld/eq/nse/book.2885", data: encodeBook({ buy: [{ price: 1, qty: 2 }] }) },
      5,
    ),
    {},
    "no tick before the first last price",
  );
  const r = d.decode({ subject: "/ld/eq/nse/price.2885", data: encodePrice({ ltp: 2 }) }, 5);
  assert.equal(r.ticks?.[0].mode, 3);
  assert.deepEqual(r.ticks?.[0].depth?.buy, [{ price: 1, quantity: 2, orders: null }]);
  // Leaving Depth: the next price tick is a Quote tick.
  d.changeMode([wanted("NSE", "RELIANCE", 3)], 3, 2);
  assert.equal(
    d.decode({ subject: "/ld/eq/nse/price.2885", data: encodePrice({ ltp: 3 }) }, 5).ticks?.[0]
      .mode,
    2,
  );
  assert.deepEqual(d.decode(new Uint8Array([1]), 5), { malformed: "message_without_subject" });
  assert.deepEqual(
    d.decode({ subject: "/ld/eq/nse/price.2885", data: new Uint8Array([0x22, 9]) }, 5),
    { malformed: "undecodable" },
  );
});

Deno.test("link notices: PONG is nothing, expired credentials are auth_failed, other errors are logged", () => {
  const d = dialect();
  assert.deepEqual(d.decode(PONG, 1), {});
  assert.ok(d.decode("-ERR 'User Authentication Expired'", 1).authFailed);
  assert.ok(d.decode("-ERR 'Authorization Violation'", 1).authFailed);
  const log = d.decode("-ERR 'Maximum Subscriptions Exceeded'", 1).log;
  assert.equal(log?.level, "error");
  assert.match(log?.message ?? "", /Maximum Subscriptions Exceeded/);
});
