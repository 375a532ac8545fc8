// Loads playwright-core under Deno's permission model. Node's `fs.existsSync` never throws, but
// Deno's throws NotCapable for paths it reserves for --allow-all (such as /proc/sys/...), and
// playwright-core probes one of those while it loads (its WSL detection). Outside --allow-all that
// probe must read as "does not exist", as it would in Node; nothing else is changed.

import fs from "node:fs";

const existsSync = fs.existsSync;
fs.existsSync = (path: fs.PathLike): boolean => {
  try {
    return existsSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotCapable) return false;
    throw err;
  }
};

const playwright = await import("playwright-core");

/** playwright-core's Chromium launcher. */
export const chromium: typeof playwright.chromium = playwright.chromium;
export type { Browser, Page } from "playwright-core";
