// Simulator building blocks shared by every broker simulator, and the contract the conformance
// suite drives them through.

export { type BrokerSimulator, CONFORMANCE_TIMINGS } from "./contract.ts";
export {
  SimConnection,
  type SimFrame,
  SimServer,
  type SimServerHooks,
  type SimServerOptions,
} from "./server.ts";
export { prng, type SimInstrumentSpec, type SimLevel, SimMarket, type SimQuote } from "./market.ts";
export { runSimulatorCli, type SimulatorCli, type SimulatorFlags, simulatorFlags } from "./cli.ts";
