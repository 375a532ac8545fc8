// Replay: a paper-feed recording, prepared and played back by the replay adapter through a second
// gateway, is recorded again and must be the same sequence of ticks (order, topics, seqs and every
// field). Also: pacing at N× with gap cutting, max speed, rebased times, SYMBOL_NOT_FOUND and
// INVALID_MODE, the missing-file error, and Parquet-based preparation giving the same file.

import assert from "node:assert/strict";
import { freePort, startGateway, until } from "../helpers/gateway.ts";
import { BusReader } from "../../lib/bus/reader.ts";
import type { BusEnvelope } from "../../lib/bus/envelope.ts";
import { Recorder } from "../../lib/recorder/recorder.ts";
import { prepareReplay } from "../../lib/recorder/replay_export.ts";
import { openReplay, type ReplayRecord } from "../../lib/replay/mod.ts";
import { rollToParquet } from "../../lib/recorder/roll.ts";
import { TickStore } from "../../lib/recorder/store.ts";
import { sqlString } from "../../lib/recorder/schema.ts";
import { captureApi, envelopeSql, query, settle, tempDir } from "./helpers.ts";

const TOPICS = ["NSE_RELIANCE_DEPTH", "NSE_INDEX_NIFTY_QUOTE", "NSE_TCS_LTP", "NSE_TCS_QUOTE"];
const CAPTURE = {
  symbols: [
    { exchange: "NSE", symbol: "RELIANCE", mode: "Depth" },
    { exchange: "NSE_INDEX", symbol: "NIFTY", mode: "Quote" },
    { exchange: "NSE", symbol: "TCS", mode: "LTP" },
    { exchange: "NSE", symbol: "TCS", mode: "Quote" },
  ],
  owner: "test",
};

async function records(path: string): Promise<ReplayRecord[]> {
  await using source = await openReplay(path);
  const all: ReplayRecord[] = [];
  for await (const batch of source.records()) all.push(...batch);
  return all;
}

/** The recorded ticks of the test topics without the per-run bus fields. */
async function recorded(db: string): Promise<Record<string, unknown>[]> {
  const rows = await query(
    envelopeSql("rec.ticks", `topic IN (${TOPICS.map(sqlString).join(", ")})`),
    db,
  );
  return rows.map(({ published: _p, session: _s, broker: _b, ...rest }) => rest);
}

