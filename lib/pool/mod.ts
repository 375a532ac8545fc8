// The connection pool's public surface: the pool, its links to adapter workers, and its restart
// schedule. Import from here, not from the files behind it.

export {
  ConnectionPool,
  type PoolOptions,
  type PoolTestControls,
  type SubscribeInfo,
  type UnsubscribeInfo,
} from "./pool.ts";
export type { ConnectionStatus } from "../feed_state.ts";
export { type LinkFactory, type PoolLink, workerLinkFactory } from "./link.ts";
export { decayedBackoff, restartDelayMs } from "./backoff.ts";
export { type ItemOp, RequestBatcher } from "./requests.ts";
