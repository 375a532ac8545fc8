// Render batching: work queued during a frame runs once, in the next animation frame, however many
// ticks arrived in between (and not at all while the tab is hidden).

import { requestFrame } from "./dom.ts";

/**
 * Runs each requested task at most once per animation frame.
 *
 * @example
 * ```ts ignore
 * const frames = new FrameScheduler();
 * socket.onmessage = (e) => { buffer(e.data); frames.request(render); };
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
