// Tests for the configuration's documentation: every client limit says what it bounds, and no
// field's comment names a unit other than the one its name carries (authGraceMs was once
// documented as seconds while the code used milliseconds).

import assert from "node:assert/strict";
import { limitsSchema } from "./config.ts";

const SOURCE = await Deno.readTextFile(new URL("./config.ts", import.meta.url));

/** Every `/** … *\/ name:` pair in config.ts: the field name and its comment text. */
function documentedFields(source: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const re = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*\n\s*(\w+):/g;
  for (const m of source.matchAll(re)) {
    const doc = m[1].replace(/^\s*\*\s?/gm, "").replace(/\s+/g, " ").trim();
    const list = out.get(m[2]) ?? [];
    list.push(doc);
    out.set(m[2], list);
  }
  return out;
}

/** The unit a field's name promises, and words its comment must then not use. */
function contradiction(name: string, doc: string): string | null {
  const words = doc.toLowerCase();
  const seconds = /(?<!milli)seconds?\b/.test(words);
  const millis = /\bmilliseconds?\b|\bms\b/.test(words);
  const minutes = /\bminutes?\b/.test(words) && !/per minute/.test(words);
  if (name.endsWith("Ms") && (seconds || minutes)) return "named Ms, documented in (milli)?seconds";
  if (/[a-z]S$/.test(name) && millis) return "named S (seconds), documented in milliseconds";
  if (name.endsWith("Bytes") && /\b(kb|kib|mb|mib|kilobytes?|megabytes?)\b/.test(words)) {
    return "named Bytes, documented in larger units";
  }
  return null;
}

Deno.test("every client limit is documented", () => {
  const docs = documentedFields(SOURCE);
  const missing = Object.keys(limitsSchema.shape).filter((k) => !docs.has(k));
  assert.deepEqual(missing, [], `limits without a comment: ${missing.join(", ")}`);
});

Deno.test("no config comment names a unit other than its field's", () => {
  const wrong: string[] = [];
  for (const [name, docs] of documentedFields(SOURCE)) {
    for (const doc of docs) {
      const why = contradiction(name, doc);
      if (why) wrong.push(`${name}: ${why}: "${doc}"`);
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("the unit check itself catches a seconds comment on an Ms field", () => {
  assert.ok(contradiction("authGraceMs", "Seconds a new client has to authenticate"));
  assert.ok(contradiction("idleTimeoutS", "Ping after this many ms idle"));
  assert.equal(contradiction("authGraceMs", "Milliseconds a new client has"), null);
  assert.equal(contradiction("authFailuresPerMinute", "Failures per minute"), null);
});

Deno.test("--bus splits NATS servers from the zeromq endpoint; --upstream makes an edge", async () => {
  const { loadConfig, ConfigError } = await import("./config.ts");
  const load = (overrides: Record<string, unknown>, file?: string) =>
    loadConfig({ env: {}, overrides, file });
  const both =
    (await load({ bus: ["tcp://127.0.0.1:5556", "nats://a:4222,nats://b:4222"] })).config;
  assert.equal(both.bus, "tcp://127.0.0.1:5556");
  assert.deepEqual(both.nats?.servers, ["nats://a:4222", "nats://b:4222"]);
  assert.equal(both.edge, false);
  const natsOnly = (await load({ bus: "nats://a:4222" })).config;
  assert.equal(natsOnly.bus, "tcp://127.0.0.1:5555", "zeromq stays on its default");
  const edge = (await load({ upstream: ["tls://a:4222"] })).config;
  assert.equal(edge.edge, true);
  assert.deepEqual(edge.nats?.servers, ["tls://a:4222"]);
  assert.equal(edge.nats?.leaseMs, 15_000);
  const mixed = await loadConfig({
    env: { TICKPLEX_BUS: "tcp://127.0.0.1:5599" },
    overrides: { bus: "nats://a:4222" },
  });
  assert.equal(mixed.config.bus, "tcp://127.0.0.1:5599", "the environment's zeromq endpoint stays");
  assert.deepEqual(mixed.config.nats?.servers, ["nats://a:4222"]);
  await assert.rejects(load({ bus: ["tcp://127.0.0.1:1", "tcp://127.0.0.1:2"] }), ConfigError);
  await assert.rejects(load({ bus: "nats://has space:4222" }), ConfigError);
});

Deno.test("nats config: one way to authenticate, user with pass, an edge needs servers", async () => {
  const { configSchema } = await import("./config.ts");
  const ok = (nats: unknown) => configSchema.safeParse({ nats }).success;
  assert.ok(ok({ servers: ["nats://a:4222"], user: "u", pass: "p" }));
  assert.ok(ok({ servers: ["nats://a:4222"], nkeySeedFile: "seed.nk" }));
  assert.ok(!ok({ servers: ["nats://a:4222"], user: "u" }), "user without pass");
  assert.ok(!ok({ servers: ["nats://a:4222"], user: "u", pass: "p", token: "t" }));
  assert.ok(!ok({ servers: [] }));
  assert.ok(!ok({ servers: ["nats://a:4222"], tls: { certFile: "c.pem" } }), "cert without key");
  assert.ok(!ok({ servers: ["nats://a:4222"], subjectPrefix: "a.*" }), "no wildcard in prefix");
  assert.equal(configSchema.safeParse({ edge: true }).success, false);
});
