// The Kotak simulator speaks §10.8's bytes: the official connect and subscribe requests are
// answered with the documented replies, and a TCS snapshot at the worked example's values is
// byte-identical to the worked snapshot where the spec gives the bytes.

import assert from "node:assert/strict";
import {
  encodeKotakConnect,
  encodeThrottle,
  encodeTopics,
  HsmDecoder,
  KOTAK_HSM,
  REQ,
} from "../hsm/codec.ts";
import { startKotakSimulator } from "./simulator.ts";

/** A raw WebSocket client collecting binary messages. */
async function open(url: string) {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const got: Uint8Array[] = [];
  ws.onmessage = (e) => got.push(new Uint8Array(e.data as ArrayBuffer));
  const closed = new Promise<void>((r) => ws.onclose = () => r());
  await new Promise<void>((r, j) => {
    ws.onopen = () => r();
    ws.onerror = () => j(new Error("ws error"));
  });
  const next = async (n: number) => {
    const end = Date.now() + 3000;
    while (got.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    assert.ok(got.length >= n, `${got.length} of ${n} messages`);
    return got[n - 1];
  };
  return { ws, got, next, closed };
}

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join(" ");

Deno.test("kotak simulator: §10.8 connect/subscribe replies and the worked snapshot bytes", async () => {
  await using sim = await startKotakSimulator({ tickIntervalMs: 0, ackEvery: 0 });
  sim.sim.market.set("nse_cm|11536", { ltp: 2940.7, volume: 1234567, close: 2890.5 });
  const c = await open(sim.url);
  c.ws.send(encodeKotakConnect(sim.accessToken, sim.sid));
  assert.equal(hex(await c.next(1)), "00 0d 01 02 01 00 01 4b 02 00 04 00 00 00 00");
  c.ws.send(encodeTopics(REQ.SUBSCRIBE, ["sf|nse_cm|11536"], 1));
  assert.equal(hex(await c.next(2)), "00 06 04 01 01 00 01 4b");
  const snap = await c.next(3);
  assert.equal(snap.byteLength, 153);
  assert.equal(hex(snap.subarray(0, 13)), "00 97 06 00 01 00 92 53 00 00 00 01 0f");
  assert.equal(new TextDecoder().decode(snap.subarray(13, 28)), "sf|nse_cm|11536");
  assert.equal(snap[28], 0x19);
  const f = (i: number) => hex(snap.subarray(29 + 4 * i, 33 + 4 * i));
  assert.equal(f(4), "00 12 d6 87");
  assert.equal(f(5), "00 04 7c b6");
  assert.equal(f(21), "00 04 69 1a");
  assert.equal(f(22), "80 00 00 00", "an equity has no OI");
  assert.equal(f(23), "00 00 00 01");
  assert.equal(f(24), "00 00 00 02");
  assert.equal(
    hex(snap.subarray(129)),
    "03 34 05 31 31 35 33 36 35 06 6e 73 65 5f 63 6d 36 06 54 43 53 2d 45 51",
  );
  // The same bytes decode to the worked example's values.
  const d = new HsmDecoder(KOTAK_HSM);
  d.decode(c.got[0]);
  const m = d.decode(snap);
  assert.ok(m.type === "data");
  assert.equal(m.changed[0].values[5] / m.changed[0].divisor, 2940.7);
  // The type-2 keep-alive is accepted.
  c.ws.send(encodeThrottle(0));
  const conn = sim.sim.server.connections()[0];
  const end = Date.now() + 2000;
  while (conn.state.keepAlives === 0 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(conn.state.keepAlives, 1);
  c.ws.close();
  await c.closed;
});

Deno.test("kotak simulator: a wrong trade token or sid gets N and the socket closes; > 100 topics get N", async () => {
  await using sim = await startKotakSimulator({ tickIntervalMs: 0 });
  const bad = await open(sim.url);
  bad.ws.send(encodeKotakConnect(sim.accessToken, "other-sid"));
  assert.equal(hex(await bad.next(1)).slice(0, 23), "00 0d 01 02 01 00 01 4e");
  await bad.closed;
  const c = await open(sim.url);
  c.ws.send(encodeKotakConnect(sim.accessToken, sim.sid));
  await c.next(1);
  const topics = Array.from({ length: 101 }, (_, i) => `sf|nse_cm|${i + 1}`);
  c.ws.send(encodeTopics(REQ.SUBSCRIBE, topics, 2));
  assert.equal(hex(await c.next(2)), "00 06 04 01 01 00 01 4e");
  assert.equal(sim.sim.stats.rejectedConnects, 1);
  c.ws.close();
  await c.closed;
});
