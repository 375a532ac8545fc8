// The Upstox adapter Web Worker: the kit's broker runtime with the Upstox V3 dialect.

import { runBroker } from "../../lib/adapter/mod.ts";
import { upstoxSpec } from "./dialect.ts";

runBroker(upstoxSpec);
