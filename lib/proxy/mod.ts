// The WebSocket proxy's public surface: the server on :8765, its HTTP route table, and client
// API-key checks. Import from here, not from the files behind it.

export {
  ApiKeyAuth,
  type ApiKeyCredential,
  type AuthLimits,
  type AuthResult,
  clientAuth,
  hashKey,
  loadOrCreateKeyFile,
} from "./auth.ts";
export { type ProxyDeps, ProxyServer } from "./server.ts";
export { readTls } from "./listener.ts";
export {
  type HttpMethod,
  HttpRoutes,
  type RequestInfo,
  type Route,
  type RouteHandler,
} from "./routes.ts";
export type { DropReason } from "./drops.ts";
export {
  CANDLE_FORMING_MS,
  CANDLE_RETAIN_BARS,
  CandleFeed,
  type CandleFeedOptions,
  candleFrame,
  type SeriesBars,
} from "./candles.ts";
