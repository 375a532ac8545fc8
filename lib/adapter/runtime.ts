// The worker side of the adapter protocol: parses messages from the main isolate and routes them
// to an adapter's handlers, so every broker worker speaks the protocol the same way.

import type { AdapterHandlers, AdapterOutput } from "./contract.ts";
import { AuthError } from "./errors.ts";
import { type FromWorker, parseToWorker, type ToWorker } from "./messages.ts";
import { TickFlow } from "./tick_flow.ts";

/** Tick batches a worker may have unconsumed by the main isolate before it conflates. */
export const MAX_BATCHES_IN_FLIGHT = 256;
const CONFLATION_REPORT_MS = 10_000;

interface WorkerScope {
  postMessage(message: unknown): void;
  onmessage: ((e: MessageEvent) => void) | null;
  close(): void;
}

/**
 * Runs `handlers` as the adapter of this worker.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // A broker's worker module calls runAdapter with its handlers (adapters/paper/worker.ts:
 * // `runAdapter(new PaperConnection())`). A tiny one, run as a worker from a string:
 * const source = `
 *   import { runAdapter } from ${JSON.stringify(new URL("./runtime.ts", import.meta.url).href)};
 *   const ok = (i) => ({ exchange: i.exchange, symbol: i.symbol, ok: true, depth: 5 });
 *   runAdapter({
 *     init: (_connection, _options, out) => {
 *       out.status("connected");
 *       return { broker: "demo", hosts: [], readPaths: [], maxSymbolsPerConnection: 10,
 *         maxConnections: 1, maxTokensPerFrame: 10, depthLevels: { "*": [5] } };
 *     },
 *     subscribe: (items) => Promise.resolve(items.map(ok)),
 *     unsubscribe: (items) => Promise.resolve(items.map(ok)),
 *     setMode: (items) => Promise.resolve(items.map(ok)),
 *     token: () => {},
 *     close: () => Promise.resolve(),
 *   });`;
 * const url = URL.createObjectURL(new Blob([source], { type: "application/javascript" }));
 * const worker = new Worker(url, { type: "module" });
 * const messages: { type: string; id?: number; results?: unknown[] }[] = [];
 * const acked = Promise.withResolvers<void>();
 * worker.onmessage = (e) => {
 *   messages.push(e.data);
 *   if (e.data.type === "ack") acked.resolve();
 * };
 * worker.postMessage({ type: "init", connection: 0, options: {} });
 * worker.postMessage({
 *   type: "subscribe", id: 1, items: [{ exchange: "NSE", symbol: "TCS", mode: 1, depth: 5 }],
 * });
 * await acked.promise;
 * // Requests are handled in order: connected, ready, then the ack.
 * assert.deepEqual(messages.map((m) => m.type), ["status", "ready", "ack"]);
 * assert.equal(messages[2].results?.length, 1);
 * worker.terminate();
 * URL.revokeObjectURL(url);
 * ```
 */
export function runAdapter(handlers: AdapterHandlers): void {
  const scope = globalThis as unknown as WorkerScope;
  const post = (m: FromWorker) => scope.postMessage(m);
  const flow = new TickFlow(MAX_BATCHES_IN_FLIGHT, (ticks) => post({ type: "ticks", ticks }));
  let reported = 0;
  let lastReport = 0;
  const out: AdapterOutput = {
    ticks: (ticks) => {
      flow.push(ticks);
      // Nothing fails silently: conflation under backpressure is reported (at most every 10 s).
      const now = Date.now();
      if (flow.conflated > reported && now - lastReport >= CONFLATION_REPORT_MS) {
        post({
          type: "log",
          level: "warning",
          message: `main isolate behind: ${flow.conflated - reported} ticks conflated to the ` +
            `newest per instrument (${flow.conflated} in total)`,
        });
        reported = flow.conflated;
        lastReport = now;
      }
    },
    status: (state, detail) => post({ type: "status", state, detail }),
    log: (level, message) => post({ type: "log", level, message: message.slice(0, 4000) }),
  };
  let initialised = false;
  // Requests are handled one at a time, in order, so a broker never sees them reordered.
  let chain: Promise<unknown> = Promise.resolve();
  scope.onmessage = (e: MessageEvent) => {
    const msg = parseToWorker(e.data);
    if (typeof msg === "string") {
      const id = typeof e.data?.id === "number" ? e.data.id : undefined;
      post({ type: "error", id, code: "SERVER_ERROR", message: `invalid message: ${msg}` });
      return;
    }
    if (msg.type === "credit") {
      flow.credit(msg.n);
      return;
    }
    if (msg.type === "quote") {
      // A REST call runs beside the ordered stream requests: a slow quote never holds a subscribe.
      void answerQuote(handlers, initialised, msg, post);
      return;
    }
    chain = chain.then(async () => {
      try {
        switch (msg.type) {
          case "init": {
            try {
              await handlers.init(msg.connection, msg.options, out);
            } catch (err) {
              post({
                type: "init_failed",
                auth: err instanceof AuthError,
                message: String(err instanceof Error ? err.message : err).slice(0, 2000),
              });
              return;
            }
            initialised = true;
            post({ type: "ready" });
            return;
          }
          case "subscribe":
          case "unsubscribe":
          case "set_mode": {
            if (!initialised) {
              post({
                type: "error",
                id: msg.id,
                code: "BROKER_ERROR",
                message: "adapter not initialised",
              });
              return;
            }
            const results = msg.type === "subscribe"
              ? await handlers.subscribe(msg.items)
              : msg.type === "unsubscribe"
              ? await handlers.unsubscribe(msg.items)
              : await handlers.setMode(msg.items);
            post({ type: "ack", id: msg.id, results });
            return;
          }
          case "token":
            handlers.token(msg.accessToken);
            return;
          case "fault":
            handlers.fault?.(msg.kind);
            return;
          case "close":
            await handlers.close();
            scope.close();
            return;
        }
      } catch (err) {
        const id = "id" in msg ? msg.id : undefined;
        post({
          type: "error",
          id,
          code: "BROKER_ERROR",
          message: String(err instanceof Error ? err.message : err),
        });
      }
    });
  };
}

/** Runs one quote request and posts `quotes` or `quote_failed`; never throws. */
async function answerQuote(
  handlers: AdapterHandlers,
  initialised: boolean,
  msg: Extract<ToWorker, { type: "quote" }>,
  post: (m: FromWorker) => void,
): Promise<void> {
  const fail = (code: "BROKER_ERROR" | "INVALID_ACTION", message: string) =>
    post({ type: "quote_failed", id: msg.id, code, message: message.slice(0, 2000) });
  if (handlers.quote === undefined) {
    return fail("INVALID_ACTION", "this adapter has no REST quote API");
  }
  if (!initialised) return fail("BROKER_ERROR", "adapter not initialised");
  try {
    const r = await handlers.quote(msg.mode, msg.items, msg.check === true);
    if (r.ok) post({ type: "quotes", id: msg.id, ticks: r.ticks, missing: r.missing });
    else {
      post({
        type: "quote_failed",
        id: msg.id,
        code: r.code,
        message: r.message.slice(0, 2000),
        ...(r.retryAfterMs !== undefined ? { retryAfterMs: Math.round(r.retryAfterMs) } : {}),
      });
    }
  } catch (err) {
    fail("BROKER_ERROR", String(err instanceof Error ? err.message : err));
  }
}
