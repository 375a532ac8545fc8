// The dashboard's HTTP side on a real gateway: the page and its assets on :8765 next to the
// WebSocket, and GET /api/v1/status (API key required) with the shape the page renders.

import assert from "node:assert/strict";
import { startGateway, TEST_KEY, TestClient, until } from "../helpers/gateway.ts";
import type { DashboardStatus } from "../../lib/dashboard/mod.ts";

const PAPER = { name: "paper", options: { ticksPerSecond: 20, intervalMs: 20, seed: 3 } };

Deno.test("dashboard: GET / serves the page with a strict CSP; WebSockets on / still work", async () => {
  const gw = await startGateway({ broker: PAPER });
  try {
    const base = `http://127.0.0.1:${gw.proxy.addr.port}`;
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    const csp = page.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe/);
    const html = await page.text();
    assert.match(html, /<script type="module" src="\/dashboard\/app.js"><\/script>/);
    assert.doesNotMatch(html, /<script>|<script(?![^>]*\bsrc=)[^>]*>/, "no inline script");
    assert.doesNotMatch(html, /\sstyle=|\son[a-z]+=/, "no inline styles or handlers");
    for (
      const [path, type] of [
        ["/dashboard/app.js", "text/javascript; charset=utf-8"],
        ["/dashboard/app.css", "text/css; charset=utf-8"],
        ["/dashboard/icon.svg", "image/svg+xml"],
      ]
    ) {
      const r = await fetch(base + path);
      assert.equal(r.status, 200, path);
      assert.equal(r.headers.get("content-type"), type, path);
      assert.ok((await r.text()).length > 0, path);
    }
    const c = await TestClient.connect(gw, "/");
    assert.equal((await c.auth()).status, "success");
    await c.close();
  } finally {
    await gw.stop();
  }
});

Deno.test("dashboard: GET /api/v1/status needs the API key and reports pool, gate, registry, throughput", async () => {
  const gw = await startGateway({ broker: PAPER });
  const a = await TestClient.connect(gw), b = await TestClient.connect(gw);
  try {
    const url = `http://127.0.0.1:${gw.proxy.addr.port}/api/v1/status`;
    const none = await fetch(url);
    assert.equal(none.status, 401);
    assert.equal((await none.json()).code, "AUTHENTICATION_ERROR");
    const wrong = await fetch(url, { headers: { authorization: "Bearer not-the-key-at-all" } });
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
    const post = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_KEY}` },
    });
    assert.equal(post.status, 405);
    await post.body?.cancel();

    await a.auth();
    await b.auth();
    const sub = { action: "subscribe", symbol: "RELIANCE", exchange: "NSE", mode: 2 };
    await a.request(sub, "subscribe");
    await b.request(sub, "subscribe");
    await b.request({ action: "subscribe", symbol: "TCS", exchange: "NSE", mode: 1 }, "subscribe");
    await a.waitFor((f) => f.type === "market_data");

    const get = async (): Promise<DashboardStatus> => {
      const r = await fetch(url, { headers: { authorization: `Bearer ${TEST_KEY}` } });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("cache-control"), "no-store");
      return await r.json();
    };
    let s = await get();
    assert.equal(s.broker, "paper");
    assert.equal(s.clients, 2);
    assert.equal(s.feed_state, "connected");
    assert.equal(s.connections.length, 1);
    const conn = s.connections[0];
    assert.equal(conn.index, 0);
    assert.equal(conn.state, "connected");
    assert.equal(conn.symbols, 2);
    assert.ok(conn.capacity >= 2);
    assert.equal(typeof conn.restarts, "number");
    assert.equal(typeof conn.reconnects, "number");
    assert.equal(typeof conn.last_tick_age_ms, "number");
    assert.deepEqual(s.gate, {
      safe: true,
      reason: "",
      data_fresh: true,
      paused_since: null,
      pauses: 0,
    });
    assert.deepEqual(s.subscriptions, [
      // Which key holds what: the class each slot is charged to, and the holders by key name.
      { ...row("RELIANCE", 2, 2), class: "trading", holders: ["key-1"] },
      { ...row("TCS", 1, 1), class: "trading", holders: ["key-1"] },
    ]);
    assert.equal(s.throughput.interval_ms, 1000);
    assert.equal(s.throughput.window_ms, 300_000);
    assert.ok(s.totals.ticks_in > 0 && s.totals.frames_out > 0);
    assert.ok(Array.isArray(s.events));

    // Throughput is sampled once a second (from the tick path and from each status request; the
    // sampling itself is tested on a manual clock in lib/dashboard): rates show up.
    await until(() => gw.pool.counters.ticksIn > 0, 10_000, "ticks");
    const deadline = Date.now() + 20_000;
    const sampled = (x: typeof s) =>
      x.throughput.samples.some((t) => t.ticks_in > 0 && t.frames_out > 0);
    while (!sampled(s = await get())) {
      if (Date.now() > deadline) assert.fail(`no sample: ${JSON.stringify(s.throughput)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const last = s.throughput.samples.findLast((t) => t.ticks_in > 0 && t.frames_out > 0)!;
    assert.ok(last.ticks_in > 0 && last.frames_out > 0, JSON.stringify(last));
    assert.ok(last.t <= s.server_time);
  } finally {
    await a.close();
    await b.close();
    await gw.stop();
  }
});

function row(symbol: string, mode: 1 | 2 | 3, consumers: number) {
  return { exchange: "NSE", symbol, mode, depth: 5, consumers, connection: 1 };
}
