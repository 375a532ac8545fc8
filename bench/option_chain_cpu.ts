// How many ±20-strike option chain frames one core builds per second, and what a chain costs at the
// default 1 frame a second: builds frames for ~2 s and reads the process CPU time.
// Run: deno task bench:chain

import process from "node:process";
import { benchChain, chainFrame } from "./option_chain_fixture.ts";

const chain = await benchChain(20);
for (let i = 0; i < 200; i++) chainFrame(chain); // warm up
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let frames = 0, bytes = 0;
while (performance.now() - t0 < 2_000) {
  for (let i = 0; i < 50; i++) bytes += chainFrame(chain).length;
  frames += 50;
}
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000;
const perFrameMs = cpuMs / frames;
console.log(`±20 strikes (41 rows, 82 options): ${frames} frames in ${wallMs.toFixed(0)} ms wall`);
console.log(
  `  ${(frames / (wallMs / 1000)).toFixed(0)} frames/s; ${
    (frames / (cpuMs / 1000)).toFixed(0)
  } frames per CPU-second`,
);
console.log(
  `  ${(perFrameMs * 1000).toFixed(0)} µs CPU per frame, ${
    (bytes / frames / 1024).toFixed(1)
  } KiB per frame`,
);
console.log(`  one chain at 1 frame/s: ${(perFrameMs / 10).toFixed(3)} % of a core`);
