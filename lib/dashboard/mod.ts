// Public surface of lib/dashboard: the live dashboard page served at `GET /` and its status
// endpoint, installed into a running gateway with `installDashboard`.

import type { Gateway } from "../gateway.ts";
import { PAGE_CSS, PAGE_HTML, PAGE_ICON, PAGE_JS } from "./assets.gen.ts";
import { DASHBOARD_PATHS, dashboardRoutes, STATUS_PATH } from "./server.ts";
import { StatusCollector } from "./status.ts";

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
 * Serves the dashboard from `gw`'s own HTTP server: `GET /` (the page), `/dashboard/*` (its
 * script, style sheet and icon) and `GET /api/v1/status` (Bearer API key). Call it once in
 * `Gateway.start`, after the market data service is wired; it only adds listeners and a route,
 * and owns no timer, so `gw.stop()` needs nothing more.
 *
 * @example
 * ```ts ignore
 * installDashboard(gw);
 * // open http://127.0.0.1:8765/ and enter the API key
 * ```
 */
export function installDashboard(gw: Gateway): StatusCollector {
  const collector = new StatusCollector({
    broker: gw.config.broker.name,
    userId: gw.config.broker.userId,
    pool: gw.pool,
    registry: gw.registry,
    proxy: gw.proxy,
    marketData: gw.marketData,
  });
  gw.tickListeners.push(() => collector.sample());
  gw.statusListeners.push((index, state) => collector.connectionChanged(index, state));
  gw.marketData.onGateChange((e) => collector.gateChanged(e));
  const route = dashboardRoutes({
    assets: { html: PAGE_HTML, css: PAGE_CSS, js: PAGE_JS, icon: PAGE_ICON },
    authorize: (req, info) => gw.authorize(req, info),
    status: () => collector.snapshot(),
  });
  gw.routes.addAll(DASHBOARD_PATHS, ["GET", "HEAD"], route);
  gw.routes.addAll([STATUS_PATH], ["GET"], route);
  return collector;
}
