// GET /api/v1/candles over a real gateway: the live bars of a replayed day equal the bars the
// endpoint builds from the recorded ticks (1m and 5m); recorded bars continue into the live
// series' memory without a gap or a duplicate bar; rolled Parquet + DuckDB read together, and only
// Parquet while a running recorder holds the DuckDB file; CSV; bad parameters; the API key.

import assert from "node:assert/strict";
import { parse } from "csv-parse/sync";
import { freePort, startGateway, TestClient, until } from "../helpers/gateway.ts";
import { ROOT } from "../helpers/process.ts";
import { TickStore } from "../../lib/recorder/store.ts";
import { rollToParquet } from "../../lib/recorder/roll.ts";
import { historyCandles, RecordedTickReader } from "../../lib/history/mod.ts";
import { prepareReplay } from "../../lib/recorder/replay_export.ts";
import { buildCandles, type Candle } from "../../lib/candles/mod.ts";
import { baseTick } from "../../lib/types.ts";
import { tempDir } from "../recorder/helpers.ts";
import { type DayTick, getCandles, ist, recordDay, syntheticDay } from "./helpers.ts";

type Frame = Record<string, unknown>;

function candleFrames(client: TestClient, interval: string, closed: boolean): Candle[] {
  return client.frames
    .filter((f) =>
      f.type === "candle" && f.interval === interval && (f.data as Candle).closed === closed
    )
    .map((f) => f.data as Candle);
}

async function subscribeCandles(client: TestClient, interval: string): Promise<void> {
  const ack = await client.request({
    action: "subscribe_candles",
    symbols: [{ symbol: "SBIN", exchange: "NSE" }],
    interval,
  }, "subscribe_candles");
  assert.equal(ack.status, "success", JSON.stringify(ack));
}

function ticksOf(day: readonly DayTick[]) {
  return day.map((t) => {
    const tick = baseTick("NSE", "SBIN", 2, t.ltp, t.at, t.at + 5);
    tick.volume = t.volume;
    return tick;
  });
}

