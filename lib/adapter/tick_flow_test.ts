// TickFlow: bounded batches in flight, newest-per-instrument conflation while waiting, release on
// credit.

import assert from "node:assert/strict";
import { TickFlow } from "./tick_flow.ts";
import { makeTick } from "../../tests/helpers/fake_adapter.ts";

Deno.test("tick flow: sends while credit lasts, conflates per instrument, releases on credit", () => {
  const sent: number[][] = [];
  const flow = new TickFlow(2, (ticks) => sent.push(ticks.map((t) => t.ltp)));
  flow.push([makeTick("NSE", "A", 1, 1)]);
  flow.push([makeTick("NSE", "B", 1, 2)]);
  assert.equal(flow.inFlight, 2);
  // No credit left: held, newest per instrument, order of first appearance kept.
  flow.push([makeTick("NSE", "A", 1, 3), makeTick("NSE", "C", 1, 4)]);
  flow.push([makeTick("NSE", "A", 1, 5)]);
  assert.deepEqual(sent, [[1], [2]]);
  assert.equal(flow.pending, 2);
  assert.equal(flow.conflated, 1);
  flow.credit(1);
  assert.deepEqual(sent.at(-1), [4, 5], "held ticks go out as one batch, newest per instrument");
  assert.equal(flow.inFlight, 2);
  assert.equal(flow.pending, 0);
  // While nothing is held, new batches wait their turn behind the credit limit too.
  flow.push([makeTick("NSE", "D", 1, 6)]);
  assert.equal(flow.pending, 1);
  flow.credit(2);
  assert.deepEqual(sent.at(-1), [6]);
  flow.credit(5);
  assert.equal(flow.inFlight, 0);
  flow.push([]);
  assert.equal(sent.length, 4, "empty batches are not sent");
});
