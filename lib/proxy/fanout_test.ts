// The fan-out's poll path: polled ticks reach poll subscribers as "source":"poll" frames, modes
// the stream carries are left to the stream, and streamed ticks reach poll subscribers (reuse).

import assert from "node:assert/strict";
import { type Consumer, type FrameCache, SubscriptionRegistry } from "../subscriptions/mod.ts";
import { baseTick, type Mode, type Tick } from "../types.ts";
import { FanOut } from "./fanout.ts";

const upstream = {
  subscribe: () => Promise.resolve({ ok: true as const, depth: 5 }),
  unsubscribe: () => Promise.resolve({ ok: true as const }),
};

function recorder(id: string): Consumer & { got: { mode: Mode; frame: string }[] } {
  const got: { mode: Mode; frame: string }[] = [];
  return {
    id,
    got,
    deliver: (_t: Tick, mode: Mode, frames: FrameCache) =>
      got.push({ mode, frame: frames.market(mode) }),
  };
}

Deno.test("fan-out: poll ticks are poll frames; modes the stream covers are served by the stream", async () => {
  const stream = new SubscriptionRegistry(upstream);
  const poll = new SubscriptionRegistry(upstream);
  const fanout = new FanOut(stream, "zerodha", 5, poll);
  const algo = recorder("algo");
  const dash = recorder("dash");
  await stream.acquire(algo, "NSE", "TCS", 1, 0);
  await poll.acquire(dash, "NSE", "TCS", 1, 0);
  await poll.acquire(dash, "NSE", "TCS", 2, 5);
  await poll.acquire(dash, "NSE", "INFY", 2, 5);

  // A polled Quote tick: TCS mode 1 is streamed for algo, so dash gets only its mode-2 frame from
  // the poll; INFY (streamed by nobody) goes to dash at mode 2.
  fanout.onPollTicks([
    baseTick("NSE", "TCS", 2, 3500, null, 1),
    baseTick("NSE", "INFY", 2, 1500, null, 1),
  ]);
  assert.deepEqual(dash.got.map((g) => [g.mode, JSON.parse(g.frame).symbol]), [
    [2, "TCS"],
    [2, "INFY"],
  ]);
  assert.ok(dash.got.every((g) => JSON.parse(g.frame).source === "poll"));
  assert.equal(algo.got.length, 0, "stream subscribers never get polled ticks");

  // A streamed LTP tick of TCS: algo and dash's mode-1 key get it, as an ordinary frame.
  dash.got.length = 0;
  fanout.onTicks([baseTick("NSE", "TCS", 1, 3501, null, 2)]);
  assert.deepEqual(algo.got.map((g) => g.mode), [1]);
  assert.deepEqual(dash.got.map((g) => g.mode), [1]);
  assert.equal(JSON.parse(dash.got[0].frame).source, undefined);
  assert.equal(fanout.counters.ticksFannedOut, 2 + 2);
});

Deno.test("fan-out without a poll registry ignores poll ticks", () => {
  const stream = new SubscriptionRegistry(upstream);
  const fanout = new FanOut(stream, "paper", 5);
  fanout.onPollTicks([baseTick("NSE", "TCS", 1, 1, null, 1)]);
  assert.equal(fanout.counters.ticksFannedOut, 0);
});
