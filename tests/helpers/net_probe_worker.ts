// A worker that tries to reach the ports it is given (and to read a file and the environment) and
// reports what its permissions allowed — used to prove adapter workers are confined.

const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(m: unknown): void;
};

scope.onmessage = async (e: MessageEvent) => {
  const ports: number[] = e.data.options.ports;
  const out: Record<string, string> = {};
  for (const port of ports) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      out[String(port)] = "connected";
    } catch (err) {
      out[String(port)] = String(err);
    }
  }
  try {
    await Deno.readTextFile("/etc/hostname");
    out.read = "read";
  } catch (err) {
    out.read = String(err);
  }
  try {
    Deno.env.get("HOME");
    out.env = "env";
  } catch (err) {
    out.env = String(err);
  }
  scope.postMessage(out);
};
