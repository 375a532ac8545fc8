// The module graph of lib/ has no cycles: each folder under lib/ (and each file directly in lib/)
// is one module, an import from one to another is an edge, and a cycle between modules fails with
// the cycle printed. Static imports and re-exports (`import`, `import type`, `export … from`,
// `import("…")` types) are read with a regex over the source files; no code is executed.

import assert from "node:assert/strict";

const LIB = new URL("../lib/", import.meta.url);
const SPEC = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["']([^"']+)["']/gm;

/** Every .ts file under `dir`, as paths relative to lib/ (`bus/reader.ts`, `types.ts`). */
async function sources(dir: URL, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) {
      out.push(...await sources(new URL(`${e.name}/`, dir), `${prefix}${e.name}/`));
    } else if (e.name.endsWith(".ts") && !e.name.endsWith(".gen.ts")) {
      out.push(`${prefix}${e.name}`);
    }
  }
  return out;
}

/** The module of a path relative to lib/: its top folder, or the file name for lib/*.ts. */
function moduleOf(path: string): string {
  const slash = path.indexOf("/");
  return slash === -1 ? path.replace(/\.ts$/, "") : path.slice(0, slash);
}

/** Import specifiers of a source text (comments stripped so examples do not count). */
function specifiers(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  return [...code.matchAll(SPEC)].map((m) => m[1]);
}

/** Relative imports between files under lib/: file → files (paths relative to lib/). */
async function fileImports(): Promise<Map<string, string[]>> {
  const files = new Map<string, string[]>();
  for (const path of await sources(LIB)) {
    const text = await Deno.readTextFile(new URL(path, LIB));
    const targets: string[] = [];
    for (const spec of specifiers(text)) {
      if (!spec.startsWith(".")) continue;
      const target = new URL(spec, new URL(path, LIB)).href;
      if (target.startsWith(LIB.href)) targets.push(target.slice(LIB.href.length));
    }
    files.set(path, targets);
  }
  return files;
}

/** module → modules it imports (self-imports dropped), each edge with one file import behind it. */
function moduleGraph(files: Map<string, string[]>): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const [from, targets] of files) {
    const a = moduleOf(from);
    if (!graph.has(a)) graph.set(a, new Map());
    for (const to of targets) {
      const b = moduleOf(to);
      if (a !== b && !graph.get(a)!.has(b)) graph.get(a)!.set(b, `lib/${from} → lib/${to}`);
    }
  }
  return graph;
}

/** Every elementary cycle found by DFS (one per back edge), as module lists ending at the start. */
function cycles(graph: Map<string, Map<string, string>>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node)?.keys() ?? []) {
      if (state.get(next) === "open") found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return found;
}

function describe(cycle: string[], graph: Map<string, Map<string, string>>): string {
  const edges = cycle.slice(1).map((to, i) => `    ${graph.get(cycle[i])!.get(to)}`);
  return `  ${cycle.join(" → ")}\n${edges.join("\n")}`;
}

Deno.test("lib/ has no import cycle between modules", async () => {
  const graph = moduleGraph(await fileImports());
  const found = cycles(graph);
  assert.ok(
    found.length === 0,
    `import cycles between lib/ modules:\n${found.map((c) => describe(c, graph)).join("\n")}`,
  );
});

/**
 * Folders whose mod.ts their owners add in work under way (the proxy split, the pool split); until
 * then they are imported file by file. Remove an entry when its mod.ts lands: the test below fails
 * as long as the list and the tree disagree.
 */
const MOD_PENDING = new Set<string>([]);

/**
 * Second entry points, each with its reason: `bus/wire.ts` is the bus's envelope and sequences
 * without the zeromq socket, so the NATS bus and edge gateways (`-P=edge`, no FFI) never load the
 * native addon that `bus/mod.ts` pulls in.
 */
const NATIVE_FREE_ENTRIES = new Set<string>(["bus/wire.ts"]);

Deno.test("every lib/ folder has a mod.ts, and other modules import it, not its files", async () => {
  const files = await fileImports();
  const folders = new Set([...files.keys()].filter((p) => p.includes("/")).map(moduleOf));
  const withMod = new Set(
    [...files.keys()].filter((p) => /^[^/]+\/mod\.ts$/.test(p)).map(moduleOf),
  );
  const without = [...folders].filter((m) => !withMod.has(m)).sort();
  assert.deepEqual(without, [...MOD_PENDING].sort(), "folders without a mod.ts");
  const wrong: string[] = [];
  for (const [from, targets] of files) {
    for (const to of targets) {
      const m = moduleOf(to);
      if (m === moduleOf(from) || !to.includes("/") || MOD_PENDING.has(m)) continue;
      if (to !== `${m}/mod.ts` && !NATIVE_FREE_ENTRIES.has(to)) {
        wrong.push(`lib/${from} imports lib/${to}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("the cycle finder finds and prints a cycle", () => {
  const files = new Map([
    ["gateway.ts", ["dashboard/mod.ts"]],
    ["dashboard/mod.ts", ["dashboard/status.ts"]],
    ["dashboard/status.ts", ["gateway.ts", "types.ts"]],
    ["types.ts", []],
  ]);
  const graph = moduleGraph(files);
  const found = cycles(graph);
  assert.deepEqual(found, [["dashboard", "gateway", "dashboard"]]);
  assert.match(describe(found[0], graph), /lib\/dashboard\/status\.ts → lib\/gateway\.ts/);
  assert.deepEqual(
    specifiers(
      'import type { A } from "./a.ts";\nexport { b } from "../b.ts";\n// import "x"\n' +
        'type C = import("./c.ts").C;\nimport "./side.ts";',
    ),
    ["./a.ts", "../b.ts", "./c.ts", "./side.ts"],
  );
});
