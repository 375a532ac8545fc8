// The Angel One (SmartAPI WebSocket 2.0) adapter as the pool sees it: its descriptor, options and
// simulator entry points.

export {
  ANGEL_FEED_URL,
  ANGEL_LIMITS,
  angelCapabilities,
  type AngelOptions,
  angelOptionsSchema,
  parseAngelOptions,
} from "./options.ts";
export {
  ANGEL_INSTRUMENTS_URL,
  type AngelInstrument,
  loadAngelInstruments,
} from "./instruments.ts";
export { type AngelSimulator, startAngelSimulator } from "./simulator.ts";
export * from "./descriptor.ts";
