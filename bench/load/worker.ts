// The load worker (a Web Worker of the harness): runs one group of load clients, driven by
// messages from the orchestrator.

import { type FromWorker, type GroupSpec, type ToWorker } from "./protocol.ts";
import { kiteSymbol, paperSymbol } from "./symbols.ts";
import { Collector, type Connection, type Frame, RawConnection, WsConnection } from "./client.ts";

/** Runs in a Web Worker: one group of load clients, driven by messages from the orchestrator. */
export function loadWorker(): void {
  const collector = new Collector();
  const conns: Connection[] = [];
  let windowStart = performance.now();
  const scope = self as unknown as {
    postMessage(m: FromWorker): void;
    onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  };
  const post = (m: FromWorker) => scope.postMessage(m);

  let spec: GroupSpec | null = null;
  const authed: { conn: Connection; index: number; first: number }[] = [];

  async function connectOne(spec: GroupSpec, index: number, first: number): Promise<void> {
    const conn = spec.transport === "raw"
      ? await RawConnection.open(spec.port, collector)
      : await WsConnection.open(spec.port, collector);
    conns.push(conn);
    const auth = await conn.client.request(
      { action: "authenticate", api_key: spec.apiKey, batch: spec.batch },
      "auth",
      30_000,
    );
    if (auth.status !== "success") throw new Error(`client ${index}: auth ${JSON.stringify(auth)}`);
    authed.push({ conn, index, first });
  }

  async function subscribeOne(
    spec: GroupSpec,
    c: { conn: Connection; index: number; first: number },
  ): Promise<void> {
    const symbols = [];
    for (let j = 0; j < spec.symbolsPerClient; j++) {
      const n = (c.first + j) % spec.universe;
      symbols.push({
        symbol: spec.symbols === "kite" ? kiteSymbol(n) : paperSymbol(n + 1),
        exchange: "NSE",
      });
    }
    const ack = await c.conn.client.request(
      { action: "subscribe", symbols, mode: spec.mode, depth: 5 },
      "subscribe",
      180_000,
    );
    if (ack.status !== "success") {
      const bad = (ack.subscriptions as Frame[] | undefined)?.find((s) => s.status !== "success");
      throw new Error(
        `client ${c.index}: subscribe ${ack.status}: ${JSON.stringify(bad ?? ack).slice(0, 300)}`,
      );
    }
  }

  scope.onmessage = async (e: MessageEvent<ToWorker>) => {
    const msg = e.data;
    switch (msg.type) {
      case "connect": {
        // Open and authenticate every client first; subscriptions follow all at once, so the
        // first subscribers are not flooded while the others are still connecting.
        spec = msg.spec;
        const s = spec;
        collector.configure(s.latency);
        let ok = 0;
        let failed = 0;
        let firstError: string | null = null;
        const queue = [...s.clients];
        const lane = async () => {
          for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
            try {
              await connectOne(s, c.index, c.first);
              ok++;
            } catch (err) {
              failed++;
              firstError ??= err instanceof Error ? err.message : String(err);
            }
          }
        };
        await Promise.all(Array.from({ length: 32 }, lane));
        post({ type: "connected", ok, failed, firstError });
        return;
      }
      case "subscribe": {
        const s = spec!;
        let ok = 0;
        let failed = 0;
        let firstError: string | null = null;
        await Promise.all(authed.map(async (c) => {
          try {
            await subscribeOne(s, c);
            ok++;
          } catch (err) {
            failed++;
            firstError ??= err instanceof Error ? err.message : String(err);
          }
        }));
        post({ type: "subscribed", ok, failed, firstError });
        return;
      }
      case "reset":
        collector.reset();
        for (const c of conns) c.client.ticks = 0;
        windowStart = performance.now();
        post({ type: "reset" });
        return;
      case "collect":
        post({
          type: "stats",
          stats: {
            elapsedMs: performance.now() - windowStart,
            ticks: collector.ticks,
            timed: collector.timed,
            frames: collector.frames,
            bytes: collector.bytes,
            perClient: authed.map((c) => c.conn.client.ticks),
            hist: collector.hist,
            maxLatency: collector.maxLatency,
            negative: collector.negative,
            errors: collector.errors,
            errorSamples: collector.errorSamples,
            closes: { ...collector.closes },
          },
        });
        return;
      case "close": {
        for (const c of conns) c.close();
        const deadline = Date.now() + 3000;
        while (conns.some((c) => !c.client.closed) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 20));
        }
        post({ type: "closed" });
        return;
      }
    }
  };
}

if ("WorkerGlobalScope" in globalThis) loadWorker();
