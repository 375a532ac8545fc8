// How the pool reaches an adapter: a link to a Web Worker started with permissions limited to the
// adapter's declared hosts and files (or an in-process fake in tests).

import type { BrokerDescriptor, ToWorker } from "../adapter/mod.ts";
import type { Capabilities } from "../types.ts";

/** One adapter connection as the pool sees it: a Web Worker, or an in-process fake in tests. */
export interface PoolLink {
  send(message: ToWorker): void;
  /** Set by the pool: every message the adapter sends (untrusted, parsed by the pool). */
  onmessage: ((data: unknown) => void) | null;
  /** Set by the pool: the adapter died (uncaught error, termination). */
  onerror: ((reason: string) => void) | null;
  terminate(): void;
}

/** Creates the link for connection `index`. */
export type LinkFactory = (index: number, capabilities: Capabilities) => PoolLink;

/** Starts adapter workers with permissions limited to the adapter's declared hosts and files. */
export function workerLinkFactory(descriptor: BrokerDescriptor): LinkFactory {
  return (_index, caps) => {
    const worker = new Worker(descriptor.workerUrl, {
      type: "module",
      deno: {
        permissions: {
          net: caps.hosts.length > 0 ? caps.hosts : false,
          read: caps.readPaths.length > 0 ? caps.readPaths : false,
          write: false,
          env: false,
          run: false,
          ffi: false,
          sys: false,
          import: false,
        },
      },
    } as WorkerOptions);
    const link: PoolLink = {
      send: (m) => worker.postMessage(m),
      onmessage: null,
      onerror: null,
      terminate: () => worker.terminate(),
    };
    worker.onmessage = (e) => link.onmessage?.(e.data);
    worker.onerror = (e) => {
      e.preventDefault();
      link.onerror?.(e.message ?? "worker error");
    };
    worker.onmessageerror = () => link.onerror?.("undecodable message from worker");
    return link;
  };
}
