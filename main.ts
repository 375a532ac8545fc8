// tickplex command line: `serve` (default) runs the gateway; `sim <broker>` runs a broker
// simulator. Thin: parses arguments and wires lib/.

import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "./lib/config/mod.ts";
import { getLogger, setupLogging } from "./lib/log.ts";
import { hashKey } from "./lib/proxy/mod.ts";
import { adapterOptionsFor, ADAPTERS, SIMULATORS } from "./adapters/mod.ts";

const HELP = `tickplex — one broker market-data feed, shared by every local consumer

Usage:
  tickplex [serve] [options]     run the gateway (default broker: the paper market)
  tickplex hash-key [key]        print the sha256: form of an API key for "apiKeys" (reads stdin
                                 when no key is given)
  tickplex record [options]      record the bus into DuckDB/Parquet, stats, replay files
                                 (tickplex record --help)
  tickplex sim <broker> [args]   run a local broker simulator (${
  Object.keys(SIMULATORS).join(", ") || "none"
})

Options:
  --config <file>        JSON config file (see README "Configuration")
  --host <addr>          listen address for WebSocket + HTTP (default 127.0.0.1)
  --port <n>             listen port (default 8765)
  --bus <endpoint>       zeromq bus endpoint (default tcp://127.0.0.1:5555)
  --broker <name>        broker adapter: ${Object.keys(ADAPTERS).join(", ")} (default paper)
  --feed-url <url>       override the broker's market-data websocket URL
  --instruments <file>   broker instrument master file (CSV)
  -h, --help             this help

Environment:
  TICKPLEX_API_KEY                 accepted as a client API key (no key file is written then)
  TICKPLEX_BROKER_API_KEY          broker API key
  TICKPLEX_BROKER_ACCESS_TOKEN     broker access token
  TICKPLEX_BROKER_<NAME>           broker-specific extras (e.g. TICKPLEX_BROKER_CLIENT_CODE)
  TICKPLEX_HOST, TICKPLEX_PORT, TICKPLEX_BUS, TICKPLEX_BROKER, TICKPLEX_LOG_LEVEL
`;

async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
      bus: { type: "string" },
      broker: { type: "string" },
      "feed-url": { type: "string" },
      instruments: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const { config, envApiKey } = await loadConfig({
    file: values.config,
    env: Deno.env.toObject(),
    overrides: {
      host: values.host,
      port: values.port,
      bus: values.bus,
      broker: values.broker,
      feedUrl: values["feed-url"],
      instruments: values.instruments,
    },
  });
  await setupLogging(config.logLevel);
  const log = getLogger(["tickplex", "main"]);
  // Loaded here so `sim` runs without the native zeromq addon (and without ffi permission).
  const { Gateway } = await import("./lib/gateway.ts");
  // Signal handlers go in before anything listens, so a SIGTERM during start-up still shuts down
  // cleanly (once start has finished) instead of killing the process mid-way.
  const signalled = Promise.withResolvers<string>();
  const sigint = () => signalled.resolve("SIGINT");
  const sigterm = () => signalled.resolve("SIGTERM");
  Deno.addSignalListener("SIGINT", sigint);
  Deno.addSignalListener("SIGTERM", sigterm);
  const gw = await Gateway.start({
    config,
    envApiKey,
    adapters: ADAPTERS,
    adapterOptions: adapterOptionsFor,
  });
  const addr = gw.proxy.addr;
  log.info(
    "tickplex listening on ws://{host}:{port} (broker {broker}, bus {bus}, bus snapshots {snapshot})",
    {
      host: addr.hostname,
      port: addr.port,
      broker: config.broker.name,
      bus: gw.bus.endpoint,
      snapshot: gw.busSnapshot.endpoint,
    },
  );
  const sig = await signalled.promise;
  log.info("{sig}: shutting down", { sig });
  await gw.stop();
  Deno.removeSignalListener("SIGINT", sigint);
  Deno.removeSignalListener("SIGTERM", sigterm);
  return 0;
}

async function main(args: string[]): Promise<number> {
  const [first, ...rest] = args;
  if (first === "-h" || first === "--help" || first === "help") {
    console.log(HELP);
    return 0;
  }
  if (first === "hash-key") {
    const key = rest[0] ?? (await new Response(Deno.stdin.readable).text()).trim();
    if (key.length < 16) {
      console.error("tickplex: API keys must be at least 16 characters");
      return 2;
    }
    console.log(await hashKey(key));
    return 0;
  }
  if (first === "record") {
    // Loaded on demand: the recorder's DuckDB addon needs FFI, which the other commands lack.
    const { recordMain } = await import("./lib/recorder/cli.ts");
    return await recordMain(rest);
  }
  if (first === "sim") {
    const [broker, ...simArgs] = rest;
    const sim = broker ? SIMULATORS[broker] : undefined;
    if (!sim) {
      console.error(
        `usage: tickplex sim <broker>; simulators: ${Object.keys(SIMULATORS).join(", ")}`,
      );
      return 2;
    }
    await setupLogging("info");
    try {
      await sim(simArgs);
    } catch (err) {
      // A bad flag or a port in use: one line naming it, not a stack trace.
      console.error(`tickplex sim ${broker}: ${err instanceof Error ? err.message : err}`);
      return 2;
    }
    return 0;
  }
  const serveArgs = first === "serve" ? rest : args;
  try {
    return await serve(serveArgs);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`tickplex: invalid configuration:\n${err.message}`);
    } else console.error(`tickplex: ${err instanceof Error ? err.message : err}`);
    return 1;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
