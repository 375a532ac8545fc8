// NATS for tickplex: the distributed bus (`--bus nats://…`), the primary's leases for edge gateways
// and the edge's upstream (`--upstream nats://…`). Loads no native code (no zeromq).

export { connectNats } from "./connect.ts";
export { NatsBus, type NatsBusOptions } from "./bus.ts";
export { type HeldKey, LeaseHost, type LeaseHostOptions, planRenew } from "./leases.ts";
export {
  NatsUpstream,
  type NatsUpstreamOptions,
  type PrimaryInfo,
  tickFromEnvelope,
} from "./upstream.ts";
export {
  candleSubject,
  controlSubject,
  escapeToken,
  type ParsedTickSubject,
  parseTickSubject,
  tickSubject,
  unescapeToken,
} from "./subject.ts";
export * from "./protocol.ts";
export { ensureStream, fetchMissed, type StreamConfig } from "./stream.ts";
