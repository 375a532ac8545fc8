// Tests for the bounded per-topic sequence numbers of the bus publisher.

import assert from "node:assert/strict";
import { TopicSequences } from "./sequences.ts";

Deno.test("TopicSequences: 0 first, then +1 per message, per topic", () => {
  const s = new TopicSequences(1_000);
  assert.deepEqual([s.next("A", 0), s.next("A", 1), s.next("B", 2), s.next("A", 3)], [0, 1, 0, 2]);
  assert.equal(s.size, 2);
});

Deno.test("TopicSequences: a topic published within idleMs never restarts", () => {
  // Pseudo-random but reproducible publish times: gaps up to just under idleMs per topic.
  let x = 12345;
  const rand = (n: number) => (x = (x * 1103515245 + 12345) % 2 ** 31) % n;
  const s = new TopicSequences(1_000);
  const expected = new Map<string, number>();
  const last = new Map<string, number>();
  let now = 0;
  for (let i = 0; i < 20_000; i++) {
    now += rand(40);
    const topic = `T${rand(30)}`;
    const seq = s.next(topic, now);
    const prev = last.get(topic);
    if (prev !== undefined && now - prev < 1_000) {
      assert.equal(seq, expected.get(topic), `${topic} at ${now} (idle ${now - prev} ms)`);
    }
    assert.ok(seq === 0 || seq === expected.get(topic), `${topic}: restart or continue`);
    expected.set(topic, seq + 1);
    last.set(topic, now);
  }
});

Deno.test("TopicSequences: a topic idle for more than 2 × idleMs restarts at 0", () => {
  const s = new TopicSequences(1_000);
  s.next("A", 0);
  s.next("A", 10);
  for (let t = 100; t <= 2_100; t += 100) s.next("B", t);
  assert.equal(s.next("A", 2_100), 0);
  assert.equal(s.next("B", 2_200), 21);
});

Deno.test("TopicSequences: the state holds only recently published topics", () => {
  const s = new TopicSequences(1_000);
  let peak = 0;
  // 100k distinct topics, one per millisecond: at most two generations' worth are kept.
  for (let i = 0; i < 100_000; i++) {
    s.next(`T${i}`, i);
    peak = Math.max(peak, s.size);
  }
  assert.ok(peak <= 2_000, `peak ${peak}`);
  // Silence longer than two generations forgets everything at the next publish.
  s.next("X", 200_000);
  assert.equal(s.size, 1);
});

Deno.test("TopicSequences: idleMs must be positive", () => {
  assert.throws(() => new TopicSequences(0), RangeError);
  assert.throws(() => new TopicSequences(Number.NaN), RangeError);
});
