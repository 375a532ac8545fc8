// The client protocol's request handlers: authenticate, ping, subscribe, unsubscribe and the
// informational requests, answering each with its reply frame. One instance serves every client.

import { instrumentKey, type Mode, MODE_LABEL, subscriptionKey } from "../types.ts";
import { overallState } from "../feed_state.ts";
import type { CandleFeed } from "./candles.ts";
import type { WsClient } from "./client.ts";
import { sendSnapshots } from "./frames.ts";
import {
  type EntryParse,
  isProtocolError,
  parseRequest,
  type ProtocolError,
  type Request,
} from "./protocol.ts";
import type { ProxyDeps } from "./server.ts";
import type { DataRoute } from "../budget/mod.ts";
import type { SubscriptionRegistry } from "../subscriptions/mod.ts";

/**
 * The request handlers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Gateway } from "../gateway.ts";
 * import { ADAPTERS, adapterOptionsFor } from "../../adapters/mod.ts";
 * import { configSchema } from "../config/mod.ts";
 * const gw = await Gateway.start({
 *   config: configSchema.parse({
 *     port: 0, bus: "tcp://127.0.0.1:*", apiKeys: ["a-long-random-client-key"], logLevel: "error",
 *   }),
 *   adapters: ADAPTERS,
 *   adapterOptions: adapterOptionsFor,
 * });
 * const ws = new WebSocket(`ws://127.0.0.1:${gw.proxy.addr.port}`);
 * await new Promise((resolve) => ws.onopen = resolve);
 * const reply = () => new Promise<{ type: string; code?: string }>((resolve) => {
 *   ws.onmessage = (e) => resolve(JSON.parse(e.data));
 * });
 * // Every text frame of a session goes to the proxy's RequestHandlers.
 * const refused = reply();
 * ws.send(JSON.stringify({ action: "subscribe", symbol: "TCS", exchange: "NSE" }));
 * assert.deepEqual(await refused, {
 *   type: "subscribe", status: "error", code: "NOT_AUTHENTICATED", message: "You must authenticate first",
 * });
 * ws.close();
 * await gw.stop();
 * ```
 */
export class RequestHandlers {
  /** Client messages answered with an error. */
  protocolErrors = 0;
  #deps: ProxyDeps;
  #candles: CandleFeed;
  #brokerJson: string;

  constructor(deps: ProxyDeps, candles: CandleFeed) {
    this.#deps = deps;
    this.#candles = candles;
    this.#brokerJson = JSON.stringify(deps.broker);
  }

  /** Sends a reply frame. */
  reply(client: WsClient, frame: Record<string, unknown>): void {
    client.sendControl(JSON.stringify(frame));
  }

