// The bus's wire format without its sockets: the v1 envelope and per-topic sequence numbers, for
// code that must not load zeromq's native addon (the NATS bus, edge gateways under `-P=edge`).

export {
  buildCandleEnvelope,
  buildEnvelope,
  BUS_VERSION,
  type BusEnvelope,
  busEnvelopeSchema,
  decodeEnvelope,
  type DecodeResult,
  encodeEnvelope,
  type EnvelopeHeader,
} from "./envelope.ts";
export { DEFAULT_TOPIC_IDLE_MS, TopicSequences } from "./sequences.ts";