Deno.test("replay: a recording played back through a gateway reproduces the recorded sequence", async () => {
  await using dir = await tempDir();
  const db1 = `${dir.path}/day.duckdb`;
  const db2 = `${dir.path}/replayed.duckdb`;

  // 1. Record the paper feed.
  const gw1 = await startGateway({
    broker: { name: "paper", options: { ticksPerSecond: 30, intervalMs: 20, seed: 5 } },
  });
  const rec1 = await Recorder.open({ bus: gw1.bus.endpoint, db: db1, flushMs: 100, roll: false });
  const running1 = rec1.run();
  try {
    await captureApi(gw1, "POST", {
      symbols: [{ exchange: "NSE", symbol: "INFY" }],
      mode: 1,
      owner: "warmup",
    });
    await until(() => rec1.received > 0, 10_000, "warm-up");
    assert.equal((await captureApi(gw1, "POST", CAPTURE)).json.status, "success");
    await new Promise((r) => setTimeout(r, 1200));
    await captureApi(gw1, "DELETE");
    await until(() => gw1.pool.streams().length === 0, 5000, "released");
    await settle(() => rec1.received);
  } finally {
    rec1.stop("test");
    await running1;
    await gw1.stop();
  }
  const original = await recorded(db1);
  for (const t of TOPICS) {
    assert.ok(original.filter((r) => r.topic === t).length >= 10, `${t} recorded`);
  }

  // 2. Prepare the replay file (the main-isolate step that uses DuckDB).
  const prepared = await prepareReplay({ db: db1 });
  assert.equal(prepared.out, `${db1}.tpr`);
  const byName = Object.fromEntries(
    prepared.header.instruments.map((i) => [`${i.exchange}:${i.symbol}`, i]),
  );
  assert.equal(byName["NSE:RELIANCE"].mode, 3);
  assert.equal(byName["NSE:RELIANCE"].depth, 5);
  assert.equal(byName["NSE_INDEX:NIFTY"].mode, 2);
  assert.equal(byName["NSE:TCS"].mode, 2, "TCS LTP and Quote copies collapse into one stream");
  assert.equal(byName["NSE:INFY"].mode, 1);
  const tcsRows = original.filter((r) => r.symbol === "TCS");
  const tcsQuote = tcsRows.filter((r) => r.mode === "QUOTE").length;
  assert.ok(byName["NSE:TCS"].rows >= tcsQuote && byName["NSE:TCS"].rows < tcsRows.length);

  // 3. Replay through a second gateway, recorded by a second recorder connected beforehand.
  const bus = `tcp://127.0.0.1:${freePort()}`;
  const rec2 = await Recorder.open({
    bus,
    db: db2,
    flushMs: 100,
    roll: false,
    readerIdleMs: 60_000,
  });
  const running2 = rec2.run();
  const gw2 = await startGateway({
    bus,
    broker: {
      name: "replay",
      options: { recording: db1, speed: "max", startDelayMs: 1500 },
    },
  });
  try {
    await new Promise((r) => setTimeout(r, 500)); // the recorder's SUB reconnects every 100 ms
    assert.equal((await captureApi(gw2, "POST", CAPTURE)).json.status, "success");
    await until(() => rec2.received >= original.length, 15_000, "every tick replayed");
    await settle(() => rec2.received);

    const missing = await captureApi(gw2, "POST", {
      symbols: [{ exchange: "NSE", symbol: "HDFCBANK" }],
      mode: "LTP",
    });
    assert.equal((missing.json.results as { code: string }[])[0].code, "SYMBOL_NOT_FOUND");
    const tooRich = await captureApi(gw2, "POST", {
      symbols: [{ exchange: "NSE_INDEX", symbol: "NIFTY" }],
      mode: "Depth",
    });
    assert.equal((tooRich.json.results as { code: string }[])[0].code, "INVALID_MODE");
  } finally {
    rec2.stop("test");
    await running2;
    await gw2.stop();
  }
  const replayed = await recorded(db2);
  assert.equal(replayed.length, original.length);
  for (let i = 0; i < original.length; i++) {
    assert.deepEqual(replayed[i], original[i], `tick ${i} (${original[i].topic})`);
  }

  // 4. The same recording rolled to Parquet prepares into the same records.
  const store = await TickStore.open(db1);
  await rollToParquet(store.background, `${dir.path}/parquet`, {
    cutoff: Date.now() + 1,
    maxIngestSeq: store.nextIngestSeq - 1,
  });
  store.close();
  const fromParquet = await prepareReplay({ parquet: `${dir.path}/parquet` });
  assert.equal(fromParquet.out, `${dir.path}/parquet.tpr`);
  assert.deepEqual(fromParquet.header.instruments, prepared.header.instruments);
  assert.deepEqual(await records(fromParquet.out), await records(prepared.out));
});

/** A synthetic recording: `n` QUOTE ticks 50 ms apart, then one more after a one-minute silence. */
async function synthetic(db: string, n: number): Promise<number> {
  const store = await TickStore.open(db);
  const t0 = Date.UTC(2024, 5, 3, 4, 0, 0);
  const ticks = [];
  for (let i = 0; i <= n; i++) {
    const published = i < n ? t0 + i * 50 : t0 + (n - 1) * 50 + 60_000;
    const envelope = {
      v: 1,
      seq: i,
      session: "s1",
      broker: "zerodha",
      exchange: "NSE",
      symbol: "SBIN",
      mode: "QUOTE",
      published,
      data: {
        symbol: "SBIN",
        exchange: "NSE",
        ltp: 800 + i / 100,
        ltt: published - 3,
        timestamp: published - 2,
        open: 790,
        high: 810,
        low: 780,
        close: 795,
        volume: 1000 + i,
        last_trade_quantity: 5,
        avg_trade_price: 801.5,
        total_buy_quantity: 300,
        total_sell_quantity: 200,
        oi: null,
        change: 5,
        change_percent: 0.63,
      },
    } as BusEnvelope;
    ticks.push({ ingestSeq: i, received: published + 1, topic: "NSE_SBIN_QUOTE", envelope });
  }
  store.writeTicks(ticks);
  store.close();
  return t0;
}

