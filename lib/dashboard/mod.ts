// Public surface of lib/dashboard: the live dashboard page served at `GET /` and its status
// endpoint, installed into a running gateway with `installDashboard`.

import type { GateEvent } from "../market_data/mod.ts";
import type { FeedState } from "../feed_state.ts";
import { PAGE_CSS, PAGE_HTML, PAGE_ICON, PAGE_JS } from "./assets.gen.ts";
import { DASHBOARD_PATHS, dashboardRoutes, STATUS_PATH } from "./server.ts";
import { StatusCollector, type StatusSources } from "./status.ts";
import type { HttpRoutes } from "../proxy/mod.ts";

export {
  CONTENT_SECURITY_POLICY,
  DASHBOARD_PATHS,
  type DashboardAssets,
  type DashboardRouteDeps,
  dashboardRoutes,
  STATUS_PATH,
} from "./server.ts";
export { MAX_EVENTS, StatusCollector, type StatusSources } from "./status.ts";
export {
  type ThroughputCounters,
  ThroughputHistory,
  type ThroughputOptions,
} from "./throughput.ts";
export type * from "./status_types.ts";

/**
 * What the dashboard needs from the gateway: the status sources, and the gateway's listener and
 * route lists it adds itself to (the `Gateway` provides them; nothing else of it is used).
 */
export interface DashboardHost extends StatusSources {
  /** The market data service: its health report, and its gate transitions for the event log. */
  marketData: StatusSources["marketData"] & {
    onGateChange(listener: (event: GateEvent) => void): () => void;
  };
  /** Called with every tick batch. */
  readonly tickListeners: { push(listener: () => void): unknown };
  /** Called with every connection state change. */
  readonly statusListeners: { push(listener: (index: number, state: FeedState) => void): unknown };
  /** The HTTP route table of the gateway's port; the dashboard adds its paths. */
  readonly routes: Pick<HttpRoutes, "addAll">;
  /** Null when the request carries a valid API key, else the 401/429 response to return. */
  authorize(req: Request, info: { address: string }): Promise<Response | null>;
}

/**
 * Serves the dashboard from the gateway's own HTTP server: `GET /` (the page), `/dashboard/*` (its
 * script, style sheet and icon) and `GET /api/v1/status` (Bearer API key). Call it once in
 * `Gateway.start`, after the market data service is wired; it only adds listeners and a route,
 * and owns no timer, so stopping the gateway needs nothing more.
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
 * // Gateway.start calls installDashboard(gateway); open http://127.0.0.1:8765/ and enter the key.
 * const base = `http://127.0.0.1:${gw.proxy.addr.port}`;
 * const page = await fetch(`${base}/`);
 * assert.match(await page.text(), /<html/);
 * const status = await fetch(`${base}/api/v1/status`, {
 *   headers: { authorization: "Bearer a-long-random-client-key" },
 * });
 * assert.equal((await status.json()).broker, "paper");
 * await gw.stop();
 * ```
 */
export function installDashboard(host: DashboardHost): StatusCollector {
  const collector = new StatusCollector(host);
  host.tickListeners.push(() => collector.sample());
  host.statusListeners.push((index, state) => collector.connectionChanged(index, state));
  host.marketData.onGateChange((e) => collector.gateChanged(e));
  const route = dashboardRoutes({
    assets: { html: PAGE_HTML, css: PAGE_CSS, js: PAGE_JS, icon: PAGE_ICON },
    authorize: (req, info) => host.authorize(req, info),
    status: () => collector.snapshot(),
  });
  host.routes.addAll(DASHBOARD_PATHS, ["GET", "HEAD"], route);
  host.routes.addAll([STATUS_PATH], ["GET"], route);
  return collector;
}
