// The client-frame parser: mode normalisation, request shapes, error codes, and fuzzing with
// random, truncated and oversized input.

import assert from "node:assert/strict";
import { isProtocolError, parseRequest, type ProtocolError, type Request } from "./protocol.ts";
import { parseMode } from "../mode.ts";
import { ERROR_CODES } from "../types.ts";

const limits = { maxFrameBytes: 4096, maxEntriesPerRequest: 100 };
const parse = (x: unknown) => parseRequest(typeof x === "string" ? x : JSON.stringify(x), limits);
const asError = (r: Request | ProtocolError): ProtocolError => {
  assert.ok(isProtocolError(r), `expected an error, got ${JSON.stringify(r)}`);
  return r;
};

Deno.test("modes: accepted forms map to 1/2/3", () => {
  for (
    const [v, m] of [[1, 1], [2, 2], [3, 3], ["ltp", 1], ["QUOTE", 2], [" Depth ", 3], ["LtP", 1]]
  ) {
    assert.equal(parseMode(v), m, `mode ${JSON.stringify(v)}`);
  }
});

Deno.test("modes: rejected forms name the bad value and the accepted ones", () => {
  assert.equal(parseMode(4), "Invalid mode 4; expected 1 (LTP), 2 (Quote), or 3 (Depth)");
  assert.equal(parseMode(0), "Invalid mode 0; expected 1 (LTP), 2 (Quote), or 3 (Depth)");
  assert.equal(
    parseMode("1"),
    "Invalid mode '1'; expected 'LTP', 'Quote', or 'Depth' (case-insensitive)",
  );
  assert.equal(
    parseMode(""),
    "Invalid mode ''; expected 'LTP', 'Quote', or 'Depth' (case-insensitive)",
  );
  const accepted = "expected 1 (LTP), 2 (Quote), or 3 (Depth), as an integer or by name";
  assert.equal(parseMode(true), `Mode must be int or str, got bool (true); ${accepted}`);
  assert.equal(parseMode(null), `Invalid mode null; ${accepted}`);
  assert.equal(parseMode([1]), `Mode must be int or str, got array; ${accepted}`);
  assert.equal(parseMode(2.5), `Mode must be int or str, got float (2.5); ${accepted}`);
  // 2.0 is a float on the wire even though JSON.parse makes it 2.
  const e = asError(parse('{"action":"subscribe","symbol":"A","exchange":"NSE","mode":2.0}'));
  assert.equal(e.code, "INVALID_MODE");
  assert.equal(e.message, `Mode must be int or str, got float (2.0); ${accepted}`);
  assert.equal(e.replyType, "subscribe");
  const nul = asError(parse({ action: "subscribe", symbol: "A", exchange: "NSE", mode: null }));
  assert.deepEqual([nul.code, nul.message], ["INVALID_MODE", `Invalid mode null; ${accepted}`]);
});

Deno.test("modes: 2.0 and 3e0 are caught per entry and top level, whatever surrounds them", () => {
  const sub = (body: string) => parse(`{"action":"subscribe",${body}}`);
  const entries = (r: Request | ProtocolError) =>
    (r as Extract<Request, { action: "subscribe" }>).entries;
  // Entry modes: the float form is that entry's error, the others are fine.
  const r = sub(
    '"symbols":[{"symbol":"A","exchange":"NSE","mode":3e0},' +
      '{"symbol":"B","exchange":"NSE","mode":3},{"symbol":"C","exchange":"NSE","mode" : 1.0 }]',
  );
  assert.deepEqual(entries(r).map((e) => e.ok ? e.mode : e.code), [
    "INVALID_MODE",
    3,
    "INVALID_MODE",
  ]);
  // "mode" inside strings, escaped keys, and nested objects elsewhere do not confuse it.
  const tricky = sub(
    '"symbols":[{"symbol":"\\"mode\\":2.0","exchange":"NSE","x":{"mode":2.0}}],' +
      '"m\\u006fde":1.0',
  );
  assert.equal(asError(tricky).code, "INVALID_MODE");
  const fine = sub('"symbols":[{"symbol":"\\"mode\\":2.0","exchange":"NSE","x":{"mode":2.0}}]');
  assert.deepEqual(entries(fine).map((e) => e.ok && e.mode), [2]);
  // Duplicate keys: JSON.parse keeps the last, and so does the check.
  const dup = sub('"symbol":"A","exchange":"NSE","mode":2.0,"mode":2');
  assert.equal(entries(dup)[0].ok, true);
});

