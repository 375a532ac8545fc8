// The Dhan (live market feed v2) adapter as the pool sees it: its descriptor, options and
// simulator entry points.

export {
  DHAN_FEED_URL,
  DHAN_LIMITS,
  dhanCapabilities,
  type DhanOptions,
  dhanOptionsSchema,
  parseDhanOptions,
} from "./options.ts";
export { DHAN_INSTRUMENTS_URL, type DhanInstrument, loadDhanInstruments } from "./instruments.ts";
export { type DhanSimulator, startDhanSimulator } from "./simulator.ts";
export * from "./descriptor.ts";
