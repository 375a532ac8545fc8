// The Groww simulator at the NATS protocol level, with a raw WebSocket client: INFO with a nonce,
// CONNECT signed with URL-safe base64 in text frames, operations split across frames and several
// per frame, PING/PONG, SUB/UNSUB, MSG cut by byte count, permission errors, the instrument cap,
// PUB skipped by its size, and the REST mint's refusals.

import assert from "node:assert/strict";
import { createUser, type KeyPair } from "@nats-io/nkeys";
import { decodePayload, type Payload } from "./codec.ts";
import { SOCKET_TOKEN_PATH } from "./options.ts";
import { type GrowwSimulator, startGrowwSimulator } from "./simulator.ts";

const te = new TextEncoder();
const td = new TextDecoder();

/** A NATS reader over a raw WebSocket: reassembles the stream and cuts MSG payloads by size. */
class RawNats {
  readonly ws: WebSocket;
  buf = new Uint8Array();
  ops: { op: string; args: string[]; payload?: Uint8Array }[] = [];
  frames = 0;
  closed = false;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.binaryType = "arraybuffer";
    this.ws.onmessage = (e) => {
      this.frames++;
      const b = new Uint8Array(e.data as ArrayBuffer);
      const all = new Uint8Array(this.buf.length + b.length);
      all.set(this.buf);
      all.set(b, this.buf.length);
      this.buf = all;
      this.#parse();
    };
    this.ws.onclose = () => this.closed = true;
  }

  #parse(): void {
    for (;;) {
      let eol = -1;
      for (let i = 0; i < this.buf.length - 1; i++) {
        if (this.buf[i] === 13 && this.buf[i + 1] === 10) {
          eol = i;
          break;
        }
      }
      if (eol < 0) return;
      const line = td.decode(this.buf.subarray(0, eol));
      const [op, ...args] = line.split(" ");
      if (op === "MSG") {
        const size = Number(args[args.length - 1]);
        if (this.buf.length < eol + 2 + size + 2) return;
        const payload = this.buf.slice(eol + 2, eol + 2 + size);
        assert.deepEqual([...this.buf.subarray(eol + 2 + size, eol + 4 + size)], [13, 10]);
        this.buf = this.buf.subarray(eol + 4 + size);
        this.ops.push({ op, args, payload });
      } else {
        this.buf = this.buf.subarray(eol + 2);
        this.ops.push({ op, args: [args.join(" ")] });
      }
    }
  }

  async opened(): Promise<void> {
    await new Promise((r, j) => {
      this.ws.onopen = r;
      this.ws.onerror = j;
    });
  }

  async waitFor(
    op: string,
    from = 0,
  ): Promise<{ op: string; args: string[]; payload?: Uint8Array }> {
    const end = Date.now() + 3000;
    for (;;) {
      const found = this.ops.slice(from).find((o) => o.op === op);
      if (found !== undefined) return found;
      if (Date.now() > end) throw new Error(`no ${op} (got ${this.ops.map((o) => o.op)})`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

async function mint(sim: GrowwSimulator, kp: KeyPair, auth = `Bearer ${sim.accessToken}`) {
  return await fetch(`${sim.httpBase}${SOCKET_TOKEN_PATH}`, {
    method: "POST",
    headers: { authorization: auth, "content-type": "application/json" },
    body: JSON.stringify({ socketKey: kp.getPublicKey() }),
  });
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

/** Opens a raw connection and logs in with `sign` producing the signature text. */
async function login(sim: GrowwSimulator, sign = base64url): Promise<RawNats> {
  const kp = createUser();
  const { token } = await (await mint(sim, kp)).json();
  const c = new RawNats(sim.url);
  await c.opened();
  const info = await c.waitFor("INFO");
  const server = JSON.parse(info.args[0]);
  assert.equal(server.auth_required, true);
  assert.equal(typeof server.nonce, "string");
  const sig = sign(kp.sign(te.encode(server.nonce)));
  // CONNECT and PING in one text frame, cut in two mid-operation.
  const hello = `CONNECT ${JSON.stringify({ verbose: false, jwt: token, sig })}\r\nPING\r\n`;
  c.ws.send(hello.slice(0, 17));
  c.ws.send(hello.slice(17));
  return c;
}

Deno.test("simulator: URL-safe signature in split text frames; PONG; SUB → snapshot MSG; UNSUB", async () => {
  await using sim = await startGrowwSimulator({ tickIntervalMs: 0, pingIntervalMs: 0 });
  const c = await login(sim);
  await c.waitFor("PONG");
  // Two SUBs and a PING in one binary frame.
  c.ws.send(te.encode("SUB /ld/eq/nse/price.2885 1\r\nSUB /ld/eq/nse/book.2885 2\r\nPING\r\n"));
  await c.waitFor("PONG", c.ops.findIndex((o) => o.op === "PONG") + 1);
  const msgs = c.ops.filter((o) => o.op === "MSG");
  assert.deepEqual(msgs.map((m) => m.args.slice(0, 2)), [
    ["/ld/eq/nse/price.2885", "1"],
    ["/ld/eq/nse/book.2885", "2"],
  ]);
  const price = decodePayload(msgs[0].payload!) as Payload;
  assert.equal(price.kind === "price" && price.fields.ltp, sim.quote("eq/nse/2885").ltp);
  assert.deepEqual(sim.streams().map((m) => [...m]), [[["NSE:RELIANCE", 3]]]);
  c.ws.send("UNSUB 2\r\n");
  c.ws.send("PING\r\n");
  const pongs = () => c.ops.filter((o) => o.op === "PONG").length;
  const before = pongs();
  await c.waitFor("PONG", c.ops.length);
  assert.ok(pongs() > before);
  assert.deepEqual(sim.streams().map((m) => [...m]), [[["NSE:RELIANCE", 2]]]);
  c.ws.close();
});

Deno.test("simulator: many MSGs per frame and MSGs cut across frames reassemble by byte count", async () => {
  await using sim = await startGrowwSimulator({ tickIntervalMs: 0, splitEvery: 2 });
  const c = await login(sim);
  await c.waitFor("PONG");
  const subjects = ["2885", "11536", "1594"].map((t) => `/ld/eq/nse/price.${t}`);
  c.ws.send(subjects.map((s, i) => `SUB ${s} ${i + 1}\r\n`).join(""));
  await c.waitFor("MSG");
  for (let i = 0; i < 10; i++) sim.publish();
  const end = Date.now() + 3000;
  while (c.ops.filter((o) => o.op === "MSG").length < 33 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 5));
  }
  const msgs = c.ops.filter((o) => o.op === "MSG");
  assert.equal(msgs.length, 33, "3 snapshots + 10 steps × 3 subjects");
  assert.ok(c.frames < msgs.length, `several operations per frame (${c.frames} frames)`);
  for (const m of msgs) assert.equal((decodePayload(m.payload!) as Payload).kind, "price");
  c.ws.close();
});

Deno.test("simulator: standard base64 is accepted too; a bad signature gets Authorization Violation", async () => {
  await using sim = await startGrowwSimulator({ tickIntervalMs: 0 });
  const std = await login(sim, (b) => btoa(String.fromCharCode(...b)));
  await std.waitFor("PONG");
  std.ws.close();
  const bad = await login(sim, (b) => base64url(b.map((x, i) => i === 0 ? x ^ 1 : x)));
  const err = await bad.waitFor("-ERR");
  assert.equal(err.args[0], "'Authorization Violation'");
  const end = Date.now() + 3000;
  while (!bad.closed && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  assert.ok(bad.closed, "the server closes after refusing");
  assert.deepEqual(sim.refusals, ["bad signature"]);
});

Deno.test("simulator: permission errors, the instrument cap, PUB skipped by its size", async () => {
  await using sim = await startGrowwSimulator({ tickIntervalMs: 0, maxInstruments: 2 });
  const c = await login(sim);
  await c.waitFor("PONG");
  c.ws.send("SUB stocks/order/updates.apex.1 9\r\n");
  assert.match((await c.waitFor("-ERR")).args[0], /Permissions Violation for Subscription/);
  const mark = c.ops.length;
  // Price and book of one instrument count once; the third instrument is over the cap.
  c.ws.send(
    "SUB /ld/eq/nse/price.2885 1\r\nSUB /ld/eq/nse/book.2885 2\r\nSUB /ld/eq/nse/price.1594 3\r\n" +
      "SUB /ld/eq/nse/price.11536 4\r\n",
  );
  assert.equal((await c.waitFor("-ERR", mark)).args[0], "'Maximum Subscriptions Exceeded'");
  assert.equal(sim.streams()[0].size, 2);
  // A PUB whose payload holds CRLF and "PING" must be skipped whole, not parsed.
  const payload = "x\r\nPING\r\n";
  const mark2 = c.ops.length;
  c.ws.send(`PUB /ld/eq/nse/price.2885 ${payload.length}\r\n${payload}\r\nPING\r\n`);
  await c.waitFor("PONG", mark2);
  assert.equal(c.ops.slice(mark2).filter((o) => o.op === "PONG").length, 1);
  assert.match((await c.waitFor("-ERR", mark2)).args[0], /Permissions Violation for Publish/);
  c.ws.close();
});

Deno.test("simulator: the socket-token mint refuses bad access tokens and bad keys", async () => {
  await using sim = await startGrowwSimulator({ tickIntervalMs: 0 });
  const kp = createUser();
  const denied = await mint(sim, kp, "Bearer nope");
  assert.equal(denied.status, 401);
  await denied.body?.cancel();
  const badKey = await fetch(`${sim.httpBase}${SOCKET_TOKEN_PATH}`, {
    method: "POST",
    headers: { authorization: `Bearer ${sim.accessToken}` },
    body: JSON.stringify({ socketKey: "not-a-key" }),
  });
  assert.equal(badKey.status, 400);
  await badKey.body?.cancel();
  const ok = await mint(sim, kp);
  const body = await ok.json();
  const claims = JSON.parse(atob(body.token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
  assert.equal(claims.sub, kp.getPublicKey(), "the JWT's subject is the posted socketKey");
  assert.equal(claims.iss, sim.accountKey);
  assert.equal(sim.mints, 1);
});
