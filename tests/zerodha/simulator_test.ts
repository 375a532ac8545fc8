// The Kite simulator's dialect, checked with a plain WebSocket client and our codec: 403 on bad
// credentials, default quote mode, multi-packet frames, heartbeats, limits, instruments route.

import assert from "node:assert/strict";
import {
  createDecodeStats,
  decodeFrame,
  encodeSetMode,
  encodeSubscribe,
  encodeUnsubscribe,
} from "../../adapters/zerodha/codec.ts";
import { startZerodhaSimulator, type ZerodhaSimulator } from "../../adapters/zerodha/simulator.ts";
import { zerodhaAdapter } from "../../adapters/zerodha/mod.ts";
import { until } from "./harness.ts";

/** A raw client that records packet lengths and frame sizes of what it receives. */
class RawClient {
  readonly frames: Uint8Array[] = [];
  readonly texts: string[] = [];
  readonly ws: WebSocket;
  closed = false;
  error = "";

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.binaryType = "arraybuffer";
    this.ws.onmessage = (e) => {
      if (typeof e.data === "string") this.texts.push(e.data);
      else this.frames.push(new Uint8Array(e.data as ArrayBuffer));
    };
    this.ws.onerror = (e) => {
      this.error = e instanceof ErrorEvent ? e.message : "error";
    };
    this.ws.onclose = () => {
      this.closed = true;
    };
  }

  static async open(sim: ZerodhaSimulator, token = sim.accessToken): Promise<RawClient> {
    const c = new RawClient(`${sim.url}?api_key=${sim.apiKey}&access_token=${token}`);
    await until(() => c.ws.readyState === WebSocket.OPEN || c.closed, 3000, "open");
    return c;
  }

  /** Packet lengths in data frames received from index `from`. */
  packetLengths(from = 0): number[] {
    const out: number[] = [];
    for (const f of this.frames.slice(from)) {
      if (f.length < 2) continue;
      const v = new DataView(f.buffer, f.byteOffset, f.byteLength);
      let off = 2;
      for (let i = 0; i < v.getUint16(0); i++) {
        const len = v.getUint16(off);
        out.push(len);
        off += 2 + len;
      }
    }
    return out;
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.ws.close();
      await until(() => this.closed, 3000, "close");
    }
  }
}

async function withSim(
  opts: Parameters<typeof startZerodhaSimulator>[0],
  fn: (sim: ZerodhaSimulator, clients: RawClient[]) => Promise<void>,
): Promise<void> {
  const sim = await startZerodhaSimulator({ tickIntervalMs: 0, ...opts });
  const clients: RawClient[] = [];
  try {
    await fn(sim, clients);
  } finally {
    for (const c of clients) await c.close();
    await sim.close();
  }
}

Deno.test("simulator: 403 on a bad key/token or a scripted rejection", () =>
  withSim({}, async (sim, clients) => {
    const bad = await RawClient.open(sim, "wrong");
    clients.push(bad);
    assert.ok(bad.closed);
    assert.match(bad.error, /403/);
    sim.faults.rejectNextHandshakes(1);
    const rejected = await RawClient.open(sim);
    clients.push(rejected);
    assert.match(rejected.error, /403/);
    const ok = await RawClient.open(sim);
    clients.push(ok);
    assert.equal(ok.ws.readyState, WebSocket.OPEN);
    assert.equal(sim.stats.rejected403, 2);
  }));

