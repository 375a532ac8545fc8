// The official Fyers data socket client (npm fyers-api-v3), pointed at a simulator and printing
// every message it emits as one JSON line. Run by fyers_sdk_test.ts in its own process: the
// client is a singleton with module-global state and timers, and it formats times through the
// process time zone (the test runs it with TZ=Asia/Kolkata, as the client sets for parsing).
//
// Usage: deno run … fyers_sdk_client.ts <ws url> <http base> <APPID:token> <log dir>

// Inline on purpose: a test-only dependency (as kiteconnect in tests/zerodha).
// deno-lint-ignore no-import-prefix
import * as configModule from "npm:fyers-api-v3@1.9.0/config/config.js";
// deno-lint-ignore no-import-prefix
import * as apiModule from "npm:fyers-api-v3@1.9.0/apiService/apiService.js";

interface AxiosLike {
  interceptors: { request: { use(f: (c: { url?: string }) => { url?: string }): void } };
}
interface DataSocket {
  FullMode: string;
  on(event: string, cb: (m?: unknown) => void): void;
  connect(): void;
  subscribe(symbols: string[], depth: boolean, channel: number): Promise<void>;
  mode(mode: string, channel: number): void;
}

const [url, httpBase, token, logDir] = Deno.args;
// The socket URL is read when the data socket module loads: set it first.
(configModule as unknown as { Config: { HSM_SOCKET: string } }).Config.HSM_SOCKET = url;
// The symbol-token REST URL is hard-coded; the client's own axios instance is redirected.
(apiModule as unknown as { axiosInstance: AxiosLike }).axiosInstance.interceptors.request.use(
  (c) => ({ ...c, url: c.url?.replace("https://api-t1.fyers.in", httpBase) }),
);
// deno-lint-ignore no-import-prefix
const sdk = await import("npm:fyers-api-v3@1.9.0");
const factory = (sdk as unknown as {
  fyersDataSocket: { getInstance(t: string, dir: string, log: boolean): DataSocket };
}).fyersDataSocket;
const skt = factory.getInstance(token, logDir, false);

const print = (kind: string, m: unknown) => console.log(JSON.stringify({ kind, m }));
skt.on("connect", () => {
  print("connect", null);
  void (async () => {
    await skt.subscribe(["NSE:SBIN-EQ", "NSE:RELIANCE-EQ", "NSE:NIFTY50-INDEX"], false, 11);
    await skt.subscribe(["NSE:RELIANCE-EQ"], true, 11);
    skt.mode(skt.FullMode, 11);
  })();
});
skt.on("message", (m) => print("message", m));
skt.on("error", (m) => print("error", m));
skt.on("close", () => print("close", null));
skt.connect();
// The parent ends this process when it has seen enough.
setTimeout(() => Deno.exit(0), 30_000);
