// Render batching: work queued during a frame runs once, in the next animation frame, however many
// ticks arrived in between (and not at all while the tab is hidden).

import { requestFrame } from "./dom.ts";

/**
 * Runs each requested task at most once per animation frame.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // Outside a browser, stand in for requestAnimationFrame (a frame every 16 ms).
 * Object.assign(globalThis, {
 *   requestAnimationFrame: (cb: (t: number) => void) => setTimeout(() => cb(performance.now()), 16),
 * });
 * const frames = new FrameScheduler();
 * let renders = 0;
 * const render = () => renders++;
 * // In the page: socket.onmessage = (e) => { buffer(e.data); frames.request(render); };
 * for (let i = 0; i < 100; i++) frames.request(render); // a hundred ticks within one frame
 * await new Promise((r) => setTimeout(r, 50));
 * assert.equal(renders, 1);
 * ```
 */
export class FrameScheduler {
  #tasks = new Set<() => void>();
  #pending = false;

  /** Queues `task` for the next frame (a task queued twice runs once). */
  request(task: () => void): void {
    this.#tasks.add(task);
    if (this.#pending) return;
    this.#pending = true;
    requestFrame(() => this.#run());
  }

  #run(): void {
    this.#pending = false;
    const tasks = [...this.#tasks];
    this.#tasks.clear();
    for (const t of tasks) {
      try {
        t();
      } catch (err) {
        console.error("dashboard render failed", err);
      }
    }
  }
}
