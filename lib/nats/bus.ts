// The NATS bus: the same v1 envelope as the zeromq bus, published on `tickplex.v1.<EX>.<SYM>.<MODE>`
// through a connection the caller owns. `publish` never blocks: the client buffers and flushes.

import type { NatsConnection } from "@nats-io/transport-node";
import type { Candle, CandleInterval } from "../candles/mod.ts";
import type { Clock, Mode, Tick } from "../types.ts";
import {
  buildCandleEnvelope,
  buildEnvelope,
  DEFAULT_TOPIC_IDLE_MS,
  encodeEnvelope,
  TopicSequences,
} from "../bus/wire.ts";
import { candleSubject, tickSubject } from "./subject.ts";

const MODE_LIST: readonly Mode[] = [1, 2, 3];

/** Options of {@link NatsBus}. */
export interface NatsBusOptions {
  /** First token(s) of every subject (default `tickplex`). */
  prefix: string;
  /** Broker name stamped on every envelope. */
  broker: string;
  /** Clock for `published`; default `Date.now`. */
  clock?: Clock;
  /** See {@link TopicSequences}; default ten minutes. */
  topicIdleMs?: number;
}

/**
 * Publishes ticks and closed bars on NATS with the v1 envelope (docs/bus-envelope.schema.json):
 * one message per mode a tick is rich enough for, `seq` counted per subject within `session`,
 * exactly as the zeromq bus counts per topic.
 */
export class NatsBus {
  /** Random id of this publisher; a new session means the gateway restarted. */
  readonly session: string = crypto.randomUUID();
  readonly broker: string;
  readonly prefix: string;
  #nc: NatsConnection;
  #clock: Clock;
  #seqs: TopicSequences;
  #published = 0;
  #dropped = 0;
  #closed = false;

  constructor(nc: NatsConnection, options: NatsBusOptions) {
    this.#nc = nc;
    this.prefix = options.prefix;
    this.broker = options.broker;
    this.#clock = options.clock ?? Date.now;
    this.#seqs = new TopicSequences(options.topicIdleMs ?? DEFAULT_TOPIC_IDLE_MS);
  }

  /** The NATS server this connection is on (as the client reports it). */
  get endpoint(): string {
    return this.#nc.getServer();
  }

  /** Messages handed to the NATS client. */
  get published(): number {
    return this.#published;
  }

  /** Messages refused (closed connection, an instrument without a valid subject). */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Publishes `tick` under the subject of each of `modes` it is rich enough for; returns the
   * number of messages published. Never throws; after {@link close} it publishes nothing.
   */
  publish(tick: Tick, modes: Iterable<Mode>): number {
    if (this.#closed) return 0;
    let wanted = 0;
    for (const mode of modes) wanted |= 1 << mode;
    const published = this.#clock();
    let sent = 0;
    for (const mode of MODE_LIST) {
      if ((wanted & (1 << mode)) === 0 || mode > tick.mode) continue;
      let subject: string;
      try {
        subject = tickSubject(this.prefix, tick.exchange, tick.symbol, mode);
      } catch {
        this.#dropped++;
        continue;
      }
      const seq = this.#seqs.next(subject, published);
      const header = { seq, session: this.session, broker: this.broker, published };
      if (this.#send(subject, encodeEnvelope(buildEnvelope(tick, mode, header)))) sent++;
    }
    return sent;
  }

  /** Publishes a closed bar under `<prefix>.v1.<EX>.<SYM>.CANDLE_<INTERVAL>`; 1 or 0. */
  publishCandle(exchange: string, symbol: string, interval: CandleInterval, bar: Candle): number {
    if (this.#closed || !bar.closed) return 0;
    let subject: string;
    try {
      subject = candleSubject(this.prefix, exchange, symbol, interval);
    } catch {
      this.#dropped++;
      return 0;
    }
    const published = this.#clock();
    const seq = this.#seqs.next(subject, published);
    const header = { seq, session: this.session, broker: this.broker, published };
    const payload = JSON.stringify(buildCandleEnvelope(exchange, symbol, interval, bar, header));
    return this.#send(subject, payload) ? 1 : 0;
  }

  /** Stops publishing (the connection belongs to the caller). Idempotent. */
  close(): void {
    this.#closed = true;
  }

  #send(subject: string, payload: string): boolean {
    try {
      this.#nc.publish(subject, payload);
      this.#published++;
      return true;
    } catch {
      // Closed or draining connection: the counters hold the truth.
      this.#dropped++;
      return false;
    }
  }
}
