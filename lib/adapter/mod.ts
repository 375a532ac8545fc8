// The adapter kit: the contract every broker adapter implements, the worker runtime, a reconnecting
// broker session, results, options, instrument masters, OpenAlgo symbology and simulator building
// blocks. A broker folder holds only its codec, instrument mapping, session settings and simulator.

export type {
  AdapterHandlers,
  AdapterOutput,
  BrokerDescriptor,
  CredentialVar,
  QuoteResult,
  SimulatorMain,
} from "./contract.ts";
export { AuthError } from "./errors.ts";
export {
  type FaultKind,
  type FromWorker,
  type ItemResult,
  type ParsedFromWorker,
  parseFromWorker,
  parseTick,
  parseToWorker,
  type QuotesMessage,
  type StreamItem,
  type ToWorker,
} from "./messages.ts";
export { MAX_BATCHES_IN_FLIGHT, runAdapter } from "./runtime.ts";
export { TickFlow } from "./tick_flow.ts";
export {
  accepted,
  capacityReached,
  type ItemErrorCode,
  type ItemRef,
  notSubscribed,
  rejected,
} from "./results.ts";
export {
  type BrokerLimits,
  hostPort,
  httpUrl,
  instrumentsOption,
  limitsShape,
  liveCapabilities,
  ORDERED_BACKOFF,
  parseOptions,
  reach,
  type SessionTiming,
  sessionTimingShape,
  wsUrl,
} from "./options.ts";
export {
  type BrokerInstrument,
  type CsvOptions,
  InstrumentMaster,
  isUrlSource,
  loadMasterBytes,
  loadMasterText,
  type MasterSource,
  parseCsv,
  type Resolved,
} from "./instruments.ts";
export * from "./symbology.ts";
export {
  type CloseInfo,
  type Decoded,
  type Dialect,
  type DialectContext,
  type Endpoint,
  type Frame,
  NOTHING,
  type SubjectMessage,
  type Transport,
  type TransportEvents,
  type TransportMessage,
  type Wanted,
} from "./dialect.ts";
export {
  BrokerAdapter,
  type BrokerOptions,
  type BrokerSpec,
  type QuoteItem,
  runBroker,
} from "./broker.ts";
export { BrokerSession, openWebSocket, type SessionConfig, type SessionItem } from "./session.ts";
