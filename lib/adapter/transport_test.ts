// A dialect's own transport (Groww's NATS) on the kit's BrokerSession: subject-addressed messages
// reach `decode` with their subject, frames reach the transport, and the transport's close makes
// the session reconnect and resubscribe.

import assert from "node:assert/strict";
import { z } from "zod";
import type { FeedState, Mode, Tick } from "../types.ts";
import { baseTick } from "../types.ts";
import type { AdapterOutput } from "./contract.ts";
import type {
  Decoded,
  Dialect,
  Frame,
  Transport,
  TransportEvents,
  TransportMessage,
  Wanted,
} from "./dialect.ts";
import { NOTHING } from "./dialect.ts";
import type { BrokerInstrument } from "./instruments.ts";
import { sessionTimingShape } from "./options.ts";
import { BrokerSession } from "./session.ts";

const INSTRUMENT: BrokerInstrument = { token: "eq/nse/2885", exchange: "NSE", symbol: "RELIANCE" };

/** A pub/sub link held in memory: frames are recorded, messages are pushed by the test. */
class FakeBus {
  frames: Frame[] = [];
  events: TransportEvents | null = null;
  opened = 0;
  open(events: TransportEvents): Transport {
    this.events = events;
    this.opened++;
    queueMicrotask(() => events.open());
    return {
      send: (f) => this.frames.push(f),
      close: () => {},
    };
  }
}

class SubjectDialect implements Dialect<BrokerInstrument> {
  seen: TransportMessage[] = [];
  /** Connect like a client library: report `open` before `transport()` resolves. */
  openBeforeResolve = false;
  constructor(readonly bus: FakeBus) {}
  endpoint(): { url: string } {
    return { url: "nats://fake" };
  }
  async transport(_e: unknown, events: TransportEvents): Promise<Transport> {
    if (!this.openBeforeResolve) return this.bus.open(events);
    await new Promise((r) => setTimeout(r, 1));
    this.bus.events = events;
    this.bus.opened++;
    events.open();
    return { send: (f) => this.bus.frames.push(f), close: () => {} };
  }
  subscribe(items: readonly Wanted<BrokerInstrument>[], _mode: Mode): Frame[] {
    return items.map((w) => `SUB ${w.instrument.token}`);
  }
  unsubscribe(items: readonly Wanted<BrokerInstrument>[]): Frame[] {
    return items.map((w) => `UNSUB ${w.instrument.token}`);
  }
  decode(data: TransportMessage, now: number): Decoded {
    this.seen.push(data);
    if (typeof data !== "object" || !("subject" in data)) return NOTHING;
    const ltp = new DataView(data.data.buffer, data.data.byteOffset).getFloat64(0, true);
    return data.subject === "price.eq/nse/2885"
      ? { ticks: [baseTick("NSE", "RELIANCE", 2, ltp, null, now)] }
      : NOTHING;
  }
}

async function until(cond: () => boolean, label: string): Promise<void> {
  const end = Date.now() + 3000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

Deno.test("a dialect's transport delivers subject-addressed messages to decode", async () => {
  const bus = new FakeBus();
  const dialect = new SubjectDialect(bus);
  const ticks: Tick[] = [];
  const states: FeedState[] = [];
  const out: AdapterOutput = {
    ticks: (t) => ticks.push(...t),
    status: (s) => states.push(s),
    log: () => {},
  };
  const timing = z.object(sessionTimingShape).parse({
    silenceTimeoutMs: 0,
    dataStallMs: 0,
    reconnectBaseMs: 10,
    reconnectMaxMs: 10,
  });
  const session = new BrokerSession({
    broker: "fake",
    connection: 0,
    dialect,
    timing,
    maxSymbols: 10,
    maxTokensPerFrame: 10,
    depthLevels: { "*": [5] },
    out,
    random: () => 0.5,
  });
  await session.start();
  assert.equal(session.state, "connected");
  await session.subscribe([{
    ref: { exchange: "NSE", symbol: "RELIANCE" },
    instrument: INSTRUMENT,
    mode: 2,
    depth: 0,
  }]);
  assert.deepEqual(bus.frames, ["SUB eq/nse/2885"]);
  const payload = new Uint8Array(8);
  new DataView(payload.buffer).setFloat64(0, 2940.7, true);
  bus.events!.message({ subject: "price.eq/nse/2885", data: payload });
  bus.events!.message("PONG");
  assert.deepEqual(ticks.map((t) => t.ltp), [2940.7]);
  assert.deepEqual(dialect.seen[0], { subject: "price.eq/nse/2885", data: payload });
  // The transport's close makes the session reconnect and resubscribe the wanted set.
  bus.frames = [];
  bus.events!.close({ opened: true, code: 1006, reason: "", error: "" });
  await until(() => bus.opened === 2 && bus.frames.length === 1, "resubscribed");
  assert.deepEqual(bus.frames, ["SUB eq/nse/2885"]);
  assert.ok(states.includes("reconnecting"));
  // A transport that reports `open` before it is handed over still gets the resubscription.
  dialect.openBeforeResolve = true;
  bus.frames = [];
  bus.events!.close({ opened: true, code: 1006, reason: "", error: "" });
  await until(() => bus.opened === 3 && session.state === "connected", "reconnected");
  await until(() => bus.frames.length === 1, "resubscribed after an early open");
  assert.deepEqual(bus.frames, ["SUB eq/nse/2885"]);
  await session.close();
});
