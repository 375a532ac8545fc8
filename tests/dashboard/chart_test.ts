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
import { startGateway, TEST_KEY } from "../helpers/gateway.ts";
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

/** A gateway over a fake broker whose candle clock the test sets. */
async function fakeGateway(): Promise<{
  gw: Gateway;
  setClock(t: number): void;
  trade(symbol: string, hhmmss: string, ltp: number, volume: number): void;
}> {
  let clock = ist("10:00:00");
  const f = fakeFactory(KNOWN);
  const gw = await startGateway({}, { linkFactory: f.factory, candleClock: () => clock });
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
    // No history endpoint on this gateway: the chart says so and starts from live bars.
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

    // Three charts opened; a gateway without history is asked once, not per chart.
    assert.ok(seen.historyNotFound <= 1, `${seen.historyNotFound} history 404s`);
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
  try {
    const fake = await fakeGateway();
    gw = fake.gw;
    const now = ist("10:30:20");
    fake.setClock(now);
    // The history contract (GET /api/v1/candles, issue #17 part 3), answered here with 30 closed
    // bars at a price the live ticks never have, then a forming bar at the current one that the
    // live bar of the same start must replace.
    const requests: URLSearchParams[] = [];
    const HIST = 1.5;
    gw.proxy.routes.add({
      path: "/api/v1/candles",
      methods: ["GET"],
      handler: (req) => {
        if (req.headers.get("authorization") !== `Bearer ${TEST_KEY}`) {
          return Response.json({ status: "error", message: "no key" }, { status: 401 });
        }
        const q = new URL(req.url).searchParams;
        requests.push(q);
        const step = q.get("interval") === "5m" ? 5 * MIN : MIN;
        const current = Math.floor(now / step) * step;
        const candles = [];
        for (let k = 30; k >= 0; k--) {
          const p = { open: HIST, high: HIST, low: HIST, close: HIST };
          candles.push({ time: current - k * step, ...p, volume: 10, closed: k > 0 });
        }
        const data = {
          exchange: q.get("exchange"),
          symbol: q.get("symbol"),
          interval: q.get("interval"),
          candles,
        };
        return Response.json({ status: "success", data });
      },
    });
    browser = await openBrowser();
    const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } }))
      .newPage();
    const seen = watchErrors(page);
    await login(page, gw.proxy.addr.port);
    await addSymbols(page, "NSE", "INFY", 2);
    await poll("INFY streamed", () => {
      try {
        fake.trade("INFY", "10:30:01", 199, 100);
        return Promise.resolve(true);
      } catch {
        return Promise.resolve(undefined);
      }
    });
    await priceOf(page, "NSE|INFY");
    await select(page, "NSE|INFY");
    await page.locator("#chart [data-part=note]", { hasText: "History + live" }).waitFor(WAIT);
    await poll(
      "the candle subscription",
      () => Promise.resolve(candleSeries(gw!) === 1 || undefined),
    );
    fake.trade("INFY", "10:30:25", 200, 150);

    let s = await chartWhere(
      page,
      "history and the live bar merged",
      (s) => closes(s).includes(200),
    );
    assert.equal(requests.length, 1);
    const q = requests[0];
    assert.deepEqual([q.get("exchange"), q.get("symbol"), q.get("interval")], [
      "NSE",
      "INFY",
      "1m",
    ]);
    assert.ok(Number(q.get("from")) < Number(q.get("to")));
    // History first, then the live bar in place of history's forming one: one bar per minute.
    const expected = Array.from({ length: 31 }, (_, i) => ist("10:00:00") + i * MIN);
    assert.deepEqual(times(s), expected);
    assert.deepEqual(closes(s), [...Array(30).fill(HIST), 200]);
    assert.equal(s.historyBars, 30);
    assert.equal(s.source, "history+live");

    // The live forming bar keeps updating in place, then the next minute is appended.
    fake.trade("INFY", "10:30:40", 201, 160);
    s = await chartWhere(page, "the forming bar updated", (s) => closes(s).includes(201));
    assert.equal(s.bars.length, 31);
    fake.setClock(ist("10:31:05"));
    fake.trade("INFY", "10:31:01", 202, 170);
    s = await chartWhere(page, "the 10:31 bar", (s) => s.bars.length === 32);
    assertAscending(s.bars);
    assert.deepEqual(closes(s).slice(-2), [201, 202]);

    // Another interval asks history again, for that interval.
    await page.click(`#chart [data-interval="5m"]`);
    s = await chartWhere(page, "5m history", (s) => s.interval === "5m" && s.historyBars === 31);
    assert.equal(requests.at(-1)?.get("interval"), "5m");
    assertAscending(s.bars);
    assert.ok(s.bars.every((b) => b.time % (5 * MIN) === 0));
    await poll(
      "the 1m series released",
      () => Promise.resolve(candleSeries(gw!) === 1 || undefined),
    );
    const shot = `${await Deno.makeTempDir({ prefix: "tickplex-dashboard-" })}/chart.png`;
    await page.screenshot({ path: shot, timeout: 10_000 });
    console.log(`chart screenshot: ${shot}`);
    assert.equal(seen.historyNotFound, 0);
    assert.deepEqual(seen.errors, []);
  } finally {
    await stopAll(browser, gw);
  }
});
