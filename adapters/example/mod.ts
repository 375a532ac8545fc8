// The example broker: the smallest adapter built on the kit (JSON over WebSocket with a token
// login), kept as the template for new brokers and run by the conformance suite.

export { startExampleSimulator } from "./simulator.ts";
export * from "./descriptor.ts";
