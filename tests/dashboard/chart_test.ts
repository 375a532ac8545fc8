// The dashboard's candle chart in the system Chromium: the selected symbol's live bars (the forming
// bar updating in place), the interval switch releasing the old candle series at the gateway, and
// history backfilled before the live bars without a seam. A fake broker sends ticks at chosen
// exchange times and the candle clock is the test's, so bars do not depend on the hour the test
// runs (the paper feed's ticks fall outside the NSE session most of the day). Reads what the chart
// library holds (the page's `tickplex.chart()` hook), never pixels. Skips only when Chromium is
// absent.

import assert from "node:assert/strict";
import {
  addSymbols,
  type Browser,
  login,
  noChromium,
  openBrowser,
  type Page,
  poll,
  priceOf,
  stopAll,
  WAIT,
  watchErrors,
} from "./browser.ts";
import type { WebSocketRoute } from "playwright-core";
import { startGateway, TestClient } from "../helpers/gateway.ts";
import { fakeFactory, type FakeLink, makeTick } from "../helpers/fake_adapter.ts";
import type { Gateway } from "../../lib/gateway.ts";

const KNOWN = new Set(["NSE:RELIANCE", "NSE:TCS", "NSE:INFY"]);
/** A Friday in the NSE session, IST. */
const ist = (hhmmss: string) => Date.parse(`2026-11-27T${hhmmss}+05:30`);
const MIN = 60_000;

/** What the page's chart hook returns (lib/dashboard/page/candle_chart.ts, ChartSnapshot). */
interface Snapshot {
  exchange: string | null;
  symbol: string | null;
  interval: string;
  source: string;
  historyBars: number;
  bars: { time: number; open: number; high: number; low: number; close: number }[];
}

async function chartOf(page: Page): Promise<Snapshot> {
  return await page.evaluate("globalThis.tickplex.chart()") as Snapshot;
}

/** Candle series (instrument × interval) the gateway builds right now, from its metrics. */
function candleSeries(gw: Gateway): number {
  const m = /^tickplex_candle_series (\d+)$/m.exec(gw.proxy.metricsText());
  assert.ok(m, "the proxy reports tickplex_candle_series");
  return Number(m[1]);
}

/** Bar times strictly ascending: no duplicated bar, whatever the source. */
function assertAscending(bars: Snapshot["bars"]): void {
  for (let i = 1; i < bars.length; i++) {
    assert.ok(
      bars[i].time > bars[i - 1].time,
      `bar ${i} at ${bars[i].time} after ${bars[i - 1].time}`,
    );
  }
}

async function select(page: Page, key: string): Promise<void> {
  await page.click(`#watch-rows [data-key="${key}"] .symbol`);
}

/** A gateway over a fake broker whose candle clock the test sets, with nothing recorded. */
async function fakeGateway(): Promise<{
  gw: Gateway;
  setClock(t: number): void;
  trade(symbol: string, hhmmss: string, ltp: number, volume: number): void;
}> {
  let clock = ist("10:00:00");
  const f = fakeFactory(KNOWN);
  // No recording: the history endpoint answers from the live series' memory alone.
  const gw = await startGateway({ history: { recordings: "no/such/recordings" } }, {
    linkFactory: f.factory,
    candleClock: () => clock,
  });
  const linkOf = (symbol: string): FakeLink => {
    const l = f.links.find((l) => !l.terminated && l.streams.has(`NSE:${symbol}`));
    assert.ok(l, `the fake broker streams ${symbol}`);
    return l;
  };
  return {
    gw,
    setClock: (t) => clock = t,
    trade(symbol, hhmmss, ltp, volume) {
      const t = ist(hhmmss);
      linkOf(symbol).emit([{ ...makeTick("NSE", symbol, 2, ltp), ltt: t, timestamp: t, volume }]);
    },
  };
}

/** Waits for a chart snapshot that `ok` accepts. */
async function chartWhere(
  page: Page,
  what: string,
  ok: (s: Snapshot) => boolean,
): Promise<Snapshot> {
  return await poll(what, async () => {
    const s = await chartOf(page);
    return ok(s) ? s : undefined;
  });
}

const closes = (s: Snapshot) => s.bars.map((b) => b.close);
const times = (s: Snapshot) => s.bars.map((b) => b.time);

