import assert from "node:assert/strict";
import { HttpRoutes } from "../../proxy/mod.ts";
import { fetchHistory } from "./history.ts";

const TCS = { exchange: "NSE", symbol: "TCS" };
const BAR = {
  time: 1_796_000_000_000,
  open: 1,
  high: 2,
  low: 1,
  close: 2,
  volume: 3,
  closed: true,
};

Deno.test("history: the page's request and each kind of answer", async () => {
  const seen: { url: string; auth: string | null }[] = [];
  let answer: () => Response = () => new Response();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    seen.push({ url: req.url, auth: req.headers.get("authorization") });
    return answer();
  });
  const origin = `http://127.0.0.1:${server.addr.port}`;
  const get = () => fetchHistory("k-1", TCS, "5m", 1_796_000_600_000, undefined, origin);
  try {
    answer = () => Response.json({ status: "success", data: { candles: [BAR, { time: "x" }] } });
    assert.deepEqual(await get(), { kind: "bars", bars: [BAR], skipped: 1 });
    const url = new URL(seen[0].url);
    assert.equal(url.pathname, "/api/v1/candles");
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      exchange: "NSE",
      symbol: "TCS",
      interval: "5m",
      from: String(1_796_000_600_000 - 10 * 86_400_000),
      to: "1796000600000",
    });
    assert.equal(seen[0].auth, "Bearer k-1");

    // The gateway's own route table without the endpoint, and the endpoint without bars.
    const routes = new HttpRoutes();
    const absent = await routes.handle(new Request(`${origin}/api/v1/candles`), { address: "" });
    const absentBody = await absent.text();
    answer = () => new Response(absentBody, { status: absent.status });
    assert.deepEqual(await get(), { kind: "unavailable", noEndpoint: true });
    const jsonError = (status: number, code: string, message: string) =>
      Response.json({ status: "error", code, message }, { status });
    answer = () => jsonError(404, "SYMBOL_NOT_FOUND", "Symbol not found: TCS on NSE");
    assert.deepEqual(await get(), { kind: "unavailable", noEndpoint: false });
    answer = () => jsonError(400, "INVALID_PARAMETERS", "from must be before to");
    assert.deepEqual(await get(), { kind: "failed", message: "from must be before to" });
    answer = () => new Response("<html>", { status: 502 });
    assert.deepEqual(await get(), { kind: "failed", message: "HTTP 502" });
    answer = () => new Response("not json");
    assert.equal((await get()).kind, "failed");
  } finally {
    await server.shutdown();
  }
  // Nobody listening: failed, not thrown.
  assert.equal((await get()).kind, "failed");
});
