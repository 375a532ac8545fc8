// `deno task sim <broker>` for every simulator: the same flags (`--port`, `--tick-interval`),
// the same checks, a printout of how to point the gateway at it, and a clean stop on Ctrl+C.

import { parseArgs } from "node:util";

/** What a broker's simulator CLI says about itself. */
export interface SimulatorCli<S extends { close(): Promise<void> }> {
  /** Port when `--port` is not given. */
  defaultPort: number;
  /** Market clock when `--tick-interval` is not given (ms; 0 = data only on subscribe). */
  defaultTickMs?: number;
  start(options: { port: number; tickEveryMs: number }): Promise<S>;
  /** Lines to print once it listens: URL, credentials, the `deno task start` command. */
  describe(sim: S): string[];
}

/**
 * Parses `--port <n>` and `--tick-interval <ms>` (errors name the flag).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(simulatorFlags(["--port", "9"], 9101, 1000), { port: 9, tickEveryMs: 1000 });
 * assert.throws(() => simulatorFlags(["--port", "x"], 9101, 1000), /bad --port x/);
 * ```
 */
export function simulatorFlags(
  args: string[],
  defaultPort: number,
  defaultTickMs: number,
): { port: number; tickEveryMs: number } {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: "string", default: String(defaultPort) },
      "tick-interval": { type: "string", default: String(defaultTickMs) },
    },
    allowPositionals: true,
  });
  const port = Number(values.port);
  const tickEveryMs = Number(values["tick-interval"]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`bad --port ${values.port}`);
  }
  if (!Number.isFinite(tickEveryMs) || tickEveryMs < 0) {
    throw new Error(`bad --tick-interval ${values["tick-interval"]}`);
  }
  return { port, tickEveryMs };
}

/** Runs a simulator from the command line until SIGINT/SIGTERM. */
export async function runSimulatorCli<S extends { close(): Promise<void> }>(
  args: string[],
  cli: SimulatorCli<S>,
): Promise<void> {
  const sim = await cli.start(simulatorFlags(args, cli.defaultPort, cli.defaultTickMs ?? 1000));
  for (const line of cli.describe(sim)) console.log(line);
  console.log("Ctrl+C to stop.");
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  let stop = () => {};
  await new Promise<void>((resolve) => {
    stop = resolve;
    for (const s of signals) Deno.addSignalListener(s, stop);
  });
  for (const s of signals) Deno.removeSignalListener(s, stop);
  await sim.close();
}
