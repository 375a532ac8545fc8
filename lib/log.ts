// Logging setup on LogTape: one stderr sink for the whole process that masks configured secrets
// (API keys, broker tokens) so they never reach a log line.

import {
  configure,
  getLogger,
  type Logger,
  type LogLevel,
  type LogRecord,
  reset,
} from "@logtape/logtape";

export { getLogger, type Logger };

const secrets = new Set<string>();

/** Registers a value that must never appear in logs (masked as `***`). Short values are ignored. */
export function addSecret(value: string | undefined | null): void {
  if (value && value.length >= 6) secrets.add(value);
}

/** Masks every registered secret in `text`. */
export function redact(text: string): string {
  for (const s of secrets) {
    if (text.includes(s)) text = text.split(s).join("***");
  }
  return text;
}

function render(record: LogRecord): string {
  let msg = "";
  for (let i = 0; i < record.message.length; i++) {
    const part = record.message[i];
    msg += i % 2 === 0 ? String(part) : typeof part === "string" ? part : safeJson(part);
  }
  const time = new Date(record.timestamp).toISOString();
  return redact(`${time} ${record.level.toUpperCase()} ${record.category.join(".")}: ${msg}`);
}

function safeJson(v: unknown): string {
  if (v instanceof Error) return v.message;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

const encoder = new TextEncoder();

/** Output destination for log lines; tests replace it to capture output. */
export type LogWriter = (line: string) => void;

const stderrWriter: LogWriter = (line) => {
  try {
    Deno.stderr.writeSync(encoder.encode(line + "\n"));
  } catch {
    // stderr closed: nothing else to tell
  }
};

/**
 * Configures logging for the process. Safe to call again (reconfigures).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const lines: string[] = [];
 * await setupLogging("info", (line) => lines.push(line)); // default: stderr
 * getLogger(["tickplex", "pool"]).info("started");
 * getLogger(["tickplex", "pool"]).debug("not at info");
 * assert.equal(lines.length, 1);
 * assert.match(lines[0], /INFO tickplex\.pool: started/);
 * ```
 */
export async function setupLogging(
  level: LogLevel,
  writer: LogWriter = stderrWriter,
): Promise<void> {
  await reset();
  await configure({
    sinks: { main: (record: LogRecord) => writer(render(record)) },
    loggers: [
      { category: ["tickplex"], lowestLevel: level, sinks: ["main"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["main"] },
    ],
  });
}
