// A local example-broker server on the kit's SimServer and SimMarket: token login, JSON
// subscriptions per mode, heartbeats, ticks from the random walk, and the conformance faults.

import {
  type BrokerSimulator,
  CONFORMANCE_TIMINGS,
  runSimulatorCli,
  SimConnection,
  SimMarket,
  SimServer,
} from "../../lib/adapter/sim/mod.ts";
import type { Mode } from "../../lib/types.ts";
import { parseClient, WIRE_MODE } from "./codec.ts";
import { parseMaster } from "./instruments.ts";

const SAMPLE = new URL("./testdata/instruments.csv", import.meta.url).pathname;
const MODE_OF = { ltp: 1, quote: 2, depth: 3 } as const;

interface ConnState {
  loggedIn: boolean;
  ids: Map<number, Mode>;
}

/** Starts the example simulator on 127.0.0.1 (free port unless given). */
export async function startExampleSimulator(port = 0): Promise<BrokerSimulator> {
  const master = parseMaster(await Deno.readTextFile(SAMPLE));
  const market = new SimMarket(3);
  let token = "example-token-0";
  let generation = 0;
  const tickFrame = (id: number, mode: Mode): string => {
    const q = market.quote(String(id));
    const level = (l: { price: number; quantity: number; orders: number }) => ({
      p: l.price,
      q: l.quantity,
      o: l.orders,
    });
    return JSON.stringify({
      op: "tick",
      id,
      mode: WIRE_MODE[mode],
      ltp: q.ltp,
      t: q.ltt,
      ...(mode >= 2 ? { o: q.open, h: q.high, l: q.low, c: q.close, v: q.volume } : {}),
      ...(mode === 3 ? { bids: q.bids.map(level), asks: q.asks.map(level) } : {}),
    });
  };
  const server: SimServer<ConnState> = new SimServer<ConnState>({
    accept: () => ({ loggedIn: false, ids: new Map() }),
    onMessage(conn: SimConnection<ConnState>, data) {
      const m = typeof data === "string" ? parseClient(data) : null;
      if (m === null) return;
      if (m.op === "login") {
        conn.state.loggedIn = m.token === token;
        conn.send(JSON.stringify({ op: "login", ok: conn.state.loggedIn, reason: "bad token" }));
        if (!conn.state.loggedIn) conn.close(4001, "bad token");
        return;
      }
      if (!conn.state.loggedIn) return;
      if (m.op === "unsub") { for (const id of m.ids) conn.state.ids.delete(id); }
      else {
        for (const id of m.ids) conn.state.ids.set(id, MODE_OF[m.mode]);
        for (const id of m.ids) conn.send(tickFrame(id, MODE_OF[m.mode]));
      }
    },
  }, {
    port,
    heartbeat: { everyMs: 200, frame: () => '{"op":"hb"}' },
    tickEveryMs: 100,
    onTick() {
      const ids = new Set<number>();
      for (const c of server.connections()) for (const id of c.state.ids.keys()) ids.add(id);
      for (const id of ids) market.step(String(id));
      for (const c of server.connections()) {
        for (const [id, mode] of c.state.ids) c.send(tickFrame(id, mode));
      }
    },
  });
  return {
    adapterOptions: {
      accessToken: token,
      feedUrl: server.url,
      instruments: SAMPLE,
      ...CONFORMANCE_TIMINGS,
    },
    streams: () =>
      server.connections().map((c) => {
        const m = new Map<string, Mode>();
        for (const [id, mode] of c.state.ids) {
          const ins = master.byToken(id);
          m.set(ins ? `${ins.exchange}:${ins.symbol}` : `?:${id}`, mode);
        }
        return m;
      }),
    get handshakes() {
      return server.handshakes;
    },
    drop: () => server.drop(),
    stall: () => server.stall(),
    resume: () => server.resume(),
    expireToken() {
      token = `example-token-${++generation}`;
      server.broadcast(['{"op":"expired"}']);
      return token;
    },
    garbage: () => server.broadcast(["{", '{"op":"tick","id":1}', "null", new Uint8Array([1, 2])]),
    close: () => server.close(),
    [Symbol.asyncDispose]: () => server.close(),
  };
}

/** `deno task sim example`: starts the simulator and prints how to point the gateway at it. */
export function main(args: string[]): Promise<void> {
  return runSimulatorCli(args, {
    defaultPort: 9199,
    start: (o) => startExampleSimulator(o.port),
    describe: (sim) => [
      `example broker simulator on ${sim.adapterOptions.feedUrl}`,
      `  TICKPLEX_BROKER_ACCESS_TOKEN=${sim.adapterOptions.accessToken}`,
      `  deno task start --broker example --feed-url ${sim.adapterOptions.feedUrl} --instruments ${SAMPLE}`,
    ],
  });
}

if (import.meta.main) await main(Deno.args);
