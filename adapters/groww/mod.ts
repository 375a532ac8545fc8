// The Groww adapter as the pool sees it: descriptor, options, and the simulator entry points.

export {
  GROWW_API_URL,
  GROWW_FEED_URL,
  GROWW_LIMITS,
  growwCapabilities,
  type GrowwOptions,
  growwOptionsSchema,
  parseGrowwOptions,
  socketTokenUrl,
} from "./options.ts";
export { GROWW_INSTRUMENTS_URL, type GrowwInstrument, loadGrowwMaster } from "./instruments.ts";
export {
  type GrowwSimulator,
  type GrowwSimulatorOptions,
  main as simulatorMain,
  SAMPLE_INSTRUMENTS,
  SIM_ACCESS_TOKEN,
  startGrowwSimulator,
} from "./simulator.ts";
export * from "./descriptor.ts";
