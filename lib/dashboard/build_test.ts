import assert from "node:assert/strict";
import { ASSETS_MODULE, bundlerVersion, pageSourceDigest, renderAssetsModule } from "./build.ts";
import { PAGE_BUNDLER, PAGE_SOURCES_SHA256 } from "./assets.gen.ts";

const STALE = "lib/dashboard/assets.gen.ts is out of date with lib/dashboard/page/: " +
  "run `deno task dashboard:build` and commit it";

Deno.test("dashboard: assets.gen.ts was built from the current page sources", async () => {
  assert.equal(await pageSourceDigest(), PAGE_SOURCES_SHA256, STALE);
});

Deno.test("dashboard: assets.gen.ts is exactly what the build produces (same Deno as the build)", async () => {
  if (bundlerVersion() !== PAGE_BUNDLER) {
    // Another Deno bundles with another esbuild, whose output may differ in form only; the
    // source digest above still proves the assets match their sources.
    console.warn(
      `skipping the byte-for-byte bundle check: assets.gen.ts was bundled by ${PAGE_BUNDLER}, ` +
        `this is ${bundlerVersion()}`,
    );
    return;
  }
  assert.ok((await renderAssetsModule()) === (await Deno.readTextFile(ASSETS_MODULE)), STALE);
});
