// `plan`'s text at any size: the listing's wide tables and long lists kept within
// PLAN_WIDTH, `--family`'s selection, and the summary by family (plan-summary.ts).
// The listing of the fixtures, which fits, is golden (golden.test.ts): unchanged.

import { describe, expect, test } from "bun:test";
import type { BuildGraph } from "../core/graph.ts";
import { planText } from "../fixtures/test-helpers.ts";
import { generateMatrix } from "../scripts/bench/generate.ts";
import { renderSummary } from "./plan-summary.ts";
import { PLAN_WIDTH, renderPlan, selectFamilies, wrapList } from "./plan-text.ts";

const DEFAULT = await Bun.file(new URL("../matrix.toml", import.meta.url)).text();

/** `families` final families over python (12 values) × variant (3): every cell of the table holds one tag of each. */
function wideMatrix(families: number): string {
  const lines = ['repository = "r.io/wide"', "[axes.python]"];
  for (let i = 0; i < 12; i++) lines.push(`py3${i + 10} = { PYTHON_VERSION = "3.${i + 10}" }`);
  lines.push("[axes.variant]", 'slim = { V = "slim" }', 'full = { V = "full" }', 'gpu = { V = "gpu" }');
  for (let f = 0; f < families; f++) lines.push(`[images.family${f}]`, `tag = "family${f}-{python}-{variant}"`, 'matrix = ["python", "variant"]');
  return `${lines.join("\n")}\n`;
}

const lineWidths = (text: string) => text.split("\n").map((line) => line.length);
const tableOf = (text: string) => text.slice(0, text.indexOf("\nstage 1 ("));

