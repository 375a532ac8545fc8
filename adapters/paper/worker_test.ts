// Runs the real paper worker with no permissions and checks the adapter protocol end to end: init,
// acks, tick rates, modes, scripted faults, crash. Every message is validated with the codec.

import assert from "node:assert/strict";
import { type FromWorker, parseFromWorker, type ToWorker } from "../../lib/adapter/messages.ts";
import type { Mode, Tick } from "../../lib/types.ts";
import { paperAdapter, type PaperOptionsInput } from "./mod.ts";

/** Mon 1 Dec 2025, 11:30 IST — fixes the derivative expiry at 30 Dec 2025. */
const NOW = Date.UTC(2025, 11, 1, 6);
const WAIT_MS = 5000;

type Ack = Extract<FromWorker, { type: "ack" }>;
type Status = Extract<FromWorker, { type: "status" }>;

/** A paper worker plus everything it sent, with bounded waits. */
class Harness {
  readonly worker: Worker;
  readonly received: FromWorker[] = [];
  readonly errors: ErrorEvent[] = [];
  readonly #invalid: string[] = [];
  readonly #listeners = new Set<() => void>();
  #nextId = 1;

  constructor() {
    this.worker = new Worker(paperAdapter.workerUrl, {
      type: "module",
      deno: {
        permissions: {
          net: false,
          read: false,
          env: false,
          write: false,
          run: false,
          ffi: false,
        },
      },
    });
    this.worker.onmessage = (e: MessageEvent) => {
      const p = parseFromWorker(e.data);
      if (!p.ok) this.#invalid.push(p.error);
      else {
        if (p.rejectedTicks > 0) this.#invalid.push(`rejected tick: ${p.firstTickError}`);
        this.received.push(p.message);
      }
      this.#notify();
    };
    this.worker.onerror = (e: ErrorEvent) => {
      // Keep the worker's uncaught error from failing the test process.
      e.preventDefault();
      this.errors.push(e);
      this.#notify();
    };
  }