Deno.test("deeply nested valid JSON is parsed, not INVALID_JSON (a reviver overflowed the stack)", () => {
  for (const depth of [10, 5_000, 100_000]) {
    const nested = "[".repeat(depth) + "]".repeat(depth);
    const text = `{"action":"ping","timestamp":${nested},"mode":2.0}`;
    const r = parseRequest(text, { maxFrameBytes: 1 << 20, maxEntriesPerRequest: 10 });
    assert.equal((r as Request).action, "ping", `depth ${depth}`);
    const sub = parseRequest(
      `{"action":"subscribe","pad":${nested},"symbol":"A","exchange":"NSE","mode":2.0}`,
      { maxFrameBytes: 1 << 20, maxEntriesPerRequest: 10 },
    );
    assert.equal(asError(sub).code, "INVALID_MODE", `depth ${depth}`);
  }
  const bad = parseRequest("[".repeat(100_000), {
    maxFrameBytes: 1 << 20,
    maxEntriesPerRequest: 1,
  });
  assert.equal(asError(bad).code, "INVALID_JSON");
});

Deno.test("action from action or type; unknown action", () => {
  assert.equal((parse({ type: "auth", apikey: "k".repeat(20) }) as Request).action, "authenticate");
  const e = asError(parse({ action: "dance", request_id: 7 }));
  assert.deepEqual(e, {
    code: "INVALID_ACTION",
    message: "Invalid action: dance",
    replyType: "error",
    requestId: 7,
  });
  assert.equal(asError(parse({})).message, "Invalid action: null");
  assert.equal(asError(parse("not json")).code, "INVALID_JSON");
  assert.equal(asError(parse("[1,2]")).code, "INVALID_MESSAGE");
  assert.equal(asError(parse("42")).code, "INVALID_MESSAGE");
  assert.equal(asError(parse("x".repeat(5000))).code, "INVALID_MESSAGE");
});

Deno.test("subscribe shapes: single, array with per-entry modes, defaults, depth alias", () => {
  const single = parse({
    action: "subscribe",
    symbol: "RELIANCE",
    exchange: "nse",
    mode: 1,
    depth: 5,
    request_id: "r1",
  });
  assert.deepEqual(single, {
    action: "subscribe",
    entries: [{ ok: true, exchange: "NSE", symbol: "RELIANCE", mode: 1 }],
    mode: 1,
    depth: 5,
    requestId: "r1",
  });
  const arr = parse({
    action: "subscribe",
    symbols: [{ symbol: "A", exchange: "NSE" }, { symbol: "B", exchange: "NSE", mode: "depth" }, {
      symbol: "C",
    }, 7],
    depth_level: 20,
  }) as Extract<Request, { action: "subscribe" }>;
  assert.equal(arr.mode, 2);
  assert.equal(arr.depth, 20);
  assert.deepEqual(arr.entries.map((e) => e.ok ? e.mode : e.code), [
    2,
    3,
    "INVALID_PARAMETERS",
    "INVALID_PARAMETERS",
  ]);
  assert.equal(
    asError(parse({ action: "subscribe", symbols: [] })).message,
    "At least one symbol must be specified",
  );
  assert.equal(asError(parse({ action: "subscribe", symbols: "A" })).code, "INVALID_PARAMETERS");
  assert.equal(
    asError(parse({ action: "subscribe", symbol: "A", exchange: "NSE", depth: 0 })).code,
    "INVALID_DEPTH",
  );
  assert.equal(
    asError(parse({ action: "subscribe", symbol: "A", exchange: "NSE", depth: "5" })).code,
    "INVALID_DEPTH",
  );
  const many = {
    action: "subscribe",
    symbols: Array.from({ length: 101 }, (_, i) => ({ symbol: `S${i}`, exchange: "NSE" })),
  };
  assert.match(asError(parse(many)).message, /Too many symbols/);
});

Deno.test("unsubscribe: top-level mode applies to array entries; no mode means all modes", () => {
  const r = parse({
    action: "unsubscribe",
    mode: 1,
    symbols: [{ symbol: "A", exchange: "NSE" }, { symbol: "B", exchange: "NSE", mode: 3 }],
  });
  assert.deepEqual(
    (r as Extract<Request, { action: "unsubscribe" }>).entries.map((e) => e.ok && e.mode),
    [1, 3],
  );
  const all = parse({ action: "unsubscribe", symbol: "A", exchange: "NSE" }) as Extract<
    Request,
    { action: "unsubscribe" }
  >;
  assert.equal(all.entries[0].ok && all.entries[0].mode, null);
  assert.equal(
    (parse({ action: "unsubscribe", unsubscribe_all: true }) as Request).action,
    "unsubscribe_all",
  );
  assert.equal(
    asError(parse({ action: "unsubscribe" })).message,
    "Either symbols or unsubscribe_all is required",
  );
  assert.equal(
    asError(parse({ action: "unsubscribe", symbol: "A", exchange: "NSE", mode: 9 })).code,
    "INVALID_MODE",
  );
});

