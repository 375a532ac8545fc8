// The tickplex bus: a versioned zeromq PUB/SUB API. Topics are `EXCHANGE_SYMBOL_MODE`; payloads are
// the v1 envelope (see docs/bus-envelope.schema.json).

export {
  classifyTopic,
  formatTopic,
  type ParsedTopic,
  parseTopic,
  type TopicKind,
  TWO_SEGMENT_EXCHANGES,
} from "./topic.ts";
export {
  buildEnvelope,
  BUS_VERSION,
  type BusEnvelope,
  busEnvelopeSchema,
  type BusMode,
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
  type BusCurveClientKeys,
  type BusEvent,
  type BusMessage,
  BusReader,
  type BusReaderOptions,
} from "./reader.ts";
export { DEFAULT_TOPIC_IDLE_MS, TopicSequences } from "./sequences.ts";
