// `deno task sim <broker>` for every simulator: the same flags (`--port`, `--tick-interval`),
// the same checks, a printout of how to point the gateway at it, and a clean stop on Ctrl+C.

import { parseArgs } from "node:util";

/** The flags every simulator takes, plus its own (`--login`, `--access-token`, ...). */
export interface SimulatorFlags {
  port: number;
  tickEveryMs: number;
  /** The broker's own string flags by name (absent = not given and no default). */
  flags: Record<string, string | undefined>;
}

/** What a broker's simulator CLI says about itself. */
export interface SimulatorCli<S extends { close(): Promise<void> }> {
  /** Port when `--port` is not given. */
  defaultPort: number;
  /** Market clock when `--tick-interval` is not given (ms; 0 = data only on subscribe). */
  defaultTickMs?: number;
  /** The broker's own string flags: name → default (undefined = optional, no default). */
  flags?: Record<string, string | undefined>;
  start(options: SimulatorFlags): Promise<S>;
  /** Lines to print once it listens: URL, credentials, the `deno task start` command. */
  describe(sim: S, options: SimulatorFlags): string[];
}

/**
 * Parses `--port <n>`, `--tick-interval <ms>` and the broker's own string flags (errors name the
 * flag; an unknown flag is an error).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(simulatorFlags(["--port", "9"], 9101, 1000), {
 *   port: 9, tickEveryMs: 1000, flags: {},
 * });
 * assert.deepEqual(
 *   simulatorFlags(["--login", "c"], 9101, 1000, { login: undefined, "user-id": "U1" }).flags,
 *   { login: "c", "user-id": "U1" },
 * );
 * assert.throws(() => simulatorFlags(["--port", "x"], 9101, 1000), /bad --port x/);
 * assert.throws(() => simulatorFlags(["--nope", "1"], 9101, 1000), /nope/);
 * ```
 */
export function simulatorFlags(
  args: string[],
  defaultPort: number,
  defaultTickMs: number,
  own: Record<string, string | undefined> = {},
): SimulatorFlags {
  const options: Record<string, { type: "string"; default?: string }> = {
    port: { type: "string", default: String(defaultPort) },
    "tick-interval": { type: "string", default: String(defaultTickMs) },
  };
  for (const [name, value] of Object.entries(own)) {
    options[name] = value === undefined ? { type: "string" } : { type: "string", default: value };
  }
  const { values } = parseArgs({ args, options, allowPositionals: true });
  const port = Number(values.port);
  const tickEveryMs = Number(values["tick-interval"]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`bad --port ${values.port}`);
  }
  if (!Number.isFinite(tickEveryMs) || tickEveryMs < 0) {
    throw new Error(`bad --tick-interval ${values["tick-interval"]}`);
  }
  const flags: Record<string, string | undefined> = {};
  for (const name of Object.keys(own)) flags[name] = values[name] as string | undefined;
  return { port, tickEveryMs, flags };
}

/** Runs a simulator from the command line until SIGINT/SIGTERM. */
export async function runSimulatorCli<S extends { close(): Promise<void> }>(
  args: string[],
  cli: SimulatorCli<S>,
): Promise<void> {
  const options = simulatorFlags(args, cli.defaultPort, cli.defaultTickMs ?? 1000, cli.flags);
  const sim = await cli.start(options);
  for (const line of cli.describe(sim, options)) console.log(line);
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
