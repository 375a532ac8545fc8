// The example broker's Web Worker: its dialect (login with a token, JSON subscribe/unsubscribe,
// heartbeats, an `expired` notice) on the kit's BrokerSession — everything else is the kit's.

import {
  type Decoded,
  type Dialect,
  type DialectContext,
  type Frame,
  NOTHING,
  runBroker,
  type Wanted,
} from "../../lib/adapter/mod.ts";
import type { Mode } from "../../lib/types.ts";
import { type ClientMessage, parseServer, toTick, WIRE_MODE } from "./codec.ts";
import { type ExampleInstrument, loadMaster } from "./instruments.ts";
import { exampleCapabilities, type ExampleOptions, parseExampleOptions } from "./options.ts";

const send = (m: ClientMessage): Frame => JSON.stringify(m);

function dialect(
  options: () => ExampleOptions,
  context: DialectContext<ExampleInstrument>,
): Dialect<ExampleInstrument> {
  return {
    endpoint: () => ({ url: options().feedUrl }),
    login: () => [send({ op: "login", token: options().accessToken ?? "" })],
    awaitsLogin: true,
    subscribe: (items: readonly Wanted<ExampleInstrument>[], mode: Mode) => [
      send({ op: "sub", mode: WIRE_MODE[mode], ids: items.map((w) => w.instrument.token) }),
    ],
    unsubscribe: (items: readonly Wanted<ExampleInstrument>[]) => [
      send({ op: "unsub", ids: items.map((w) => w.instrument.token) }),
    ],
    decode(data, now): Decoded {
      if (typeof data !== "string") return { malformed: "binary frame" };
      const m = parseServer(data);
      if (typeof m === "string") return { malformed: m };
      switch (m.op) {
        case "hb":
          return NOTHING;
        case "login":
          return m.ok ? { loggedIn: true } : { authFailed: `login rejected: ${m.reason ?? ""}` };
        case "expired":
          return { authFailed: "session expired" };
        case "tick": {
          const ins = context.lookup(m.id);
          return ins === undefined ? NOTHING : { ticks: [toTick(m, ins, now)] };
        }
      }
    },
  };
}

runBroker<ExampleOptions, ExampleInstrument>({
  broker: "example",
  parseOptions: parseExampleOptions,
  capabilities: exampleCapabilities,
  loadInstruments: (o, signal) => loadMaster(o.instruments, signal),
  dialect,
});
