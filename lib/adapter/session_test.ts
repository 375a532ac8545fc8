// BrokerSession's stream bookkeeping: frames only when an item's broker stream changes (mode and
// depth), and per-stream limits a dialect states through `overLimit`.

import assert from "node:assert/strict";
import { z } from "zod";
import type { Mode } from "../types.ts";
import type { Dialect, Frame, Wanted } from "./dialect.ts";
import { NOTHING } from "./dialect.ts";
import type { BrokerInstrument } from "./instruments.ts";
import { sessionTimingShape } from "./options.ts";
import { BrokerSession, type SessionItem } from "./session.ts";

const timing = z.object(sessionTimingShape).parse({ silenceTimeoutMs: 0, dataStallMs: 0 });

/** Upstox-like streams: LTP → ltpc; Quote and Depth(5) → full; Depth(≥30) → full_d30. */
function stream(mode: Mode, depth: number): string {
  return mode === 1 ? "ltpc" : mode === 3 && depth >= 30 ? "full_d30" : "full";
}

function names(items: readonly Wanted<BrokerInstrument>[]): string {
  return items.map((w) => w.instrument.symbol).join(",");
}

function harness(overLimit?: Dialect<BrokerInstrument>["overLimit"]) {
  const sent: Frame[] = [];
  const dialect: Dialect<BrokerInstrument> = {
    endpoint: () => ({ url: "fake:" }),
    transport: (_e, events) => {
      queueMicrotask(() => events.open());
      return { send: (f) => void sent.push(f), close: () => {} };
    },
    subscribe: (items) => items.map((w) => `sub ${stream(w.mode, w.depth)} ${w.instrument.symbol}`),
    unsubscribe: (items) => [`unsub ${names(items)}`],
    changeMode: (items, from, to) => [`change ${from}>${to} ${names(items)}`],
    streamMode: stream,
    overLimit,
    decode: () => NOTHING,
  };
  const session = new BrokerSession<BrokerInstrument>({
    broker: "demo",
    connection: 0,
    dialect,
    timing,
    maxSymbols: 100,
    maxTokensPerFrame: 50,
    depthLevels: { "*": [5, 30] },
    out: { ticks: () => {}, status: () => {}, log: () => {} },
  });
  const item = (symbol: string, mode: Mode, depth = 5): SessionItem<BrokerInstrument> => ({
    ref: { exchange: "NSE", symbol },
    instrument: { token: symbol, exchange: "NSE", symbol },
    mode,
    depth,
  });
  return { sent, session, item };
}

Deno.test("a mode change within one broker stream sends nothing; a depth change that moves it does", async () => {
  const { sent, session, item } = harness();
  await session.start();
  assert.equal(session.state, "connected");
  await session.subscribe([item("A", 2)]);
  assert.deepEqual(sent, ["sub full A"]);
  sent.length = 0;
  const r = await session.setMode([item("A", 3, 5)]);
  assert.deepEqual(r, [{ exchange: "NSE", symbol: "A", ok: true, depth: 5 }]);
  assert.deepEqual(sent, [], "Quote and Depth(5) are one upstream stream");
  await session.setMode([item("A", 3, 30)]);
  assert.deepEqual(sent, ["change 3>3 A"], "Depth(30) is another stream");
  sent.length = 0;
  await session.setMode([item("A", 1)]);
  assert.deepEqual(sent, ["change 3>1 A"]);
  await session.close();
});

Deno.test("overLimit refuses what would break a per-stream limit and keeps the old state", async () => {
  // At most 2 on `full` when another stream is in use, else 3; `ltpc` at most 3.
  const { sent, session, item } = harness((per) => {
    const mixed = per.size > 1;
    if ((per.get("full") ?? 0) > (mixed ? 2 : 3)) return mixed ? 2 : 3;
    if ((per.get("ltpc") ?? 0) > 3) return 3;
    return null;
  });
  await session.start();
  const first = await session.subscribe([item("A", 2), item("B", 2), item("C", 2), item("D", 2)]);
  assert.deepEqual(first.map((r) => r.ok), [true, true, true, false]);
  const refused = first[3];
  assert.equal(refused.ok === false && refused.code, "MAX_CAPACITY_REACHED");
  assert.equal(session.size, 3);
  // A fourth instrument on ltpc would make the mix: full (3) is then over its combined limit.
  const mixed = await session.subscribe([item("E", 1)]);
  assert.equal(mixed[0].ok, false);
  assert.equal(session.size, 3);
  await session.unsubscribe([{
    ref: { exchange: "NSE", symbol: "C" },
    instrument: item("C", 2).instrument,
  }]);
  assert.deepEqual((await session.subscribe([item("E", 1)])).map((r) => r.ok), [true]);
  assert.deepEqual((await session.subscribe([item("F", 1)])).map((r) => r.ok), [true]);
  // Upgrading E to full would put 3 on full beside F on ltpc: refused, E stays on ltpc.
  sent.length = 0;
  const up = await session.setMode([item("E", 2)]);
  assert.equal(up[0].ok, false);
  assert.deepEqual(sent, []);
  await session.unsubscribe([{
    ref: { exchange: "NSE", symbol: "E" },
    instrument: item("E", 1).instrument,
  }]);
  assert.deepEqual(sent, ["unsub E"]);
  await session.close();
});
