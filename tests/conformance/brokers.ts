// The conformance table: one entry per broker adapter. Adding a broker to the suite is adding an
// entry here (its descriptor, how to start its simulator, and instruments to exercise).

import type { BrokerDescriptor } from "../../lib/adapter/mod.ts";
import type { BrokerSimulator } from "../../lib/adapter/sim/mod.ts";
import type { Mode } from "../../lib/types.ts";
import { angelAdapter, startAngelSimulator } from "../../adapters/angel/mod.ts";
import { dhanAdapter, startDhanSimulator } from "../../adapters/dhan/mod.ts";
import { exampleAdapter, startExampleSimulator } from "../../adapters/example/mod.ts";
import { growwAdapter, startGrowwSimulator } from "../../adapters/groww/mod.ts";
import { paperAdapter } from "../../adapters/paper/mod.ts";
import { zerodhaAdapter } from "../../adapters/zerodha/mod.ts";
import {
  flattradeAdapter,
  NOREN_BROKERS,
  shoonyaAdapter,
  startNorenSimulator,
} from "../../adapters/noren/mod.ts";
import { startZerodhaConformance } from "../../adapters/zerodha/conformance.ts";
import { startUpstoxSimulator, upstoxAdapter } from "../../adapters/upstox/mod.ts";
import { fyersAdapter, startFyersSimulator } from "../../adapters/fyers/mod.ts";
import { kotakAdapter, startKotakSimulator } from "../../adapters/kotak/mod.ts";

/** An instrument as OpenAlgo names it. */
export interface Ref {
  exchange: string;
  symbol: string;
}

/** Faults a broker's simulator can play. */
export type Fault = "drop" | "stall" | "expired_token" | "garbage";

/** One broker in the conformance suite. */
export interface ConformanceEntry {
  descriptor: BrokerDescriptor;
  /**
   * Starts the broker's simulator on 127.0.0.1. Null for adapters that simulate inside their
   * worker (paper): the suite then observes what streams from the ticks themselves.
   */
  start: (() => Promise<BrokerSimulator>) | null;
  /** Options for adapters without a simulator. */
  options?: Record<string, unknown>;
  /** At least three tradable instruments with a book, on one exchange segment the broker streams. */
  instruments: [Ref, Ref, Ref, ...Ref[]];
  /** An index (Depth is acknowledged with depth 0), where the broker has indices. */
  index?: Ref;
  /** OpenAlgo mode → the mode the simulator reports it streamed at (default: the same). */
  brokerMode?: Readonly<Record<Mode, Mode>>;
  /** Faults the simulator can play (default: all). */
  faults?: readonly Fault[];
}

/** NSE equities every simulator (and the paper market) lists. */
const NSE_EQUITIES: [Ref, Ref, Ref, Ref] = [
  { exchange: "NSE", symbol: "RELIANCE" },
  { exchange: "NSE", symbol: "INFY" },
  { exchange: "NSE", symbol: "TCS" },
  { exchange: "NSE", symbol: "SBIN" },
];

/** The index every simulator lists. */
const NIFTY: Ref = { exchange: "NSE_INDEX", symbol: "NIFTY" };

/** Every adapter the suite runs. */
export const CONFORMANCE: readonly ConformanceEntry[] = [
  {
    descriptor: paperAdapter,
    start: null,
    options: { seed: 7, ticksPerSecond: 40 },
    instruments: NSE_EQUITIES,
    index: NIFTY,
    faults: [],
  },
  {
    descriptor: zerodhaAdapter,
    start: startZerodhaConformance,
    instruments: NSE_EQUITIES,
    index: NIFTY,
  },
  {
    descriptor: exampleAdapter,
    start: () => startExampleSimulator(),
    instruments: NSE_EQUITIES,
    index: NIFTY,
  },
  {
    descriptor: flattradeAdapter,
    start: () => startNorenSimulator(NOREN_BROKERS.flattrade, { tickEveryMs: 100 }),
    instruments: NSE_EQUITIES,
    index: NIFTY,
    // Noren's touchline serves LTP and Quote alike.
    brokerMode: { 1: 2, 2: 2, 3: 3 },
  },
  {
    descriptor: shoonyaAdapter,
    // Shoonya's legacy session-token login, so both Noren login variants run the suite.
    start: () =>
      startNorenSimulator(NOREN_BROKERS.shoonya, {
        tickEveryMs: 100,
        login: "c",
        acceptLogins: ["c"],
      }),
    instruments: NSE_EQUITIES,
    index: NIFTY,
    brokerMode: { 1: 2, 2: 2, 3: 3 },
  },
  {
    descriptor: upstoxAdapter,
    start: () => startUpstoxSimulator(),
    instruments: NSE_EQUITIES,
    index: NIFTY,
    // Upstox's `full` stream (with the book) serves Quote and Depth alike.
    brokerMode: { 1: 1, 2: 3, 3: 3 },
  },
  {
    descriptor: angelAdapter,
    start: () => startAngelSimulator(),
    instruments: NSE_EQUITIES,
    index: NIFTY,
  },
  {
    descriptor: dhanAdapter,
    start: () => startDhanSimulator(),
    instruments: NSE_EQUITIES,
    index: NIFTY,
  },
  {
    descriptor: fyersAdapter,
    start: () => startFyersSimulator({ tickIntervalMs: 100 }),
    instruments: NSE_EQUITIES,
    index: NIFTY,
    // LTP and Quote are one full-mode scrip topic; Depth adds the depth topic.
    brokerMode: { 1: 2, 2: 2, 3: 3 },
  },
  {
    descriptor: kotakAdapter,
    start: () => startKotakSimulator({ tickIntervalMs: 100 }),
    instruments: NSE_EQUITIES,
    index: NIFTY,
    brokerMode: { 1: 2, 2: 2, 3: 3 },
  },
  {
    descriptor: growwAdapter,
    start: () => startGrowwSimulator({ tickIntervalMs: 100, pingIntervalMs: 500 }),
    instruments: NSE_EQUITIES,
    index: NIFTY,
    // LTP and Quote both stream on the price subject; Depth adds the book subject.
    brokerMode: { 1: 2, 2: 2, 3: 3 },
  },
];
