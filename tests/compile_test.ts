// The single binary: `deno task compile` must produce one executable that carries the adapter
// workers and runs the gateway under the same permission set. Compiling needs Deno's runtime stub
// (denort), which Deno downloads from dl.deno.land on first use: `.ci/run` fetches it where the
// network allows; where it is not cached this test is skipped with that explanation.

import assert from "node:assert/strict";
import { freePort, TEST_KEY, TestClient } from "./helpers/gateway.ts";
import { ROOT, waitHealthy } from "./helpers/process.ts";

function denortCached(): boolean {
  const out = new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  })
    .outputSync();
  const denoDir = JSON.parse(new TextDecoder().decode(out.stdout)).denoDir as string;
  const release = `${denoDir}/dl/release/v${Deno.version.deno}`;
  try {
    for (const e of Deno.readDirSync(release)) if (e.name.startsWith("denort")) return true;
  } catch {
    // not downloaded
  }
  return false;
}

const cached = denortCached();
if (!cached) {
  console.warn(
    `compile_test: skipped — deno compile needs Deno's runtime stub (denort ${Deno.version.deno}), ` +
      "downloaded from dl.deno.land on first use and not cached on this machine. " +
      "Run `deno task compile` once with network access (as .ci/run does) to enable this test.",
  );
}

Deno.test({
  name: "compile: one executable with the workers inside serves the paper market",
  ignore: !cached,
  async fn() {
    const out = await Deno.makeTempDir();
    try {
      const build = await new Deno.Command(Deno.execPath(), {
        args: ["task", "compile"],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(build.code, 0, new TextDecoder().decode(build.stderr));
      const port = freePort();
      await Deno.copyFile(`${ROOT}dist/tickplex`, `${out}/tickplex`);
      await Deno.chmod(`${out}/tickplex`, 0o755);
      const child = new Deno.Command(`${out}/tickplex`, {
        args: ["--port", String(port), "--bus", `tcp://127.0.0.1:${freePort()}`],
        cwd: ROOT,
        env: { TICKPLEX_API_KEY: TEST_KEY },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      let text = "";
      const drain = Promise.all([child.stdout, child.stderr].map(async (s) => {
        for await (const c of s) text += new TextDecoder().decode(c);
      }));
      try {
        await waitHealthy(port, { child, output: () => text, status: child.status });
        const c = await TestClient.connect(port);
        await c.auth();
        await c.request({ action: "subscribe", symbol: "TCS", exchange: "NSE" }, "subscribe");
        await c.waitFor((f) => f.type === "market_data", 10_000);
        child.kill("SIGTERM");
        assert.equal((await c.waitClose()).code, 1001);
        assert.equal((await child.status).code, 0);
      } finally {
        try {
          child.kill("SIGKILL");
        } catch {
          // exited
        }
        await child.status;
        await drain;
      }
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