  send(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  /** Sends a request and waits for its ack. */
  async request(
    type: "subscribe" | "set_mode",
    items: { exchange: string; symbol: string; mode: Mode; depth?: number }[],
  ): Promise<Ack>;
  async request(
    type: "unsubscribe",
    items: { exchange: string; symbol: string }[],
  ): Promise<Ack>;
  async request(
    type: "subscribe" | "set_mode" | "unsubscribe",
    items: { exchange: string; symbol: string; mode?: Mode; depth?: number }[],
  ): Promise<Ack> {
    const id = this.#nextId++;
    if (type === "unsubscribe") {
      this.send({ type, id, items: items.map(({ exchange, symbol }) => ({ exchange, symbol })) });
    } else {
      this.send({
        type,
        id,
        items: items.map((i) => ({
          exchange: i.exchange,
          symbol: i.symbol,
          mode: i.mode ?? 1,
          depth: i.depth ?? 5,
        })),
      });
    }
    return await this.waitFor(
      `ack ${id}`,
      () => this.received.find((m): m is Ack => m.type === "ack" && m.id === id),
    );
  }

  /** Initialises the worker and waits for `ready`. */
  async init(options: PaperOptionsInput): Promise<Extract<FromWorker, { type: "ready" }>> {
    this.send({ type: "init", connection: 0, options: { now: NOW, ...options } });
    return await this.waitFor("ready", () => {
      const err = this.received.find((m) => m.type === "error");
      if (err !== undefined) throw new Error(`init failed: ${JSON.stringify(err)}`);
      return this.received.find((m) => m.type === "ready");
    });
  }

  /** Resolves with the first non-undefined value of `probe`, re-checked on every message. */
  waitFor<T>(label: string, probe: () => T | undefined, timeoutMs = WAIT_MS): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#listeners.delete(check);
      };
      const check = (): void => {
        try {
          if (this.#invalid.length > 0) throw new Error(`invalid message: ${this.#invalid[0]}`);
          const v = probe();
          if (v !== undefined) {
            done();
            resolve(v);
          }
        } catch (err) {
          done();
          reject(err);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${label}`));
      }, timeoutMs);
      this.#listeners.add(check);
      check();
    });
  }

  /** Ticks received from message index `from` on, optionally for one symbol. */
  ticks(from = 0, symbol?: string): Tick[] {
    const out: Tick[] = [];
    for (let i = from; i < this.received.length; i++) {
      const m = this.received[i];
      if (m.type !== "ticks") continue;
      for (const t of m.ticks) if (symbol === undefined || t.symbol === symbol) out.push(t);
    }
    return out;
  }

  /** Waits for a tick (after message index `from`) that satisfies `pred`. */
  waitForTick(label: string, pred: (t: Tick) => boolean, from = 0): Promise<Tick> {
    return this.waitFor(label, () => this.ticks(from).find(pred));
  }

  assertValid(): void {
    assert.deepEqual(this.#invalid, [], "every message parses");
  }

  terminate(): void {
    this.worker.terminate();
  }

  #notify(): void {
    for (const l of [...this.#listeners]) l();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function withWorker(fn: (h: Harness) => Promise<void>): Promise<void> {
  const h = new Harness();
  try {
    await fn(h);
    h.assertValid();
  } finally {
    h.terminate();
  }
}

const nse = (symbol: string, mode: Mode = 1, depth = 5) => ({
  exchange: "NSE",
  symbol,
  mode,
  depth,
});

Deno.test("worker: init reports connecting, connected, then ready", async () => {
  await withWorker(async (h) => {
    const ready = await h.init({ seed: 1, maxSymbolsPerConnection: 50, maxConnections: 2 });
    assert.equal(ready.type, "ready");
    const states = h.received.filter((m): m is Status => m.type === "status").map((m) => m.state);
    assert.deepEqual(states, ["connecting", "connected"]);
    const connected = h.received.findIndex((m) => m.type === "status" && m.state === "connected");
    assert.ok(h.received.indexOf(ready) > connected, "ready after connected");
  });
});

Deno.test("worker: invalid options fail init with an error naming the field", async () => {
  await withWorker(async (h) => {
    h.send({ type: "init", connection: 0, options: { ticksPerSecond: "fast" } });
    const err = await h.waitFor(
      "init_failed",
      () => h.received.find((m) => m.type === "init_failed"),
    );
    assert.match(err.message, /ticksPerSecond/);
    assert.equal(err.auth, false);
    assert.equal(h.received.some((m) => m.type === "ready"), false);
  });
});

Deno.test("worker: acks for subscribe, unsubscribe and set_mode", async () => {
  await withWorker(async (h) => {
    await h.init({ seed: 2, maxSymbolsPerConnection: 3, ticksPerSecond: 20 });
    const sub = await h.request("subscribe", [
      nse("RELIANCE"),
      nse("BOGUS"),
      { exchange: "NSE_INDEX", symbol: "NIFTY", mode: 3, depth: 20 },
    ]);
    assert.deepEqual(sub.results, [
      { exchange: "NSE", symbol: "RELIANCE", ok: true, depth: 5 },
      {
        exchange: "NSE",
        symbol: "BOGUS",
        ok: false,
        code: "SYMBOL_NOT_FOUND",
        message: "Symbol not found: BOGUS on NSE",
      },
      { exchange: "NSE_INDEX", symbol: "NIFTY", ok: true, depth: 0 },
    ]);
    // Re-subscribing a streaming symbol takes no extra capacity.
    const cap = await h.request("subscribe", [nse("RELIANCE", 2), nse("TCS"), nse("INFY")]);
    assert.deepEqual(cap.results.map((r) => (r.ok ? "ok" : r.code)), [
      "ok",
      "ok",
      "MAX_CAPACITY_REACHED",
    ]);
    const mode = await h.request("set_mode", [nse("WIPRO", 2), nse("TCS", 2)]);
    assert.deepEqual(mode.results[0], {
      exchange: "NSE",
      symbol: "WIPRO",
      ok: false,
      code: "NOT_SUBSCRIBED",
      message: "Not subscribed: WIPRO on NSE",
    });
    assert.deepEqual(mode.results[1], { exchange: "NSE", symbol: "TCS", ok: true, depth: 5 });
    await h.waitForTick("a RELIANCE tick", (t) => t.symbol === "RELIANCE");
    const unsub = await h.request("unsubscribe", [
      { exchange: "NSE", symbol: "RELIANCE" },
      { exchange: "NSE", symbol: "RELIANCE" },
      { exchange: "NSE", symbol: "BOGUS" },
    ]);
    assert.deepEqual(unsub.results.map((r) => (r.ok ? "ok" : r.code)), [
      "ok",
      "NOT_SUBSCRIBED",
      "NOT_SUBSCRIBED",
    ]);
    // Nothing for RELIANCE after its unsubscribe ack; the others keep streaming.
    const after = h.received.indexOf(unsub);
    await h.waitFor("TCS ticks after the unsubscribe", () => {
      const n = h.ticks(after, "TCS").length;
      return n >= 5 ? n : undefined;
    });
    assert.equal(h.ticks(after, "RELIANCE").length, 0);
  });
});

Deno.test("worker: ticks flow at roughly ticksPerSecond per symbol", async () => {
  await withWorker(async (h) => {
    await h.init({ seed: 3, ticksPerSecond: 20, intervalMs: 50 });
    const symbols = ["RELIANCE", "TCS", "INFY", "SBIN", "ITC"];
    await h.request("subscribe", symbols.map((s) => nse(s, 2)));
    // Every new symbol gets its first tick promptly.
    await h.waitFor(
      "a first tick per symbol",
      () => symbols.every((s) => h.ticks(0, s).length > 0) ? true : undefined,
    );
    const from = h.received.length;
    const started = performance.now();
    await sleep(2000);
    const elapsed = (performance.now() - started) / 1000;
    const ticks = h.ticks(from);
    const expected = 20 * symbols.length * elapsed;
    assert.ok(
      ticks.length > expected * 0.6 && ticks.length < expected * 1.4,
      `${ticks.length} ticks in ${elapsed.toFixed(2)} s, expected ~${expected.toFixed(0)}`,
    );
    for (const s of symbols) {
      const n = ticks.filter((t) => t.symbol === s).length;
      assert.ok(n > 20 * elapsed * 0.5, `${s}: ${n} ticks`);
    }
    assert.ok(ticks.every((t) => t.mode === 2 && t.volume !== null && t.depth === null));
    const batches = h.received.slice(from).filter((m) => m.type === "ticks").length;
    assert.ok(batches <= (elapsed * 1000) / 50 + 5, `${batches} batches: one per interval at most`);
  });
});

Deno.test("worker: totalRate spreads a connection-wide rate round-robin", async () => {
  await withWorker(async (h) => {
    await h.init({ seed: 4, totalRate: 5000, intervalMs: 50, extraSymbols: 10 });
    const symbols = Array.from({ length: 10 }, (_, i) => `PAPER${String(i + 1).padStart(4, "0")}`);
    await h.request("subscribe", symbols.map((s) => nse(s, 1)));
    await h.waitFor("first ticks", () => (h.ticks().length >= 20 ? true : undefined));
    const from = h.received.length;
    const started = performance.now();
    await sleep(1500);
    const elapsed = (performance.now() - started) / 1000;
    const ticks = h.ticks(from);
    const expected = 5000 * elapsed;
    assert.ok(
      ticks.length > expected * 0.6 && ticks.length < expected * 1.4,
      `${ticks.length} ticks in ${elapsed.toFixed(2)} s, expected ~${expected.toFixed(0)}`,
    );
    const counts = symbols.map((s) => ticks.filter((t) => t.symbol === s).length);
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 2, `round-robin: ${counts}`);
    assert.ok(ticks.every((t) => t.mode === 1 && t.volume === null));
  });
});

Deno.test("worker: set_mode and re-subscribe change tick richness", async () => {
  await withWorker(async (h) => {
    await h.init({ seed: 5, ticksPerSecond: 10 });
    await h.request("subscribe", [nse("HDFCBANK", 1)]);
    const ltp = await h.waitForTick("an LTP tick", (t) => t.symbol === "HDFCBANK");
    assert.equal(ltp.mode, 1);
    assert.equal(ltp.volume, null);
    assert.equal(ltp.depth, null);

    const ack = await h.request("set_mode", [nse("HDFCBANK", 3)]);
    assert.equal(ack.results[0].ok, true);
    const from = h.received.indexOf(ack);
    const depth = await h.waitForTick("a Depth tick", () => true, from);
    assert.equal(depth.mode, 3);
    assert.equal(depth.depth?.buy.length, 5);
    assert.equal(depth.depth?.sell.length, 5);
    assert.equal(typeof depth.volume, "number");

    const resub = await h.request("subscribe", [nse("HDFCBANK", 2)]);
    const from2 = h.received.indexOf(resub);
    await h.waitFor("three Quote ticks", () => (h.ticks(from2).length >= 3 ? true : undefined));
    assert.ok(h.ticks(from2).every((t) => t.mode === 2 && t.depth === null && t.open !== null));
  });
});

Deno.test("worker: fail_next_* faults fail exactly one request and change nothing", async () => {
  await withWorker(async (h) => {
    await h.init({ seed: 6, ticksPerSecond: 20 });
    h.send({ type: "fault", kind: "fail_next_subscribe" });
    const failed = await h.request("subscribe", [nse("LT", 2), nse("BOGUS", 2)]);
    assert.deepEqual(failed.results, [
      {
        exchange: "NSE",
        symbol: "LT",
        ok: false,
        code: "BROKER_ERROR",
        message: "simulated broker failure",
      },
      {
        exchange: "NSE",
        symbol: "BOGUS",
        ok: false,
        code: "BROKER_ERROR",
        message: "simulated broker failure",
      },
    ]);
    // The failed subscribe started nothing: set_mode on LT is refused.
    const probe = await h.request("set_mode", [nse("LT", 1)]);
    assert.equal(probe.results[0].ok ? "ok" : probe.results[0].code, "NOT_SUBSCRIBED");
    assert.equal(h.ticks(0, "LT").length, 0);

    const ok = await h.request("subscribe", [nse("LT", 2)]);
    assert.equal(ok.results[0].ok, true);
    await h.waitForTick("an LT tick", (t) => t.symbol === "LT");

    h.send({ type: "fault", kind: "fail_next_set_mode" });
    const badMode = await h.request("set_mode", [nse("LT", 3)]);
    assert.equal(badMode.results[0].ok ? "ok" : badMode.results[0].code, "BROKER_ERROR");
    const afterBadMode = h.received.indexOf(badMode);
    await h.waitFor(
      "LT ticks after the failed set_mode",
      () => h.ticks(afterBadMode, "LT").length >= 3 ? true : undefined,
    );
    assert.ok(h.ticks(afterBadMode, "LT").every((t) => t.mode === 2), "mode unchanged");

    h.send({ type: "fault", kind: "fail_next_unsubscribe" });
    const badUnsub = await h.request("unsubscribe", [{ exchange: "NSE", symbol: "LT" }]);
    assert.equal(badUnsub.results[0].ok ? "ok" : badUnsub.results[0].code, "BROKER_ERROR");
    const afterBadUnsub = h.received.indexOf(badUnsub);
    await h.waitFor(
      "LT still streaming",
      () => h.ticks(afterBadUnsub, "LT").length >= 2 ? true : undefined,
    );
    const unsub = await h.request("unsubscribe", [{ exchange: "NSE", symbol: "LT" }]);
    assert.equal(unsub.results[0].ok, true);
  });
});

Deno.test("worker: stall stops ticks and reports stalled; resume restores them", async () => {
  await withWorker(async (h) => {
    await h.init({ seed: 7, ticksPerSecond: 20, stallAfterMs: 300 });
    await h.request("subscribe", [nse("AXISBANK", 2), nse("KOTAKBANK", 2)]);
    await h.waitFor("ticks before the stall", () => (h.ticks().length >= 4 ? true : undefined));
    h.send({ type: "fault", kind: "stall" });
    const stallSent = performance.now();
    // Requests are handled in order, so this ack marks the point the stall took effect.
    const marker = await h.request("unsubscribe", [{ exchange: "NSE", symbol: "BOGUS" }]);
    const stalledFrom = h.received.indexOf(marker);
    const stalled = await h.waitFor(
      "status stalled",
      () => h.received.find((m): m is Status => m.type === "status" && m.state === "stalled"),
    );
    assert.ok(performance.now() - stallSent >= 250, "stalled only after stallAfterMs");
    assert.match(stalled.detail ?? "", /300 ms/);
    await sleep(200);
    assert.equal(h.ticks(stalledFrom).length, 0, "no ticks while stalled");

    h.send({ type: "fault", kind: "resume" });
    const connected = await h.waitFor("status connected", () => {
      const i = h.received.findIndex((m, i) =>
        i > stalledFrom && m.type === "status" && m.state === "connected"
      );
      return i >= 0 ? i : undefined;
    });
    await h.waitFor("ticks for both symbols after resume", () => {
      const t = h.ticks(connected);
      return t.some((x) => x.symbol === "AXISBANK") && t.some((x) => x.symbol === "KOTAKBANK")
        ? true
        : undefined;
    });
  });
});

Deno.test("worker: close stops the ticks", async () => {
  await withWorker(async (h) => {
    await h.init({ seed: 8, ticksPerSecond: 50 });
    await h.request("subscribe", [nse("ITC", 1)]);
    await h.waitFor("ticks", () => (h.ticks().length >= 3 ? true : undefined));
    h.send({ type: "close" });
    await sleep(200);
    const n = h.ticks().length;
    await sleep(300);
    assert.equal(h.ticks().length, n);
  });
});

Deno.test("worker: crash kills the worker with an error event", async () => {
  await withWorker(async (h) => {
    await h.init({ seed: 9 });
    h.send({ type: "fault", kind: "crash" });
    const err = await h.waitFor("an error event", () => h.errors[0]);
    assert.match(err.message, /simulated crash/);
  });
});
