// Gap markers: a gateway restart (a new publisher session on the same address) is recorded as a
// session event naming the previous session, and messages lost while the recorder reconnected
// are recorded as gap events, so rows + gaps account for every message published.

import assert from "node:assert/strict";
import { freePort, until } from "../helpers/gateway.ts";
import { BusPublisher } from "../../lib/bus/publisher.ts";
import { baseTick, type Tick } from "../../lib/types.ts";
import { Recorder } from "../../lib/recorder/recorder.ts";
import { parseSymbolSet } from "../../lib/recorder/symbols.ts";
import { query, settle, tempDir } from "./helpers.ts";

function tick(symbol: string, ltp: number): Tick {
  return baseTick("NSE", symbol, 1, ltp, null, Date.now());
}

Deno.test("recorder: a gateway restart becomes a session marker, lost messages gap markers", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/gaps.duckdb`;
  const address = `tcp://127.0.0.1:${freePort()}`;
  let first: BusPublisher | null = await BusPublisher.open({ address, broker: "paper" });
  const recorder = await Recorder.open({
    bus: address,
    db,
    flushMs: 50,
    roll: false,
    readerIdleMs: 500,
    symbols: parseSymbolSet("NSE:GAP,NSE:WARM"),
  });
  const running = recorder.run();
  let second: BusPublisher | null = null;
  try {
    let w = 0;
    while (recorder.received === 0) {
      first.publish(tick("WARM", w++), [1]);
      await new Promise((r) => setTimeout(r, 10));
      if (w > 1000) throw new Error("recorder never connected");
    }
    for (let i = 0; i < 100; i++) first.publish(tick("GAP", i), [1]);
    await until(() => recorder.received >= w + 100 - 1, 5000, "first session received");
    const firstSession = first.session;
    await first.close();
    first = null;

    // The "restarted gateway": same address, new session. Its first messages go out while the
    // recorder is still reconnecting (up to readerIdleMs) and are lost — the recorder says so.
    second = await BusPublisher.open({ address, broker: "paper" });
    const sent = 300;
    for (let i = 0; i < sent; i++) {
      second.publish(tick("GAP", 1000 + i), [1]);
      await new Promise((r) => setTimeout(r, 5));
    }
    await settle(() => recorder.received, 300);
    recorder.stop("test");
    const summary = await running;

    const sessions = await query(
      `SELECT session, previous_session FROM rec.bus_events WHERE kind = 'session' ORDER BY ingest_seq`,
      db,
    );
    assert.equal(sessions.length, 2);
    assert.equal(sessions[0].session, firstSession);
    assert.equal(sessions[0].previous_session, null);
    assert.equal(sessions[1].session, second.session);
    assert.equal(sessions[1].previous_session, firstSession, "restart names the previous session");

    const [{ rows }] = await query(
      `SELECT count(*)::INTEGER AS rows FROM rec.ticks WHERE session = '${second.session}'`,
      db,
    );
    const gaps = await query(
      `SELECT topic, seq_from::INTEGER AS seq_from, seq_to::INTEGER AS seq_to, count::INTEGER AS count
       FROM rec.bus_events WHERE kind = 'gap' AND session = '${second.session}'`,
      db,
    );
    const missed = gaps.reduce((n, g) => n + (g.count as number), 0);
    assert.equal((rows as number) + missed, sent, "rows + gap markers = published");
    assert.ok(missed > 0, "the reconnect lost the first messages and that is recorded");
    assert.equal(gaps[0].seq_from, 0, "the new session's first messages are reported missing");
    for (const g of gaps) {
      assert.equal(g.topic, "NSE_GAP_LTP");
      assert.equal(g.count, (g.seq_to as number) - (g.seq_from as number) + 1);
    }
    assert.equal(summary.missed, missed);
  } finally {
    recorder.stop("test");
    await running.catch(() => {});
    await first?.close();
    await second?.close();
  }
});
