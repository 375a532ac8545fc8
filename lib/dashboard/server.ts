// HTTP side of the dashboard: the page and its assets (embedded, served with a strict
// Content-Security-Policy) and the authenticated `GET /api/v1/status` JSON endpoint.

import type { DashboardStatus } from "./status_types.ts";

/** The page's files as served. */
export interface DashboardAssets {
  html: string;
  css: string;
  js: string;
  icon: string;
}

/** What the routes need. */
export interface DashboardRouteDeps {
  assets: DashboardAssets;
  /**
   * Null when the request carries a valid API key (`Authorization: Bearer <key>`), else the
   * 401/429 response to return — the gateway's `authorize`, shared with its other endpoints.
   */
  authorize(req: Request, info: { address: string }): Promise<Response | null>;
  status(): DashboardStatus;
}

/** Path of the status endpoint. */
export const STATUS_PATH = "/api/v1/status";

/** Paths of the page and its files (GET and HEAD). */
export const DASHBOARD_PATHS: readonly string[] = [
  "/",
  "/index.html",
  "/dashboard/app.css",
  "/dashboard/app.js",
  "/dashboard/icon.svg",
];

/**
 * No inline script or style, nothing from another origin: the page loads its own script, style
 * sheet and icon and talks to its own origin only (`'self'` covers ws:// and wss:// there).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

interface StaticFile {
  type: string;
  body: Uint8Array<ArrayBuffer>;
  etag: string;
}

/**
 * Builds the dashboard's request handler. It answers `/`, `/index.html`, `/dashboard/*` and
 * `/api/v1/status`, and returns null for anything else so other routes can answer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { DashboardStatus } from "./status_types.ts";
 * const assets = { html: "<!doctype html>", css: "", js: "", icon: "<svg/>" };
 * const route = dashboardRoutes({
 *   assets,
 *   authorize: (req) => Promise.resolve(req.headers.has("authorization") ? null : new Response(null, { status: 401 })),
 *   status: () => ({ broker: "paper" }) as DashboardStatus,
 * });
 * const page = await route(new Request("http://127.0.0.1/"), { address: "127.0.0.1" });
 * assert.equal(await page?.text(), "<!doctype html>");
 * assert.match(page?.headers.get("content-security-policy") ?? "", /default-src 'none'/);
 * const status = new Request("http://127.0.0.1/api/v1/status");
 * assert.equal((await route(status, { address: "127.0.0.1" }))?.status, 401);
 * ```
 */
export function dashboardRoutes(
  deps: DashboardRouteDeps,
): (req: Request, info: { address: string }) => Promise<Response | null> {
  const files = new Map<string, StaticFile>();
  const add = (paths: string[], type: string, text: string) => {
    const body = new TextEncoder().encode(text);
    const file = { type, body, etag: etagOf(body) };
    for (const p of paths) files.set(p, file);
  };
  const [root, index, css, js, icon] = DASHBOARD_PATHS;
  add([root, index], "text/html; charset=utf-8", deps.assets.html);
  add([css], "text/css; charset=utf-8", deps.assets.css);
  add([js], "text/javascript; charset=utf-8", deps.assets.js);
  add([icon], "image/svg+xml", deps.assets.icon);

  return async (req, info) => {
    const path = new URL(req.url).pathname;
    if (path === STATUS_PATH) {
      if (req.method !== "GET") return methodNotAllowed("GET");
      const denied = await deps.authorize(req, info);
      if (denied) return denied;
      return json(deps.status(), 200);
    }
    const file = files.get(path);
    if (!file) return null;
    if (req.method !== "GET" && req.method !== "HEAD") return methodNotAllowed("GET, HEAD");
    const headers = new Headers({
      ...SECURITY_HEADERS,
      "content-type": file.type,
      // Revalidated on every load so a gateway upgrade is picked up at once; unchanged → 304.
      "cache-control": "no-cache",
      etag: file.etag,
    });
    if (req.headers.get("if-none-match") === file.etag) {
      return new Response(null, { status: 304, headers });
    }
    headers.set("content-length", String(file.body.byteLength));
    return new Response(req.method === "HEAD" ? null : file.body, { status: 200, headers });
  };
}

function json(body: unknown, status: number): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "content-type": "application/json",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
}

function methodNotAllowed(allow: string): Response {
  const res = json({ status: "error", message: "Method not allowed" }, 405);
  res.headers.set("allow", allow);
  return res;
}

/** FNV-1a over the bytes, plus the length: enough to tell two versions of a file apart. */
function etagOf(body: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < body.length; i++) h = Math.imul(h ^ body[i], 0x01000193);
  return `"${(h >>> 0).toString(16)}-${body.length.toString(16)}"`;
}
