// Instrument masters that come in several files (Fyers' NSE_CM/NSE_FO CSVs, Kotak's per-segment
// scrip masters): the option that names them, the hosts and paths they need, and loading them all.

import { z } from "zod";
import { isUrlSource, loadMasterText } from "../../lib/adapter/instruments.ts";
import { reach } from "../../lib/adapter/options.ts";

/**
 * One file/URL, a comma-separated list (as `--instruments a.csv,b.csv` gives it), or an array.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(instrumentSources.parse("a.csv, b.csv"), ["a.csv", "b.csv"]);
 * assert.deepEqual(instrumentSources.parse(["x.csv"]), ["x.csv"]);
 * ```
 */
export const instrumentSources = z.union([z.string(), z.array(z.string())])
  .transform((v) =>
    (Array.isArray(v) ? v : v.split(",")).map((s) => s.trim()).filter((s) => s !== "")
  )
  .refine((v) => v.length > 0, "must name at least one instruments file or URL");

/**
 * The hosts and read paths of feed/REST URLs plus every instrument source.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(reachAll(["wss://a.in/x"], ["https://b.in/1.csv", "/tmp/2.csv"]), {
 *   hosts: ["a.in:443", "b.in:443"], readPaths: ["/tmp/2.csv"],
 * });
 * ```
 */
export function reachAll(
  urls: readonly string[],
  sources: readonly string[],
): { hosts: string[]; readPaths: string[] } {
  const hosts: string[] = [];
  const readPaths: string[] = [];
  const parts = sources.length === 0
    ? [reach(urls, undefined)]
    : sources.map((s, i) => reach(i === 0 ? urls : [], s));
  for (const p of parts) {
    for (const h of p.hosts) if (!hosts.includes(h)) hosts.push(h);
    for (const r of p.readPaths) if (!readPaths.includes(r)) readPaths.push(r);
  }
  return { hosts, readPaths };
}

/**
 * Loads every source's text, in order (files and URLs alike; 401/403 → AuthError).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "x\n");
 * assert.deepEqual(await loadSources([path]), [{ source: path, text: "x\n" }]);
 * await Deno.remove(path);
 * ```
 */
export async function loadSources(
  sources: readonly string[],
  signal?: AbortSignal,
  headers?: Record<string, string>,
): Promise<{ source: string; text: string }[]> {
  const out: { source: string; text: string }[] = [];
  for (const source of sources) {
    const text = await loadMasterText({
      location: source,
      signal,
      headers: isUrlSource(source) ? headers : undefined,
    });
    out.push({ source, text });
  }
  return out;
}
