// The Groww adapter Web Worker: the Groww dialect (dialect.ts) on the kit's BrokerSession, with
// Groww's instrument master and options.

import { runBroker } from "../../lib/adapter/mod.ts";
import { GrowwDialect } from "./dialect.ts";
import { type GrowwInstrument, loadGrowwMaster } from "./instruments.ts";
import { growwCapabilities, type GrowwOptions, parseGrowwOptions } from "./options.ts";

runBroker<GrowwOptions, GrowwInstrument>({
  broker: "groww",
  parseOptions: parseGrowwOptions,
  capabilities: growwCapabilities,
  loadInstruments: (o, signal) => loadGrowwMaster(o.instruments, signal),
  dialect: (options, context) => new GrowwDialect(options, context),
});
