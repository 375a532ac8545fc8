// The Zerodha (Kite Connect v3) adapter as the pool sees it: descriptor, options schema, and the
// simulator entry points.

export {
  KITE_FEED_URL,
  KITE_LIMITS,
  parseZerodhaOptions,
  zerodhaCapabilities,
  type ZerodhaOptions,
  zerodhaOptionsSchema,
} from "./options.ts";
export {
  KITE_INSTRUMENTS_URL,
  type KiteMaster,
  loadKiteMaster,
  masterFromCsv,
} from "./instruments.ts";
export {
  main as simulatorMain,
  SIM_ACCESS_TOKEN,
  SIM_API_KEY,
  startZerodhaSimulator,
  type ZerodhaSimulator,
  type ZerodhaSimulatorOptions,
} from "./simulator.ts";
export * from "./descriptor.ts";
