// One source of truth for broker hosts: the `gateway` and `binary` permission sets in deno.json
// must allow exactly the loopback/listen addresses plus the union of the registered descriptors'
// production hosts — a broker added to BROKERS without its hosts (or a stale host) fails here.

import assert from "node:assert/strict";
import { BROKERS } from "../adapters/mod.ts";

/** What the gateway listens on and binds the bus to, whatever the broker. */
const LOCAL = ["127.0.0.1", "localhost", "0.0.0.0"];

Deno.test("permission sets: gateway and binary net = local addresses ∪ descriptor hosts", async () => {
  const deno = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const hosts = new Set(LOCAL);
  for (const b of BROKERS) for (const h of b.hosts) hosts.add(h);
  for (const set of ["gateway", "binary"]) {
    const net = deno.permissions[set].net as string[];
    assert.deepEqual(
      [...net].sort(),
      [...hosts].sort(),
      `deno.json permissions.${set}.net must list exactly these hosts`,
    );
  }
});

Deno.test("registry: broker names are unique and every descriptor names its hosts as host:port", () => {
  const names = BROKERS.map((b) => b.name);
  assert.equal(new Set(names).size, names.length);
  for (const b of BROKERS) {
    for (const h of b.hosts) assert.match(h, /^[a-z0-9.-]+:\d+$/, `${b.name}: ${h}`);
  }
});

Deno.test("permission sets: an edge reaches no broker, loads no native code, runs nothing", async () => {
  const deno = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const edge = deno.permissions.edge;
  // Loopback NATS and its own listener only; a remote NATS server is added by the operator.
  assert.deepEqual([...edge.net].sort(), [...LOCAL].sort());
  assert.equal(edge.ffi, undefined, "no ffi: the edge never loads zeromq");
  assert.equal(edge.run, undefined);
  assert.deepEqual(edge.write, ["./.tickplex"]);
  // The primary may start its --fanout-processes edges, and nothing else.
  assert.deepEqual(deno.permissions.gateway.run, ["deno"]);
});
