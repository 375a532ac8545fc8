// Budget configuration errors name the field and say what is wrong.

import assert from "node:assert/strict";
import { configSchema, describeIssues } from "./mod.ts";

function problems(input: Record<string, unknown>): string {
  const r = configSchema.safeParse(input);
  assert.equal(r.success, false, "expected a configuration error");
  return describeIssues(r.error!);
}

const KEY = "a-long-random-client-key";

Deno.test("API key names must be unique, bare keys included, and not reserved", () => {
  assert.match(
    problems({ apiKeys: [{ name: "wall", key: KEY }, { name: "wall", key: KEY + "2" }] }),
    /^apiKeys\.1\.name: the name 'wall' is already used by apiKeys\.0; API key names must be unique$/m,
  );
  assert.match(
    problems({ apiKeys: [{ name: "key-2", key: KEY }, KEY + "2"] }),
    /^apiKeys\.1: the name 'key-2' is already used by apiKeys\.0 \(a bare key is named key-<position>\)/m,
  );
  assert.match(
    problems({ apiKeys: [{ name: "env", key: KEY }] }),
    /^apiKeys\.0\.name: 'env' is reserved for the TICKPLEX_API_KEY key/m,
  );
});

Deno.test("class, quota and reserve errors name their field", () => {
  assert.match(
    problems({ apiKeys: [{ name: "x", key: KEY, class: "vip" }] }),
    /^apiKeys\.0\.class: Invalid option: expected one of "trading"\|"monitoring"\|"display"\|"capture"$/m,
  );
  assert.match(
    problems({ apiKeys: [{ name: "x", key: KEY, quota: 0 }] }),
    /^apiKeys\.0\.quota: Too small/m,
  );
  assert.match(
    problems({ budget: { reserveTrading: "150%" } }),
    /^budget\.reserveTrading: must be a percentage like "25%"$/m,
  );
  assert.match(problems({ budget: { reserveTrading: -1 } }), /^budget\.reserveTrading: /m);
  assert.match(problems({ budget: { preempt: true } }), /^budget: Unrecognized key: "preempt"$/m);
});

Deno.test("a valid budget section parses with its defaults", () => {
  const c = configSchema.parse({
    apiKeys: [KEY, { name: "wall", key: KEY + "2", class: "display", quota: 50 }],
    budget: { reserveTrading: "25%", preemptDisplay: true },
  });
  assert.deepEqual(c.budget.routing.display, "stream");
  assert.equal(c.budget.pollIntervalMs, 1000);
});
