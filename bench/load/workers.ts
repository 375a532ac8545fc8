// The orchestrator's handle on a load worker: commands with replies and a deadline.

import { type FromWorker, type ToWorker } from "./protocol.ts";

export class WorkerHandle {
  readonly worker: Worker;
  #waiting: { type: string; resolve: (m: FromWorker) => void }[] = [];
  #error: Error | null = null;

  constructor() {
    this.worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const i = this.#waiting.findIndex((w) => w.type === e.data.type);
      if (i >= 0) this.#waiting.splice(i, 1)[0].resolve(e.data);
    };
    this.worker.onerror = (e) => {
      e.preventDefault();
      this.#error = new Error(`load worker failed: ${e.message}`);
    };
  }

  call<T extends FromWorker["type"]>(
    msg: ToWorker,
    reply: T,
    timeoutMs = 300_000,
  ): Promise<Extract<FromWorker, { type: T }>> {
    if (this.#error) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(this.#error ?? new Error(`load worker: no '${reply}' within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#waiting.push({
        type: reply,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as Extract<FromWorker, { type: T }>);
        },
      });
      this.worker.postMessage(msg);
    });
  }
}
