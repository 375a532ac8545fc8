// What the dashboard page costs a browser to open: script bytes, and the time from navigation to
// the load event and to the page's first chart, in the system Chromium, over a few cold loads.
// Printed figures only. An assets module of another build (an older assets.gen.ts) can be given
// to compare.
//
// Run: deno task bench:dashboard [path/to/assets.gen.ts]

import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { dashboardRoutes } from "../lib/dashboard/mod.ts";
import type { DashboardStatus } from "../lib/dashboard/mod.ts";
import { CHROMIUM, noChromium, openBrowser } from "../tests/dashboard/browser.ts";

const LOADS = 5;

interface Assets {
  PAGE_HTML: string;
  PAGE_CSS: string;
  PAGE_JS: string;
  PAGE_ICON: string;
}

/** Page-side: navigation timing, and when the first chart canvas appeared (ms since navigation). */
const MEASURE = `new Promise((resolve) => {
  const done = () => {
    const nav = performance.getEntriesByType("navigation")[0];
    resolve({
      load: nav.loadEventEnd,
      canvas: document.querySelector("canvas") ? performance.now() : -1,
    });
  };
  const wait = () => (document.readyState === "complete" && (document.querySelector("canvas") ||
    performance.now() > 5000)) ? done() : requestAnimationFrame(wait);
  wait();
})`;

async function main(): Promise<void> {
  if (noChromium) {
    console.log(`no Chromium at ${CHROMIUM}: nothing measured`);
    return;
  }
  const module = Deno.args[0]
    ? pathToFileURL(resolve(Deno.args[0])).href
    : new URL("../lib/dashboard/assets.gen.ts", import.meta.url).href;
  const a: Assets = await import(module);
  const route = dashboardRoutes({
    assets: { html: a.PAGE_HTML, css: a.PAGE_CSS, js: a.PAGE_JS, icon: a.PAGE_ICON },
    authorize: () => Promise.resolve(new Response(null, { status: 401 })),
    status: () => ({}) as DashboardStatus,
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req, info) =>
      (await route(req, { address: info.remoteAddr.hostname })) ??
        new Response(null, { status: 404 }),
  );
  const browser = await openBrowser();
  try {
    const js = new TextEncoder().encode(a.PAGE_JS).byteLength;
    const gz = (await new Response(
      new Blob([a.PAGE_JS]).stream().pipeThrough(new CompressionStream("gzip")),
    ).arrayBuffer()).byteLength;
    console.log(`${module}\n  script ${js} bytes (${gz} gzipped; served uncompressed)`);
    const loads: number[] = [], charts: number[] = [];
    for (let i = 0; i < LOADS; i++) {
      const context = await browser.newContext(); // cold: no cache
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${server.addr.port}/`, { waitUntil: "load" });
      const m = await page.evaluate(MEASURE) as { load: number; canvas: number };
      loads.push(m.load);
      charts.push(m.canvas);
      await context.close();
    }
    const med = (v: number[]) => Math.round([...v].sort((x, y) => x - y)[v.length >> 1]);
    console.log(
      `  ${LOADS} cold loads: load event median ${med(loads)} ms; first chart canvas median ${
        med(charts)
      } ms (-1: the page draws none before login)`,
    );
  } finally {
    await browser.close();
    await server.shutdown();
  }
}

await main();