Deno.test("candles history: the live bars of a replayed day equal the bars built from its recording", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/day.duckdb`;
  const day = syntheticDay();
  await recordDay(db, day);
  await prepareReplay({ db });

  let now = ist("09:00:00");
  const gw = await startGateway({
    broker: { name: "replay", options: { recording: db, speed: "max", startDelayMs: 1500 } },
    history: { recordings: db },
  }, { candleClock: () => now });
  const client = await TestClient.connect(gw);
  try {
    await client.auth();
    await subscribeCandles(client, "1m");
    await subscribeCandles(client, "5m");
    const last = day.at(-1)!;
    // Every tick reached the candle feed: the forming bar closes at the (unique) last price.
    await until(
      () => gw.proxy.candles.bars("NSE", "SBIN", "5m")?.forming?.close === last.ltp,
      30_000,
      "the replayed day",
    );
    assert.equal(gw.proxy.candles.lateTicks, 0);
    // After the close: the clock closes the last bars and fills the quiet rest of the session.
    now = ist("15:40:00");
    for (const [interval, time] of [["1m", "15:29:00"], ["5m", "15:25:00"]]) {
      await client.waitFor((f) =>
        f.type === "candle" && f.interval === interval && (f.data as Candle).closed &&
        (f.data as Candle).time === ist(time)
      );
    }
    const live1 = candleFrames(client, "1m", true);
    const live5 = candleFrames(client, "5m", true);
    assert.equal(live1.length, 375, "a whole NSE session of 1m bars, each sent once");
    assert.equal(live5.length, 75);
    assert.equal(new Set(live1.map((c) => c.time)).size, 375);
    assert.ok(live1.some((c) => c.time === ist("09:27:00") && c.volume === 0), "a flat bar");
    assert.equal(
      live1.reduce((s, c) => s + c.volume, 0),
      last.volume - day[0].volume,
      "volume = change in cumulative volume",
    );

    // The same bars from the recording alone (the live series is gone once the client leaves).
    await client.close();
    await until(() => gw.proxy.candles.size === 0, 10_000, "candle series released");
    for (const [interval, live] of [["1m", live1], ["5m", live5]] as const) {
      const res = await getCandles(
        gw,
        `exchange=NSE&symbol=SBIN&interval=${interval}&from=2024-06-03&to=2024-06-04`,
      );
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-tickplex-sources"), "duckdb");
      const body = await res.json();
      assert.equal(body.status, "success");
      assert.deepEqual(
        { exchange: body.data.exchange, symbol: body.data.symbol, interval: body.data.interval },
        { exchange: "NSE", symbol: "SBIN", interval },
      );
      assert.deepEqual(body.data.candles, live, `${interval} bars: recorded = live`);
    }

    // CSV of the same bars, as an importer reads it.
    const csv = await getCandles(gw, "exchange=NSE&symbol=SBIN&interval=1m&from=2024-06-03", {
      authorization: `Bearer test-key-0123456789abcdef`,
      accept: "text/csv",
    });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get("content-type") ?? "", /^text\/csv/);
    const rows = parse(await csv.text(), { columns: true }) as Record<string, string>[];
    assert.equal(rows.length, 375);
    assert.deepEqual(rows[0], {
      Date: "2024-06-03",
      Time: "09:15:00",
      Open: String(live1[0].open),
      High: String(live1[0].high),
      Low: String(live1[0].low),
      Close: String(live1[0].close),
      Volume: String(live1[0].volume),
    });
    assert.deepEqual(rows.map((r) => Number(r.Close)), live1.map((c) => c.close));
    const viaParam = await getCandles(
      gw,
      "exchange=NSE&symbol=SBIN&interval=1m&from=2024-06-03&to=2024-06-04&format=csv",
    );
    assert.equal((await viaParam.text()).split("\r\n").length, 377, "header, 375 rows, end");
  } finally {
    await client.close();
    await gw.stop();
  }
});

Deno.test("candles history: recorded bars continue into the live series without a gap or a duplicate", async () => {
  await using dir = await tempDir();
  const day = syntheticDay(23);
  // The recorder has the day to 09:40; the gateway begins watching mid-bar at about 09:30:20.
  const recorded = `${dir.path}/recorded.duckdb`;
  await recordDay(recorded, day.filter((t) => t.at < ist("09:40:00")));
  const replayed = `${dir.path}/live.duckdb`;
  const liveDay = day.filter((t) => t.at >= ist("09:30:20"));
  await recordDay(replayed, liveDay);
  await prepareReplay({ db: replayed });

  const gw = await startGateway({
    broker: { name: "replay", options: { recording: replayed, speed: "max", startDelayMs: 1000 } },
    history: { recordings: recorded },
  }, { candleClock: () => ist("09:45:30") });
  const client = await TestClient.connect(gw);
  try {
    await client.auth();
    await subscribeCandles(client, "1m");
    const last = day.at(-1)!;
    await until(
      () => gw.proxy.candles.bars("NSE", "SBIN", "1m")?.forming?.close === last.ltp,
      30_000,
      "the replayed part",
    );
    const memory = gw.proxy.candles.bars("NSE", "SBIN", "1m")!;
    const memStart = memory.closed[0].time;
    assert.equal(memStart, ist("09:30:00"), "the live series began in the 09:30 bar");

    const res = await getCandles(
      gw,
      `exchange=NSE&symbol=SBIN&interval=1m&from=${ist("09:15:00")}&to=${ist("15:30:00")}`,
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-tickplex-sources"), "duckdb,memory");
    const bars = (await res.json()).data.candles as Candle[];
    // One bar per minute from the open to the forming bar: no gap, no duplicate.
    assert.deepEqual(
      bars.map((c) => c.time),
      Array.from({ length: bars.length }, (_, i) => ist("09:15:00") + i * 60_000),
    );
    assert.equal(
      bars.at(-1)!.time,
      ist(new Date(last.at + 19_800_000).toISOString().slice(11, 16)),
    );
    // Before the seam: the recorded ticks folded by the live rules, up to the seam.
    const before = buildCandles(
      ticksOf(day.filter((t) => t.at < memStart)),
      "NSE",
      "SBIN",
      "1m",
      { graceMs: 0, until: memStart },
    );
    assert.deepEqual(bars.filter((c) => c.time < memStart), before.closed);
    // From the seam: exactly what live subscribers were sent (closed once, then the forming bar).
    const liveClosed = candleFrames(client, "1m", true);
    const after = bars.filter((c) => c.time >= memStart);
    assert.deepEqual(after.slice(0, -1), liveClosed);
    assert.equal(after.at(-1)!.closed, false);
    assert.equal(after.at(-1)!.close, last.ltp);
    // Both halves are not the same source by accident: the recording has ticks after the seam
    // that the answer did not use (it would have built a whole 09:30 bar from them).
    const wholeBar = buildCandles(
      ticksOf(day.filter((t) => t.at < ist("09:40:00"))),
      "NSE",
      "SBIN",
      "1m",
    )
      .closed.find((c) => c.time === memStart)!;
    assert.ok(wholeBar.volume > after[0].volume, `${wholeBar.volume} vs ${after[0].volume}`);

    // A request ending before the seam is all recording.
    const early = await getCandles(
      gw,
      `exchange=NSE&symbol=SBIN&interval=1m&from=${ist("09:15:00")}&to=${ist("09:20:00")}`,
    );
    assert.equal(early.headers.get("x-tickplex-sources"), "duckdb");
    assert.deepEqual((await early.json()).data.candles, before.closed.slice(0, 5));
  } finally {
    await client.close();
    await gw.stop();
  }
});

Deno.test("candles history: bad parameters are 400 INVALID_PARAMETERS naming the parameter; the API key is required", async () => {
  const gw = await startGateway({
    history: { recordings: "/nonexistent/recordings", maxBars: 1000 },
  });
  try {
    const cases: [string, RegExp][] = [
      ["symbol=SBIN&interval=1m", /exchange/],
      ["exchange=NSE&interval=1m", /symbol/],
      ["exchange=NSE&symbol=SBIN", /interval/],
      ["exchange=NSE&symbol=SBIN&interval=2m", /interval must be one of 1s, 1m/],
      ["exchange=NSE&symbol=SBIN&interval=1m&from=yesterday", /from must be epoch milliseconds/],
      ["exchange=NSE&symbol=SBIN&interval=1m&to=2024-13-45T99:00", /to must be/],
      [
        "exchange=NSE&symbol=SBIN&interval=1m&from=2024-06-04&to=2024-06-03",
        /to must be after from/,
      ],
      ["exchange=NSE&symbol=SBIN&interval=1m&from=2024-06-01&to=2024-06-08", /at most 1000 bars/],
      ["exchange=NSE&symbol=SBIN&interval=1m&limit=5", /unknown parameter limit/],
      ["exchange=NSE&symbol=SBIN&interval=1m&format=xml", /format must be json or csv/],
      ["exchange=NSE&exchange=BSE&symbol=SBIN&interval=1m", /exchange is given more than once/],
      ["exchange=N%20SE&symbol=SBIN&interval=1m", /exchange must be/],
    ];
    for (const [query, message] of cases) {
      const res = await getCandles(gw, query);
      const body = await res.json();
      assert.equal(res.status, 400, query);
      assert.equal(body.status, "error");
      assert.equal(body.code, "INVALID_PARAMETERS", query);
      assert.match(body.message, message, query);
    }
    // Nothing recorded and nothing live: an empty series, not an error.
    const empty = await getCandles(
      gw,
      "exchange=NSE&symbol=SBIN&interval=1m&from=2024-06-03&to=2024-06-04",
    );
    assert.equal(empty.status, 200);
    assert.deepEqual((await empty.json()).data.candles, []);
    assert.equal(empty.headers.get("x-tickplex-sources"), "none");

    const anonymous = await getCandles(gw, "exchange=NSE&symbol=SBIN&interval=1m", {});
    assert.equal(anonymous.status, 401);
    assert.equal(((await anonymous.json()) as Frame).code, "AUTHENTICATION_ERROR");
    const wrong = await getCandles(gw, "exchange=NSE&symbol=SBIN&interval=1m", {
      "x-api-key": "not-the-key-0123456789",
    });
    assert.equal(wrong.status, 401);
    assert.equal(((await wrong.json()) as Frame).message, "Invalid API key");
    const post = await fetch(`http://127.0.0.1:${gw.proxy.addr.port}/api/v1/candles`, {
      method: "POST",
    });
    assert.equal(post.status, 405);
    await post.body?.cancel();
  } finally {
    await gw.stop();
  }
});

