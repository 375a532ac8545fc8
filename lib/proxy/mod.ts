// The WebSocket proxy's public surface: the server on :8765, client API-key checks, and the mode
// parser other modules share. Import from here, not from the files behind it.

export {
  ApiKeyAuth,
  type AuthLimits,
  type AuthResult,
  hashKey,
  loadOrCreateKeyFile,
} from "./auth.ts";
export { overallState, type ProxyDeps, ProxyServer } from "./server.ts";
export { parseMode } from "./protocol.ts";
