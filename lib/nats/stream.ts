// The optional JetStream side of the NATS bus: the primary keeps a bounded stream of every tick
// subject, so an edge that missed ticks (a `seq` gap) can fetch them again by sequence.

import type { NatsConnection } from "@nats-io/transport-node";
import {
  DeliverPolicy,
  DiscardPolicy,
  jetstream,
  jetstreamManager,
  StorageType,
} from "@nats-io/jetstream";
import { type BusEnvelope, decodeEnvelope } from "../bus/wire.ts";

/** The `nats.jetstream` block of the configuration. */
export interface StreamConfig {
  stream: string;
  maxAgeMs: number;
  maxBytes: number;
  storage: "memory" | "file";
}

/**
 * Creates the stream over `<prefix>.v1.>` or updates its limits; rejects with a clear message when
 * the server has no JetStream. Core publishes are captured by the server: publishing stays as fast.
 */
export async function ensureStream(
  nc: NatsConnection,
  prefix: string,
  config: StreamConfig,
): Promise<void> {
  let jsm;
  try {
    jsm = await jetstreamManager(nc);
  } catch (e) {
    throw new Error(
      `nats.jetstream: the NATS server has no JetStream (start it with -js): ${
        e instanceof Error ? e.message : e
      }`,
    );
  }
  const limits = {
    subjects: [`${prefix}.v1.>`],
    max_age: config.maxAgeMs * 1_000_000, // nanoseconds
    max_bytes: config.maxBytes,
    discard: DiscardPolicy.Old,
  };
  try {
    await jsm.streams.info(config.stream);
    await jsm.streams.update(config.stream, limits);
  } catch {
    await jsm.streams.add({
      name: config.stream,
      storage: config.storage === "file" ? StorageType.File : StorageType.Memory,
      ...limits,
    });
  }
}

/**
 * Fetches the envelopes of `subject` in `session` with `after < seq < before` from the stream,
 * in order, each checked with the envelope schema (others are skipped). Starts a little before
 * `since` (the last envelope's publish time) so clock skew between hosts cannot skip any.
 */
export async function fetchMissed(
  nc: NatsConnection,
  stream: string,
  subject: string,
  gap: { session: string; after: number; before: number; since: number },
  timeoutMs: number,
): Promise<BusEnvelope[]> {
  const js = jetstream(nc);
  const consumer = await js.consumers.get(stream, {
    filter_subjects: subject,
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: new Date(gap.since - 5_000).toISOString(),
  });
  const out: BusEnvelope[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const m = await consumer.next({ expires: Math.max(1000, deadline - Date.now()) });
    if (m === null) break;
    const r = decodeEnvelope(m.data);
    if (!r.ok || r.envelope.session !== gap.session) continue;
    const seq = r.envelope.seq;
    if (seq >= gap.before) break;
    if (seq > gap.after) out.push(r.envelope);
    if (seq === gap.before - 1) break;
  }
  return out;
}
