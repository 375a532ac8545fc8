// Capture mode over HTTP: API-key protected, zod-validated with catalogue error codes, and the
// captured symbols keep streaming onto the bus after every client that watched them is gone.

import assert from "node:assert/strict";
import { startGateway, TEST_KEY, TestClient, until } from "../helpers/gateway.ts";
import { BusReader } from "../../lib/bus/reader.ts";
import { CaptureClient } from "../../lib/recorder/capture_client.ts";
import { captureApi } from "./helpers.ts";

Deno.test("capture API: auth, validation and catalogue codes", async () => {
  const gw = await startGateway({ broker: { name: "paper", options: { ticksPerSecond: 5 } } });
  try {
    const noKey = await captureApi(gw, "GET", undefined, {});
    assert.equal(noKey.status, 401);
    assert.equal(noKey.json.code, "AUTHENTICATION_ERROR");
    const badKey = await captureApi(gw, "GET", undefined, { "x-api-key": "not-the-key-at-all" });
    assert.equal(badKey.status, 401);
    const xKey = await captureApi(gw, "GET", undefined, { "x-api-key": TEST_KEY });
    assert.equal(xKey.status, 200);
    assert.deepEqual(xKey.json.captures, []);

    const notJson = await captureApi(gw, "POST", "{nope");
    assert.equal(notJson.status, 400);
    assert.equal(notJson.json.code, "INVALID_JSON");
    const empty = await captureApi(gw, "POST", { symbols: [], mode: 1 });
    assert.equal(empty.status, 400);
    assert.equal(empty.json.code, "INVALID_PARAMETERS");
    assert.match(String(empty.json.message), /^symbols:/);
    const unknownField = await captureApi(gw, "POST", {
      symbols: [{ exchange: "NSE", symbol: "TCS" }],
      mode: 1,
      extra: true,
    });
    assert.equal(unknownField.json.code, "INVALID_PARAMETERS");
    const badMode = await captureApi(gw, "POST", {
      symbols: [{ exchange: "NSE", symbol: "TCS" }],
      mode: "FULL",
    });
    assert.equal(badMode.status, 400);
    assert.equal(badMode.json.code, "INVALID_MODE");
    const noMode = await captureApi(gw, "POST", { symbols: [{ exchange: "NSE", symbol: "TCS" }] });
    assert.equal(noMode.json.code, "INVALID_MODE");
    const put = await captureApi(gw, "PUT", {});
    assert.equal(put.status, 405);
    assert.equal(put.json.code, "INVALID_ACTION");

    const partial = await captureApi(gw, "POST", {
      symbols: [{ exchange: "nse", symbol: "TCS" }, { exchange: "NSE", symbol: "NOSUCH" }],
      mode: "Quote",
      owner: "rec1",
    });
    assert.equal(partial.status, 200);
    assert.equal(partial.json.status, "partial");
    const results = partial.json.results as Record<string, unknown>[];
    assert.deepEqual(results[0], {
      exchange: "NSE",
      symbol: "TCS",
      mode: "Quote",
      status: "success",
      depth: 5,
    });
    assert.equal(results[1].code, "SYMBOL_NOT_FOUND");
    const allBad = await captureApi(gw, "POST", {
      symbols: [{ exchange: "NSE", symbol: "NOSUCH" }],
      mode: 1,
    });
    assert.equal(allBad.status, 422);

    const notHeld = await captureApi(gw, "DELETE", {
      symbols: [{ exchange: "NSE", symbol: "INFY" }],
    });
    assert.equal(notHeld.status, 422);
    assert.equal((notHeld.json.results as Record<string, unknown>[])[0].code, "NOT_SUBSCRIBED");
    const released = await captureApi(gw, "DELETE", { owner: "rec1" });
    assert.equal(released.json.status, "success");
    assert.equal(gw.registry.list().length, 0);
  } finally {
    await gw.stop();
  }
});

Deno.test("capture: subscriptions survive client disconnects and are listed and released like any consumer", async () => {
  const gw = await startGateway({
    broker: { name: "paper", options: { ticksPerSecond: 50, intervalMs: 20 } },
  });
  const reader = BusReader.connect({ address: gw.bus.endpoint, topics: ["NSE_RELIANCE_"] });
  const topics: string[] = [];
  const reading = (async () => {
    for await (const m of reader.ticks()) topics.push(m.topic);
  })();
  try {
    const client = new CaptureClient({
      gateway: `http://127.0.0.1:${gw.proxy.addr.port}`,
      apiKey: TEST_KEY,
      owner: "recorder-a",
    });
    const taken = await client.capture([{ exchange: "NSE", symbol: "RELIANCE", mode: 2 }]);
    assert.equal(taken[0].status, "success");
    // A second owner holding the same key shares it (one upstream subscription, two consumers).
    const other = new CaptureClient({
      gateway: `http://127.0.0.1:${gw.proxy.addr.port}`,
      apiKey: TEST_KEY,
      owner: "recorder-b",
    });
    await other.capture([{ exchange: "NSE", symbol: "RELIANCE", mode: 2 }]);
    assert.deepEqual(
      (await client.list()).map((c) => `${c.owner} ${c.exchange}:${c.symbol} ${c.mode}`),
      ["recorder-a NSE:RELIANCE Quote", "recorder-b NSE:RELIANCE Quote"],
    );

    // A UI client watches RELIANCE and INFY, then disconnects.
    const ui = await TestClient.connect(gw);
    await ui.auth();
    await ui.request({
      action: "subscribe",
      symbols: [{ exchange: "NSE", symbol: "RELIANCE" }, { exchange: "NSE", symbol: "INFY" }],
      mode: 2,
    }, "subscribe");
    const subs = await fetch(`http://127.0.0.1:${gw.proxy.addr.port}/api/v1/subscriptions`, {
      headers: { authorization: `Bearer ${TEST_KEY}` },
    }).then((r) => r.json());
    const reliance = subs.subscriptions.find((s: { symbol: string }) => s.symbol === "RELIANCE");
    assert.equal(reliance.consumers, 3, "two captures and the UI client");
    await ui.close();
    await until(
      () => gw.pool.streams().map((s) => s.symbol).join() === "RELIANCE",
      5000,
      "INFY released, RELIANCE kept",
    );

    // RELIANCE keeps streaming onto the bus with nobody watching it.
    const mark = topics.length;
    await until(() => topics.length >= mark + 5, 5000, "ticks after the client left");
    assert.ok(topics.slice(mark).every((t) => t === "NSE_RELIANCE_QUOTE"));

    // Releasing one owner keeps the other's capture; releasing the last frees the broker stream.
    await client.release();
    assert.equal(gw.pool.streams().length, 1);
    await other.release([{ exchange: "NSE", symbol: "RELIANCE" }]);
    await until(() => gw.pool.streams().length === 0, 5000, "released upstream");
    assert.deepEqual(await client.list(), []);
  } finally {
    reader.close();
    await reading;
    await gw.stop();
  }
});
