// A proxy on its own for proxy tests: a real ProxyServer on a free loopback port over a registry
// whose upstream is a small in-memory broker, so tests can inject ticks and depth answers.

import { limitsSchema } from "../../lib/config/mod.ts";
import { ApiKeyAuth, ProxyServer } from "../../lib/proxy/mod.ts";
import { SubscriptionRegistry, type Upstream } from "../../lib/subscriptions/mod.ts";
import type { Mode, Outcome } from "../../lib/types.ts";
import { TEST_KEY } from "../helpers/gateway.ts";

/** An upstream that accepts everything, with a chosen depth per instrument (default 5). */
export class MemoryUpstream implements Upstream {
  readonly depths = new Map<string, number>();
  readonly streaming = new Set<string>();

  subscribe(
    exchange: string,
    symbol: string,
    mode: Mode,
    depth: number,
  ): Promise<Outcome<{ depth: number }>> {
    this.streaming.add(`${exchange}:${symbol}:${mode}`);
    return Promise.resolve({ ok: true, depth: this.depths.get(`${exchange}:${symbol}`) ?? depth });
  }

  unsubscribe(exchange: string, symbol: string, mode: Mode): Promise<Outcome> {
    this.streaming.delete(`${exchange}:${symbol}:${mode}`);
    return Promise.resolve({ ok: true });
  }
}

/** A started proxy with its registry and upstream; `close()` stops it. */
export interface TestProxy {
  proxy: ProxyServer;
  registry: SubscriptionRegistry;
  upstream: MemoryUpstream;
  port: number;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1:0 with `limits` overrides. */
export async function startProxy(limits: Record<string, unknown> = {}): Promise<TestProxy> {
  const upstream = new MemoryUpstream();
  const registry = new SubscriptionRegistry(upstream);
  const auth = await ApiKeyAuth.create([TEST_KEY], { maxFailures: 10, windowMs: 60_000 });
  const proxy = await ProxyServer.start({ host: "127.0.0.1", port: 0 }, {
    registry,
    auth,
    limits: limitsSchema.parse(limits),
    broker: "paper",
    userId: "local",
    supportedBrokers: ["paper"],
    feedStatus: () => [],
  });
  return { proxy, registry, upstream, port: proxy.addr.port, close: () => proxy.close() };
}
