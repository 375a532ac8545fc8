// What Fyers adds to the shared HSM codec (adapters/hsm/codec.ts): its framing configuration and
// the streamDataConfig JSON of the auth ack, which names the field order (parsed with zod here,
// built for the simulator so the official client can decode its data).

import { z } from "zod";
import { FYERS_HSM, FYERS_LAYOUT, type HsmLayout, type TopicKind } from "../hsm/codec.ts";

export { FYERS_HSM, FYERS_LAYOUT };

const streamDataConfigSchema = z.object({
  fields: z.array(z.object({ fid: z.string(), fld: z.string() }).loose()),
  scrip: z.array(z.string()),
  index: z.array(z.string()),
  depth: z.array(z.string()),
  scrip_lite: z.object({ hfid: z.number().int().min(0).max(255) }).loose().optional(),
  index_lite: z.object({ hfid: z.number().int().min(0).max(255) }).loose().optional(),
}).loose();

/** A field order read from streamDataConfig. */
export interface FyersStreamLayout {
  layout: HsmLayout;
  liteCount: Record<TopicKind, number>;
}

/**
 * Reads the auth ack's streamDataConfig: field names per position for scrip, index and depth
 * topics (by each fid's `fld`), and the lite value counts. A string names what is wrong; the
 * caller then keeps the documented order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const r = parseStreamDataConfig(fyersStreamDataConfig());
 * assert.ok(typeof r !== "string");
 * assert.deepEqual(r.layout, FYERS_LAYOUT);
 * assert.equal(parseStreamDataConfig("{}").toString().includes("fields"), true);
 * ```
 */
export function parseStreamDataConfig(text: string): FyersStreamLayout | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return "not JSON";
  }
  const r = streamDataConfigSchema.safeParse(json);
  if (!r.success) {
    return r.error.issues.map((i) => `${i.path.join(".") || "config"}: ${i.message}`).join("; ");
  }
  const names = new Map(r.data.fields.map((f) => [f.fid, f.fld]));
  const order = (fids: string[]) => fids.map((fid) => names.get(fid) ?? `?${fid}`);
  const layout: HsmLayout = {
    sf: order(r.data.scrip),
    if: order(r.data.index),
    dp: order(r.data.depth),
  };
  if (!layout.sf.includes("ltp") || !layout.if.includes("iv")) return "no ltp field";
  return {
    layout,
    liteCount: {
      sf: r.data.scrip_lite?.hfid ?? FYERS_HSM.liteCount.sf,
      if: r.data.index_lite?.hfid ?? FYERS_HSM.liteCount.if,
      dp: 0,
    },
  };
}

/** Field ids the official client anchors on (LTP s105, volume s104, VWAP s113, close s121 …). */
const ANCHORS: Readonly<Record<string, string>> = {
  ltp: "s105",
  v: "s104",
  ap: "s113",
  c: "s121",
  iv: "i102",
  ic: "i103",
};

/** Type names of streamDataConfig fields. */
function dataType(name: string, kind: TopicKind): string {
  if (["ltt", "fdtm", "tvalue"].includes(name)) return "timestamp";
  if (kind === "dp") return /^(bp|sp)/.test(name) ? "ConvNumber" : "Number";
  return ["v", "ltq", "tbq", "tsq", "oi", "bq", "bs"].includes(name) ? "Number" : "ConvNumber";
}

/**
 * The streamDataConfig JSON the simulator sends in its auth ack, describing `layout` (default:
 * Fyers' documented order). It also lists the computed fields (change, % change, turnover) the
 * official client appends, which it requires to be described.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const cfg = JSON.parse(fyersStreamDataConfig());
 * assert.equal(cfg.scrip[0], "s105");
 * ```
 */
export function fyersStreamDataConfig(layout: HsmLayout = FYERS_LAYOUT): string {
  const fields: { fid: string; fld: string; dataType: string; details: string }[] = [];
  const ids = (kind: TopicKind, prefix: string, names: readonly string[]) =>
    names.map((name, i) => {
      const fid = ANCHORS[name] ?? `${prefix}${200 + i}`;
      fields.push({ fid, fld: name, dataType: dataType(name, kind), details: name });
      return fid;
    });
  const scrip = ids("sf", "s", layout.sf);
  const index = ids("if", "i", layout.if);
  const depth = ids("dp", "d", layout.dp);
  for (
    const [fid, fld] of [["f101", "cng"], ["f102", "nc"], ["f103", "to"], ["f104", "cng"], [
      "f105",
      "nc",
    ]]
  ) {
    fields.push({ fid, fld, dataType: "ConvNumber", details: fld });
  }
  return JSON.stringify({
    fields,
    scrip,
    index,
    depth,
    scrip_lite: { hfid: FYERS_HSM.liteCount.sf },
    index_lite: { hfid: FYERS_HSM.liteCount.if },
  });
}
