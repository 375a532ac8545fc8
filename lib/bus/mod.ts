// The tickplex bus: a versioned zeromq PUB/SUB API. Topics are `EXCHANGE_SYMBOL_MODE` (ticks, the v1
// envelope, docs/bus-envelope.schema.json) and `EXCHANGE_SYMBOL_CANDLE_<INTERVAL>` (closed bars,
// docs/bus-candle.schema.json); beside the PUB, a ROUTER answering snapshot requests (snapshot.ts).

export {
  classifyTopic,
  formatCandleTopic,
  formatTopic,
  parseCandleTopic,
  type ParsedCandleTopic,
  type ParsedTopic,
  parseTopic,
  type TopicKind,
  TWO_SEGMENT_EXCHANGES,
} from "./topic.ts";
export {
  buildCandleEnvelope,
  buildEnvelope,
  BUS_VERSION,
  type BusCandleEnvelope,
  busCandleEnvelopeSchema,
  type BusEnvelope,
  busEnvelopeSchema,
  type BusMode,
  candleDataSchema,
  type CandleDecodeResult,
  decodeCandleEnvelope,
  decodeEnvelope,
  type DecodeResult,
  depthDataSchema,
  encodeEnvelope,
  type EnvelopeHeader,
  ltpDataSchema,
  quoteDataSchema,
} from "./envelope.ts";
export {
  addressLocality,
  BusBindError,
  type BusBindFailure,
  type BusCurveServerKeys,
  type BusDropReason,
  type BusDropReport,
  BusPublisher,
  type BusPublisherOptions,
} from "./publisher.ts";
export {
  type BusCandleMessage,
  type BusCurveClientKeys,
  type BusEvent,
  type BusMessage,
  BusReader,
  type BusReaderOptions,
} from "./reader.ts";
export { DEFAULT_TOPIC_IDLE_MS, TopicSequences } from "./sequences.ts";
export {
  answerSnapshot,
  BusSnapshotServer,
  type BusSnapshotServerOptions,
  defaultSnapshotAddress,
  MAX_SNAPSHOT_TOPICS,
  SnapshotClient,
  type SnapshotClientOptions,
  type SnapshotItem,
  snapshotItemSchema,
  type SnapshotReply,
  snapshotReplySchema,
  type SnapshotRequest,
  snapshotRequestSchema,
} from "./snapshot.ts";
