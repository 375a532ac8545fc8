// End-to-end bus tests over real zeromq sockets on free loopback ports: topics, envelopes, seq
// gaps, sessions, invalid frames, bind errors, close, and a 50k-message flow.

import assert from "node:assert/strict";
import { curveKeyPair, Publisher, Subscriber } from "zeromq";
import { projectTick } from "../project.ts";
import { type Mode, QUOTE_FIELDS, type Tick } from "../types.ts";
import { buildEnvelope, encodeEnvelope } from "./envelope.ts";
import { addressLocality, BusBindError, BusPublisher } from "./publisher.ts";
import { type BusEvent, BusReader } from "./reader.ts";

const WAIT_MS = 5000;
const TIMEOUT = Symbol("timeout");

function freeAddress(): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return `tcp://127.0.0.1:${port}`;
}

function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(":") + 1));
}

function makeTick(exchange: string, symbol: string, mode: Mode, ltp = 100): Tick {
  return {
    exchange,
    symbol,
    mode,
    ltp,
    ltt: 1_700_000_000_000,
    timestamp: 1_700_000_000_001,
    open: 99,
    high: 101,
    low: 98,
    close: 97,
    volume: 1000,
    last_trade_quantity: 5,
    avg_trade_price: 99.5,
    total_buy_quantity: 300,
    total_sell_quantity: null,
    oi: null,
    change: 3,
    change_percent: 3.09,
    depth: mode === 3
      ? {
        buy: [{ price: 99.95, quantity: 10, orders: 2 }],
        sell: [{ price: 100.05, quantity: 7, orders: null }],
      }
      : null,
  };
}

