// The main-isolate view of a broker adapter: where its worker lives and what it may do.

import type { Capabilities } from "../types.ts";

/** Describes one broker adapter to the pool. */
export interface AdapterDescriptor {
  name: string;
  /** Module URL of the adapter's Web Worker. */
  workerUrl: URL;
  /**
   * Parses this adapter's options (from config) and returns its capabilities, including the hosts
   * its worker may reach. Throws an Error naming the bad field on invalid options.
   */
  capabilities(options: unknown): Capabilities;
}
