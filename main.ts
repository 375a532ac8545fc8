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
  --bus <endpoint>       zeromq bus endpoint (default tcp://127.0.0.1:5555); nats://host:4222
                         publishes on NATS as well (repeatable or comma-separated: one cluster)
  --upstream <nats-url>  run as an edge: serve clients from a primary's NATS bus, no broker login
  --fanout-processes <n> also start n edge processes sharing --port (needs --bus nats://...)
  --reuse-port           share --port with other tickplex processes (Linux SO_REUSEPORT)
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
      bus: { type: "string", multiple: true },
      upstream: { type: "string", multiple: true },
      "fanout-processes": { type: "string" },
      "exit-with-stdin": { type: "boolean" },
      "reuse-port": { type: "boolean" },
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
      upstream: values.upstream,
      broker: values.broker,
      feedUrl: values["feed-url"],
      instruments: values.instruments,
    },
  });
  const fanout = values["fanout-processes"] === undefined ? 0 : Number(values["fanout-processes"]);
  if (!Number.isInteger(fanout) || fanout < 0 || fanout > 64) {
    throw new ConfigError(
      `--fanout-processes: a whole number 0..64, got '${values["fanout-processes"]}'`,
    );
  }
  if (fanout > 0 && (config.nats === undefined || config.edge)) {
    throw new ConfigError("--fanout-processes needs the NATS bus: --bus nats://host:4222");
  }
  if (fanout > 0 || values["reuse-port"]) config.reusePort = true;
  await setupLogging(config.logLevel);
  const log = getLogger(["tickplex", "main"]);
  // Signal handlers go in before anything listens, so a SIGTERM during start-up still shuts down
  // cleanly (once start has finished) instead of killing the process mid-way.
  const signalled = Promise.withResolvers<string>();
  const aborted = new AbortController();
  void signalled.promise.then(() => aborted.abort());
  const sigint = () => signalled.resolve("SIGINT");
  const sigterm = () => signalled.resolve("SIGTERM");
  Deno.addSignalListener("SIGINT", sigint);
  Deno.addSignalListener("SIGTERM", sigterm);
  if (values["exit-with-stdin"]) {
    // A child of --fanout-processes: its parent holds our stdin; EOF means the parent is gone,
    // however it died (SIGKILL included), so the child never outlives it.
    void (async () => {
      for await (const _ of Deno.stdin.readable) { /* nothing is sent; wait for EOF */ }
      signalled.resolve("parent exited");
    })();
  }
  let stop: () => Promise<void>;
  if (config.edge) {
    // No broker, no zeromq: an edge loads neither the adapters' workers nor native code.
    const { EdgeGateway } = await import("./lib/edge.ts");
    // An edge waits for its primary as long as it takes; a signal meanwhile ends the wait.
    const edge = await EdgeGateway.start({ config, envApiKey, signal: aborted.signal });
    log.info("tickplex edge listening on ws://{host}:{port} (broker {broker} via NATS {nats})", {
      host: edge.proxy.addr.hostname,
      port: edge.proxy.addr.port,
      broker: edge.primary.broker,
      nats: edge.connection.getServer(),
    });
    stop = () => edge.stop();
  } else {
    // Loaded here so `sim` runs without the native zeromq addon (and without ffi permission).
    const { Gateway } = await import("./lib/gateway.ts");
    const gw = await Gateway.start({
      config,
      envApiKey,
      adapters: ADAPTERS,
      adapterOptions: adapterOptionsFor,
    });
    const addr = gw.proxy.addr;
    log.info(
      "tickplex listening on ws://{host}:{port} (broker {broker}, bus {bus}, bus snapshots " +
        "{snapshot}{nats})",
      {
        host: addr.hostname,
        port: addr.port,
        broker: config.broker.name,
        bus: gw.bus.endpoint,
        snapshot: gw.busSnapshot.endpoint,
        nats: gw.nats === null ? "" : `, NATS ${gw.nats.connection.getServer()}`,
      },
    );
    const children = fanout > 0 ? startEdges(fanout, values.config, config, addr.port) : [];
    stop = async () => {
      await Promise.all(children.map((c) => c.stop()));
      await gw.stop();
    };
  }
  const sig = await signalled.promise;
  log.info("{sig}: shutting down", { sig });
  await stop();
  Deno.removeSignalListener("SIGINT", sigint);
  Deno.removeSignalListener("SIGTERM", sigterm);
  return 0;
}

/**
 * Starts `n` edge processes on the primary's port (SO_REUSEPORT), each under the `edge` permission
 * set of deno.json. Each child reads its stdin until EOF, so it exits when this process does.
 */
function startEdges(
  n: number,
  configFile: string | undefined,
  config: import("./lib/config/mod.ts").Config,
  port: number,
): { stop(): Promise<void> }[] {
  const log = getLogger(["tickplex", "main"]);
  const main = new URL(import.meta.url).pathname;
  const denoJson = new URL("./deno.json", import.meta.url).pathname;
  const args = [
    "run",
    "--node-modules-dir=auto",
    `--config=${denoJson}`,
    "-P=edge",
    main,
    "--exit-with-stdin",
    "--reuse-port",
    "--host",
    config.host,
    "--port",
    String(port),
    "--upstream",
    config.nats!.servers.join(","),
    ...(configFile === undefined ? [] : ["--config", configFile]),
  ];
  return Array.from({ length: n }, (_, i) => {
    const child = new Deno.Command("deno", { args, stdin: "piped" }).spawn();
    const writer = child.stdin.getWriter();
    log.info("edge process {n} started (pid {pid})", { n: i + 1, pid: child.pid });
    void child.status.then((s) =>
      log.info("edge process {n} exited ({code})", { n: i + 1, code: s.signal ?? s.code })
    );
    return {
      async stop() {
        await writer.close().catch(() => {});
        const timer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch { /* already gone */ }
        }, 10_000);
        await child.status;
        clearTimeout(timer);
      },
    };
  });
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
