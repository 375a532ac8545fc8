// Runs the gateway as users do — a separate `deno run main.ts` process under the `gateway`
// permission set — and captures its output.

export const ROOT = new URL("../..", import.meta.url).pathname;

export interface Proc {
  child: Deno.ChildProcess;
  output: () => string;
  status: Promise<Deno.CommandStatus>;
}

export function spawnGateway(
  args: string[],
  opts: { env?: Record<string, string>; perms?: string[]; cwd?: string } = {},
): Proc {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...(opts.perms ?? ["-P=gateway"]),
      "--unstable-worker-options",
      "--config",
      `${ROOT}deno.json`,
      `${ROOT}main.ts`,
      ...args,
    ],
    cwd: opts.cwd ?? ROOT,
    env: { NO_COLOR: "1", ...opts.env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  const dec = new TextDecoder();
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) out += dec.decode(chunk);
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  return { child, output: () => out, status: child.status.then(async (s) => (await pumps, s)) };
}

export async function waitHealthy(port: number, proc: Proc, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/health`);
      const body = await r.json();
      if (body.feed_state === "connected") return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gateway did not become healthy; output:\n${proc.output()}`);
}
