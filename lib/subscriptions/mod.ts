// Public surface of lib/subscriptions: the registry of (exchange, symbol, mode) → consumers that
// shares one upstream subscription among every consumer of a key.

export {
  type AcquireInfo,
  type Consumer,
  type FrameCache,
  type HoldingRow,
  type Revocation,
  SubscriptionRegistry,
  type SubscriptionRow,
  type Upstream,
} from "./registry.ts";
