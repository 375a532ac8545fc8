// Independent check: the official Fyers data socket client (npm fyers-api-v3), pointed at our
// simulator, connects with the simulator's token, converts symbols through its symbol-token REST
// call, subscribes scrip, index and depth topics, asks for full mode, acknowledges data frames —
// and decodes the simulator's bytes to the values our codec decodes from the same bytes.
//
// The client is a singleton with module-global state and timers, so it runs in its own process
// (fyers_sdk_client.ts) with TZ=Asia/Kolkata: it formats times through the process time zone and
// parses them back in IST.

import assert from "node:assert/strict";
import type { Wanted } from "../../lib/adapter/mod.ts";
import type { Tick } from "../../lib/types.ts";
import { startFyersSimulator } from "../../adapters/fyers/mod.ts";
import { fyersDialect } from "../../adapters/fyers/worker.ts";
import { parseFyersOptions } from "../../adapters/fyers/options.ts";
import type { FyersInstrument } from "../../adapters/fyers/instruments.ts";
import { parseRequest, REQ } from "../../adapters/hsm/codec.ts";

type Msg = Record<string, unknown>;

const CLIENT = new URL("./fyers_sdk_client.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;

/** Runs the official client until `enough` holds for its messages (or 20 s), then ends it. */
async function runClient(
  args: string[],
  enough: (msgs: Msg[]) => boolean,
): Promise<{ msgs: Msg[]; errors: unknown[]; stderr: string }> {
  const dir = await Deno.makeTempDir();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-env",
      "--allow-sys",
      "--allow-read",
      `--allow-write=${dir}`,
      CLIENT,
      ...args,
      dir,
    ],
    cwd: ROOT,
    env: { TZ: "Asia/Kolkata", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Kept for the failure message (a client that could not start says why there).
  const stderrText = new Response(child.stderr).text();
  const msgs: Msg[] = [];
  const errors: unknown[] = [];
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  const deadline = Date.now() + 20_000;
  try {
    while (!enough(msgs) && Date.now() < deadline) {
      const r = await Promise.race([
        reader.read(),
        new Promise<null>((res) => setTimeout(() => res(null), 500)),
      ]);
      if (r === null) continue;
      if (r.done) break;
      buf += r.value;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.startsWith("{")) continue;
        const { kind, m } = JSON.parse(line) as { kind: string; m: Msg };
        if (kind === "message") msgs.push(m);
        else if (kind === "error") errors.push(m);
      }
    }
  } finally {
    try {
      child.kill();
    } catch {
      // already gone
    }
    await reader.cancel().catch(() => {});
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
  return { msgs, errors, stderr: (await stderrText).slice(-2000) };
}

const close = (a: number | null | undefined, b: unknown, what: string) =>
  assert.ok(
    typeof a === "number" && typeof b === "number" && Math.abs(a - b) < 1e-6,
    `${what}: ours ${a}, official ${b}`,
  );

function compareScrip(t: Tick, m: Msg, what: string): void {
  close(t.ltp, m.ltp, `${what} ltp`);
  close(t.volume, m.vol_traded_today, `${what} volume`);
  close(t.ltt! / 1000, m.last_traded_time, `${what} ltt`);
  close(t.timestamp / 1000, m.exch_feed_time, `${what} feed time`);
  close(t.last_trade_quantity, m.last_traded_qty, `${what} ltq`);
  close(t.total_buy_quantity, m.tot_buy_qty, `${what} tbq`);
  close(t.total_sell_quantity, m.tot_sell_qty, `${what} tsq`);
  close(t.avg_trade_price, m.avg_trade_price, `${what} avg`);
  close(t.open, m.open_price, `${what} open`);
  close(t.high, m.high_price, `${what} high`);
  close(t.low, m.low_price, `${what} low`);
  close(t.close, m.prev_close_price, `${what} prev close`);
  close(Math.round(t.change! * 100) / 100, m.ch, `${what} change`);
}

function compareIndex(t: Tick, m: Msg, what: string): void {
  close(t.ltp, m.ltp, `${what} ltp`);
  close(t.close, m.prev_close_price, `${what} prev close`);
  close(t.high, m.high_price, `${what} high`);
  close(t.low, m.low_price, `${what} low`);
  close(t.open, m.open_price, `${what} open`);
  close(t.timestamp / 1000, m.exch_feed_time, `${what} feed time`);
  close(Math.round(t.change! * 100) / 100, m.ch, `${what} change`);
  assert.equal(t.volume, null);
}

function compareDepth(t: Tick, m: Msg): void {
  assert.ok(t.depth !== null);
  for (let i = 1; i <= 5; i++) {
    const b = t.depth.buy[i - 1];
    const s = t.depth.sell[i - 1];
    close(b.price, m[`bid_price${i}`], `bid price ${i}`);
    close(b.quantity, m[`bid_size${i}`], `bid size ${i}`);
    close(b.orders, m[`bid_order${i}`], `bid orders ${i}`);
    close(s.price, m[`ask_price${i}`], `ask price ${i}`);
    close(s.quantity, m[`ask_size${i}`], `ask size ${i}`);
    close(s.orders, m[`ask_order${i}`], `ask orders ${i}`);
  }
}

