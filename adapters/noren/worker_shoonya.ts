// The Shoonya adapter Web Worker: the shared Noren dialect with Shoonya's row of NOREN_BROKERS.

import { runBroker } from "../../lib/adapter/mod.ts";
import { NOREN_BROKERS } from "./brokers.ts";
import { norenSpec } from "./dialect.ts";

runBroker(norenSpec(NOREN_BROKERS.shoonya));