describe("the full listing", () => {
  test("a table wider than the page: each cell's tags one per line, the columns in blocks under their own header row; no line past PLAN_WIDTH, every tag once", async () => {
    const { graph } = await planText(wideMatrix(12));
    const text = renderPlan(graph, "m.toml");
    expect(Math.max(...lineWidths(text))).toBeLessThanOrEqual(PLAN_WIDTH);
    const table = tableOf(text);
    for (const image of graph.images) expect(table.split(/\s+/).filter((word) => word === image.tag || word === `${image.tag},`)).toEqual([image.tag]);
    const lines = table.split("\n");
    expect(lines.slice(4, 8)).toEqual(["images by variant (columns) and python (rows)", "          slim                  full                  gpu", "  py310   family0-py310-slim    family0-py310-full    family0-py310-gpu", "          family1-py310-slim    family1-py310-full    family1-py310-gpu"]);
    expect(lines.filter((line) => line.trim().startsWith("slim "))).toHaveLength(1); // three columns fit in one block
  });

  test("columns that do not fit together go into blocks, each with the row labels", async () => {
    const lines = ['repository = "r.io/cols"', "[axes.python]", 'py1 = { P = "1" }', 'py2 = { P = "2" }', "[axes.variant]"];
    for (let v = 0; v < 9; v++) lines.push(`variant-with-a-long-name-${v} = { V = "${v}" }`);
    lines.push("[images.app]", 'tag = "app-{python}-{variant}"', 'matrix = ["python", "variant"]');
    const { graph } = await planText(`${lines.join("\n")}\n`);
    const text = renderPlan(graph, "m.toml");
    expect(Math.max(...lineWidths(text))).toBeLessThanOrEqual(PLAN_WIDTH);
    const headers = tableOf(text).split("\n").filter((line) => /^\s+variant-with-a-long-name-/.test(line));
    expect(headers.map((line) => line.trim().split(/\s+/).length)).toEqual([2, 2, 2, 2, 1]); // 9 columns, two to a block
    expect(tableOf(text).split("\n").filter((line) => line.startsWith("  py1 "))).toHaveLength(5);
  });

  test("aliases and platforms past the page wrap under the first one", async () => {
    const aliases = Array.from({ length: 8 }, (_, i) => `"{python}-a-rather-long-alias-${i}"`).join(", ");
    const platforms = ["linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v6", "linux/ppc64le", "linux/s390x", "linux/386", "linux/riscv64"];
    const { graph } = await planText(`repository = "r.io/a"\n[axes.python]\npy1 = { P = "1" }\n[images.app]\ntag = "app-{python}"\nmatrix = ["python"]\naliases = [${aliases}]\nplatforms = ${JSON.stringify(platforms)}\n`);
    const text = renderPlan(graph, "m.toml");
    expect(Math.max(...lineWidths(text))).toBeLessThanOrEqual(PLAN_WIDTH);
    expect(text).toContain(
      [
        "    aliases     py1-a-rather-long-alias-0, py1-a-rather-long-alias-1, py1-a-rather-long-alias-2,",
        "                py1-a-rather-long-alias-3, py1-a-rather-long-alias-4, py1-a-rather-long-alias-5,",
        "                py1-a-rather-long-alias-6, py1-a-rather-long-alias-7",
        "    platforms   linux/amd64, linux/arm64, linux/arm/v7, linux/arm/v6, linux/ppc64le, linux/s390x,",
        "                linux/386, linux/riscv64",
      ].join("\n"),
    );
  });

  test("an image's shared tags show under its aliases; an image without shows none", async () => {
    const { graph } = await planText(
      `repository = "r.io/a"\n[axes.arch]\nx86_64 = {}\naarch64 = {}\n[images.app]\ntag = "{arch}-latest"\nmatrix = ["arch"]\naliases = ["{arch}"]\nshared_tags = ["latest", "stable"]\n[[images.app.when]]\nmatch = { arch = "x86_64" }\nplatforms = ["linux/amd64"]\n[[images.app.when]]\nmatch = { arch = "aarch64" }\nplatforms = ["linux/arm64"]\n[images.tool]\ntag = "tool"\n`,
    );
    const text = renderPlan(graph, "m.toml");
    expect(text).toContain(["  x86_64-latest", "    image       r.io/a:x86_64-latest", "    dockerfile  Dockerfile", "    aliases     x86_64", "    shared tags latest, stable", "    platforms   linux/amd64"].join("\n"));
    expect(text.split("\n").filter((line) => line.startsWith("    shared tags"))).toHaveLength(2);
  });

  test("wrapList: a list that fits is the items joined by commas; one item longer than the page stays whole", () => {
    expect(wrapList("  x  ", ["a", "b", "c"])).toEqual(["  x  a, b, c"]);
    expect(wrapList("  x  ", ["a".repeat(120), "b"])).toEqual([`  x  ${"a".repeat(120)},`, "     b"]);
  });

  test("--family's selection: only those families' images, each at its stage of the whole graph, its base named", async () => {
    const { graph } = await planText(DEFAULT);
    const text = renderPlan(graph, "m.toml", selectFamilies(graph, ["gpu"]));
    expect(text).toStartWith("matrix:     m.toml\nrepository: gcr.io/blueshift-playground/blueshift\nimages:     4 of 8 (family gpu), in 1 of 2 stages\n\nimages by cuda (columns) and python (rows)\n");
    expect(text).not.toContain("stage 1 (");
    expect(text).toContain("stage 2 (4 images, waits for stage 1)\n  gpu-cuda100-py37\n");
    expect(text).toContain("    from        gpu-base-cuda100\n");
    expect(text).not.toMatch(/^ {2}(cpu|gpu-base)-/m);
    expect(renderPlan(graph, "m.toml", selectFamilies(graph, ["cpu", "gpu-base"]))).toContain("images:     4 of 8 (families gpu-base, cpu), in 1 of 2 stages\n");
    // The whole graph selected by name is the whole listing but for its header.
    const all = renderPlan(graph, "m.toml", selectFamilies(graph, ["gpu-base", "cpu", "gpu"]));
    expect(all.replace("8 of 8 (families gpu-base, cpu, gpu), in 2 of 2 stages", "8 in 2 stages")).toBe(renderPlan(graph, "m.toml"));
  });
});

