// tickplex public library API: types, schemas, the bus reader, and the components for embedding
// the gateway in-process.

export type {
  Capabilities,
  Depth,
  DepthLevel,
  ErrorCode,
  FeedState,
  InstrumentKey,
  Mode,
  Outcome,
  Tick,
} from "./lib/types.ts";
export { instrumentKey, MODE_LABEL, MODE_TOPIC, MODES } from "./lib/types.ts";
export {
  type DepthData,
  type LtpData,
  projectTick,
  type QuoteData,
  type TickData,
} from "./lib/project.ts";
export * from "./lib/bus/mod.ts";
export {
  type Config,
  ConfigError,
  configSchema,
  loadConfig,
  type NatsConfig,
} from "./lib/config/mod.ts";
export { Gateway, type GatewayNats, type GatewayOptions } from "./lib/gateway.ts";
export { EdgeGateway, type EdgeOptions } from "./lib/edge.ts";
export {
  escapeToken,
  NatsBus,
  NatsUpstream,
  parseTickSubject,
  tickSubject,
  unescapeToken,
} from "./lib/nats/mod.ts";
export { ConnectionPool, type PoolLink, workerLinkFactory } from "./lib/pool/mod.ts";
export {
  type ConnectionReport,
  type ConnectionStatus,
  FEED_STATES,
  overallState,
} from "./lib/feed_state.ts";
export * from "./lib/adapter/mod.ts";
export {
  type Consumer,
  type Revocation,
  SubscriptionRegistry,
} from "./lib/subscriptions/registry.ts";
export {
  type BudgetHolder,
  BudgetLedger,
  type BudgetReport,
  CONSUMER_CLASSES,
  type ConsumerClass,
  type PollStats,
  type PollStatsProvider,
  SubscriptionBudget,
} from "./lib/budget/mod.ts";
export { adapterOptionsFor, ADAPTERS } from "./adapters/mod.ts";
export {
  CONNECTION_LOST_REASON,
  type GateEvent,
  type MarketDataCallback,
  MarketDataService,
  type MarketDataServiceOptions,
  MarketDataSubscribeError,
  type MarketDataUpdate,
  type Priority,
  STALE_REASON,
  type SubscribeOptions,
  type SubscriptionHandle,
  type SubscriptionKind,
  type TradeSafety,
} from "./lib/market_data/mod.ts";
export { ApiKeyAuth, hashKey } from "./lib/proxy/mod.ts";