async function arrivals(
  recording: string,
  options: Record<string, unknown>,
  expected: number,
): Promise<{ at: number[]; envelopes: BusEnvelope[] }> {
  const gw = await startGateway({
    broker: { name: "replay", options: { recording, startDelayMs: 300, ...options } },
  });
  const reader = BusReader.connect({ address: gw.bus.endpoint });
  const at: number[] = [];
  const envelopes: BusEnvelope[] = [];
  const reading = (async () => {
    for await (const m of reader.ticks()) {
      at.push(performance.now());
      envelopes.push(m.envelope);
    }
  })();
  try {
    await new Promise((r) => setTimeout(r, 300));
    await captureApi(gw, "POST", { symbols: [{ exchange: "NSE", symbol: "SBIN" }], mode: 2 });
    await until(() => at.length >= expected, 10_000, `${expected} replayed ticks`);
    return { at, envelopes };
  } finally {
    reader.close();
    await reading;
    await gw.stop();
  }
}

Deno.test("replay: paces at N× with long silences cut, and runs flat out at max speed", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/sbin.duckdb`;
  const t0 = await synthetic(db, 41); // 2 s of ticks, a minute of silence, one more tick
  await prepareReplay({ db });

  // 4×: 2000 ms + the silence cut to 200 ms → 550 ms of wall time.
  const paced = await arrivals(db, { speed: 4, maxGapMs: 200 }, 42);
  const span = paced.at[41] - paced.at[0];
  // Paced (it waited ≈ 550 ms), and the minute of silence was cut (4× would be 15 s).
  assert.ok(span >= 450 && span < 5000, `4× span ${span.toFixed(0)} ms, expected ≈ 550`);
  const beforeSilence = paced.at[40] - paced.at[0];
  assert.ok(beforeSilence >= 400, `${beforeSilence.toFixed(0)} ms for 2 s at 4×`);
  assert.equal(paced.envelopes[0].data.timestamp, t0 - 2, "recorded times by default");
  assert.equal(paced.envelopes[41].data.ltp, 800.41);

  const max = await arrivals(db, { speed: "max" }, 42);
  const maxSpan = max.at[41] - max.at[0];
  // Side by side with the paced run: max speed does not wait between ticks.
  assert.ok(
    maxSpan < span / 2,
    `max speed took ${maxSpan.toFixed(0)} ms vs ${span.toFixed(0)} paced`,
  );

  // Rebased: timestamps shifted to now, keeping their offset to the publish time.
  const rebased = await arrivals(db, { speed: "max", rebaseTime: true }, 42);
  const e = rebased.envelopes[0];
  assert.ok(Math.abs(e.data.timestamp - Date.now()) < 10_000, "timestamp near now");
  assert.ok(Math.abs(e.data.timestamp - e.published + 2) < 100, "offset to publish time kept");
});

Deno.test("replay: a recording without its prepared file fails to start with the command to run", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/unprepared.duckdb`;
  await synthetic(db, 3);
  await assert.rejects(
    () => startGateway({ broker: { name: "replay", options: { recording: db } } }),
    /--prepare-replay .*unprepared\.duckdb/,
  );
  await assert.rejects(
    () => startGateway({ broker: { name: "replay", options: { recording: db, speed: 0 } } }),
    /invalid replay options: speed/,
  );
});

Deno.test("prepare-replay keeps a topic restarted at seq 0 after idle; drops exact copies", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/restart.duckdb`;
  const store = await TickStore.open(db);
  const t0 = Date.UTC(2024, 5, 3, 4, 0, 0);
  const ticks = [];
  // seq 0..4, then (the publisher forgot the idle topic) seq 0..4 again eleven minutes later.
  for (let i = 0; i < 10; i++) {
    const published = i < 5 ? t0 + i * 50 : t0 + 660_000 + i * 50;
    const envelope = {
      v: 1,
      seq: i % 5,
      session: "s1",
      broker: "zerodha",
      exchange: "NSE",
      symbol: "SBIN",
      mode: "LTP",
      published,
      data: { symbol: "SBIN", exchange: "NSE", ltp: 800 + i, ltt: null, timestamp: published },
    } as BusEnvelope;
    ticks.push({ ingestSeq: i, received: published + 1, topic: "NSE_SBIN_LTP", envelope });
  }
  // The same message recorded twice (overlapping sources) is one tick.
  ticks.push({ ...ticks[7], ingestSeq: 10 });
  store.writeTicks(ticks);
  store.close();
  const prepared = await prepareReplay({ db });
  assert.equal(prepared.header.rows, 10);
  assert.deepEqual(
    (await records(prepared.out)).map((r) => r.ltp),
    [800, 801, 802, 803, 804, 805, 806, 807, 808, 809],
  );
});
