// The recorder end to end on the paper feed: every published message is a row (counted
// independently at the gateway), rows equal the bus envelopes field by field (depth included),
// rolled Parquet reads back identical with DuckDB, and stats report the same counts.

import assert from "node:assert/strict";
import { startGateway, TestClient, until } from "../helpers/gateway.ts";
import { BusReader } from "../../lib/bus/reader.ts";
import type { BusEnvelope } from "../../lib/bus/envelope.ts";
import { formatTopic } from "../../lib/bus/topic.ts";
import { Recorder } from "../../lib/recorder/recorder.ts";
import { rollToParquet } from "../../lib/recorder/roll.ts";
import { recordingStats } from "../../lib/recorder/stats.ts";
import { ohlcvSql } from "../../lib/recorder/queries.ts";
import { sqlString } from "../../lib/recorder/schema.ts";
import { captureApi, envelopeSql, query, rowToEnvelope, settle, tempDir } from "./helpers.ts";

const TEST_TOPICS = ["NSE_RELIANCE_DEPTH", "NSE_RELIANCE_LTP", "NSE_INDEX_NIFTY_QUOTE"];

Deno.test("recorder: paper feed → DuckDB, every published message one row, fields intact; Parquet and stats agree", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/ticks.duckdb`;
  const gw = await startGateway({
    broker: { name: "paper", options: { ticksPerSecond: 40, intervalMs: 20, seed: 11 } },
  });
  // Independent count of what the gateway publishes: tick listeners run just before the bus
  // publishes each tick under the modes that have consumers.
  const published = new Map<string, number>();
  gw.tickListeners.push((ticks) => {
    for (const t of ticks) {
      for (const m of gw.registry.modesWithConsumers(t.exchange, t.symbol)) {
        if (m > t.mode) continue;
        const topic = formatTopic(t.exchange, t.symbol, m);
        published.set(topic, (published.get(topic) ?? 0) + 1);
      }
    }
  });
  const mirror = BusReader.connect({ address: gw.bus.endpoint });
  const seen: { topic: string; envelope: BusEnvelope }[] = [];
  const mirroring = (async () => {
    for await (const m of mirror.ticks()) seen.push(m);
  })();
  const recorder = await Recorder.open({ bus: gw.bus.endpoint, db, flushMs: 100, roll: false });
  const running = recorder.run();
  try {
    // Warm-up: once a captured symbol's ticks reach both readers, their subscriptions are live.
    const warm = await captureApi(gw, "POST", {
      symbols: [{ exchange: "NSE", symbol: "TCS" }],
      mode: "LTP",
      owner: "warmup",
    });
    assert.equal(warm.status, 200);
    await until(() => recorder.received > 0 && seen.length > 0, 10_000, "warm-up ticks");

    const a = await TestClient.connect(gw), b = await TestClient.connect(gw);
    await a.auth();
    await b.auth();
    await a.request({
      action: "subscribe",
      symbols: [{ exchange: "NSE", symbol: "RELIANCE", mode: 3 }, {
        exchange: "NSE_INDEX",
        symbol: "NIFTY",
        mode: 2,
      }],
      mode: 3,
    }, "subscribe");
    await b.request(
      { action: "subscribe", symbol: "RELIANCE", exchange: "NSE", mode: 1 },
      "subscribe",
    );
    await until(
      () => TEST_TOPICS.every((t) => (published.get(t) ?? 0) >= 30),
      10_000,
      "30 ticks on every test topic",
    );
    await a.close();
    await b.close();
    assert.equal((await captureApi(gw, "DELETE", { owner: "warmup" })).status, 200);
    await until(() => gw.pool.streams().length === 0, 5000, "every symbol released");
    const total = [...published.values()].reduce((x, y) => x + y, 0);
    await until(() => gw.bus.published >= total, 5000, "bus drained");
    await settle(() => recorder.received);
    recorder.stop("test");
    const summary = await running;
    mirror.close();
    await mirroring;

    assert.equal(gw.bus.dropped, 0);
    assert.deepEqual(summary.dropped, {
      invalid_frame: 0,
      not_selected: 0,
      backlog_full: 0,
      write_failed: 0,
    });
    assert.equal(summary.written, summary.received, "every received tick written");
    assert.equal(summary.gaps, 0);

    // Row counts equal published counts for every test topic.
    const counts = await query(
      `SELECT topic, count(*)::INTEGER AS n, min(seq)::INTEGER AS lo, max(seq)::INTEGER AS hi
       FROM rec.ticks GROUP BY topic ORDER BY topic`,
      db,
    );
    for (const topic of TEST_TOPICS) {
      const row = counts.find((r) => r.topic === topic);
      assert.ok(row, `${topic} recorded`);
      assert.equal(row.n, published.get(topic), `${topic}: rows = published`);
      assert.equal(row.lo, 0, `${topic} complete from seq 0`);
      assert.equal(row.hi, (row.n as number) - 1, `${topic}: no seq gaps`);
    }

    // Field fidelity: each row is the envelope the bus carried, in the same order.
    const inTopics = `topic IN (${TEST_TOPICS.map(sqlString).join(", ")})`;
    const rows = await query(envelopeSql("rec.ticks", inTopics), db);
    const expected = seen.filter((m) => TEST_TOPICS.includes(m.topic));
    assert.equal(rows.length, expected.length);
    for (let i = 0; i < rows.length; i++) {
      assert.equal(rows[i].topic, expected[i].topic, `row ${i} topic`);
      assert.deepEqual(rowToEnvelope(rows[i]), expected[i].envelope, `row ${i}`);
    }
    const depthRow = rows.find((r) => r.mode === "DEPTH")!;
    const buy = depthRow.depth_buy as { price: number; quantity: number; orders: number }[];
    assert.equal(buy.length, 5);
    assert.equal(typeof buy[0].orders, "number");
    assert.ok(
      rows.filter((r) => r.mode === "LTP").every((r) => r.open === null && r.depth_buy === null),
    );

    const events = await query(
      `SELECT kind, reason FROM rec.bus_events ORDER BY ingest_seq, received`,
      db,
    );
    assert.deepEqual(events.map((e) => e.kind), ["start", "session", "stop"]);
    assert.equal(events[2].reason, "test");

    // Roll everything to Parquet and read it back with a fresh DuckDB: same rows.
    const before = await query(`${envelopeSql("rec.ticks")}`, db);
    const recorder2 = await Recorder.open({ bus: gw.bus.endpoint, db, roll: false });
    assert.equal(recorder2.previous.ended, "after_stop");
    const roll = await rollToParquet(recorder2.store.background, `${dir.path}/parquet`, {
      cutoff: Date.now() + 1,
      maxIngestSeq: recorder2.store.nextIngestSeq - 1,
    });
    recorder2.store.close();
    assert.ok(roll !== null);
    assert.equal(roll.tickRows, before.length);
    const today = new Date().toISOString().slice(0, 10);
    for (const ex of ["NSE", "NSE_INDEX"]) {
      const files = [...Deno.readDirSync(`${dir.path}/parquet/ticks/date=${today}/exchange=${ex}`)];
      assert.ok(files.some((f) => f.name.endsWith(".parquet")), `hive partition for ${ex}`);
    }
    const left = await query(`SELECT count(*)::INTEGER AS n FROM rec.ticks`, db);
    assert.equal(left[0].n, 0, "rolled rows left the DuckDB file");
    const parquet =
      `read_parquet('${dir.path}/parquet/ticks/**/*.parquet', hive_partitioning = true)`;
    const after = await query(envelopeSql(parquet));
    assert.deepEqual(after, before);
    const partitions = await query(
      `SELECT DISTINCT date::VARCHAR AS date, exchange FROM ${parquet} ORDER BY exchange`,
    );
    assert.deepEqual(partitions, [{ date: today, exchange: "NSE" }, {
      date: today,
      exchange: "NSE_INDEX",
    }]);

    // The README's candle query over the Parquet dataset matches candles computed here.
    const candles = await query(`${ohlcvSql(parquet, 3)}`);
    const depthRows = after.filter((r) => r.mode === "DEPTH");
    const minute = (ms: number) => Math.floor(ms / 60_000) * 60_000;
    const expectedCandles = new Map<
      number,
      { o: number; h: number; l: number; c: number; n: number }
    >();
    // Arrival order breaks timestamp ties, as in the query.
    const ordered = depthRows.map((r, i) => ({ r, i })).sort((a, b) =>
      (a.r.timestamp as number) - (b.r.timestamp as number) || a.i - b.i
    );
    for (const { r } of ordered) {
      const m = minute(r.timestamp as number);
      const ltp = r.ltp as number;
      const c = expectedCandles.get(m);
      if (c === undefined) expectedCandles.set(m, { o: ltp, h: ltp, l: ltp, c: ltp, n: 1 });
      else {
        c.h = Math.max(c.h, ltp);
        c.l = Math.min(c.l, ltp);
        c.c = ltp;
        c.n++;
      }
    }
    assert.equal(candles.length, expectedCandles.size);
    for (const candle of candles) {
      const e = expectedCandles.get(Date.parse(`${candle.minute}Z`.replace(" ", "T")))!;
      assert.deepEqual(
        [candle.open, candle.high, candle.low, candle.close, Number(candle.ticks)],
        [e.o, e.h, e.l, e.c, e.n],
      );
      assert.ok((candle.volume as number) >= 0);
    }

    const stats = await recordingStats({ db, parquet: `${dir.path}/parquet` });
    assert.equal(stats.total, before.length);
    const reliance = stats.rows.find((r) => r.symbol === "RELIANCE" && r.mode === "DEPTH")!;
    assert.equal(reliance.rows, published.get("NSE_RELIANCE_DEPTH"));
    assert.ok(reliance.first <= reliance.last);
    assert.equal(stats.sessions, 1);
    assert.equal(stats.gaps, 0);
  } finally {
    recorder.stop("test");
    await running.catch(() => {});
    mirror.close();
    await gw.stop();
  }
});
