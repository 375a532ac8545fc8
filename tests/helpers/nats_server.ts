// A real nats-server (the Debian package's binary) on a free loopback port, for the tests and the
// load bench: nothing is mocked.

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A running nats-server child. */
export interface NatsServer {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Stops it (SIGTERM, then waits). */
  stop(): Promise<void>;
}

function binary(): string {
  for (const p of ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"]) {
    try {
      Deno.statSync(p);
      return p;
    } catch { /* next */ }
  }
  return "nats-server";
}

/**
 * Starts nats-server on 127.0.0.1 (extra args, e.g. `["--user", "u", "--pass", "p"]`), on a free
 * port or on `port` (to restart one where its clients expect it).
 */
export async function startNatsServer(
  extra: string[] = [],
  port = freePort(),
): Promise<NatsServer> {
  const child = new Deno.Command(binary(), {
    args: ["-a", "127.0.0.1", "-p", String(port), ...extra],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let log = "";
  const pump = (async () => {
    const dec = new TextDecoder();
    for await (const chunk of child.stderr) log += dec.decode(chunk);
  })();
  const deadline = Date.now() + 20_000;
  while (!log.includes("Server is ready")) {
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`nats-server did not start:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
      await pump;
    },
  };
}