async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<typeof TIMEOUT>((resolve) => timer = setTimeout(() => resolve(TIMEOUT), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Pulls values one at a time with bounded waits, keeping a pending pull across timeouts. */
class Poller<T> {
  #pending: Promise<T> | null = null;
  constructor(private readonly pull: () => Promise<T>) {}

  async poll(ms: number): Promise<T | typeof TIMEOUT> {
    if (this.#pending === null) {
      this.#pending = this.pull();
      this.#pending.catch(() => {}); // a pull still pending at close rejects; nobody awaits it
    }
    const result = await within(this.#pending, ms);
    if (result !== TIMEOUT) this.#pending = null;
    return result;
  }

  async next(what: string, ms = WAIT_MS): Promise<T> {
    const result = await this.poll(ms);
    if (result === TIMEOUT) throw new Error(`timed out waiting for ${what}`);
    return result;
  }
}

function events(reader: BusReader): Poller<BusEvent | null> {
  const iterator = reader[Symbol.asyncIterator]();
  return new Poller(async () => {
    const result = await iterator.next();
    return result.done ? null : result.value;
  });
}

async function nextEvent(poller: Poller<BusEvent | null>, what: string): Promise<BusEvent> {
  const event = await poller.next(what);
  assert.ok(event !== null, `reader ended while waiting for ${what}`);
  return event;
}

async function nextTick(
  poller: Poller<BusEvent | null>,
  what: string,
): Promise<Extract<BusEvent, { kind: "tick" }>> {
  for (;;) {
    const event = await nextEvent(poller, what);
    if (event.kind === "tick") return event;
  }
}

/**
 * Slow joiner: publishes probes until one arrives (bounded), returning everything seen so far.
 */
async function syncUntil<T>(
  poller: Poller<T>,
  publishProbe: () => void,
  isProbe: (value: T) => boolean,
): Promise<T[]> {
  const seen: T[] = [];
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    publishProbe();
    let value = await poller.poll(50);
    while (value !== TIMEOUT) {
      seen.push(value);
      if (isProbe(value)) return seen;
      value = await poller.poll(50);
    }
  }
  throw new Error("slow joiner: no probe arrived");
}

function rawFrames(socket: Subscriber): Poller<[string, unknown]> {
  return new Poller(async () => {
    const [topic, payload] = await socket.receive();
    return [topic.toString(), JSON.parse(payload.toString())];
  });
}

const LTP_KEYS = ["exchange", "ltp", "ltt", "symbol", "timestamp"];
const QUOTE_KEYS = [...LTP_KEYS, ...QUOTE_FIELDS].sort();
const KEYS_BY_MODE: Record<string, string[]> = {
  LTP: LTP_KEYS,
  QUOTE: QUOTE_KEYS,
  DEPTH: [...QUOTE_KEYS, "depth"].sort(),
};

Deno.test("bus: modes, topic filter, exact fields per mode, per-topic seq", async () => {
  const address = freeAddress();
  await using pub = await BusPublisher.open({ address, broker: "paper" });
  assert.equal(pub.endpoint, address);
  using reader = BusReader.connect({ address, topics: ["NSE_RELIANCE_QUOTE"] });
  const readerEvents = events(reader);
  const raw = new Subscriber();
  try {
    const reliance = makeTick("NSE", "RELIANCE", 3, 2950);
    let probes = 0;
    const first = await syncUntil(readerEvents, () => {
      probes++;
      pub.publish({ ...reliance, mode: 2 }, [2]);
    }, (event) => event?.kind === "tick");
    assert.equal(first[0]?.kind, "session");

    raw.connect(address);
    raw.subscribe();
    const rawPoller = rawFrames(raw);
    await syncUntil(rawPoller, () => pub.publish(makeTick("NSE", "PROBE", 1), [1]), () => true);

    assert.equal(pub.publish(reliance, [1, 2, 3]), 3);
    // A Quote tick cannot feed a Depth topic: DEPTH is skipped, not faked.
    assert.equal(pub.publish(makeTick("NSE", "INFY", 2), [3, 2, 1]), 2);
    assert.equal(pub.publish(makeTick("NSE_INDEX", "NIFTY", 1), [1, 2]), 1);
    assert.equal(pub.publish({ ...reliance, ltp: 2951 }, new Set<Mode>([2])), 1);

    const expected = [
      ["NSE_RELIANCE_LTP", 0],
      ["NSE_RELIANCE_QUOTE", probes],
      ["NSE_RELIANCE_DEPTH", 0],
      ["NSE_INFY_LTP", 0],
      ["NSE_INFY_QUOTE", 0],
      ["NSE_INDEX_NIFTY_LTP", 0],
      ["NSE_RELIANCE_QUOTE", probes + 1],
    ] as const;
    for (const [topic, seq] of expected) {
      let frame = await rawPoller.next(topic);
      while (frame[0] === "NSE_PROBE_LTP") frame = await rawPoller.next(topic);
      const [gotTopic, wire] = frame as [string, Record<string, unknown>];
      assert.equal(gotTopic, topic);
      assert.equal(wire.seq, seq, topic);
      assert.equal(wire.v, 1);
      assert.equal(wire.session, pub.session);
      assert.equal(wire.broker, "paper");
      assert.equal(`${wire.exchange}_${wire.symbol}_${wire.mode}`, topic);
      const data = wire.data as Record<string, unknown>;
      assert.deepEqual(Object.keys(data).sort(), KEYS_BY_MODE[wire.mode as string], topic);
    }

    // The filtered reader sees only NSE_RELIANCE_QUOTE, in order, with the projected values.
    let tick = await nextTick(readerEvents, "RELIANCE quote");
    while (tick.envelope.seq < probes) tick = await nextTick(readerEvents, "RELIANCE quote");
    assert.equal(tick.topic, "NSE_RELIANCE_QUOTE");
    assert.equal(tick.envelope.seq, probes);
    assert.deepEqual(tick.envelope.data, projectTick(reliance, 2));
    tick = await nextTick(readerEvents, "second RELIANCE quote");
    assert.equal(tick.topic, "NSE_RELIANCE_QUOTE");
    assert.equal(tick.envelope.seq, probes + 1);
    assert.equal(tick.envelope.data.ltp, 2951);
    assert.equal(reader.gaps, 0);
    assert.equal(reader.invalid, 0);
    assert.equal(pub.dropped, 0);
  } finally {
    raw.close();
  }
});

Deno.test("bus: seq jumps, new sessions and invalid frames are reported, not thrown", async () => {
  const address = freeAddress();
  const raw = new Publisher({ linger: 0 });
  await raw.bind(address);
  using reader = BusReader.connect({ address });
  const readerEvents = events(reader);
  const tick = makeTick("NSE", "X", 1);
  const frame = (session: string, seq: number): [string, string] => [
    "NSE_X_LTP",
    encodeEnvelope(buildEnvelope(tick, 1, { seq, session, broker: "raw", published: 1 })),
  ];
  try {
    let seq = 100;
    const seen = await syncUntil(
      readerEvents,
      () => void raw.send(frame("fake-1", seq++)),
      (event) => event?.kind === "tick",
    );
    assert.deepEqual(seen[0], {
      kind: "session",
      session: "fake-1",
      broker: "raw",
      previous: null,
    });
    assert.equal(reader.gaps, 0, "the first message a reader sees sets its baseline");
    const last = (seen.at(-1) as Extract<BusEvent, { kind: "tick" }>).envelope.seq;

    await raw.send(frame("fake-1", last + 1));
    assert.equal((await nextTick(readerEvents, "next seq")).envelope.seq, last + 1);

    await raw.send(frame("fake-1", last + 5));
    assert.deepEqual(await nextEvent(readerEvents, "gap"), {
      kind: "gap",
      session: "fake-1",
      topic: "NSE_X_LTP",
      from: last + 2,
      to: last + 4,
    });
    assert.equal((await nextTick(readerEvents, "tick after gap")).envelope.seq, last + 5);

    const good = JSON.parse(frame("fake-1", last + 6)[1]);
    await raw.send(["NSE_X_LTP", "{not json"]);
    await raw.send(["NSE_X_LTP", JSON.stringify({ ...good, v: 2 })]);
    await raw.send(["NSE_X_LTP", JSON.stringify({ ...good, data: { ...good.data, ltp: "1" } })]);
    await raw.send(["NSE_Y_LTP", JSON.stringify(good)]); // topic does not match the envelope
    await raw.send(["NSE_X_LTP", JSON.stringify(good), "third frame"]);
    await raw.send(frame("fake-1", last + 6));
    const after = await nextTick(readerEvents, "tick after invalid frames");
    assert.equal(after.envelope.seq, last + 6);
    assert.equal(reader.invalid, 5);
    assert.match(reader.lastInvalid ?? "", /frames/);

    await raw.send(frame("fake-1", last + 6)); // duplicate: counted, still delivered
    assert.equal((await nextTick(readerEvents, "duplicate")).envelope.seq, last + 6);
    assert.equal(reader.outOfOrder, 1);

    // A later session must start at 0 for every topic: 0..2 were lost.
    await raw.send(frame("fake-2", 3));
    assert.deepEqual(await nextEvent(readerEvents, "session"), {
      kind: "session",
      session: "fake-2",
      broker: "raw",
      previous: "fake-1",
    });
    assert.deepEqual(await nextEvent(readerEvents, "gap in new session"), {
      kind: "gap",
      session: "fake-2",
      topic: "NSE_X_LTP",
      from: 0,
      to: 2,
    });
    assert.equal((await nextTick(readerEvents, "new session tick")).envelope.session, "fake-2");
    assert.equal(reader.gaps, 2);
    assert.equal(reader.missed, 6);
  } finally {
    raw.close();
  }
});

Deno.test("bus: a restarted publisher is a new session; close frees the port", async () => {
  const address = freeAddress();
  const first = await BusPublisher.open({ address, broker: "paper" });
  using reader = BusReader.connect({ address });
  const readerEvents = events(reader);
  const tick = makeTick("NSE", "SBIN", 1);
  await syncUntil(readerEvents, () => first.publish(tick, [1]), (e) => e?.kind === "tick");
  await first.close();
  await first.close(); // idempotent
  assert.equal(first.publish(tick, [1]), 0, "publish after close queues nothing");

  const second = await BusPublisher.open({ address, broker: "paper" });
  try {
    assert.notEqual(second.session, first.session);
    const seen = await syncUntil(
      readerEvents,
      () => second.publish(tick, [1]),
      (e) => e?.kind === "tick",
    );
    const session = seen.find((e) => e?.kind === "session");
    assert.deepEqual(session, {
      kind: "session",
      session: second.session,
      broker: "paper",
      previous: first.session,
    });
    // Probes published before the reader reconnected are lost, and reported as such.
    const received = (seen.at(-1) as Extract<BusEvent, { kind: "tick" }>).envelope.seq;
    const gaps = seen.filter((e) => e?.kind === "gap");
    if (received === 0) assert.equal(gaps.length, 0);
    else {assert.deepEqual(gaps, [{
        kind: "gap",
        session: second.session,
        topic: "NSE_SBIN_LTP",
        from: 0,
        to: received - 1,
      }]);}
    assert.equal(reader.gaps, gaps.length);
  } finally {
    await second.close();
  }
  // Nothing is left listening: the port can be taken at once.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: portOf(address) });
  listener.close();
});

Deno.test("bus: bind failures are clear BusBindErrors", async () => {
  const address = freeAddress();
  await using pub = await BusPublisher.open({ address, broker: "paper" });
  await assert.rejects(
    BusPublisher.open({ address, broker: "paper" }),
    (error: unknown) => {
      assert.ok(error instanceof BusBindError);
      assert.equal(error.reason, "address_in_use");
      assert.ok(error.message.includes(address), error.message);
      return true;
    },
  );
  assert.equal(pub.publish(makeTick("NSE", "X", 1), [1]), 1, "the bound publisher still works");

  const port = portOf(address);
  for (const remote of [`tcp://0.0.0.0:${port}`, `tcp://*:${port}`, `tcp://10.1.2.3:${port}`]) {
    await assert.rejects(BusPublisher.open({ address: remote, broker: "paper" }), (error) => {
      assert.ok(error instanceof BusBindError);
      assert.equal(error.reason, "curve_required");
      assert.match(error.message, /CURVE keys are required to bind a non-loopback address/);
      assert.ok(error.message.includes(remote));
      return true;
    });
  }
  for (const bad of ["127.0.0.1:5555", "tcp://127.0.0.1", "tcp://127.0.0.1:port"]) {
    await assert.rejects(BusPublisher.open({ address: bad, broker: "paper" }), (error) => {
      assert.ok(error instanceof BusBindError);
      assert.equal(error.reason, "invalid_address");
      return true;
    });
  }
});

Deno.test("addressLocality", () => {
  assert.equal(addressLocality("tcp://127.0.0.1:5555"), "local");
  assert.equal(addressLocality("tcp://127.1.2.3:*"), "local");
  assert.equal(addressLocality("tcp://localhost:5555"), "local");
  assert.equal(addressLocality("tcp://[::1]:5555"), "local");
  assert.equal(addressLocality("ipc:///tmp/tickplex.bus"), "local");
  assert.equal(addressLocality("inproc://bus"), "local");
  assert.equal(addressLocality("tcp://0.0.0.0:5555"), "remote");
  assert.equal(addressLocality("tcp://*:5555"), "remote");
  assert.equal(addressLocality("tcp://[::]:5555"), "remote");
  assert.equal(addressLocality("tcp://eth0:5555"), "remote");
  assert.equal(addressLocality("ws://127.0.0.1:5555"), "remote");
  assert.equal(addressLocality("tcp://127.0.0.1"), "invalid");
  assert.equal(addressLocality("nonsense"), "invalid");
});

Deno.test("bus: CURVE publisher and reader on loopback", async () => {
  const server = curveKeyPair();
  const client = curveKeyPair();
  const address = freeAddress();
  await using pub = await BusPublisher.open({
    address,
    broker: "paper",
    curve: { publicKey: server.publicKey, secretKey: server.secretKey },
  });
  using reader = BusReader.connect({
    address,
    curve: {
      serverKey: server.publicKey,
      publicKey: client.publicKey,
      secretKey: client.secretKey,
    },
  });
  const tick = makeTick("NSE", "TCS", 1);
  const seen = await syncUntil(
    events(reader),
    () => pub.publish(tick, [1]),
    (e) => e?.kind === "tick",
  );
  assert.equal(seen.at(-1)?.kind, "tick");
});

Deno.test("bus: queue overflow drops the oldest, counts and reports once per second", async () => {
  const reports: { recent: number; total: number; reason: string }[] = [];
  const pub = await BusPublisher.open({
    address: freeAddress(),
    broker: "paper",
    maxQueue: 10,
    onDrop: ({ recent, total, reason }) => reports.push({ recent, total, reason }),
  });
  const tick = makeTick("NSE", "X", 1);
  // The first message goes straight to the socket; the next 10 fill the queue; 89 overflow.
  for (let i = 0; i < 100; i++) pub.publish(tick, [1]);
  assert.equal(pub.queued, 10);
  assert.equal(pub.dropped, 89);
  assert.deepEqual(reports, [{ recent: 1, total: 1, reason: "queue_full" }]);
  assert.equal(pub.publish({ ...tick, exchange: "" }, [1]), 0, "bad topic: counted as dropped");
  await pub.close();
  assert.equal(pub.dropped, 90);
  assert.equal(pub.published, 11);
  assert.equal(pub.queued, 0);
  assert.deepEqual(reports.at(-1), { recent: 89, total: 90, reason: "invalid_topic" });
});

Deno.test("bus: close and abort end a pending iteration", async () => {
  const address = freeAddress();
  await using _pub = await BusPublisher.open({ address, broker: "paper" });
  const reader = BusReader.connect({ address });
  const pending = reader[Symbol.asyncIterator]().next();
  reader.close();
  assert.deepEqual(await within(pending, WAIT_MS), { done: true, value: undefined });
  assert.ok(reader.closed);

  const controller = new AbortController();
  const aborted = BusReader.connect({ address, signal: controller.signal });
  const next = aborted[Symbol.asyncIterator]().next();
  controller.abort();
  assert.deepEqual(await within(next, WAIT_MS), { done: true, value: undefined });
  assert.ok(aborted.closed);

  const early = BusReader.connect({ address, signal: AbortSignal.abort() });
  assert.ok(early.closed);
  for await (const _ of early) assert.fail("an aborted reader yields nothing");
});

Deno.test("bus: 50k messages flow without loss while timers keep firing", async () => {
  const address = freeAddress();
  await using pub = await BusPublisher.open({ address, broker: "paper" });
  using reader = BusReader.connect({ address, topics: ["NSE_"] });
  const readerEvents = events(reader);
  await syncUntil(
    readerEvents,
    () => pub.publish(makeTick("NSE", "WARMUP", 1), [1]),
    (e) => e?.kind === "tick",
  );

  const total = 50_000;
  const symbols = Array.from({ length: 100 }, (_, i) => makeTick("NSE", `SYM${i}`, 2, 100 + i));
  let interval = 0;
  const timer = setInterval(() => interval++, 5);
  let ticks = 0;
  let firstAt = 0;
  let intervalAtFirst = 0;
  const consumer = (async () => {
    while (ticks < total) {
      const event = await nextEvent(readerEvents, `message ${ticks + 1} of ${total}`);
      if (event.kind !== "tick" || event.envelope.symbol === "WARMUP") continue;
      if (ticks++ === 0) [firstAt, intervalAtFirst] = [performance.now(), interval];
    }
    return [performance.now() - firstAt, interval - intervalAtFirst];
  })();
  try {
    const started = performance.now();
    // Moderate rate: batches of 500 (250 ticks x LTP+QUOTE), one macrotask between batches.
    for (let sent = 0; sent < total;) {
      for (let i = 0; i < 250; i++) sent += pub.publish(symbols[(sent / 2) % 100], [1, 2]);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const publishMs = performance.now() - started;
    const [receiveMs, intervalFires] = await consumer;
    console.log(
      `50k flow: published in ${publishMs.toFixed(0)} ms, received in ${receiveMs.toFixed(0)} ms (${
        Math.round(total / (receiveMs / 1000))
      } msg/s), 5 ms interval fired ${intervalFires}x`,
    );
    assert.equal(reader.gaps, 0);
    assert.equal(reader.missed, 0);
    assert.equal(reader.invalid, 0);
    assert.equal(pub.dropped, 0);
    // The receive loop yields: a 5 ms timer fires during the flow, not only after it (a loop that
    // never yields lets it fire 0 times however long the flow takes).
    assert.ok(intervalFires >= 2, `interval fired ${intervalFires}x during the flow`);
  } finally {
    clearInterval(timer);
  }
});

Deno.test("bus: a 50k burst queued at once drains without loss", async () => {
  const address = freeAddress();
  await using pub = await BusPublisher.open({ address, broker: "paper" });
  using reader = BusReader.connect({ address });
  const readerEvents = events(reader);
  await syncUntil(
    readerEvents,
    () => pub.publish(makeTick("NSE", "WARMUP", 1), [1]),
    (e) => e?.kind === "tick",
  );
  const total = 50_000;
  const tick = makeTick("NSE", "BURST", 3);
  const started = performance.now();
  for (let i = 0; i < total; i++) pub.publish(tick, [1]);
  const queuedMs = performance.now() - started;
  let ticks = 0;
  while (ticks < total) {
    const event = await nextEvent(readerEvents, `burst message ${ticks + 1}`);
    if (event.kind === "tick" && event.envelope.symbol === "BURST") ticks++;
  }
  const totalMs = performance.now() - started;
  console.log(
    `50k burst: queued in ${queuedMs.toFixed(0)} ms, delivered in ${totalMs.toFixed(0)} ms (${
      Math.round(total / (totalMs / 1000))
    } msg/s end to end, one isolate)`,
  );
  assert.equal(reader.gaps, 0);
  assert.equal(pub.dropped, 0);
  assert.equal(pub.queued, 0);
  assert.ok(pub.published >= total);
});

Deno.test("reader keeps receiving after the publisher restarts while a receive is pending", async () => {
  const address = freeAddress();
  let pub = await BusPublisher.open({ address, broker: "paper", heartbeatMs: 100 });
  const reader = BusReader.connect({ address, silenceMs: 500 });
  const poller = events(reader);
  try {
    const tick = makeTick("NSE", "RIL", 1);
    await syncUntil(poller, () => pub.publish(tick, [1]), (e) => e?.kind === "tick");
    const firstSession = pub.session;
    // The receive is now pending while the publisher goes away (a gateway restart).
    const pending = poller.poll(200);
    await pub.close();
    assert.equal(await pending, TIMEOUT);
    pub = await BusPublisher.open({ address, broker: "paper", heartbeatMs: 100 });
    const seen = await syncUntil(
      poller,
      () => pub.publish(makeTick("NSE", "RIL", 1, 200), [1]),
      (e) => e?.kind === "tick" && e.envelope.session === pub.session,
    );
    const session = seen.find((e) => e?.kind === "session");
    assert.ok(session && session.kind === "session" && session.previous === firstSession);
    assert.ok(reader.reconnects >= 1, "the reader replaced its socket");
  } finally {
    reader.close();
    await pub.close();
  }
});

Deno.test("bus: idle topics are forgotten, and a restarted topic reads as a restart, not a gap", async () => {
  const address = freeAddress();
  let now = 1_700_000_000_000;
  await using pub = await BusPublisher.open({
    address,
    broker: "paper",
    clock: () => now,
    topicIdleMs: 1_000,
  });
  using reader = BusReader.connect({ address, topics: ["NSE_A_LTP"] });
  const readerEvents = events(reader);
  const a = makeTick("NSE", "A", 1);
  const seen = await syncUntil(readerEvents, () => pub.publish(a, [1]), (e) => e?.kind === "tick");
  let last = (seen.at(-1) as Extract<BusEvent, { kind: "tick" }>).envelope.seq;
  pub.publish(a, [1]);
  let tick = await nextTick(readerEvents, "A continues");
  while (tick.envelope.seq <= last) tick = await nextTick(readerEvents, "A continues");
  assert.equal(tick.envelope.seq, last + 1);
  last = tick.envelope.seq;

  // 5000 other topics, one per millisecond: the publisher keeps only the recent ones.
  let peak = 0;
  for (let i = 0; i < 5_000; i++) {
    now += 1;
    pub.publish(makeTick("NSE", `B${i}`, 1), [1]);
    peak = Math.max(peak, pub.topics);
  }

  // A was idle far longer than topicIdleMs: it starts again at 0, which the reader counts as a
  // restart of the topic — not a gap, not out of order.
  pub.publish(a, [1]);
  tick = await nextTick(readerEvents, "A after idle");
  assert.equal(tick.envelope.seq, 0, "an idle topic restarts at seq 0");
  assert.ok(peak <= 2_001, `sequence state grew to ${peak} topics`);
  pub.publish(a, [1]);
  assert.equal((await nextTick(readerEvents, "A after restart")).envelope.seq, 1);
  assert.equal(reader.topicRestarts, 1);
  assert.equal(reader.gaps, 0);
  assert.equal(reader.outOfOrder, 0);
});

Deno.test("bus: closed candles under EXCHANGE_SYMBOL_CANDLE_<INTERVAL>, per-topic seq, forming bars never sent", async () => {
  const address = freeAddress();
  await using pub = await BusPublisher.open({ address, broker: "paper" });
  // A prefix of the instrument: its tick and candle topics both arrive, each typed.
  using reader = BusReader.connect({ address, topics: ["NSE_RELIANCE_"] });
  const readerEvents = events(reader);
  const bar = (time: number, close: number) => ({
    time,
    open: 100,
    high: 105,
    low: 99,
    close,
    volume: 40,
    closed: true,
  });
  const probe = makeTick("NSE", "RELIANCE", 1, 1);
  await syncUntil(readerEvents, () => pub.publish(probe, [1]), (e) => e?.kind === "tick");

  assert.equal(pub.publishCandle("NSE", "RELIANCE", "1m", { ...bar(0, 1), closed: false }), 0);
  assert.equal(pub.publishCandle("NSE", "RELIANCE", "1m", bar(60_000, 101)), 1);
  assert.equal(pub.publishCandle("NSE", "TCS", "1m", bar(60_000, 9)), 1, "filtered out");
  assert.equal(pub.publishCandle("NSE", "RELIANCE", "5m", bar(0, 103)), 1);
  assert.equal(pub.publishCandle("NSE", "RELIANCE", "1m", bar(120_000, 102)), 1);
  assert.equal(pub.publishCandle("NSE", "INDEX_X", "1m", bar(0, 1)), 0, "no valid topic");
  assert.equal(pub.dropped, 1);

  const got: Extract<BusEvent, { kind: "candle" }>[] = [];
  while (got.length < 3) {
    const e = await nextEvent(readerEvents, "candles");
    if (e.kind === "candle") got.push(e);
    else assert.equal(e.kind, "tick", `unexpected ${e.kind}`); // late probes only
  }
  assert.deepEqual(got.map((e) => [e.topic, e.envelope.seq, e.envelope.data.close]), [
    ["NSE_RELIANCE_CANDLE_1M", 0, 101],
    ["NSE_RELIANCE_CANDLE_5M", 0, 103],
    ["NSE_RELIANCE_CANDLE_1M", 1, 102],
  ]);
  assert.deepEqual(got[0].envelope, {
    v: 1,
    seq: 0,
    session: pub.session,
    broker: "paper",
    exchange: "NSE",
    symbol: "RELIANCE",
    interval: "1m",
    published: got[0].envelope.published,
    data: bar(60_000, 101),
  });
  assert.equal(reader.candlesReceived, 3);
  assert.equal(reader.gaps, 0);
  assert.equal(reader.invalid, 0);
});

Deno.test("bus reader: a candle frame that does not match its topic or schema is counted and skipped", async () => {
  const address = freeAddress();
  const pub = new Publisher();
  await pub.bind(address);
  using reader = BusReader.connect({ address });
  const readerEvents = events(reader);
  try {
    const envelope = {
      v: 1,
      seq: 0,
      session: "s1",
      broker: "raw",
      exchange: "NSE",
      symbol: "TCS",
      interval: "1m",
      published: 1,
      data: { time: 0, open: 1, high: 1, low: 1, close: 1, volume: 0, closed: true },
    };
    const good = JSON.stringify(envelope);
    await syncUntil(
      readerEvents,
      () => void pub.send(["NSE_TCS_CANDLE_1M", good]).catch(() => {}),
      (e) => e?.kind === "candle",
    );
    const invalidBefore = reader.invalid;
    await pub.send(["NSE_TCS_CANDLE_5M", good]); // interval differs from the topic
    await pub.send(["NSE_INFY_CANDLE_1M", good]); // symbol differs
    await pub.send([
      "NSE_TCS_CANDLE_1M",
      JSON.stringify({ ...envelope, data: { ...envelope.data, closed: false } }),
    ]);
    await pub.send(["NSE_TCS_CANDLE_1M", '{"v":1,'.slice(0, 5)]);
    await pub.send(["NSE_TCS_CANDLE_1M", JSON.stringify({ ...envelope, seq: 50 })]);
    let last: BusEvent;
    do last = await nextEvent(readerEvents, "the valid candle"); while (
      last.kind !== "candle" || last.envelope.seq !== 50
    );
    assert.equal(reader.invalid - invalidBefore, 4);
  } finally {
    pub.close();
  }
});
