// The Dhan adapter Web Worker: the live market feed v2 dialect (dialect.ts) on the kit's
// BrokerSession; everything else is the kit's.

import { runBroker } from "../../lib/adapter/mod.ts";
import { dhanSpec } from "./dialect.ts";

runBroker(dhanSpec);
