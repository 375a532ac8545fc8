// Hostile peers against a proxy in this process, with the process's open descriptors counted
// before and after: run as its own process by deadlines_test.ts (so no other test's sockets are
// counted), it prints one JSON report. /proc/<pid>/fd is listed with ls because Deno reserves
// /proc/self for --allow-all; the sockets among them are counted.

import { RawClient, TEST_KEY } from "../helpers/gateway.ts";
import { startProxy } from "./helpers.ts";

const enc = new TextEncoder();

/**
 * Open socket descriptors of this process (sockets only: the pipes and pidfd of the `ls` that
 * lists them come and go).
 */
async function fds(): Promise<number> {
  const out = await new Deno.Command("ls", { args: ["-l", `/proc/${Deno.pid}/fd`] }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l.includes("socket:"))
    .length;
}

/** Waits (bounded) until at most `n` descriptors are open; returns the last count. */
async function fdsAtMost(n: number): Promise<number> {
  const deadline = Date.now() + 5000;
  let now = await fds();
  while (now > n && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    now = await fds();
  }
  return now;
}

/** Resolves true when the server ends the connection (EOF or reset) within the time. */
export async function cut(conn: Deno.Conn, timeoutMs = 10_000): Promise<boolean> {
  const buf = new Uint8Array(65536);
  const deadline = Date.now() + timeoutMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"wait">((r) => timer = setTimeout(() => r("wait"), timeoutMs));
  try {
    while (Date.now() < deadline) {
      const n = await Promise.race([conn.read(buf).catch(() => null), expired]);
      if (n === null) return true;
      if (n === "wait") break;
    }
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** A TCP connection to the proxy that has sent `text` (nothing when absent). */
export async function connect(port: number, text?: string): Promise<Deno.TcpConn> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  if (text) await c.write(enc.encode(text));
  return c;
}

/** What one scenario saw. */
export interface Report {
  cut: boolean[];
  drops: Record<string, number>;
  fds: { before: number; listening: number; afterCut: number; afterClose: number };
}

/** Peers that never send a request, send half of one (headers or body), or idle after one. */
async function requestDeadline(): Promise<Report> {
  const before = await fds();
  const t = await startProxy({ requestTimeoutMs: 300 });
  const listening = await fds();
  const conns = [
    await connect(t.port),
    await connect(t.port, "GET /health HTTP/1.1\r\nHost: x\r\n"),
    await connect(
      t.port,
      "POST /api/v1/subscriptions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789",
    ),
    await connect(t.port, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"),
  ];
  const wasCut = await Promise.all(conns.map((c) => cut(c)));
  for (const c of conns) c.close();
  const afterCut = await fdsAtMost(listening);
  const drops = {
    request_timeout: t.proxy.drops.count("request_timeout"),
    http_idle: t.proxy.drops.count("http_idle"),
  };
  await t.close();
  return {
    cut: wasCut,
    drops,
    fds: { before, listening, afterCut, afterClose: await fdsAtMost(before) },
  };
}

/** Peers that never answer our close frame: after 4401, and after 1009. */
async function closeIgnored(): Promise<Report> {
  const before = await fds();
  const t = await startProxy({ authGraceMs: 200, closeTimeoutMs: 300, maxFrameBytes: 1024 });
  const listening = await fds();
  const late = await RawClient.connect(t.port);
  const big = await RawClient.connect(t.port);
  await big.sendText(JSON.stringify({ action: "authenticate", api_key: TEST_KEY }));
  await big.sendText(JSON.stringify({ action: "ping", pad: "x".repeat(1500) }));
  const wasCut = await Promise.all([cut(late.conn), cut(big.conn)]);
  late.close();
  big.close();
  const afterCut = await fdsAtMost(listening);
  const drops = {
    auth_timeout: t.proxy.drops.count("auth_timeout"),
    message_too_big: t.proxy.drops.count("message_too_big"),
    close_timeout: t.proxy.drops.count("close_timeout"),
  };
  await t.close();
  return {
    cut: wasCut,
    drops,
    fds: { before, listening, afterCut, afterClose: await fdsAtMost(before) },
  };
}

/**
 * One connection through a throwaway proxy and one `ls` first: the runtime opens sockets of its
 * own on first use and a little later (a unix socket pair), which stay for the life of the
 * process and are not the proxy's.
 */
async function warmUp(): Promise<void> {
  await fds();
  const t = await startProxy({ authGraceMs: 100, closeTimeoutMs: 100 });
  const c = await RawClient.connect(t.port);
  await cut(c.conn);
  c.close();
  await t.close();
  await new Promise((r) => setTimeout(r, 500));
}

if (import.meta.main) {
  const scenario = Deno.args[0];
  await warmUp();
  const report = scenario === "request" ? await requestDeadline() : await closeIgnored();
  console.log(JSON.stringify(report));
  Deno.exit(0);
}
