// Generates docs/bus-envelope.schema.json, docs/bus-candle.schema.json and
// docs/bus-snapshot.schema.json from the zod schemas. Run after changing envelope.ts: `deno run -P=test lib/bus/gen_schema.ts`; a test fails
// when a shipped file drifts.

import { z } from "zod";
import { busCandleEnvelopeSchema, busEnvelopeSchema } from "./envelope.ts";
import { snapshotReplySchema, snapshotRequestSchema } from "./snapshot.ts";

/** Where the generated JSON Schema is shipped. */
export const SCHEMA_PATH: URL = new URL("../../docs/bus-envelope.schema.json", import.meta.url);

/**
 * Renders the JSON Schema (draft 2020-12) of the bus envelope as the text of the shipped file.
 * Uses the schema's input side so that unknown (future, additive) fields are allowed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // The shipped file is exactly this text (a test checks it).
 * const schema = JSON.parse(renderEnvelopeJsonSchema());
 * assert.equal(schema.$id, "tickplex:bus-envelope:v1");
 * assert.equal(schema.oneOf.length, 3);
 * assert.equal(renderEnvelopeJsonSchema(), await Deno.readTextFile(SCHEMA_PATH));
 * ```
 */
export function renderEnvelopeJsonSchema(): string {
  const schema = z.toJSONSchema(busEnvelopeSchema, { io: "input" });
  return `${JSON.stringify({ $id: "tickplex:bus-envelope:v1", ...schema }, null, 2)}\n`;
}

/** Where the generated JSON Schema of the candle envelope is shipped. */
export const CANDLE_SCHEMA_PATH: URL = new URL(
  "../../docs/bus-candle.schema.json",
  import.meta.url,
);

/**
 * Renders the JSON Schema (draft 2020-12) of the bus candle envelope as the text of the shipped
 * file, input side like {@link renderEnvelopeJsonSchema}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const schema = JSON.parse(renderCandleJsonSchema());
 * assert.equal(schema.$id, "tickplex:bus-candle:v1");
 * assert.equal(renderCandleJsonSchema(), await Deno.readTextFile(CANDLE_SCHEMA_PATH));
 * ```
 */
export function renderCandleJsonSchema(): string {
  const schema = z.toJSONSchema(busCandleEnvelopeSchema, { io: "input" });
  return `${JSON.stringify({ $id: "tickplex:bus-candle:v1", ...schema }, null, 2)}\n`;
}

/** Where the generated JSON Schema of snapshot requests and replies is shipped. */
export const SNAPSHOT_SCHEMA_PATH: URL = new URL(
  "../../docs/bus-snapshot.schema.json",
  import.meta.url,
);

/**
 * Renders the JSON Schema (draft 2020-12) of the snapshot request and reply as the text of the
 * shipped file: both under `$defs` (`request`, `reply`), input side like the envelopes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const schema = JSON.parse(renderSnapshotJsonSchema());
 * assert.deepEqual(Object.keys(schema.$defs), ["request", "reply"]);
 * assert.equal(renderSnapshotJsonSchema(), await Deno.readTextFile(SNAPSHOT_SCHEMA_PATH));
 * ```
 */
export function renderSnapshotJsonSchema(): string {
  const strip = (s: Record<string, unknown>) => {
    const { $schema: _, ...rest } = s;
    return rest;
  };
  const request = z.toJSONSchema(snapshotRequestSchema, { io: "input" });
  const reply = z.toJSONSchema(snapshotReplySchema, { io: "input" });
  return `${
    JSON.stringify(
      {
        $id: "tickplex:bus-snapshot:v1",
        $schema: request.$schema,
        title: "tickplex bus snapshot request and reply v1",
        $defs: { request: strip(request), reply: strip(reply) },
      },
      null,
      2,
    )
  }\n`;
}

if (import.meta.main) {
  await Deno.mkdir(new URL(".", SCHEMA_PATH), { recursive: true });
  await Deno.writeTextFile(SCHEMA_PATH, renderEnvelopeJsonSchema());
  console.log(`wrote ${SCHEMA_PATH.pathname}`);
  await Deno.writeTextFile(CANDLE_SCHEMA_PATH, renderCandleJsonSchema());
  console.log(`wrote ${CANDLE_SCHEMA_PATH.pathname}`);
  await Deno.writeTextFile(SNAPSHOT_SCHEMA_PATH, renderSnapshotJsonSchema());
  console.log(`wrote ${SNAPSHOT_SCHEMA_PATH.pathname}`);
}
