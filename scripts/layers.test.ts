// The floors of the house, read from the code's own imports, type-only ones included (a
// type names the module it comes from: an emitter that takes a type from the TOML
// reader depends on it all the same): core/ imports nothing of the CLI, the emitters or
// the legacy import; emitters/ nothing of the CLI, and never reach the TOML reader; and
// no module reaches itself again through its imports.

import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { REPO_ROOT } from "../fixtures/golden.ts";

const FOLDERS = ["core", "emitters", "cli", "import"];

function sources(): string[] {
  return FOLDERS.flatMap((folder) =>
    readdirSync(join(REPO_ROOT, folder), { recursive: true, encoding: "utf8" })
      .filter((name) => name.endsWith(".ts") && !name.endsWith(".test.ts"))
      .map((name) => join(folder, name)),
  );
}

/**
 * Each module's imports of the project's own modules (values and types, static and
 * dynamic, and re-exports), as paths from the repository's root. Read from the import
 * and export statements' `from "..."`, `import("...")` and `require("...")`.
 */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const specifier = /(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s*"(\.[^"]+)"|\b(?:import|require)\(\s*"(\.[^"]+)"\s*\)/g;
  for (const file of sources()) {
    const text = readFileSync(join(REPO_ROOT, file), "utf8");
    const imports = [...text.matchAll(specifier)].map((match) => relative(REPO_ROOT, resolve(REPO_ROOT, dirname(file), match[1] ?? match[2]!)));
    graph.set(file, [...new Set(imports.filter((path) => path.endsWith(".ts")))]);
  }
  return graph;
}

const graph = importGraph();

function reachable(from: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    for (const next of graph.get(file) ?? []) {
      if (seen.has(next)) continue;
      seen.add(next);
      visit(next);
    }
  };
  visit(from);
  return seen;
}

test("core imports nothing of the CLI, the emitters or the legacy import", () => {
  const crossings = [...graph].flatMap(([file, imports]) => (file.startsWith("core/") ? imports.filter((path) => !path.startsWith("core/") && path !== "package.json").map((path) => `${file} -> ${path}`) : []));
  expect(crossings).toEqual([]);
});

test("emitters import nothing of the CLI, and never reach the TOML reader", () => {
  const crossings = [...graph].flatMap(([file, imports]) => (file.startsWith("emitters/") ? imports.filter((path) => path.startsWith("cli/") || path.startsWith("import/")).map((path) => `${file} -> ${path}`) : []));
  expect(crossings).toEqual([]);
  for (const file of graph.keys()) {
    if (!file.startsWith("emitters/")) continue;
    const reached = reachable(file);
    expect({ file, toml: ["core/matrix/toml.ts", "core/matrix/matrix-reader.ts", "core/matrix/toml-locate.ts"].filter((reader) => reached.has(reader)) }).toEqual({ file, toml: [] });
  }
});

test("no import circles", () => {
  const circles = [...graph.keys()].filter((file) => reachable(file).has(file));
  expect(circles).toEqual([]);
});

test("the graph is read: the modules and their imports are there to check", () => {
  expect(graph.get("emitters/make.ts")).toContain("core/graph.ts");
  // A type-only import counts: emitters/contract.ts takes only types from the graph.
  expect(graph.get("emitters/contract.ts")).toContain("core/graph.ts");
  expect(graph.size).toBeGreaterThan(50);
});
