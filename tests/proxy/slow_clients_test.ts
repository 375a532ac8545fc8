// Slow readers over real sockets (issue 19): a reader at half the offered rate gets fresh ticks
// (newest per key) while a fast reader on the same proxy gets them all; a reader that stops is
// closed 1008; one that catches up gets full flow back. Ages are asserted with wide margins —
// without the bound they grow by half a second per second — and measured tightly in bench/.

import assert from "node:assert/strict";
import { TEST_KEY, TestClient, until } from "../helpers/gateway.ts";
import { makeTick } from "../helpers/fake_adapter.ts";
import { PacedReader } from "../helpers/paced_reader.ts";
import { startProxy, type TestProxy } from "./helpers.ts";

/** Emits one RELIANCE Quote tick every 10 ms (100/s) stamped with the time it was made. */
function emitter(t: TestProxy): { stop(): number } {
  let n = 0;
  const timer = setInterval(() => {
    const tick = makeTick("NSE", "RELIANCE", 2, 1000 + n++);
    t.proxy.onTicks([tick]);
  }, 10);
  return {
    stop() {
      clearInterval(timer);
      return n;
    },
  };
}

function gauge(t: TestProxy, name: string): number {
  const line = t.proxy.metricsText().split("\n").find((l) => l.startsWith(`${name} `));
  return Number(line?.split(" ")[1]);
}

function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))];
}

async function subscribeReader(reader: PacedReader, t: TestProxy, batch = false): Promise<void> {
  reader.send(JSON.stringify({ action: "authenticate", api_key: TEST_KEY, batch }));
  reader.send(
    JSON.stringify({ action: "subscribe", symbol: "RELIANCE", exchange: "NSE", mode: 2 }),
  );
  await until(() => t.registry.list().some((r) => r.consumers >= 1), 5000, "reader subscribed");
}

for (const batch of [false, true]) {
  Deno.test(`a ${batch ? "batched " : ""}reader at 50 frames/s of 100 gets fresh ticks; a fast one gets every tick`, async () => {
    const t = await startProxy({ maxStalenessMs: 250, slowConsumerMs: 30_000, batchIntervalMs: 5 });
    const ages: { at: number; age: number }[] = [];
    const started = performance.now();
    const reader = await PacedReader.connect(t.port, {
      framesPerSecond: 50,
      onText: (text) => {
        const f = JSON.parse(text);
        const now = Date.now();
        const ticks = f.type === "market_data_batch" ? f.ticks : [f];
        for (const x of ticks) {
          if (x.data) ages.push({ at: performance.now() - started, age: now - x.data.timestamp });
        }
      },
    });
    const fast = await TestClient.connect(t.port);
    try {
      await subscribeReader(reader, t, batch);
      await fast.auth();
      await fast.request(
        { action: "subscribe", symbol: "RELIANCE", exchange: "NSE", mode: 2 },
        "subscribe",
      );
      const emit = emitter(t);
      let conflatedSeen = 0;
      while (performance.now() - started < 5000) {
        conflatedSeen = Math.max(conflatedSeen, gauge(t, "tickplex_clients_conflated"));
        await new Promise((r) => setTimeout(r, 50));
      }
      const emitted = emit.stop();
      const last = 1000 + emitted - 1;
      await fast.waitFor(
        (f) => f.type === "market_data" && (f.data as { ltp: number }).ltp === last,
        5000,
      );
      // After the first two seconds (past any start-up) the slow reader's ticks stay young:
      // without the bound they would be about a second old by then and growing.
      const steady = ages.filter((a) => a.at > 2000).map((a) => a.age);
      assert.ok(steady.length > 20, `slow reader read ${steady.length} ticks`);
      assert.ok(p99(steady) < 1000, `slow reader p99 tick age ${p99(steady)} ms`);
      assert.ok(conflatedSeen >= 1, "the slow reader was conflated");
      assert.equal(reader.closeCode, null);
      // The fast reader is never held back: (nearly) every tick, one frame each.
      const got = fast.frames.filter((f) => f.type === "market_data").length;
      assert.ok(got >= emitted * 0.8, `fast reader got ${got} of ${emitted}`);
    } finally {
      reader.close();
      await fast.close();
      await t.close();
    }
  });
}

Deno.test("a reader that stops reading is closed 1008 slow consumer, counted once", async () => {
  const t = await startProxy({
    maxStalenessMs: 100,
    slowConsumerMs: 1000,
    closeTimeoutMs: 30_000,
  });
  const reader = await PacedReader.connect(t.port, { framesPerSecond: 1000, onText: () => {} });
  try {
    await subscribeReader(reader, t);
    const emit = emitter(t);
    await new Promise((r) => setTimeout(r, 300));
    reader.setRate(0);
    await until(() => t.proxy.drops.count("slow_consumer") === 1, 10_000, "slow consumer drop");
    emit.stop();
    assert.equal(t.proxy.counters.slowConsumersClosed, 1);
    assert.match(t.proxy.metricsText(), /tickplex_client_drops_total\{reason="slow_consumer"\} 1/);
    // It reads again: what was queued, then the close frame.
    reader.setRate(100_000);
    await until(() => reader.closeCode !== null, 10_000, "close frame read");
    assert.equal(reader.closeCode, 1008);
    assert.equal(t.registry.list().length, 0, "its subscription was released");
  } finally {
    reader.close();
    await t.close();
  }
});

Deno.test("a conflated reader that catches up gets full flow again", async () => {
  const t = await startProxy({ maxStalenessMs: 100, slowConsumerMs: 30_000 });
  const reader = await PacedReader.connect(t.port, { framesPerSecond: 100_000, onText: () => {} });
  try {
    await subscribeReader(reader, t);
    const emit = emitter(t);
    await new Promise((r) => setTimeout(r, 200));
    reader.setRate(0);
    await until(() => gauge(t, "tickplex_clients_conflated") === 1, 10_000, "conflated");
    reader.setRate(100_000);
    await until(() => gauge(t, "tickplex_clients_conflated") === 0, 10_000, "back to flow");
    emit.stop();
    assert.equal(t.proxy.drops.count("slow_consumer"), 0);
  } finally {
    reader.close();
    await t.close();
  }
});
