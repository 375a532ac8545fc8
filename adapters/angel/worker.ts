// The Angel One adapter Web Worker: the SmartAPI WebSocket 2.0 dialect (dialect.ts) on the kit's
// BrokerSession; everything else is the kit's.

import { runBroker } from "../../lib/adapter/mod.ts";
import { angelSpec } from "./dialect.ts";

runBroker(angelSpec);
