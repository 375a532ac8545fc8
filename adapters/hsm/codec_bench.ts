// Decode cost per HSM packet kind, Fyers and Kotak, through the shared dialect (framing check,
// state merge and tick building): one item per frame, so a figure is µs per packet.
// Run with `deno bench adapters/hsm/codec_bench.ts`.

import type { Wanted } from "../../lib/adapter/mod.ts";
import {
  encodeConnectReply,
  encodeDataFrame,
  encodeSnapshotItem,
  encodeUpdateItem,
  FYERS_HSM,
  type HsmConfig,
  KOTAK_HSM,
} from "./codec.ts";
import { hsmDialect } from "./dialect.ts";
import type { HsmInstrument } from "./ticks.ts";

const SCRIP: HsmInstrument = {
  token: "nse_fo|35001",
  exchange: "NFO",
  symbol: "NIFTY28MAR24FUT",
  index: false,
  hasOi: true,
};
const INDEX: HsmInstrument = {
  token: "nse_cm|Nifty 50",
  exchange: "NSE_INDEX",
  symbol: "NIFTY",
  index: true,
  hasOi: false,
};

function values(config: HsmConfig, kind: "sf" | "if" | "dp"): number[] {
  return config.layout[kind].map((name, i) =>
    name === "mul" ? 1 : name === "prec" ? 2 : name === "ltt" || name === "fdtm" || name ===
        "tvalue"
      ? 1_710_465_710
      : 2_250_000 + i
  );
}

function setup(config: HsmConfig) {
  const lookup = new Map([[SCRIP.token, SCRIP], [INDEX.token, INDEX]]);
  const d = hsmDialect<HsmInstrument>({
    config,
    endpoint: () => ({ url: "ws://127.0.0.1:1/" }),
    login: () => [],
    channels: { first: 1, last: 1, perChannel: 5000 },
    maxTopicsPerRequest: 100,
  }, { connection: 0, lookup: (t) => lookup.get(String(t)) });
  d.login?.();
  d.decode(encodeConnectReply(true, 0), 0);
  const wanted: Wanted<HsmInstrument>[] = [
    { instrument: SCRIP, mode: 3, depth: 5 },
    { instrument: INDEX, mode: 2, depth: 5 },
  ];
  d.subscribe(wanted, 3);
  const snap = (id: number, kind: "sf" | "if" | "dp", token: string) =>
    encodeDataFrame(null, [
      encodeSnapshotItem(config, {
        topicId: id,
        name: `${kind}|${token}`,
        values: values(config, kind),
        exchange: token.split("|")[0],
        token: token.split("|")[1],
        tradingSymbol: "X",
      }),
    ]);
  const frames = {
    scripSnapshot: snap(1, "sf", SCRIP.token),
    depthSnapshot: snap(2, "dp", SCRIP.token),
    indexSnapshot: snap(3, "if", INDEX.token),
    // A typical update: LTP, volume, LTQ and times change, the rest is the sentinel.
    scripUpdate: encodeDataFrame(null, [
      encodeUpdateItem(config, {
        topicId: 1,
        values: config.layout.sf.map((n) =>
          ["ltp", "v", "ltq", "ltt", "fdtm"].includes(n) ? 2_250_100 : null
        ),
      }),
    ]),
    depthUpdate: encodeDataFrame(null, [
      encodeUpdateItem(config, { topicId: 2, values: values(config, "dp") }),
    ]),
    lite: encodeDataFrame(null, [
      encodeUpdateItem(config, { topicId: 1, values: [2_250_200] }, true),
    ]),
  };
  for (const f of [frames.scripSnapshot, frames.depthSnapshot, frames.indexSnapshot]) {
    d.decode(f, 0);
  }
  return { d, frames };
}

for (const config of [FYERS_HSM, KOTAK_HSM]) {
  const { d, frames } = setup(config);
  const kinds = config.liteCount.sf > 0
    ? Object.keys(frames)
    : Object.keys(frames).filter((k) => k !== "lite");
  for (const kind of kinds) {
    const frame = frames[kind as keyof typeof frames];
    Deno.bench(`${config.name} ${kind} (${frame.byteLength} B)`, { group: config.name }, () => {
      d.decode(frame, 1);
    });
  }
}
