// The Kotak Neo adapter as the main isolate sees it: descriptor (worker, production hosts, the
// credential variables) and the simulator entry point.

export { KOTAK_FEED_URL, KOTAK_LIMITS, type KotakOptions, parseKotakOptions } from "./options.ts";
export { startKotakSimulator } from "./simulator.ts";
export * from "./descriptor.ts";