  #error(client: WsClient, e: ProtocolError): void {
    this.protocolErrors++;
    const frame: Record<string, unknown> = {
      type: e.replyType,
      status: "error",
      code: e.code,
      message: e.message,
    };
    if (e.requestId !== undefined) frame.request_id = e.requestId;
    this.reply(client, frame);
  }

  /** Handles one text frame from `client`: parse, check auth, answer. */
  async handle(client: WsClient, text: string): Promise<void> {
    if (client.closed) return;
    const req = parseRequest(text, this.#deps.limits);
    if (isProtocolError(req)) return this.#error(client, req);
    const preAuth = req.action === "authenticate" || req.action === "ping" ||
      req.action === "get_supported_brokers";
    if (!preAuth && !client.authenticated) {
      const replyType = req.action === "unsubscribe_all" ? "unsubscribe" : {
        subscribe: "subscribe",
        unsubscribe: "unsubscribe",
        get_broker_info: "broker_info",
        get_subscriptions: "subscriptions",
        subscribe_candles: "subscribe_candles",
        unsubscribe_candles: "unsubscribe_candles",
      }[req.action as string] ?? "error";
      return this.#error(client, {
        code: "NOT_AUTHENTICATED",
        message: "You must authenticate first",
        replyType,
        requestId: req.requestId,
      });
    }
    switch (req.action) {
      case "authenticate":
        return await this.#authenticate(client, req);
      case "ping": {
        const frame: Record<string, unknown> = {
          type: "pong",
          status: "success",
          server_timestamp: Date.now(),
        };
        if (req.timestamp !== undefined) frame.client_timestamp = req.timestamp;
        if (req.pingId !== undefined) frame._pingId = req.pingId;
        return this.reply(client, withRequestId(frame, req));
      }
      case "get_supported_brokers":
        return this.reply(
          client,
          withRequestId({
            type: "supported_brokers",
            status: "success",
            brokers: this.#deps.supportedBrokers,
            count: this.#deps.supportedBrokers.length,
          }, req),
        );
      case "get_broker_info":
        return this.reply(client, withRequestId(this.#brokerInfo(client), req));
      case "get_subscriptions": {
        const subs = [...client.subscriptions.values()].map((s) => ({
          symbol: s.symbol,
          exchange: s.exchange,
          mode: MODE_LABEL[s.mode],
          depth: s.depth,
          ...(s.route === "poll" ? { source: "poll" } : {}),
        }));
        return this.reply(
          client,
          withRequestId({
            type: "subscriptions",
            status: "success",
            subscriptions: subs,
            count: subs.length,
            candles: this.#candles.list(client),
          }, req),
        );
      }
      case "subscribe":
        return await this.#subscribe(client, req);
      case "unsubscribe":
        return await this.#unsubscribe(client, req);
      case "unsubscribe_all":
        return await this.#unsubscribeAll(client, req);
      case "subscribe_candles":
      case "unsubscribe_candles":
        return await this.#candles.handle(client, req);
    }
  }

  /**
   * The `broker_info` frame: the broker, and (not in OpenAlgo) which key this client holds keys
   * for and the budget they come out of.
   */
  #brokerInfo(client: WsClient): Record<string, unknown> {
    const frame: Record<string, unknown> = {
      type: "broker_info",
      status: "success",
      broker: this.#deps.broker,
      adapter_status: overallState(this.#deps.feedStatus()),
      user_id: this.#deps.userId,
    };
    const budget = this.#deps.budget;
    const holder = client.holder;
    if (holder) {
      frame.api_key = {
        name: holder.name,
        class: holder.consumerClass,
        quota: holder.quota ?? null,
        held: budget?.ledger.heldBy(holder.name) ?? null,
      };
    }
    if (budget) {
      const r = budget.report();
      frame.budget = {
        capacity: r.capacity,
        reserved: r.reserved,
        used: r.used,
        free: r.free,
        classes: Object.fromEntries(
          Object.entries(r.classes).map(([c, v]) => [c, v.slots]),
        ),
        polled: r.poll.keys,
      };
    }
    return frame;
  }

  async #authenticate(client: WsClient, req: Extract<Request, { action: "authenticate" }>) {
    const r = await this.#deps.auth.check(req.apiKey, client.address);
    if (!r.ok) {
      return this.#error(client, {
        code: r.code,
        message: r.message,
        replyType: "auth",
        requestId: req.requestId,
      });
    }
    client.authenticated = true;
    client.holder = r.holder;
    client.consumerClass = r.holder.consumerClass;
    client.batch = req.batch;
    client.conflate = req.conflate;
    this.reply(
      client,
      withRequestId({
        type: "auth",
        status: "success",
        message: "Authentication successful",
        broker: this.#deps.broker,
        user_id: this.#deps.userId,
        supported_features: { ltp: true, quote: true, depth: true, batch: true },
      }, req),
    );
  }

  async #subscribe(client: WsClient, req: Extract<Request, { action: "subscribe" }>) {
    const broker = this.#deps.broker;
    // Entries naming the same key share one outcome: each gets the same answer.
    const byKey = new Map<string, Promise<Record<string, unknown>>>();
    const results = await Promise.all(req.entries.map((e) => {
      if (!e.ok) return entryError(e, broker);
      const mode = e.mode ?? req.mode;
      const key = subscriptionKey(e.exchange, e.symbol, mode);
      let outcome = byKey.get(key);
      if (!outcome) {
        outcome = this.#subscribeOne(client, e, mode, req.depth);
        byKey.set(key, outcome);
      }
      return outcome;
    }));
    this.reply(
      client,
      withRequestId({
        type: "subscribe",
        status: overall(results as { status: string }[]),
        message: "Subscription processing complete",
        broker,
        subscriptions: results,
      }, req),
    );
    // The latest tick of each newly held key, right after the ack (snapshotOnSubscribe).
    if (this.#deps.snapshot) sendSnapshots(client, req, this.#deps.snapshot, this.#brokerJson);
  }

  async #subscribeOne(
    client: WsClient,
    e: { symbol: string; exchange: string },
    mode: Mode,
    depth: number,
  ): Promise<Record<string, unknown>> {
    const broker = this.#deps.broker;
    const max = this.#deps.limits.maxSubscriptionsPerClient;
    const key = subscriptionKey(e.exchange, e.symbol, mode);
    const held = client.subscriptions.get(key);
    if (held) return success(e, mode, held.depth, broker);
    if (client.subscriptions.size >= max) {
      return {
        symbol: e.symbol,
        exchange: e.exchange,
        status: "error",
        code: "MAX_CAPACITY_REACHED",
        message: `Per-client limit reached: ${max} subscriptions`,
        broker,
      };
    }
    // The client's class picks the data path: `poll` takes no streaming slot.
    const route = this.#routeOf(client);
    const registry = this.#registryFor(route);
    // Reserve the slot before awaiting so one request cannot overshoot the per-client limit.
    client.subscriptions.set(key, {
      exchange: e.exchange,
      symbol: e.symbol,
      mode,
      depth,
      ...(route === "poll" ? { route } : {}),
    });
    const r = await registry.acquire(client, e.exchange, e.symbol, mode, depth);
    if (!r.ok || client.closed) {
      client.subscriptions.delete(key);
      if (r.ok) {
        // The client left while we waited: give the key back.
        void registry.release(client, e.exchange, e.symbol, mode);
      }
      if (!r.ok) {
        return {
          symbol: e.symbol,
          exchange: e.exchange,
          status: "error",
          code: r.code,
          message: r.message,
          broker,
        };
      }
      return entryError(
        { ...e, ok: false as const, code: "SERVER_ERROR", message: "Client closed" },
        broker,
      );
    }
    if (!registry.holds(client, e.exchange, e.symbol, mode)) {
      // Pre-empted between the registry's answer and this one (its revocation frame went out).
      return {
        symbol: e.symbol,
        exchange: e.exchange,
        status: "error",
        code: "MAX_CAPACITY_REACHED",
        message: `${e.symbol} on ${e.exchange} was pre-empted for a trading subscription`,
        broker,
      };
    }
    client.subscriptions.set(key, {
      exchange: e.exchange,
      symbol: e.symbol,
      mode,
      depth: r.depth,
      ...(route === "poll" ? { route } : {}),
    });
    const ack = success(e, mode, r.depth, broker);
    if (route === "poll") ack.source = "poll";
    return ack;
  }

  /** The data route of a client's subscriptions: its class in the routing table. */
  #routeOf(client: WsClient): DataRoute {
    const poll = this.#deps.poll;
    return poll === undefined ? "stream" : poll.routing[client.consumerClass];
  }

  #registryFor(route: DataRoute | undefined): SubscriptionRegistry {
    return route === "poll" && this.#deps.poll !== undefined
      ? this.#deps.poll.registry
      : this.#deps.registry;
  }

  async #unsubscribe(client: WsClient, req: Extract<Request, { action: "unsubscribe" }>) {
    const broker = this.#deps.broker;
    const successful: Record<string, unknown>[] = [];
    const failed: Record<string, unknown>[] = [];
    await Promise.all(req.entries.map(async (e) => {
      if (!e.ok) {
        failed.push(entryError(e, broker));
        return;
      }
      const modes: Mode[] = e.mode !== null
        ? [e.mode]
        : ([1, 2, 3] as Mode[]).filter((m) =>
          client.subscriptions.has(subscriptionKey(e.exchange, e.symbol, m))
        );
      if (
        modes.length === 0 ||
        !modes.every((m) => client.subscriptions.has(subscriptionKey(e.exchange, e.symbol, m)))
      ) {
        failed.push({
          symbol: e.symbol,
          exchange: e.exchange,
          status: "error",
          code: "NOT_SUBSCRIBED",
          message: e.mode !== null
            ? `Not subscribed to ${e.symbol} on ${e.exchange} in mode ${MODE_LABEL[e.mode]}`
            : `Not subscribed to ${e.symbol} on ${e.exchange}`,
          broker,
        });
        return;
      }
      const errors: string[] = [];
      let code = "BROKER_ERROR";
      for (const m of modes) {
        const held = client.subscriptions.get(subscriptionKey(e.exchange, e.symbol, m));
        const r = await this.#registryFor(held?.route).release(client, e.exchange, e.symbol, m);
        // Released from the client's view even if the upstream release must be retried later.
        client.subscriptions.delete(subscriptionKey(e.exchange, e.symbol, m));
        if (!r.ok && r.code !== "NOT_SUBSCRIBED") {
          errors.push(r.message);
          code = r.code;
        }
      }
      if (errors.length > 0) {
        // Released from the client's view all the same: say which modes.
        failed.push({
          symbol: e.symbol,
          exchange: e.exchange,
          status: "error",
          code,
          message: errors.join("; "),
          modes: modes.map((m) => MODE_LABEL[m]),
          broker,
        });
      } else {
        successful.push({
          symbol: e.symbol,
          exchange: e.exchange,
          status: "success",
          modes: modes.map((m) => MODE_LABEL[m]),
          broker,
        });
      }
    }));
    this.reply(
      client,
      withRequestId({
        type: "unsubscribe",
        status: failed.length === 0 ? "success" : successful.length === 0 ? "error" : "partial",
        message: "Unsubscription processing complete",
        successful,
        failed,
        broker,
      }, req),
    );
  }

  async #unsubscribeAll(client: WsClient, req: { requestId?: unknown }) {
    const broker = this.#deps.broker;
    const held = [...client.subscriptions.values()];
    client.subscriptions.clear();
    await Promise.all([
      this.#deps.registry.releaseAll(client),
      this.#deps.poll?.registry.releaseAll(client),
    ]);
    // One entry per instrument, listing every mode released for it, lowest first.
    const byInstrument = new Map<string, { symbol: string; exchange: string; modes: Mode[] }>();
    for (const s of held) {
      const k = instrumentKey(s.exchange, s.symbol);
      const entry = byInstrument.get(k);
      if (entry) entry.modes.push(s.mode);
      else byInstrument.set(k, { symbol: s.symbol, exchange: s.exchange, modes: [s.mode] });
    }
    const successful = [...byInstrument.values()].map((e) => ({
      symbol: e.symbol,
      exchange: e.exchange,
      status: "success",
      modes: e.modes.sort().map((m) => MODE_LABEL[m]),
      broker,
    }));
    this.reply(
      client,
      withRequestId({
        type: "unsubscribe",
        status: "success",
        message: "Unsubscription processing complete",
        successful,
        failed: [],
        broker,
      }, req),
    );
  }
}

function withRequestId(frame: Record<string, unknown>, req: { requestId?: unknown }) {
  if (req.requestId !== undefined) frame.request_id = req.requestId;
  return frame;
}

function success(
  e: { symbol: string; exchange: string },
  mode: Mode,
  depth: number,
  broker: string,
): Record<string, unknown> {
  const ack: Record<string, unknown> = {
    symbol: e.symbol,
    exchange: e.exchange,
    status: "success",
    mode: MODE_LABEL[mode],
    depth,
    broker,
  };
  // The pool reports depth 0 when the instrument has no book (an index): say so, not "5".
  if (mode === 3 && depth === 0) {
    ack.message = `No market depth is available for ${e.symbol} on ${e.exchange}`;
  }
  return ack;
}

function entryError(e: Extract<EntryParse, { ok: false }>, broker: string) {
  return {
    symbol: e.symbol,
    exchange: e.exchange,
    status: "error",
    code: e.code,
    message: e.message,
    broker,
  };
}

function overall(results: { status: string }[]): "success" | "partial" | "error" {
  const failed = results.filter((r) => r.status !== "success").length;
  return failed === 0 ? "success" : failed === results.length ? "error" : "partial";
}
