import assert from "node:assert/strict";
import { CONTENT_SECURITY_POLICY, dashboardRoutes, STATUS_PATH } from "./server.ts";
import type { DashboardStatus } from "./status_types.ts";

const assets = {
  html: '<!doctype html><script type="module" src="/dashboard/app.js"></script>',
  css: "body{}",
  js: "console.log(1);",
  icon: "<svg/>",
};
const info = { address: "127.0.0.1" };
const status = { broker: "paper" } as DashboardStatus;

function routes() {
  return dashboardRoutes({
    assets,
    authorize: (req) =>
      Promise.resolve(
        req.headers.get("authorization") === "Bearer good"
          ? null
          : Response.json({ status: "error", code: "AUTHENTICATION_ERROR" }, { status: 401 }),
      ),
    status: () => status,
  });
}

Deno.test("dashboard routes: the page and assets with content types, CSP and revalidation", async () => {
  const route = routes();
  const page = await route(new Request("http://h/"), info);
  assert.equal(page?.status, 200);
  assert.equal(page?.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(page?.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY);
  assert.match(CONTENT_SECURITY_POLICY, /script-src 'self'/);
  assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval/);
  assert.equal(page?.headers.get("x-content-type-options"), "nosniff");
  assert.equal(await page?.text(), assets.html);

  const js = await route(new Request("http://h/dashboard/app.js"), info);
  assert.equal(js?.headers.get("content-type"), "text/javascript; charset=utf-8");
  const etag = js?.headers.get("etag");
  assert.ok(etag);
  await js?.body?.cancel();
  const again = await route(
    new Request("http://h/dashboard/app.js", { headers: { "if-none-match": etag } }),
    info,
  );
  assert.equal(again?.status, 304);
  const css = await route(new Request("http://h/dashboard/app.css", { method: "HEAD" }), info);
  assert.equal(css?.status, 200);
  assert.equal(css?.headers.get("content-type"), "text/css; charset=utf-8");
  assert.equal(css?.headers.get("content-length"), String(assets.css.length));
  assert.equal(css?.body, null);
  const icon = await route(new Request("http://h/dashboard/icon.svg"), info);
  assert.equal(icon?.headers.get("content-type"), "image/svg+xml");
  await icon?.body?.cancel();

  const post = await route(new Request("http://h/", { method: "POST" }), info);
  assert.equal(post?.status, 405);
  assert.equal(post?.headers.get("allow"), "GET, HEAD");
  await post?.body?.cancel();
  assert.equal(await route(new Request("http://h/other"), info), null, "other paths fall through");
});

Deno.test("dashboard routes: the status needs the API key and is never cached", async () => {
  const route = routes();
  const denied = await route(new Request(`http://h${STATUS_PATH}`), info);
  assert.equal(denied?.status, 401);
  await denied?.body?.cancel();
  const ok = await route(
    new Request(`http://h${STATUS_PATH}`, { headers: { authorization: "Bearer good" } }),
    info,
  );
  assert.equal(ok?.status, 200);
  assert.equal(ok?.headers.get("cache-control"), "no-store");
  assert.deepEqual(await ok?.json(), { broker: "paper" });
  const post = await route(new Request(`http://h${STATUS_PATH}`, { method: "POST" }), info);
  assert.equal(post?.status, 405);
  await post?.body?.cancel();
});
