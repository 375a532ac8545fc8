// The Upstox (Market Data Feed V3) adapter as the main isolate sees it: its descriptor, options and
// simulator entry points.

export {
  parseUpstoxOptions,
  UPSTOX_FEED_URL,
  UPSTOX_LIMITS,
  UPSTOX_STREAM_LIMITS,
  upstoxCapabilities,
  type UpstoxOptions,
} from "./options.ts";
export { loadUpstoxMaster, parseUpstoxMaster, type UpstoxInstrument } from "./instruments.ts";
export {
  SIM_ACCESS_TOKEN,
  startUpstoxSimulator,
  type UpstoxSimulator,
  type UpstoxSimulatorOptions,
} from "./simulator.ts";
export * from "./descriptor.ts";
