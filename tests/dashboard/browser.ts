// Shared pieces of the dashboard's browser tests: the system Chromium (driven by playwright-core),
// logging in, adding symbols, bounded polling and collecting page errors.

import { type Browser, chromium, type Page } from "./playwright.ts";
import { TEST_KEY, type TestClient } from "../helpers/gateway.ts";
import type { Gateway } from "../../lib/gateway.ts";

export type { Browser, Page };

/** The system Chromium the tests drive. */
export const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

function chromiumInstalled(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

/** True when Chromium is absent: the browser tests are then ignored, with a warning. */
export const noChromium: boolean = !chromiumInstalled();
if (noChromium) {
  console.warn(
    `SKIPPING the dashboard browser tests: ${CHROMIUM} is not installed ` +
      "(apt-get install -y chromium; .ci/run installs it).",
  );
}

/** Bound of every wait: liveness only, generous for a machine running several suites at once. */
export const WAIT = { timeout: 30_000 };

/** A headless Chromium. */
export async function openBrowser(): Promise<Browser> {
  return await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
}

/** What {@link watchErrors} collects. */
export interface PageErrors {
  /** Page errors and console errors (CSP violations are reported there). */
  errors: string[];
  /**
   * 404s of the candle history endpoint, which Chromium logs as console errors: a gateway without
   * the endpoint answers one, and the page must then stop asking (counted, not an error).
   */
  historyNotFound: number;
}

/** Collects the page's errors from now on. */
export function watchErrors(page: Page): PageErrors {
  const seen: PageErrors = { errors: [], historyNotFound: 0 };
  page.on("pageerror", (e) => seen.errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    const url = m.location().url ?? "";
    if (/ 404 /.test(m.text()) && new URL(url, "http://x/").pathname === "/api/v1/candles") {
      seen.historyNotFound++;
    } else seen.errors.push(`console: ${m.text()} (${url})`);
  });
  return seen;
}

/** Opens the dashboard, enters the test key and waits until the feed is live. */
export async function login(page: Page, port: number): Promise<void> {
  await page.goto(`http://127.0.0.1:${port}/`, { waitUntil: "load", timeout: 30_000 });
  await page.locator("#login").waitFor({ state: "visible", ...WAIT });
  await page.fill("#key-input", TEST_KEY);
  await page.click("#login-form button[type=submit]");
  await page.locator("#login").waitFor({ state: "hidden", ...WAIT });
  await page.locator("#conn-text", { hasText: "Live" }).waitFor(WAIT);
}

/** Adds symbols (comma-separated) to the watchlist through the add form. */
export async function addSymbols(
  page: Page,
  exchange: string,
  symbols: string,
  mode: 1 | 2 | 3,
): Promise<void> {
  await page.selectOption("#add-exchange", exchange);
  await page.selectOption("#add-mode", String(mode));
  await page.fill("#add-symbol", symbols);
  await page.click("#add-form button[type=submit]");
}

/** Polls `probe` until it returns a value (not undefined), for at most `timeoutMs`. */
export async function poll<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = WAIT.timeout,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timeout after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A price as the page formats it. */
export const PRICE: RegExp = /^\d[\d,]*\.\d{2}$/;

/** The LTP cell's text once it shows a price. */
export async function priceOf(page: Page, key: string): Promise<string> {
  const cell = page.locator(`#watch-rows [data-key="${key}"] .ltp`);
  return await poll(`a price for ${key}`, async () => {
    const t = await cell.textContent({ timeout: 1000 }).catch(() => null);
    return t !== null && PRICE.test(t) ? t : undefined;
  });
}

/** Waits until the LTP of `key` changes. */
export async function priceChanges(page: Page, key: string): Promise<void> {
  const first = await priceOf(page, key);
  await poll(`the price of ${key} to change from ${first}`, async () => {
    const t = await priceOf(page, key);
    return t !== first ? t : undefined;
  });
}

/** Waits until the gate panel shows `text`. */
export async function gateIs(page: Page, text: "SAFE" | "PAUSED", timeout = 30_000): Promise<void> {
  await page.locator(`#feed [data-part=gate-state]`, { hasText: new RegExp(`^${text}$`) })
    .waitFor({ timeout });
}

/**
 * Page-side script (a string: it runs in the browser, not in Deno): counts animation frames and
 * long tasks for 3 s and resolves with the frame count, the longest gap between frames (ms) and
 * the number of long tasks.
 */
export const MEASURE_FRAMES = `new Promise((resolve) => {
  let frames = 0, maxGap = 0, last = performance.now(), longTasks = 0;
  const obs = new PerformanceObserver((l) => { longTasks += l.getEntries().length; });
  try { obs.observe({ type: "longtask" }); } catch { /* not supported: counted as 0 */ }
  const end = last + 3000;
  const step = (t) => {
    frames++;
    maxGap = Math.max(maxGap, t - last);
    last = t;
    if (t < end) requestAnimationFrame(step);
    else {
      obs.disconnect();
      resolve({ frames, maxGap: Math.round(maxGap), longTasks });
    }
  };
  requestAnimationFrame(step);
})`;

/** Closes the client, the browser and the gateway, each even if the one before failed. */
export async function stopAll(
  browser: Browser | null,
  gw: Gateway | null,
  client?: TestClient | null,
): Promise<void> {
  try {
    await client?.close();
  } finally {
    try {
      await browser?.close();
    } finally {
      await gw?.stop();
    }
  }
}
