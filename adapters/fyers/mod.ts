// The Fyers adapter as the main isolate sees it: descriptor (worker, production hosts, the
// credential variable) and the simulator entry point.

export { FYERS_FEED_URL, FYERS_LIMITS, type FyersOptions, parseFyersOptions } from "./options.ts";
export { startFyersSimulator } from "./simulator.ts";
export * from "./descriptor.ts";