Deno.test("ping and authenticate fields", () => {
  assert.deepEqual(parse({ action: "ping", timestamp: 5, _pingId: "p" }), {
    action: "ping",
    timestamp: 5,
    pingId: "p",
  });
  assert.deepEqual(parse({ action: "authenticate", api_key: "", batch: true }), {
    action: "authenticate",
    apiKey: null,
    batch: true,
    conflate: true,
  });
});

// ---- fuzz -------------------------------------------------------------------------------------

function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomValue(r: () => number, depth = 0): unknown {
  const k = Math.floor(r() * (depth > 3 ? 6 : 9));
  switch (k) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return Math.floor(r() * 10) - 3;
    case 3:
      return r() * 1e6 - 5e5;
    case 4:
      return [
        "subscribe",
        "unsubscribe",
        "auth",
        "ping",
        "LTP",
        "NSE",
        "",
        "💥",
        "a".repeat(100),
      ][Math.floor(r() * 9)];
    case 5:
      return String.fromCharCode(
        ...Array.from({ length: Math.floor(r() * 20) }, () => Math.floor(r() * 0xffff)),
      );
    case 6:
      return Array.from({ length: Math.floor(r() * 5) }, () => randomValue(r, depth + 1));
    default: {
      const keys = [
        "action",
        "type",
        "symbols",
        "symbol",
        "exchange",
        "mode",
        "depth",
        "api_key",
        "request_id",
        "_pingId",
        "timestamp",
      ];
      const o: Record<string, unknown> = {};
      for (let i = 0; i < r() * 6; i++) {
        o[keys[Math.floor(r() * keys.length)]] = randomValue(r, depth + 1);
      }
      return o;
    }
  }
}

Deno.test("fuzz: 20k random, truncated and mutated frames never throw and always yield a known code", () => {
  const r = rng(1234);
  const valid = [
    '{"action":"subscribe","symbols":[{"symbol":"RELIANCE","exchange":"NSE"}],"mode":"Quote"}',
    '{"action":"unsubscribe","symbol":"TCS","exchange":"NSE","mode":3}',
    '{"action":"authenticate","api_key":"abcdefabcdefabcdef"}',
  ];
  for (let i = 0; i < 20_000; i++) {
    let text: string;
    const kind = i % 4;
    if (kind === 0) text = JSON.stringify(randomValue(r));
    else if (kind === 1) {
      const v = valid[i % valid.length];
      text = v.slice(0, Math.floor(r() * v.length));
    } else if (kind === 2) {
      const v = valid[i % valid.length].split("");
      for (let j = 0; j < 3; j++) {
        v[Math.floor(r() * v.length)] = String.fromCharCode(Math.floor(r() * 128));
      }
      text = v.join("");
    } else {text = JSON.stringify({
        action: [
          "subscribe",
          "unsubscribe",
          "authenticate",
          "ping",
        ][i % 4 === 3 ? Math.floor(r() * 4) : 0],
        ...(randomValue(r) as object),
      });}
    const out = parseRequest(text, limits);
    if (isProtocolError(out)) {
      assert.ok(ERROR_CODES.includes(out.code), `unknown code ${out.code}`);
      assert.equal(typeof out.message, "string");
      assert.equal(typeof out.replyType, "string");
    } else assert.equal(typeof out.action, "string");
  }
});

// ---- candle actions ---------------------------------------------------------------------------