/** Starts `tickplex record` on `db` (as users run it) and resolves once it holds the file. */
async function runningRecorder(db: string, dir: string): Promise<() => Promise<void>> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--config",
      `${ROOT}deno.json`,
      "--allow-net=127.0.0.1",
      "--allow-read",
      `--allow-write=${dir}`,
      "--allow-ffi",
      "--allow-env",
      "--allow-sys",
      `${ROOT}main.ts`,
      "record",
      "--bus",
      `tcp://127.0.0.1:${freePort()}`,
      "--db",
      db,
      "--no-roll",
      "--progress",
      "json",
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
    env: { TICKPLEX_LOG_LEVEL: "error" },
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const deadline = Date.now() + 60_000;
  while (!text.includes(`"event":"started"`)) {
    if (Date.now() > deadline) throw new Error(`recorder did not start: ${text}`);
    const { value, done } = await lines.read();
    if (done) throw new Error(`recorder exited: ${text}`);
    text += value;
  }
  return async () => {
    child.kill("SIGTERM");
    while (!(await lines.read()).done) { /* drain until it exits */ }
    await child.status;
  };
}

Deno.test("candles history: rolled Parquet days and the DuckDB file read together; only Parquet while a recorder holds the file", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/ticks.duckdb`; // the recorder's folder layout: history.recordings = dir
  await recordDay(db, syntheticDay(5));
  const gw = await startGateway({ history: { recordings: dir.path } });
  const query = "exchange=NSE&symbol=SBIN&interval=1m&from=2024-06-03&to=2024-06-04";
  try {
    const whole = await getCandles(gw, query);
    assert.equal(whole.headers.get("x-tickplex-sources"), "duckdb");
    const baseline = (await whole.json()).data.candles as Candle[];
    assert.equal(baseline.length, 375);
    // A symbol the recording does not hold: no bars, not an error.
    const other = await getCandles(gw, query.replace("SBIN", "TCS"));
    assert.equal(other.status, 200);
    assert.deepEqual((await other.json()).data.candles, []);

    // The recorder rolls what was published before 09:30 to Parquet: the union is the same day.
    const store = await TickStore.open(db);
    const rolled = await rollToParquet(store.background, `${dir.path}/parquet`, {
      cutoff: ist("09:30:00"),
      maxIngestSeq: store.nextIngestSeq - 1,
    });
    store.close();
    assert.ok(rolled !== null && rolled.tickRows > 100, "a part of the day rolled");
    const split = await getCandles(gw, query);
    assert.equal(split.headers.get("x-tickplex-sources"), "parquet,duckdb");
    assert.deepEqual((await split.json()).data.candles, baseline);

    // A running recorder holds the DuckDB file: the rolled part is still served, and said so.
    const stop = await runningRecorder(db, dir.path);
    try {
      const busy = await getCandles(gw, query);
      assert.equal(busy.status, 200);
      assert.equal(busy.headers.get("x-tickplex-sources"), "parquet");
      assert.match(busy.headers.get("x-tickplex-skipped") ?? "", /running recorder/);
      const bars = (await busy.json()).data.candles as Candle[];
      const seam = ist("09:30:00");
      assert.deepEqual(
        bars.filter((c) => c.time < seam),
        baseline.filter((c) => c.time < seam),
      );
      assert.ok(bars.filter((c) => c.time >= seam).every((c) => c.volume === 0 && c.closed));
    } finally {
      await stop();
    }
    // The recorder stopped (and was not disturbed: it wrote its stop event): whole again.
    const after = await getCandles(gw, query);
    assert.equal(after.headers.get("x-tickplex-sources"), "parquet,duckdb");
    assert.deepEqual((await after.json()).data.candles, baseline);
  } finally {
    await gw.stop();
  }
});

Deno.test("candles history: every recorded mode is read — copies fold into one bar, LTP-only stretches keep their prices", async () => {
  await using dir = await tempDir();
  const day = syntheticDay(8);
  const both = `${dir.path}/both.duckdb`;
  const quoteThenLtp = `${dir.path}/quote_then_ltp.duckdb`;
  await recordDay(both, day);
  await recordDay(quoteThenLtp, day, ist("09:35:00"));
  const q = {
    exchange: "NSE",
    symbol: "SBIN",
    interval: "1m" as const,
    from: ist("09:15:00"),
    to: ist("15:30:00"),
    format: "json" as const,
  };
  const bars = async (db: string): Promise<Candle[]> => {
    const reader = new RecordedTickReader({ db, parquet: null });
    try {
      return (await historyCandles(q, {
        recorded: (e, s, from, to, onTick) => reader.read(e, s, from, to, onTick),
        memory: () => null,
        clock: () => ist("16:00:00"),
      })).candles;
    } finally {
      await reader.close();
    }
  };
  // Each trade is in `both` twice (its Quote and LTP rows): the bars are those of the trades once.
  const expected = buildCandles(ticksOf(day), "NSE", "SBIN", "1m", {
    graceMs: 0,
    until: ist("15:30:00"),
  }).closed;
  assert.deepEqual(await bars(both), expected);
  // After 09:35 only LTP rows: prices as before, no volume (LTP rows carry none).
  const mixed = await bars(quoteThenLtp);
  const split = ist("09:35:00");
  assert.deepEqual(mixed.filter((c) => c.time < split), expected.filter((c) => c.time < split));
  assert.deepEqual(
    mixed.filter((c) => c.time >= split).map(({ volume: _, ...ohlc }) => ohlc),
    expected.filter((c) => c.time >= split).map(({ volume: _, ...ohlc }) => ohlc),
  );
  assert.ok(mixed.filter((c) => c.time > split).every((c) => c.volume === 0));
});

Deno.test("candles history: with no recording, the live series alone answers, forming bar last", async () => {
  await using dir = await tempDir();
  const day = syntheticDay(31);
  const replayed = `${dir.path}/live.duckdb`;
  await recordDay(replayed, day);
  await prepareReplay({ db: replayed });
  const gw = await startGateway({
    broker: { name: "replay", options: { recording: replayed, speed: "max", startDelayMs: 500 } },
    history: { recordings: `${dir.path}/no-recording-here` },
  }, { candleClock: () => ist("09:45:30") });
  const client = await TestClient.connect(gw);
  try {
    await client.auth();
    await subscribeCandles(client, "3m");
    const last = day.at(-1)!;
    await until(
      () => gw.proxy.candles.bars("NSE", "SBIN", "3m")?.forming?.close === last.ltp,
      30_000,
      "the replayed day",
    );
    await client.waitFor((f) =>
      f.type === "candle" && (f.data as Candle).closed &&
      (f.data as Candle).time === ist("09:42:00")
    );
    const res = await getCandles(gw, "exchange=NSE&symbol=SBIN&interval=3m&from=2024-06-03T09:00");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-tickplex-sources"), "memory");
    const bars = (await res.json()).data.candles as Candle[];
    // Every closed bar as it was sent, then the forming 09:45 bar.
    assert.deepEqual(bars.slice(0, -1), candleFrames(client, "3m", true));
    assert.equal(bars.length, 11, "09:15 … 09:45 in 3m bars");
    assert.deepEqual(
      { time: bars.at(-1)!.time, close: bars.at(-1)!.close, closed: bars.at(-1)!.closed },
      { time: ist("09:45:00"), close: last.ltp, closed: false },
    );
  } finally {
    await client.close();
    await gw.stop();
  }
});
