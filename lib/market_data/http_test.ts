// Tests for the service's HTTP answers (health, trade-safe, method and path handling) and the
// Prometheus text it adds to /metrics.

import assert from "node:assert/strict";
import { FakeFeed, makeService } from "./_test_utils.ts";
import { STALE_REASON } from "./gate.ts";

const BASE = "http://127.0.0.1:8765";

Deno.test("GET /api/v1/trade-safe answers {safe, reason, data_fresh}", async () => {
  const { service, clock, fresh } = makeService({}, new FakeFeed(["connected"], 2));
  service.onTicks([fresh()]);
  let res = service.handleHttp(new Request(`${BASE}/api/v1/trade-safe`));
  assert.ok(res);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.deepEqual(await res.json(), { safe: true, reason: "", data_fresh: true });
  clock.advance(31_000);
  service.check();
  res = service.handleHttp(new Request(`${BASE}/api/v1/trade-safe?x=1`));
  assert.deepEqual(await res?.json(), { safe: false, reason: STALE_REASON, data_fresh: false });
  await service.close();
});

Deno.test("GET /api/v1/health reports feed state, connections, tick age, pause reason and counters", async () => {
  const feed = new FakeFeed(["connected", "reconnecting"], 1);
  feed.connections[0].lastTickAt = 0;
  const { service, clock, fresh } = makeService({}, feed);
  feed.connections[0].lastTickAt = clock.now;
  await service.subscribe({ priority: "CRITICAL", kind: "ltp", name: "c", callback: () => {} });
  service.onTicks([fresh()]);
  clock.advance(1_500);
  const res = service.handleHttp(new Request(`${BASE}/api/v1/health`));
  assert.equal(res?.status, 200);
  const body = await res?.json();
  assert.equal(body.status, "paused");
  assert.equal(body.safe, false);
  assert.equal(body.reason, "Connection lost - trade management paused for safety");
  assert.equal(body.feed_state, "reconnecting");
  assert.deepEqual(body.connections.map((c: { state: string }) => c.state), [
    "connected",
    "reconnecting",
  ]);
  assert.equal(body.connections[0].last_tick_age_ms, 1_500);
  assert.equal(body.connections[1].last_tick_at, null);
  assert.equal(body.last_tick_age_ms, 1_500);
  assert.equal(body.paused_since, clock.now, "assessed on read: no monitor pass ran before");
  assert.equal(body.subscribers.total, 1);
  assert.equal(body.subscribers.CRITICAL, 1);
  assert.equal(body.counters.ticks, 1);
  assert.equal(body.counters.pauses, 1);
  assert.equal(body.uptime_ms, 1_500);
  assert.equal(body.data_fresh, true);
  await service.close();
});

Deno.test("only GET is allowed; other paths are left to the caller", async () => {
  const { service } = makeService();
  for (const method of ["POST", "PUT", "DELETE", "HEAD"]) {
    const res = service.handleHttp(new Request(`${BASE}/api/v1/health`, { method }));
    assert.equal(res?.status, 405, method);
    assert.equal(res?.headers.get("allow"), "GET");
    await res?.body?.cancel();
  }
  assert.equal(service.handleHttp(new Request(`${BASE}/metrics`)), null);
  assert.equal(service.handleHttp(new Request(`${BASE}/api/v1/health/extra`)), null);
  assert.equal(service.handleHttp(new Request(`${BASE}/`)), null);
  await service.close();
});

Deno.test("metricsText is valid Prometheus text: HELP and TYPE before samples, tickplex_mds_ names", async () => {
  const { service, fresh } = makeService();
  await service.subscribe({
    priority: "LOW",
    kind: "ltp",
    name: 'we"ird\\name\nx',
    callback: () => {
      throw new Error("x");
    },
  });
  service.onTicks([fresh(), fresh({ ltp: -1 })]);
  await service.idle();
  const text = service.metricsText();
  assert.ok(text.endsWith("\n"));
  const declared = new Map<string, string>();
  let helped = new Set<string>();
  for (const line of text.trimEnd().split("\n")) {
    const help = line.match(/^# HELP (\S+) .+$/);
    if (help) {
      helped = new Set([help[1]]);
      continue;
    }
    const type = line.match(/^# TYPE (\S+) (counter|gauge)$/);
    if (type) {
      assert.ok(helped.has(type[1]), `TYPE without HELP for ${type[1]}`);
      assert.equal(declared.has(type[1]), false, `${type[1]} declared twice`);
      declared.set(type[1], type[2]);
      continue;
    }
    const sample = line.match(
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_]\w*="(?:[^"\\\n]|\\.)*",?)*\})? (\S+)$/,
    );
    assert.ok(sample, `malformed line: ${line}`);
    assert.ok(declared.has(sample[1]), `sample before TYPE: ${line}`);
    assert.ok(!Number.isNaN(Number(sample[3])), line);
  }
  for (const [name, type] of declared) {
    assert.ok(name.startsWith("tickplex_mds_"), name);
    if (type === "counter") assert.ok(name.endsWith("_total"), name);
  }
  for (
    const name of [
      "tickplex_mds_ticks_total",
      "tickplex_mds_trade_safe",
      "tickplex_mds_pauses_total",
      "tickplex_mds_stale_events_total",
      "tickplex_mds_reconnects_total",
      "tickplex_mds_last_tick_age_seconds",
    ]
  ) assert.ok(declared.has(name), name);
  assert.match(text, /^tickplex_mds_ticks_total 1$/m);
  assert.match(text, /^tickplex_mds_trade_safe 1$/m);
  assert.match(text, /^tickplex_mds_callback_errors_total 1$/m);
  assert.ok(
    text.includes(
      `tickplex_mds_subscriber_callback_errors_total{subscriber="mds-1-we\\"ird\\\\name\\nx",priority="LOW"} 1`,
    ),
    text,
  );
  await service.close();
});
