// No data lost: the recorder runs as its own process (`main.ts record`), is killed with SIGKILL
// mid-stream, and the database still holds every tick committed by the last flush it reported,
// never more than was published, and loses at most the last batch interval.

import assert from "node:assert/strict";
import { BusPublisher } from "../../lib/bus/publisher.ts";
import type { Tick } from "../../lib/types.ts";
import { Recorder } from "../../lib/recorder/recorder.ts";
import { query, tempDir } from "./helpers.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const FLUSH_MS = 200;

function tick(symbol: string, i: number): Tick {
  const now = Date.now();
  return {
    exchange: "NSE",
    symbol,
    mode: 2,
    ltp: 100 + (i % 1000) / 100,
    ltt: now,
    timestamp: now,
    open: 100,
    high: 110,
    low: 90,
    close: 99,
    volume: i,
    last_trade_quantity: 1,
    avg_trade_price: 100,
    total_buy_quantity: 5,
    total_sell_quantity: 6,
    oi: null,
    change: 1,
    change_percent: 1.01,
    depth: null,
  };
}

interface FlushLine {
  event: string;
  written: number;
  at: number;
  ms: number;
}

/** Reads the child's JSON progress lines as they come. */
function lines(stream: ReadableStream<Uint8Array>, onLine: (l: FlushLine) => void): Promise<void> {
  return (async () => {
    let carry = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      carry += chunk;
      let nl;
      while ((nl = carry.indexOf("\n")) !== -1) {
        const line = carry.slice(0, nl);
        carry = carry.slice(nl + 1);
        try {
          onLine(JSON.parse(line));
        } catch {
          // not a progress line
        }
      }
    }
  })();
}

Deno.test({
  name:
    "recorder process killed with SIGKILL keeps every flushed tick and loses at most one batch interval",
  async fn() {
    await using dir = await tempDir();
    const db = `${dir.path}/killed.duckdb`;
    const bus = await BusPublisher.open({ address: "tcp://127.0.0.1:*", broker: "test" });
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--config",
        `${ROOT}deno.json`,
        "--allow-net=127.0.0.1",
        "--allow-read",
        `--allow-write=${dir.path}`,
        "--allow-ffi",
        "--allow-env",
        "--allow-sys",
        `${ROOT}main.ts`,
        "record",
        "--bus",
        bus.endpoint,
        "--db",
        db,
        "--flush-ms",
        String(FLUSH_MS),
        "--batch-size",
        "1000000",
        "--no-roll",
        "--progress",
        "json",
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "null",
      env: { TICKPLEX_LOG_LEVEL: "error" },
    }).spawn();
    const flushes: FlushLine[] = [];
    const reading = lines(child.stdout, (l) => {
      if (l.event === "flush") flushes.push(l);
    });
    // Published count of the main stream over time: [epoch ms, cumulative count].
    const history: [number, number][] = [];
    let killed = false;
    try {
      // Warm-up until the recorder commits something: its subscription is live from then on.
      const deadline = Date.now() + 30_000;
      let w = 0;
      while (!flushes.some((f) => f.written > 0)) {
        if (Date.now() > deadline) throw new Error("recorder never flushed the warm-up");
        bus.publish(tick("WARM", w++), [2]);
        await new Promise((r) => setTimeout(r, 20));
      }
      // Main stream: ~5000 ticks/s; kill -9 after a second or so, mid-stream.
      let sent = 0;
      const start = Date.now();
      while (Date.now() - start < 1200) {
        for (let k = 0; k < 50; k++) bus.publish(tick("KILL", sent++), [2]);
        history.push([Date.now(), sent]);
        await new Promise((r) => setTimeout(r, 10));
      }
      child.kill("SIGKILL");
      killed = true;
      const status = await child.status;
      assert.equal(status.signal, "SIGKILL");
      await reading;
      const last = flushes[flushes.length - 1];
      assert.ok(last !== undefined && flushes.length >= 3, "the recorder flushed while streaming");

      const [{ total, main }] = await query(
        `SELECT count(*)::INTEGER AS total,
                (count(*) FILTER (WHERE symbol = 'KILL'))::INTEGER AS main FROM rec.ticks`,
        db,
      );
      const rows = main as number;
      // Every tick the last reported flush committed is there (WAL replayed on open).
      assert.ok((total as number) >= last.written, `${total} rows ≥ ${last.written} flushed`);
      // Never more than was published.
      assert.ok(rows <= sent, `${rows} ≤ ${sent} published`);
      // Contiguous from seq 0: nothing in the middle went missing, only the tail.
      const [{ lo, hi, newest }] = await query(
        `SELECT min(seq)::INTEGER AS lo, max(seq)::INTEGER AS hi,
                epoch_us(max("timestamp")) / 1000.0 AS newest FROM rec.ticks WHERE symbol = 'KILL'`,
        db,
      );
      assert.equal(lo, 0);
      assert.equal(hi, rows - 1);
      // Everything published before the last reported flush began is there (300 ms transit
      // slack for a loaded machine).
      const cutoff = last.at - last.ms - 300;
      const before = history.filter(([t]) => t <= cutoff).at(-1)?.[1] ?? 0;
      assert.ok(rows >= before, `${rows} rows ≥ ${before} published before the last flush`);
      // The loss bound: the newest committed tick (its timestamp is its publish time) is at most
      // one batch interval before the kill, plus slack for flush time and load.
      const killAt = history.at(-1)![0];
      const window = killAt - (newest as number);
      assert.ok(
        window <= FLUSH_MS + 1000,
        `lost the last ${window.toFixed(0)} ms (${
          sent - rows
        } ticks); flush interval ${FLUSH_MS} ms`,
      );
      if (Deno.env.get("TICKPLEX_TEST_VERBOSE")) {
        console.log(
          `SIGKILL: ${sent} published, ${rows} in the db, lost ${sent - rows} ticks = the last ` +
            `${window.toFixed(0)} ms; last flush reported ${last.written} rows`,
        );
      }

      // The next run sees the crash and marks it.
      const again = await Recorder.open({ bus: bus.endpoint, db, roll: false });
      assert.equal(again.previous.ended, "after_crash");
      again.store.close();
    } finally {
      if (!killed) {
        child.kill("SIGKILL");
        await child.status;
      }
      await reading.catch(() => {});
      await bus.close();
    }
  },
});

