// plan --format mermaid and --format dot, read back by their consumers' own parsers:
// Mermaid's (what GitHub renders with) and Graphviz's (compiled to wasm). Each must
// read to the plan: a node per image labelled with its tag, grouped by family, an edge
// from each base to what builds FROM it.

import { describe, expect, test } from "bun:test";
import { Graphviz } from "@hpcc-js/wasm-graphviz";
import { readFileSync } from "node:fs";
import { scratchFolder } from "../scripts/validators/scratch.ts";
import { join } from "node:path";
import type { BuildGraph } from "../core/graph.ts";
import { fixtureCases, loadFixture, REPO_ROOT } from "../fixtures/golden.ts";
import { planText, runCli } from "../fixtures/test-helpers.ts";
import { generateMatrix } from "../scripts/bench/generate.ts";
import { dotString, mermaidString, renderDot, renderMermaid } from "./plan-graph.ts";

const graphviz = await Graphviz.load();

interface Picture {
  /** family → its images' tags, in order. */
  readonly families: Record<string, string[]>;
  /** "base tag -> tag", sorted. */
  readonly edges: string[];
}

function planPicture(graph: BuildGraph): Picture {
  const tags = new Map(graph.images.map((image) => [image.id, image.tag]));
  return {
    families: Object.fromEntries(graph.families.filter((f) => f.images.length > 0).map((f) => [f.name, f.images.map((id) => tags.get(id)!)])),
    edges: graph.images.filter((image) => image.from !== null).map((image) => `${tags.get(image.from!)} -> ${image.tag}`).sort(),
  };
}

function readMermaid(text: string): Picture {
  const result = Bun.spawnSync([process.execPath, join(REPO_ROOT, "scripts", "validators", "mermaid-read.ts")], { stdin: Buffer.from(text) });
  if (result.exitCode !== 0) throw new Error(`Mermaid refused the diagram: ${result.stderr}`);
  const read = JSON.parse(result.stdout.toString()) as { vertices: { id: string; text: string }[]; edges: { start: string; end: string }[]; subgraphs: { title: string; nodes: string[] }[] };
  const label = new Map(read.vertices.map((v) => [v.id, v.text]));
  return {
    families: Object.fromEntries(read.subgraphs.map((s) => [s.title, s.nodes.map((id) => label.get(id)!)])),
    edges: read.edges.map((e) => `${label.get(e.start)} -> ${label.get(e.end)}`).sort(),
  };
}

function readDot(text: string): Picture {
  // Graphviz's json output: every object (clusters, then nodes), each cluster with its nodes' indices.
  const laid = JSON.parse(graphviz.dot(text, "json")) as { objects: { name: string; label?: string; nodes?: number[] }[]; edges?: { tail: number; head: number }[] };
  const clusters = laid.objects.filter((o) => o.name.startsWith("cluster_"));
  // A node's label is its name unless it has one of its own (an image whose tag another repository shares).
  const name = (index: number) => (laid.objects[index]!.label && laid.objects[index]!.label !== "\\N" ? laid.objects[index]!.label! : laid.objects[index]!.name);
  return {
    families: Object.fromEntries(clusters.map((c) => [c.label!, (c.nodes ?? []).map(name)])),
    edges: (laid.edges ?? []).map((e) => `${name(e.tail)} -> ${name(e.head)}`).sort(),
  };
}

describe("every fixture's picture reads back to its plan", async () => {
  for (const fixture of fixtureCases()) {
    const { graph } = await loadFixture(fixture);
    test(`${fixture.name}: mermaid and dot`, () => {
      const expected = planPicture(graph);
      expect(readMermaid(renderMermaid(graph))).toEqual(expected);
      expect(readDot(renderDot(graph))).toEqual(expected);
    });
  }
});

test("each language's quoting carries any text: Graphviz reads it back as written, Mermaid parses it", () => {
  const texts = ['a"b', 'ends in a quote"', "end", "#quot; & <b>", "`code`", "subgraph", "-->", "{}[];=", "node", "π ü"];
  for (const text of texts) {
    const dot = `digraph { subgraph cluster_0 { label=${dotString(text)}; ${dotString(text)}; } }`;
    const laid = JSON.parse(graphviz.dot(dot, "json")) as { objects: { name: string; label?: string }[] };
    expect(laid.objects.map((o) => o.name)).toEqual(["cluster_0", text]);
    expect(laid.objects[0]!.label).toBe(text);
  }
  // One diagram holding every text (Mermaid is a process of its own: one start, not ten).
  const mermaid = `flowchart LR\n${texts.map((text, i) => `  subgraph family${i}[${mermaidString(text)}]\n    image${i}[${mermaidString(text)}]\n  end\n  image${i} --> other${i}\n`).join("")}`;
  const read = readMermaid(mermaid);
  expect(read.edges).toHaveLength(texts.length);
  expect(Object.keys(read.families)).toHaveLength(texts.length);
  // What DOT cannot carry as written is refused, not mangled.
  for (const text of ["back\\slash", "ends in a backslash\\", "line\nbreak"]) expect(() => dotString(text)).toThrow("which a Graphviz name cannot carry as written");
});

test("plan --format: text, json, mermaid, dot; a mistake is a usage error; GitHub's limit is a warning", async () => {
  const mermaid = runCli(["plan", "--format", "mermaid"]);
  expect(mermaid.code).toBe(0);
  expect(mermaid.stdout).toStartWith("flowchart LR\n");
  expect(runCli(["plan", "--format", "dot"]).stdout).toStartWith("digraph images {\n");
  expect(runCli(["plan", "--format", "json"]).stdout).toBe(runCli(["plan", "--json"]).stdout);
  expect(runCli(["plan", "--format", "text"]).stdout).toBe(runCli(["plan"]).stdout);
  const wrong = runCli(["plan", "--format", "svg"]);
  expect(wrong.code).toBe(2);
  expect(wrong.stderr).toContain("error: --format svg: plan prints text, json, mermaid, dot");
  expect(runCli(["plan", "--json", "--format", "dot"]).stderr).toContain("error: --json is --format json, not --format dot: give one");
  const { graph } = await planText(generateMatrix("chain", 1200));
  const edges = graph.images.filter((image) => image.from !== null).length;
  expect(edges).toBeGreaterThan(500);
  const cwd = scratchFolder("graph-");
  (await import("../fixtures/test-helpers.ts")).writeMatrix(join(cwd, "matrix.toml"), generateMatrix("chain", 1200));
  const large = runCli(["plan", "--format", "mermaid"], cwd);
  expect(large.code).toBe(0);
  expect(large.stderr).toContain(`warning: the diagram has ${edges} edges, and GitHub's Mermaid draws at most 500: it will not render on GitHub`);
});

test("docs/commands.md shows the default matrix's graph, as plan --format mermaid prints it", () => {
  const page = readFileSync(join(REPO_ROOT, "docs/commands.md"), "utf8");
  const block = /```mermaid\n([\s\S]*?)```/.exec(page);
  expect(block?.[1]).toBe(runCli(["plan", "--format", "mermaid"]).stdout);
});