describe("the summary by family", () => {
  test("the default matrix, entry by entry", async () => {
    const { graph } = await planText(DEFAULT);
    expect(renderSummary(graph, "m.toml")).toBe(`matrix:     m.toml
repository: gcr.io/blueshift-playground/blueshift
images:     8 in 2 stages
summary:    one entry per family (plan --full lists every image)

stage 1 (4 images, starts at once): gpu-base (2), cpu (2)
stage 2 (4 images, waits for stage 1): gpu (4)

family gpu-base: 2 images
  axes        cuda  2 values: cuda100, cuda101
  tags        gpu-base-cuda100, gpu-base-cuda101
  dockerfile  dockerfiles/Dockerfile.gpu

family cpu: 2 images
  axes        python  2 values: py37, py38
  tags        cpu-py37, cpu-py38
  dockerfile  dockerfiles/Dockerfile

family gpu: 4 images
  from        gpu-base
  axes        python  2 values: py37, py38
              cuda    2 values: cuda100, cuda101
  tags        gpu-cuda100-py37 ... gpu-cuda101-py38
  dockerfile  dockerfiles/Dockerfile
`);
  });

  test("700 images in a few dozen lines, none past PLAN_WIDTH: an axis's values named up to six, else the first three and the last", async () => {
    const { graph } = await planText(generateMatrix("chain", 700));
    const text = renderSummary(graph, "m.toml");
    expect(graph.images.length).toBeGreaterThan(600);
    expect(text.split("\n").length).toBeLessThan(40);
    expect(Math.max(...lineWidths(text))).toBeLessThanOrEqual(PLAN_WIDTH);
    expect(text).toContain("stage 3 (648 images, waits for stage 2): framework (648)\n");
    expect(text).toContain(
      [
        "family framework: 648 images",
        "  from        python",
        "  axes        cuda       6 values: cuda0, cuda1, cuda2, cuda3, cuda4, cuda5",
        "              python     6 values: python0, python1, python2, python3, python4, python5",
        "              framework  18 values: framework0, framework1, framework2, ..., framework17",
        "  tags        fw-cuda0-python0-framework0 ... fw-cuda5-python5-framework17",
        "  dockerfile  docker/Dockerfile  (context docker)",
      ].join("\n"),
    );
  });

  test("a family over part of an axis says how many of its values; repositories other than the matrix's, contexts and platforms are shown", async () => {
    const toml = `${DEFAULT.replace('args = ["cuda"]', 'args = ["cuda"]\nplatforms = ["linux/amd64", "linux/arm64"]\ncontext = "dockerfiles"')}\n`.replace('tag = "cpu-{python}"', 'tag = "cpu-{python}"\nexclude = [{ python = "py38" }]');
    const { graph } = await planText(toml);
    const moved: BuildGraph = { ...graph, images: graph.images.map((image) => (image.family === "cpu" ? { ...image, repository: "other.io/cpu" } : image)) };
    const text = renderSummary(moved, "m.toml");
    expect(text).toContain("family cpu: 1 image\n  axes        python  1 of 2 values: py37\n  tags        cpu-py37\n  repository  other.io/cpu\n  dockerfile  dockerfiles/Dockerfile\n");
    expect(text).toContain("  dockerfile  dockerfiles/Dockerfile.gpu  (context dockerfiles)\n  platforms   linux/amd64, linux/arm64\n");
    expect(text).not.toContain("  repository  gcr.io");
  });

  test("a family's several repositories or Dockerfiles are counted and named, past six the first three and the last", async () => {
    const { graph } = await planText(generateMatrix("chain", 100));
    let n = 0;
    const spread: BuildGraph = { ...graph, images: graph.images.map((image) => (image.family === "framework" ? { ...image, repository: `r.io/fw-${n % 8}`, dockerfile: `docker/${n++ % 2}.Dockerfile` } : image)) };
    const text = renderSummary(spread, "m.toml");
    expect(text).toContain("  repository  8 repositories: r.io/fw-0, r.io/fw-1, r.io/fw-2, ..., r.io/fw-7\n  dockerfile  2 Dockerfiles: docker/0.Dockerfile  (context docker),\n                             docker/1.Dockerfile  (context docker)\n");
  });

  test("with --family's selection: the header says how many of all, only those families' stages and entries", async () => {
    const { graph } = await planText(DEFAULT);
    const text = renderSummary(graph, "m.toml", selectFamilies(graph, ["gpu"]));
    expect(text).toContain("images:     4 of 8 (family gpu), in 1 of 2 stages\n");
    expect(text).toContain("\nstage 2 (4 images, waits for stage 1): gpu (4)\n\nfamily gpu: 4 images\n");
    expect(text).not.toContain("stage 1 (");
    expect(text).not.toContain("family cpu");
  });

  test("a family left with no image (a subgraph's) is named, with its base and Dockerfile", async () => {
    const { graph } = await planText(DEFAULT);
    const empty: BuildGraph = { ...graph, families: graph.families.map((f) => (f.name === "gpu" ? { ...f, images: [] } : f)), images: graph.images.filter((image) => image.family !== "gpu") };
    expect(renderSummary(empty, "m.toml")).toEndWith("\nfamily gpu: 0 images\n  from        gpu-base\n  dockerfile  dockerfiles/Dockerfile\n");
  });
});