Deno.test("recorder process: SIGTERM flushes and writes a stop marker; --stats reads the file", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/term.duckdb`;
  const bus = await BusPublisher.open({ address: "tcp://127.0.0.1:*", broker: "test" });
  const base = ["run", "--config", `${ROOT}deno.json`, "-P=test", `${ROOT}main.ts`, "record"];
  const child = new Deno.Command(Deno.execPath(), {
    args: [...base, "--bus", bus.endpoint, "--db", db, "--flush-ms", "60000", "--progress", "json"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
    env: { TICKPLEX_LOG_LEVEL: "error" },
  }).spawn();
  let started = false;
  let stopped: Record<string, unknown> | null = null;
  const reading = lines(child.stdout, (l) => {
    if (l.event === "started") started = true;
    if (l.event === "stopped") stopped = l as unknown as Record<string, unknown>;
  });
  try {
    const deadline = Date.now() + 30_000;
    while (!started) {
      if (Date.now() > deadline) throw new Error("recorder did not start");
      await new Promise((r) => setTimeout(r, 20));
    }
    // With a 60 s interval nothing is flushed by time: every row below comes from the final flush.
    for (let i = 0; i < 200; i++) {
      bus.publish(tick("TERM", i), [2]);
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill("SIGTERM");
    const status = await child.status;
    await reading;
    assert.equal(status.code, 0);
    assert.ok(stopped !== null, "stopped line printed");
    const received = (stopped as { received: number }).received;
    assert.ok(received > 0, "the recorder received ticks");
    const [{ n }] = await query(`SELECT count(*)::INTEGER AS n FROM rec.ticks`, db);
    assert.equal(n, received, "the final flush wrote everything received");
    const events = await query(`SELECT kind, reason FROM rec.bus_events ORDER BY ingest_seq`, db);
    assert.deepEqual(events.at(-1), { kind: "stop", reason: "SIGTERM" });

    const stats = await new Deno.Command(Deno.execPath(), {
      args: [...base, "--stats", "--db", db],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stats.stdout);
    assert.equal(stats.code, 0, new TextDecoder().decode(stats.stderr));
    assert.match(text, new RegExp(`NSE\\s+TERM\\s+QUOTE\\s+${n}\\s`));
    assert.match(text, /1 bus sessions; 0 gaps/);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
    await reading.catch(() => {});
    await bus.close();
  }
});