Deno.test({
  name: "chart (browser): live bars of the selected symbol; switching interval resubscribes",
  ignore: noChromium,
}, async () => {
  let gw: Gateway | null = null;
  let browser: Browser | null = null;
  try {
    const fake = await fakeGateway();
    gw = fake.gw;
    browser = await openBrowser();
    const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } }))
      .newPage();
    const seen = watchErrors(page);
    await login(page, gw.proxy.addr.port);
    const load = await page.evaluate(`(() => {
      const nav = performance.getEntriesByType("navigation")[0];
      const js = performance.getEntriesByType("resource").find((r) => r.name.endsWith("/app.js"));
      return { domContentLoaded: Math.round(nav.domContentLoadedEventEnd),
        load: Math.round(nav.loadEventEnd), script: js ? js.encodedBodySize : -1 };
    })()`);
    console.log(`page load: ${JSON.stringify(load)} (ms since navigation; script bytes)`);

    assert.ok(await page.locator("#chart [data-part=plot]").isHidden(), "no chart before a pick");
    await page.locator("#chart [data-part=note]", { hasText: "Select a watchlist row" })
      .waitFor(WAIT);
    await addSymbols(page, "NSE", "RELIANCE, TCS", 2);
    await poll("RELIANCE and TCS streamed", () => {
      try {
        fake.trade("RELIANCE", "10:00:01", 99, 900);
        fake.trade("TCS", "10:00:01", 3000, 500);
        return Promise.resolve(true);
      } catch {
        return Promise.resolve(undefined);
      }
    });
    await priceOf(page, "NSE|RELIANCE");

    // Selecting a row charts it at the default interval, on the library's canvases.
    await select(page, "NSE|RELIANCE");
    await page.locator("#chart [data-part=title]", { hasText: "RELIANCE · NSE · 1m" }).waitFor(
      WAIT,
    );
    await page.locator("#chart [data-part=plot] canvas").first().waitFor(WAIT);
    await poll(
      "the 1m candle subscription",
      () => Promise.resolve(candleSeries(gw!) === 1 || undefined),
    );
    // Nothing recorded, and the series opened with the page's subscription: live bars only.
    await page.locator("#chart [data-part=note]", { hasText: "Live bars only" }).waitFor(WAIT);

    // The forming bar appears, then updates in place: same start, new close, no bar added.
    fake.trade("RELIANCE", "10:00:10", 100, 1000);
    let s = await chartWhere(page, "the forming 10:00 bar", (s) => closes(s).includes(100));
    assert.deepEqual(times(s), [ist("10:00:00")]);
    assert.equal(s.source, "live");
    fake.trade("RELIANCE", "10:00:20", 101.5, 1100);
    s = await chartWhere(page, "the forming bar updated", (s) => closes(s).includes(101.5));
    assert.deepEqual(times(s), [ist("10:00:00")], "updated in place, not appended");
    assert.deepEqual(s.bars[0], {
      time: ist("10:00:00"),
      open: 100,
      high: 101.5,
      low: 100,
      close: 101.5,
    });
    const legend = page.locator("#chart [data-part=legend]");
    await legend.filter({
      hasText: /O 100\.00 {2}H 101\.50 {2}L 100\.00 {2}C 101\.50 {2}V 100 .*forming/,
    })
      .waitFor(WAIT);

    // The clock passes the minute: the 10:00 bar closes, the 10:01 bar is appended after it.
    fake.setClock(ist("10:01:03"));
    fake.trade("RELIANCE", "10:01:02", 102, 1150);
    s = await chartWhere(page, "the 10:01 bar", (s) => s.bars.length === 2);
    assert.deepEqual(times(s), [ist("10:00:00"), ist("10:01:00")]);
    assert.deepEqual(closes(s), [101.5, 102]);

    // Switch to 5m: the 1m series is released at the gateway, the 5m one built from new ticks.
    await page.click(`#chart [data-interval="5m"]`);
    await page.locator("#chart [data-part=title]", { hasText: "RELIANCE · NSE · 5m" }).waitFor(
      WAIT,
    );
    assert.ok(await page.locator(`#chart [data-interval="5m"].on`).isVisible());
    s = await chartWhere(page, "an empty 5m chart", (s) => s.interval === "5m");
    assert.deepEqual(s.bars, [], "no 1m bar survives the switch");
    await poll("the 1m series released", async () => {
      fake.trade("RELIANCE", "10:01:30", 103, 1200);
      return candleSeries(gw!) === 1 && (await chartOf(page)).bars.length > 0 ? true : undefined;
    });
    s = await chartOf(page);
    assert.deepEqual(times(s), [ist("10:00:00")], "one 5m bar from 10:00");
    assert.equal(s.bars[0].close, 103);

    // Another row: the chart follows it at the chosen interval; RELIANCE's series is released.
    await select(page, "NSE|TCS");
    await page.locator("#chart [data-part=title]", { hasText: "TCS · NSE · 5m" }).waitFor(WAIT);
    await poll("a TCS bar with RELIANCE released", async () => {
      fake.trade("TCS", "10:02:00", 3001, 600);
      const s = await chartOf(page);
      return s.symbol === "TCS" && s.bars.length > 0 && candleSeries(gw!) === 1 ? true : undefined;
    });

    // An instrument the broker does not know: the chart says why there are no live bars.
    await addSymbols(page, "NSE", "BOGUS", 2);
    await page.locator(`#watch-rows [data-key="NSE|BOGUS"]`).waitFor(WAIT);
    await select(page, "NSE|BOGUS");
    await page.locator("#chart [data-part=note]", { hasText: /^No live bars: Symbol not found/ })
      .waitFor(WAIT);
    assert.deepEqual((await chartOf(page)).bars, []);
    await poll(
      "TCS released, BOGUS refused",
      () => Promise.resolve(candleSeries(gw!) === 0 || undefined),
    );

    // Removing the charted row empties the chart.
    await select(page, "NSE|TCS");
    await poll("TCS charted again", () => Promise.resolve(candleSeries(gw!) === 1 || undefined));
    await page.click(`#watch-rows [data-key="NSE|TCS"] button[data-action=remove]`);
    await page.locator("#chart [data-part=note]", { hasText: "Select a watchlist row" })
      .waitFor(WAIT);
    assert.ok(await page.locator("#chart [data-part=plot]").isHidden());
    await poll(
      "the TCS series released",
      () => Promise.resolve(candleSeries(gw!) === 0 || undefined),
    );

    assert.equal(seen.historyNotFound, 0);
    assert.deepEqual(seen.errors, [], "no script errors or CSP violations in the page");
  } finally {
    await stopAll(browser, gw);
  }
});

