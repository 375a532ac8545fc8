// The WebSocket proxy's public surface: the server on :8765 and client API-key checks. Import from
// here, not from the files behind it.

export {
  ApiKeyAuth,
  type AuthLimits,
  type AuthResult,
  hashKey,
  loadOrCreateKeyFile,
} from "./auth.ts";
export { type ProxyDeps, ProxyServer } from "./server.ts";
export { CANDLE_FORMING_MS, type CandleFeedOptions, candleFrame } from "./candles.ts";