Deno.test("simulator: default quote mode, mode changes, index packets, multi-packet frames", () =>
  withSim({}, async (sim, clients) => {
    const c = await RawClient.open(sim);
    clients.push(c);
    c.ws.send(encodeSubscribe([738561, 408065, 256265]));
    await until(() => c.packetLengths().length >= 3, 3000, "snapshot");
    assert.deepEqual(c.packetLengths().sort(), [28, 44, 44]);
    assert.equal(c.frames.filter((f) => f.length > 1).length, 1, "one multi-packet frame");
    let from = c.frames.length;
    c.ws.send(encodeSetMode("full", [738561, 256265]));
    await until(() => c.packetLengths(from).length >= 2, 3000, "full snapshot");
    assert.deepEqual(c.packetLengths(from).sort(), [184, 32]);
    from = c.frames.length;
    c.ws.send(encodeSetMode("ltp", [408065]));
    c.ws.send(encodeUnsubscribe([256265]));
    await until(() => sim.subscriptions()[0].tokens.size === 2, 3000, "unsubscribed");
    // A mode for an unsubscribed token subscribes it implicitly.
    c.ws.send(encodeSetMode("ltp", [779521]));
    await until(() => sim.subscriptions()[0].tokens.get(779521) === "ltp", 3000, "implicit");
    // Both mode requests answer with a snapshot; let them land before ticking.
    await until(() => c.packetLengths(from).length >= 2, 3000, "mode snapshots");
    assert.deepEqual(c.packetLengths(from), [8, 8]);
    from = c.frames.length;
    sim.tick();
    await until(() => c.packetLengths(from).length >= 3, 3000, "tick");
    assert.deepEqual(c.packetLengths(from).sort((a, b) => a - b), [8, 8, 184]);
    const ticks = decodeFrame(
      c.frames.at(-1) as Uint8Array,
      () => ({ exchange: "X", symbol: "Y" }),
      Date.now(),
      createDecodeStats(),
    );
    assert.equal(ticks.length, 3);
    // Strings in `v` are ignored, as Kite does.
    c.ws.send('{"a":"subscribe","v":["884737"]}');
    await until(() => sim.requests().length === 6, 3000, "request log");
    assert.equal(sim.subscriptions()[0].tokens.has(884737), false);
  }));

Deno.test("simulator: heartbeat at least every second, even with no subscriptions", () =>
  withSim({ heartbeatIntervalMs: 1000 }, async (sim, clients) => {
    const c = await RawClient.open(sim);
    clients.push(c);
    // Two heartbeats within 3 s (the bound of the wait) means at least one a second or so.
    await until(() => c.frames.filter((f) => f.length === 1).length >= 2, 3000, "heartbeats");
    assert.ok(sim.stats.heartbeats >= 2);
  }));

Deno.test("simulator: 3000 instruments per connection and 3 connections per key", () =>
  withSim({}, async (sim, clients) => {
    const c = await RawClient.open(sim);
    clients.push(c);
    const tokens = Array.from({ length: 3001 }, (_, i) => ((5000 + i) << 8) | 1);
    for (let i = 0; i < tokens.length; i += 200) {
      c.ws.send(encodeSubscribe(tokens.slice(i, i + 200)));
    }
    await until(() => sim.requests().length === 16, 5000, "requests");
    await until(() => c.texts.length === 1, 3000, "limit error");
    assert.equal(sim.subscriptions()[0].tokens.size, 3000);
    assert.equal(sim.subscriptions()[0].tokens.has(tokens[3000]), false);
    assert.match(JSON.parse(c.texts[0]).data, /3000/);
    assert.equal(JSON.parse(c.texts[0]).type, "error");
    for (let i = 0; i < 2; i++) clients.push(await RawClient.open(sim));
    const fourth = await RawClient.open(sim);
    clients.push(fourth);
    assert.match(fourth.error, /429/);
    assert.equal(sim.subscriptions().length, 3);
  }));

