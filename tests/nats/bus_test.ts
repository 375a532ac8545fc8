// The NATS bus against a real nats-server: a plain NATS subscriber receives the gateway's v1
// envelopes on tickplex.v1.<EXCHANGE>.<SYMBOL>.<MODE>, with per-subject sequence numbers.

import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { decodeEnvelope } from "../../lib/bus/envelope.ts";
import { parseTickSubject } from "../../lib/nats/mod.ts";
import { startGateway, TestClient, until } from "../helpers/gateway.ts";
import { startNatsServer } from "../helpers/nats_server.ts";

Deno.test("nats bus: a plain subscriber gets the gateway's envelopes, zeromq stays on", async () => {
  const nats = await startNatsServer(["--user", "tick", "--pass", "plex-secret"]);
  const gw = await startGateway({
    nats: { servers: [nats.url], user: "tick", pass: "plex-secret" },
  });
  const nc = await connect({ servers: nats.url, user: "tick", pass: "plex-secret" });
  try {
    const got: { subject: string; payload: Uint8Array }[] = [];
    nc.subscribe("tickplex.v1.>", {
      callback: (_e, m) => void got.push({ subject: m.subject, payload: m.data }),
    });
    await nc.flush();
    const client = await TestClient.connect(gw);
    await client.auth();
    await client.request(
      { action: "subscribe", symbol: "RELIANCE", exchange: "NSE", mode: 2 },
      "subscribe",
    );
    await until(() => got.length >= 3, 10_000, "three envelopes on NATS");
    const seqs: number[] = [];
    for (const m of got.slice(0, 3)) {
      assert.deepEqual(parseTickSubject("tickplex", m.subject), {
        exchange: "NSE",
        symbol: "RELIANCE",
        mode: 2,
      });
      const d = decodeEnvelope(m.payload);
      assert.ok(d.ok, "a valid v1 envelope");
      assert.equal(d.envelope.mode, "QUOTE");
      assert.equal(d.envelope.broker, "paper");
      assert.equal(d.envelope.session, gw.nats!.bus.session);
      seqs.push(d.envelope.seq);
    }
    assert.deepEqual(seqs, [seqs[0], seqs[0] + 1, seqs[0] + 2], "seq counts per subject");
    assert.ok(gw.bus.published > 0, "the zeromq bus publishes as before");
    await client.close();
  } finally {
    await nc.close();
    await gw.stop();
    await nats.stop();
  }
});

Deno.test("nats bus: a gateway refuses to start when no NATS server answers", async () => {
  await assert.rejects(
    startGateway({ nats: { servers: ["nats://127.0.0.1:1"] } }),
    /nats: cannot connect to nats:\/\/127\.0\.0\.1:1/,
  );
});

Deno.test("nats connect: token and nkey seed file authenticate against a real server", async () => {
  const { connectNats } = await import("../../lib/nats/mod.ts");
  const { createUser } = await import("@nats-io/nkeys");
  const user = createUser();
  const dir = await Deno.makeTempDir();
  const seedFile = `${dir}/edge.nk`;
  await Deno.writeTextFile(seedFile, new TextDecoder().decode(user.getSeed()));
  const conf = `${dir}/nats.conf`;
  await Deno.writeTextFile(
    conf,
    `authorization { users = [ { nkey: ${user.getPublicKey()} } ] }\n`,
  );
  const withNkey = await startNatsServer(["-c", conf]);
  const withToken = await startNatsServer(["--auth", "s3cret-token"]);
  try {
    const base = { subjectPrefix: "tickplex", leaseMs: 15_000, requestTimeoutMs: 5_000 };
    const a = await connectNats({ ...base, servers: [withNkey.url], nkeySeedFile: seedFile }, "t");
    await a.flush();
    await a.close();
    // Refused cleanly, again and again: the server's reset of a refused connection must not
    // surface as an uncaught error (it did, one run in two, before connectNats guarded it).
    for (let i = 0; i < 10; i++) {
      await assert.rejects(
        connectNats({ ...base, servers: [withNkey.url] }, "t"),
        /cannot connect/,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
    const b = await connectNats({ ...base, servers: [withToken.url], token: "s3cret-token" }, "t");
    await b.flush();
    await b.close();
    await assert.rejects(
      connectNats({ ...base, servers: [withToken.url], token: "wrong" }, "t"),
      /cannot connect/,
    );
  } finally {
    await withNkey.stop();
    await withToken.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("nats connect: TLS with the configured CA; refused without it", async () => {
  const { connectNats } = await import("../../lib/nats/mod.ts");
  const data = new URL("../testdata/", import.meta.url).pathname;
  const nats = await startNatsServer([
    "--tls",
    "--tlscert",
    `${data}tls_cert.pem`,
    "--tlskey",
    `${data}tls_key.pem`,
  ]);
  const base = { subjectPrefix: "tickplex", leaseMs: 15_000, requestTimeoutMs: 5_000 };
  const servers = [`tls://127.0.0.1:${nats.port}`];
  try {
    const nc = await connectNats({ ...base, servers, tls: { caFile: `${data}ca_cert.pem` } }, "t");
    await nc.flush();
    await nc.close();
    await assert.rejects(connectNats({ ...base, servers }, "t"), /cannot connect/);
  } finally {
    await nats.stop();
  }
});
