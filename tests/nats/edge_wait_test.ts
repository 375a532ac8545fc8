// An edge started before any primary waits for one (it does not listen meanwhile) and still stops
// at once on SIGTERM.

import assert from "node:assert/strict";
import { freePort, TEST_KEY, until } from "../helpers/gateway.ts";
import { spawnGateway } from "../helpers/process.ts";
import { startNatsServer } from "../helpers/nats_server.ts";

Deno.test("edge without a primary: waits without listening, SIGTERM ends the wait", async () => {
  const nats = await startNatsServer();
  const port = freePort();
  const proc = spawnGateway(["--upstream", nats.url, "--port", String(port)], {
    perms: ["-P=edge"],
    env: { TICKPLEX_API_KEY: TEST_KEY },
  });
  try {
    await until(() => proc.output().includes("waiting for the primary"), 30_000, "the wait");
    await assert.rejects(fetch(`http://127.0.0.1:${port}/health`), "nothing listens yet");
    proc.child.kill("SIGTERM");
    const status = await proc.status;
    assert.equal(status.code, 1);
    assert.match(proc.output(), /stopped while waiting for the primary/);
  } finally {
    try {
      proc.child.kill("SIGKILL");
    } catch { /* exited */ }
    await proc.status;
    await nats.stop();
  }
});

Deno.test("a NATS server outside the permission set fails at start naming the flag to add (no connect attempted)", async () => {
  // 192.0.2.1 is TEST-NET-1: never reachable, and never tried — the permission check comes first.
  for (
    const [args, perms] of [
      [
        ["--bus", "nats://192.0.2.1:4222", "--port", "0", "--bus", `tcp://127.0.0.1:${freePort()}`],
        [
          "-P=gateway",
        ],
      ],
      [["--upstream", "nats://192.0.2.1:4222", "--port", "0"], ["-P=edge"]],
    ] as const
  ) {
    const proc = spawnGateway([...args], {
      perms: [...perms],
      env: { TICKPLEX_API_KEY: TEST_KEY },
    });
    const status = await proc.status;
    assert.notEqual(status.code, 0, proc.output());
    assert.match(proc.output(), /--allow-net=192\.0\.2\.1:4222/);
  }
});
