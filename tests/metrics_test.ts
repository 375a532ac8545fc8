// /metrics of a running gateway, parsed: every sample belongs to a family declared with HELP and
// TYPE before it, no family is declared twice, and every producer (proxy, market data, pool,
// bus) is there — written by the one Prometheus writer in lib/metrics.

import assert from "node:assert/strict";
import { startGateway, TestClient } from "./helpers/gateway.ts";

interface Family {
  help: boolean;
  type: string | null;
  samples: number;
}

/** Parses the text format strictly enough to hold every producer to it. */
function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) families.set(name, f = { help: false, type: null, samples: 0 });
    return f;
  };
  const lines = text.split("\n");
  assert.equal(lines.pop(), "", "the document ends with a newline");
  for (const line of lines) {
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (meta) {
      const f = family(meta[2]);
      assert.equal(f.samples, 0, `${meta[1]} of ${meta[2]} after its samples`);
      if (meta[1] === "HELP") {
        assert.ok(!f.help, `HELP of ${meta[2]} twice`);
        f.help = true;
      } else {
        assert.equal(f.type, null, `TYPE of ${meta[2]} twice`);
        assert.match(meta[3], /^(counter|gauge)$/, `TYPE of ${meta[2]}`);
        f.type = meta[3];
      }
      continue;
    }
    const sample =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (\S+)$/
        .exec(line);
    assert.ok(sample, `not a sample line: ${line}`);
    assert.ok(!Number.isNaN(Number(sample[3])) || sample[3] === "NaN", `value in ${line}`);
    const f = families.get(sample[1]);
    assert.ok(f?.help && f.type, `sample ${sample[1]} without HELP and TYPE before it`);
    f.samples++;
  }
  return families;
}

Deno.test("/metrics: every sample has HELP and TYPE, one declaration per family, every producer", async () => {
  const gw = await startGateway({ broker: { name: "paper", options: { seed: 1 } } });
  try {
    const c = await TestClient.connect(gw);
    await c.auth();
    await c.request(
      { action: "subscribe", symbol: "RELIANCE", exchange: "NSE", mode: 2 },
      "subscribe",
    );
    await c.waitFor((f) => f.type === "market_data");
    const r = await fetch(`http://127.0.0.1:${gw.proxy.addr.port}/metrics`);
    assert.equal(r.headers.get("content-type"), "text/plain; version=0.0.4");
    const families = parseExposition(await r.text());
    for (
      const name of [
        "tickplex_clients", // proxy
        "tickplex_client_drops_total",
        "tickplex_ticks_in_total", // pool
        "tickplex_connection_up",
        "tickplex_connection_symbols",
        "tickplex_bus_published_total", // bus
        "tickplex_mds_ticks_total", // market data
      ]
    ) {
      assert.ok(families.has(name), `${name} missing`);
    }
    // The per-connection families (which had no HELP/TYPE before) carry samples.
    assert.ok(families.get("tickplex_connection_up")!.samples >= 1);
    await c.close();
  } finally {
    await gw.stop();
  }
});