Deno.test("simulator: scripted faults — drop, stall, silence, garbage, text messages", () =>
  withSim({ heartbeatIntervalMs: 100 }, async (sim, clients) => {
    const c = await RawClient.open(sim);
    clients.push(c);
    c.ws.send(encodeSubscribe([738561, 408065]));
    sim.faults.silence(408065);
    await until(() => c.packetLengths().length >= 1, 3000, "snapshot");
    assert.deepEqual(c.packetLengths(), [44]); // the silenced token is subscribed but quiet
    assert.equal(sim.subscriptions()[0].tokens.has(408065), true);
    sim.faults.stall();
    // Counted where the simulator sends: a tick while stalled writes nothing to the socket.
    const sent = sim.stats.dataFrames;
    sim.tick();
    assert.equal(sim.stats.dataFrames, sent, "stalled connection sent data");
    sim.faults.resume();
    sim.sendText("message", "hello");
    await until(() => c.texts.length === 1, 3000, "text");
    assert.deepEqual(JSON.parse(c.texts[0]), { type: "message", data: "hello" });
    const stats = createDecodeStats();
    const from = c.frames.length;
    sim.faults.garbage();
    await until(() => c.frames.slice(from).filter((f) => f.length > 1).length >= 5, 3000);
    for (const f of c.frames.slice(from)) {
      decodeFrame(f, () => ({ exchange: "X", symbol: "Y" }), 0, stats);
    }
    assert.ok(stats.errors >= 5, `errors ${stats.errors}`);
    assert.equal(sim.faults.drop(), 1);
    await until(() => c.closed, 3000, "dropped");
    assert.equal(sim.subscriptions().length, 0);
    assert.equal(sim.subscriptions(true).length, 1);
  }));

Deno.test("simulator: /instruments needs Kite credentials", () =>
  withSim({ instrumentsCsv: "instrument_token\n1\n" }, async (sim) => {
    const bad = await fetch(sim.instrumentsUrl);
    assert.equal(bad.status, 403);
    await bad.body?.cancel();
    const ok = await fetch(sim.instrumentsUrl, {
      headers: { Authorization: `token ${sim.apiKey}:${sim.accessToken}` },
    });
    assert.equal(await ok.text(), "instrument_token\n1\n");
  }));

Deno.test("descriptor: capabilities from options", () => {
  const base = { apiKey: "k", accessToken: "t" };
  assert.deepEqual(zerodhaAdapter.capabilities(base), {
    broker: "zerodha",
    hosts: ["ws.kite.trade:443", "api.kite.trade:443"],
    readPaths: [],
    maxSymbolsPerConnection: 3000,
    maxConnections: 3,
    maxTokensPerFrame: 200,
    depthLevels: { "*": [5] },
    // Kite's REST market quotes: 500 per /quote, 1000 per /quote/ltp, one request per second.
    quotes: { maxInstruments: { 1: 1000, 2: 500, 3: 500 }, requestsPerSecond: 1 },
  });
  const local = zerodhaAdapter.capabilities({
    ...base,
    feedUrl: "ws://127.0.0.1:9101",
    instrumentsPath: "/tmp/instruments.csv",
    maxSymbolsPerConnection: 1000,
    maxConnections: 2,
  });
  assert.deepEqual(local.hosts, ["127.0.0.1:9101"]);
  assert.deepEqual(local.readPaths, ["/tmp/instruments.csv"]);
  assert.equal(local.maxSymbolsPerConnection, 1000);
  assert.equal(local.maxConnections, 2);
  assert.deepEqual(
    zerodhaAdapter.capabilities({ ...base, instrumentsUrl: "http://127.0.0.1:9101/instruments" })
      .hosts,
    ["ws.kite.trade:443", "api.kite.trade:443", "127.0.0.1:9101"],
  );
  // The quotes go to the feed's host when the feed is not Kite's, unless told otherwise.
  assert.deepEqual(
    zerodhaAdapter.capabilities({
      ...base,
      feedUrl: "ws://127.0.0.1:9101",
      apiUrl: "http://127.0.0.1:9102",
      instrumentsPath: "/tmp/i.csv",
    }).hosts,
    ["127.0.0.1:9101", "127.0.0.1:9102"],
  );
  assert.throws(
    () => zerodhaAdapter.capabilities({ ...base, maxConnections: 4 }),
    /maxConnections/,
  );
  assert.throws(
    () => zerodhaAdapter.capabilities({ ...base, maxSymbolsPerConnection: 3001 }),
    /maxSymbolsPerConnection/,
  );
  assert.throws(() => zerodhaAdapter.capabilities({ apiKey: "k" }), /accessToken/);
  assert.throws(() => zerodhaAdapter.capabilities({ ...base, feedUrl: "http://x" }), /feedUrl/);
  assert.equal(zerodhaAdapter.workerUrl.pathname.endsWith("/adapters/zerodha/worker.ts"), true);
});