Deno.test("fyers-api-v3 (official client) against the simulator decodes what our codec decodes", async () => {
  const sim = await startFyersSimulator({ tickIntervalMs: 100, ackEvery: 2, record: true });
  try {
    const count = (msgs: Msg[], symbol: string, type: string) =>
      msgs.filter((m) => m.symbol === symbol && m.type === type).length;
    const { msgs, errors, stderr } = await runClient(
      [sim.url, sim.sim.server.httpBase, sim.accessToken],
      (msgs) =>
        count(msgs, "NSE:SBIN-EQ", "sf") >= 10 && count(msgs, "NSE:NIFTY50-INDEX", "if") >= 10 &&
        count(msgs, "NSE:RELIANCE-EQ", "dp") >= 10,
    );
    assert.deepEqual(errors, [], stderr);
    // Stop the market before reading what was sent (the client has been ended).
    sim.sim.server.stall();
    const conn = sim.sim.server.connections(true)[0];
    assert.ok(conn !== undefined, `the official client connected; its stderr: ${stderr}`);
    const st = conn.state;
    assert.equal(sim.sim.stats.connects, 1, "the client's auth request carried the hsm_key");
    assert.equal(st.lite.get(11), false, "the client asked for full mode on channel 11");
    assert.deepEqual(
      [...st.topics.keys()].sort(),
      ["dp|nse_cm|2885", "if|nse_cm|Nifty 50", "sf|nse_cm|2885", "sf|nse_cm|3045"],
      "topics from the symbol-token REST answer and the index name table",
    );
    assert.ok(st.acks.length >= 5, `the client acked data frames (${st.acks.length})`);

    // Our codec on the same bytes, in order.
    const ins = (token: string) => sim.instruments.get(token) as FyersInstrument;
    const wanted: Wanted<FyersInstrument>[] = [
      { instrument: ins("nse_cm|3045"), mode: 2, depth: 5 },
      { instrument: ins("nse_cm|Nifty 50"), mode: 2, depth: 5 },
      { instrument: ins("nse_cm|2885"), mode: 3, depth: 5 },
    ];
    const o = parseFyersOptions({ accessToken: sim.accessToken, feedUrl: sim.url });
    const d = fyersDialect(() => o, {
      connection: 0,
      lookup: (t) => wanted.find((w) => w.instrument.token === t)?.instrument,
    });
    d.login?.();
    d.subscribe(wanted, 2);
    const ours = new Map<string, Tick[]>();
    const ourAcks: number[] = [];
    for (const frame of st.sent) {
      const r = d.decode(frame, 0);
      assert.equal(r.malformed, undefined);
      for (const t of r.ticks ?? []) {
        const list = ours.get(t.symbol) ?? [];
        list.push(t);
        ours.set(t.symbol, list);
      }
      for (const f of r.reply ?? []) {
        const req = parseRequest(f as Uint8Array);
        assert.ok(typeof req !== "string");
        // Besides acks, the auth ack is answered with the full-mode and resume requests.
        if (req.type !== REQ.ACK) continue;
        ourAcks.push(
          new DataView(req.fields.get(1)!.buffer, req.fields.get(1)!.byteOffset).getUint32(0),
        );
      }
    }
    // The same frames acknowledged, message for message (the client acked what it had read).
    assert.deepEqual(ourAcks.slice(0, st.acks.length), st.acks);

    // SBIN and NIFTY: one official message per item = one of our ticks per frame, in order.
    const official = (symbol: string, type: string) =>
      msgs.filter((m) => m.symbol === symbol && m.type === type);
    const sbin = official("NSE:SBIN-EQ", "sf");
    const sbinOurs = ours.get("SBIN")!;
    assert.ok(sbin.length >= 10, `${sbin.length} SBIN messages; client stderr: ${stderr}`);
    for (let i = 0; i < sbin.length; i++) compareScrip(sbinOurs[i], sbin[i], `SBIN #${i}`);
    const nifty = official("NSE:NIFTY50-INDEX", "if");
    const niftyOurs = ours.get("NIFTY")!;
    for (let i = 0; i < nifty.length; i++) compareIndex(niftyOurs[i], nifty[i], `NIFTY #${i}`);

    // RELIANCE streams two topics the client reports apart; our ticks merge them. The last of
    // each must agree with the state after the frames the client read.
    const relQuote = official("NSE:RELIANCE-EQ", "sf");
    const relDepth = official("NSE:RELIANCE-EQ", "dp");
    const relOurs = ours.get("RELIANCE")!;
    const lastDepthTick = relOurs.findLast((t) =>
      t.depth !== null && t.depth.buy[0].price === relDepth.at(-1)!.bid_price1 &&
      t.depth.sell[4].quantity === relDepth.at(-1)!.ask_size5
    );
    assert.ok(lastDepthTick !== undefined, "the client's last book is one of ours");
    compareDepth(lastDepthTick, relDepth.at(-1)!);
    const lastQuote = relOurs.findLast((t) => t.volume === relQuote.at(-1)!.vol_traded_today)!;
    compareScrip(lastQuote, relQuote.at(-1)!, "RELIANCE");
  } finally {
    await sim.close();
  }
});