Deno.test({
  name: "chart (browser): backfilled history shows before the live bars, merged without a seam",
  ignore: noChromium,
}, async () => {
  let gw: Gateway | null = null;
  let browser: Browser | null = null;
  let strategy: TestClient | null = null;
  try {
    const fake = await fakeGateway();
    gw = fake.gw;
    // Another client (a strategy) has followed INFY's 1m bars since 10:00, so the gateway holds
    // them: 30 closed bars, 10:00 to 10:29, closing at 100, 101, … 129.
    strategy = await TestClient.connect(gw);
    await strategy.auth();
    await strategy.request({
      action: "subscribe_candles",
      symbols: [{ symbol: "INFY", exchange: "NSE" }],
      interval: "1m",
    }, "subscribe_candles");
    for (let k = 0; k < 30; k++) {
      const mm = String(k).padStart(2, "0");
      fake.setClock(ist(`10:${mm}:31`));
      fake.trade("INFY", `10:${mm}:30`, 100 + k, 1000 + 10 * k);
    }
    fake.setClock(ist("10:30:06"));
    fake.trade("INFY", "10:30:05", 130, 1300); // closes 10:29; 10:30 is forming
    await poll("30 closed bars at the gateway", () => {
      const closed = strategy!.frames.filter((f) =>
        f.type === "candle" && (f.data as { closed: boolean }).closed
      );
      return Promise.resolve(closed.length >= 30 || undefined);
    });

    browser = await openBrowser();
    const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } }))
      .newPage();
    const seen = watchErrors(page);
    // The page's WebSocket passes through the test, so the test can cut it (a network drop).
    let socket: { page: WebSocketRoute; server: WebSocketRoute } | null = null;
    await page.routeWebSocket(/.*/, (ws) => {
      socket = { page: ws, server: ws.connectToServer() };
    });
    const requests: string[] = [];
    page.on("request", (r) => {
      if (r.url().includes("/api/v1/candles")) requests.push(r.url());
    });
    await login(page, gw.proxy.addr.port);
    await addSymbols(page, "NSE", "INFY", 2);
    await poll("INFY on the page", () => {
      fake.trade("INFY", "10:30:10", 131, 1310);
      return priceOf(page, "NSE|INFY").then(() => true, () => undefined);
    });
    await select(page, "NSE|INFY");
    await page.locator("#chart [data-part=note]", { hasText: "History + live" }).waitFor(WAIT);
    let s = await chartWhere(page, "the backfill", (s) => s.bars.length >= 31);
    assert.equal(requests.length, 1);
    const q = new URL(requests[0]).searchParams;
    assert.deepEqual([q.get("exchange"), q.get("symbol"), q.get("interval")], [
      "NSE",
      "INFY",
      "1m",
    ]);
    // History first: one bar per minute from 10:00, the gateway's closes, then the forming bar.
    const minutes = (n: number) => Array.from({ length: n }, (_, i) => ist("10:00:00") + i * MIN);
    assert.deepEqual(times(s), minutes(31));
    assert.deepEqual(closes(s).slice(0, 30), Array.from({ length: 30 }, (_, k) => 100 + k));
    assert.equal(s.source, "history+live");

    // Live continues the same series: the forming 10:30 bar updates in place (no second 10:30
    // bar), then 10:31 is appended after it.
    fake.setClock(ist("10:30:41"));
    fake.trade("INFY", "10:30:40", 140, 1400);
    s = await chartWhere(page, "the forming bar updated live", (s) => closes(s).includes(140));
    assert.deepEqual(times(s), minutes(31), "updated in place, no duplicated bar at the seam");
    assert.deepEqual(s.bars.at(-1), {
      time: ist("10:30:00"),
      open: 130,
      high: 140,
      low: 130,
      close: 140,
    });
    fake.setClock(ist("10:31:03"));
    fake.trade("INFY", "10:31:02", 141, 1410);
    s = await chartWhere(page, "the 10:31 bar", (s) => s.bars.length === 32);
    assert.deepEqual(times(s), minutes(32));
    assert.deepEqual(closes(s).slice(-2), [140, 141]);
    assert.ok(s.historyBars >= 30 && s.historyBars <= 31, `${s.historyBars} history bars`);

    // Another interval asks history again, for that interval: the strategy holds no 5m series,
    // so the 5m chart starts from live bars.
    await page.click(`#chart [data-interval="5m"]`);
    await page.locator("#chart [data-part=note]", { hasText: "Live bars only" }).waitFor(WAIT);
    await poll(
      "a second history request",
      () => Promise.resolve(requests.length === 2 || undefined),
    );
    assert.equal(new URL(requests[1]).searchParams.get("interval"), "5m");
    await poll("5m live bars", async () => {
      fake.trade("INFY", "10:31:30", 142, 1420);
      const s = await chartOf(page);
      return s.interval === "5m" && s.bars.length === 1 ? s : undefined;
    });
    // The page's 1m series is released; the strategy's stays: the gateway builds 1m and 5m.
    await poll(
      "two series at the gateway",
      () => Promise.resolve(candleSeries(gw!) === 2 || undefined),
    );

    // The connection drops. The page reconnects, subscribes again and backfills what it missed
    // (a new history request); live bars reach it on the new connection (the old one is closed
    // on the page's side, so nothing it still carries can reach the page).
    const before = socket!;
    await before.server.close({ code: 1001, reason: "test: network drop" });
    await before.page.close({ code: 1001, reason: "test: network drop" });
    await page.locator("#conn-text", { hasText: "Offline" }).waitFor(WAIT);
    await poll("the page back on a new connection", () =>
      Promise.resolve(
        socket !== before && requests.length === 3 || undefined,
      ));
    await poll("5m live bars after the reconnect", async () => {
      fake.trade("INFY", "10:32:00", 143, 1430);
      const s = await chartOf(page);
      return s.interval === "5m" && s.bars.at(-1)?.close === 143 ? s : undefined;
    });
    const shot = `${await Deno.makeTempDir({ prefix: "tickplex-dashboard-" })}/chart.png`;
    await page.screenshot({ path: shot, timeout: 10_000 });
    console.log(`chart screenshot: ${shot}`);
    assert.equal(seen.historyNotFound, 0);
    assert.deepEqual(seen.errors, []);
  } finally {
    await stopAll(browser, gw, strategy);
  }
});
