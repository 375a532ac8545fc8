// The Noren family (Flattrade, Shoonya, Zebu, TradeSmart) as the pool sees it: one descriptor per
// broker, all built from that broker's row of NOREN_BROKERS and sharing one codec and dialect.

export { NOREN_BROKERS, type NorenBrokerConfig, type NorenLogin } from "./brokers.ts";
export { norenCapabilities, type NorenOptions, parseNorenOptions } from "./options.ts";
export { loadNorenMaster, type NorenInstrument, parseNorenMaster } from "./instruments.ts";
export {
  NorenSimulator,
  type NorenSimulatorOptions,
  SIM_ACCESS_TOKEN,
  SIM_USER_ID,
  simulatorMain,
  startNorenSimulator,
} from "./simulator.ts";
export * from "./descriptor.ts";