Deno.test("subscribe_candles / unsubscribe_candles shapes; an entry's mode is ignored", () => {
  const sub = parse({
    action: "subscribe_candles",
    symbols: [{ symbol: "RELIANCE", exchange: "nse", mode: "bogus" }],
    interval: "5m",
    request_id: 7,
  });
  assert.deepEqual(sub, {
    action: "subscribe_candles",
    entries: [{ ok: true, exchange: "NSE", symbol: "RELIANCE", mode: null }],
    interval: "5m",
    requestId: 7,
  });
  const un = parse({ action: "unsubscribe_candles", symbol: "TCS", exchange: "NSE" });
  assert.deepEqual(un, {
    action: "unsubscribe_candles",
    entries: [{ ok: true, exchange: "NSE", symbol: "TCS", mode: null }],
    interval: null,
  });
  for (const interval of [undefined, null, "2m", 60, "1M", ""]) {
    const e = asError(
      parse({ action: "subscribe_candles", symbol: "A", exchange: "NSE", interval }),
    );
    assert.deepEqual([e.code, e.replyType], ["INVALID_PARAMETERS", "subscribe_candles"]);
  }
  const bad = asError(
    parse({ action: "unsubscribe_candles", symbol: "A", exchange: "NSE", interval: "7m" }),
  );
  assert.deepEqual([bad.code, bad.replyType], ["INVALID_PARAMETERS", "unsubscribe_candles"]);
  const empty = asError(parse({ action: "subscribe_candles", interval: "1m", request_id: "x" }));
  assert.deepEqual([empty.code, empty.requestId], ["INVALID_PARAMETERS", "x"]);
  const many = asError(parse({
    action: "subscribe_candles",
    interval: "1m",
    symbols: Array.from({ length: 101 }, (_, i) => ({ symbol: `S${i}`, exchange: "NSE" })),
  }));
  assert.equal(many.code, "INVALID_PARAMETERS");
  const entries = parse({
    action: "subscribe_candles",
    interval: "1d",
    symbols: [{ symbol: "A", exchange: "NSE" }, { symbol: 5, exchange: "NSE" }, "x"],
  });
  assert.ok(!isProtocolError(entries) && entries.action === "subscribe_candles");
  assert.deepEqual(entries.entries.map((e) => e.ok ? "ok" : e.code), [
    "ok",
    "INVALID_PARAMETERS",
    "INVALID_PARAMETERS",
  ]);
});

Deno.test("fuzz: 20k random, truncated and mutated candle frames never throw and stay typed", () => {
  const r = rng(1717);
  const valid = [
    '{"action":"subscribe_candles","symbols":[{"symbol":"RELIANCE","exchange":"NSE"}],"interval":"1m"}',
    '{"action":"unsubscribe_candles","symbol":"TCS","exchange":"NSE","interval":"15m"}',
    '{"action":"unsubscribe_candles","instruments":[{"symbol":"NIFTY","exchange":"NSE_INDEX"}]}',
  ];
  const intervals = ["1s", "1m", "3m", "5m", "15m", "30m", "1h", "1d"];
  const pick = () =>
    [
      ...intervals,
      "2m",
      "",
      "1D",
      null,
      1,
      randomValue(r),
    ][Math.floor(r() * (intervals.length + 6))];
  for (let i = 0; i < 20_000; i++) {
    let text: string;
    const kind = i % 4;
    const v = valid[i % valid.length];
    if (kind === 0) {
      text = JSON.stringify({
        action: i % 8 === 0 ? "subscribe_candles" : "unsubscribe_candles",
        interval: pick(),
        symbols: randomValue(r),
        ...(r() < 0.3 ? (randomValue(r) as object) : {}),
      });
    } else if (kind === 1) text = v.slice(0, Math.floor(r() * v.length));
    else if (kind === 2) {
      const chars = v.split("");
      for (let j = 0; j < 3; j++) {
        chars[Math.floor(r() * chars.length)] = String.fromCharCode(Math.floor(r() * 128));
      }
      text = chars.join("");
    } else {
      text = JSON.stringify({
        action: i % 8 === 3 ? "subscribe_candles" : "unsubscribe_candles",
        interval: pick(),
        symbols: Array.from(
          { length: Math.floor(r() * 4) },
          () => r() < 0.5 ? { symbol: randomValue(r), exchange: randomValue(r) } : randomValue(r),
        ),
      });
    }
    const out = parseRequest(text, limits);
    if (isProtocolError(out)) {
      assert.ok(ERROR_CODES.includes(out.code), `unknown code ${out.code}`);
      assert.equal(typeof out.message, "string");
      assert.ok(
        ["subscribe_candles", "unsubscribe_candles", "error", "subscribe", "unsubscribe"]
          .includes(out.replyType),
        out.replyType,
      );
      continue;
    }
    if (out.action !== "subscribe_candles" && out.action !== "unsubscribe_candles") continue;
    if (out.action === "subscribe_candles") assert.ok(intervals.includes(out.interval));
    else assert.ok(out.interval === null || intervals.includes(out.interval));
    assert.ok(out.entries.length > 0 && out.entries.length <= limits.maxEntriesPerRequest);
    for (const e of out.entries) {
      if (e.ok) {
        assert.ok(e.symbol.length > 0 && e.exchange.length > 0);
        assert.equal(e.mode, null);
      } else assert.ok(ERROR_CODES.includes(e.code));
    }
  }
});
