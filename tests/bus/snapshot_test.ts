// Bus snapshots over real zeromq on loopback: a reader of a running gateway learns the snapshot
// address from the heartbeat and gets the latest tick of each topic (the message it last received,
// once the feed is quiet); unknown keys are null; a bad request is an error reply, never a hang;
// the request decoder survives random and truncated input.

import assert from "node:assert/strict";
import { Dealer } from "zeromq";
import { startGateway, until } from "../helpers/gateway.ts";
import { BusReader } from "../../lib/bus/reader.ts";
import type { BusEnvelope } from "../../lib/bus/envelope.ts";
import { answerSnapshot, snapshotReplySchema } from "../../lib/bus/snapshot.ts";
import { prepareReplay } from "../../lib/recorder/replay_export.ts";
import { baseTick } from "../../lib/types.ts";
import { prng } from "../../lib/adapter/sim/market.ts";
import { captureApi, tempDir } from "../recorder/helpers.ts";
import { recordDay, syntheticDay } from "../history/helpers.ts";

Deno.test("bus snapshot: a reader asks the gateway for the latest tick of its topics", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/day.duckdb`;
  const day = syntheticDay(3);
  await recordDay(db, day);
  await prepareReplay({ db });
  const gw = await startGateway({
    broker: { name: "replay", options: { recording: db, speed: "max", startDelayMs: 300 } },
  });
  const reader = BusReader.connect({ address: gw.bus.endpoint, topics: ["NSE_SBIN_"] });
  let last: BusEnvelope | null = null;
  const reading = (async () => {
    for await (const m of reader.ticks()) if (m.envelope.mode === "QUOTE") last = m.envelope;
  })();
  try {
    // Before anyone holds SBIN the gateway has no tick of it: null, not an error.
    await until(() => reader.announcedSnapshot !== null, 10_000, "a heartbeat");
    assert.equal(reader.announcedSnapshot, gw.busSnapshot.endpoint);
    const [none] = await reader.snapshot(["NSE_SBIN_QUOTE"]);
    assert.deepEqual(none, {
      topic: "NSE_SBIN_QUOTE",
      exchange: "NSE",
      symbol: "SBIN",
      mode: "QUOTE",
      data: null,
    });

    await new Promise((r) => setTimeout(r, 300)); // the SUB has joined before the replay starts
    const held = await captureApi(gw, "POST", {
      symbols: [{ exchange: "NSE", symbol: "SBIN" }],
      mode: "Quote",
      owner: "snapshot-test",
    });
    assert.equal(held.json.status, "success");
    const lastLtp = day.at(-1)!.ltp;
    await until(() => (last as BusEnvelope | null)?.data.ltp === lastLtp, 30_000, "the whole day");

    // The feed is quiet now: the snapshot is the message the reader received last.
    const items = await reader.snapshot(["NSE_SBIN_QUOTE", "NSE_SBIN_LTP", "NSE_TCS_QUOTE"]);
    assert.deepEqual(items.map((i) => i.topic), [
      "NSE_SBIN_QUOTE",
      "NSE_SBIN_LTP",
      "NSE_TCS_QUOTE",
    ]);
    assert.deepEqual(items[0].data, last!.data);
    const { symbol, exchange, ltp, ltt, timestamp } = last!.data;
    assert.deepEqual(items[1].data, { symbol, exchange, ltp, ltt, timestamp }, "LTP fields only");
    assert.equal(items[2].data, null);
    assert.equal(
      (await reader.snapshot(["NSE_SBIN_DEPTH"]))[0].data,
      null,
      "no Depth tick is known, so no Depth snapshot",
    );

    // A bad topic is refused with a catalogue code; the reader stays usable.
    await assert.rejects(reader.snapshot(["SBIN"]), /INVALID_PARAMETERS: topics\.0/);
    assert.equal((await reader.snapshot(["NSE_SBIN_LTP"]))[0].data?.ltp, lastLtp);

    // A client in another language sends raw frames: garbage gets an error reply too.
    const raw = new Dealer({ linger: 0 });
    raw.connect(gw.busSnapshot.endpoint);
    try {
      await raw.send("{not json");
      const deadline = Date.now() + 30_000;
      while (!raw.readable) {
        assert.ok(Date.now() < deadline, "a reply to garbage");
        await new Promise((r) => setTimeout(r, 5));
      }
      const [reply] = await raw.receive();
      const parsed = snapshotReplySchema.parse(JSON.parse(new TextDecoder().decode(reply)));
      assert.ok(parsed.status === "error" && parsed.code === "INVALID_JSON");
    } finally {
      raw.close();
    }
    assert.ok(gw.busSnapshot.requests >= 6);
  } finally {
    reader.close();
    await reading;
    await gw.stop();
  }
});

Deno.test("bus snapshot: a request parser fed random and truncated input answers a valid error", () => {
  const rand = prng(99);
  const lookup = (e: string, s: string, m: number) =>
    s === "TCS" ? baseTick(e, s, m as 1 | 2 | 3, 3500, null, 1) : null;
  const header = { broker: "paper", session: "s1", published: 1 };
  const good = JSON.stringify({ v: 1, id: "x", topics: ["NSE_TCS_LTP", "NSE_INDEX_NIFTY_QUOTE"] });
  assert.equal(snapshotReplySchema.parse(answerSnapshot(good, lookup, header)).status, "success");
  let errors = 0;
  for (let i = 0; i < 2000; i++) {
    let input: Uint8Array | string;
    if (i % 3 === 0) input = good.slice(0, Math.floor(rand() * good.length));
    else if (i % 3 === 1) input = crypto.getRandomValues(new Uint8Array(Math.floor(rand() * 64)));
    else {
      input = JSON.stringify({
        v: rand() < 0.5 ? 1 : 2,
        topics: Array.from(
          { length: Math.floor(rand() * 4) },
          () => ["NSE_TCS_LTP", "X", "", "NSE_TCS_CANDLE_1M", 7][Math.floor(rand() * 5)],
        ),
      });
    }
    const reply = snapshotReplySchema.parse(answerSnapshot(input, lookup, header));
    if (reply.status === "error") errors++;
  }
  assert.ok(errors > 1000, `${errors} error replies`);
  const tooMany = answerSnapshot(
    JSON.stringify({ v: 1, topics: Array(1001).fill("NSE_TCS_LTP") }),
    lookup,
    header,
  );
  assert.ok(tooMany.status === "error" && /topics/.test(tooMany.message));
});
