// Run under the gateway's permission set: reports which loopback addresses it may connect to.
const [allowedPort, otherPort] = Deno.args.map(Number);
const out: Record<string, string> = {};
for (const [host, port] of [["127.0.0.1", allowedPort], ["127.0.0.2", otherPort]] as const) {
  try {
    (await Deno.connect({ hostname: host, port })).close();
    out[host] = "connected";
  } catch (err) {
    out[host] = String(err);
  }
}
console.log(JSON.stringify(out));
