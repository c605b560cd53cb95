import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { AXES, planText, problemsOf } from "../../fixtures/test-helpers.ts";
import { stages } from "../graph.ts";
import type { Family } from "../matrix/matrix.ts";
import { familyOrder } from "./family-order.ts";
import { generateMatrix } from "../../scripts/bench/generate.ts";

const plan = async (toml: string, repository?: string) => (await planText(toml, repository)).graph;
const problems = problemsOf;


describe("planMatrix", () => {
  test("a product, first axis outermost; images after their base; declaration order otherwise", async () => {
    const graph = await plan(`${AXES}
[images.gpu]
tag = "gpu-{cuda}-{python}"
matrix = ["cuda", "python"]
from = "base"
[images.base]
tag = "base-{cuda}"
matrix = ["cuda"]
`);
    expect(graph.images.map((i) => i.id)).toEqual(["base-c10", "base-c11", "gpu-c10-py37", "gpu-c10-py38", "gpu-c11-py37", "gpu-c11-py38"]);
    expect(graph.images.map((i) => i.level)).toEqual([0, 0, 1, 1, 1, 1]);
    expect(graph.families.map((f) => f.name)).toEqual(["gpu", "base"]);
    const gpu = graph.images[4]!;
    expect(gpu.from).toBe("base-c11");
    expect(gpu.reference).toBe("r.io/p/img:gpu-c11-py37");
    // Default args: every attribute of every axis, then the base reference.
    expect(gpu.args).toEqual([
      { name: "CUDA", value: "11.0" },
      { name: "PYTHON_VERSION", value: "3.7" },
      { name: "BASE_IMAGE", value: "r.io/p/img:base-c11" },
    ]);
    expect(stages(graph).map((s) => s.length)).toEqual([2, 4]);
  });

  test("exclude removes partial matches; include adds whole combinations", async () => {
    const graph = await plan(`${AXES}
[images.x]
tag = "x-{cuda}-{python}"
matrix = ["cuda", "python"]
exclude = [{ cuda = "c11" }, { python = "py38", cuda = "c10" }]
include = [{ cuda = "c11", python = "py38" }]
`);
    expect(graph.images.map((i) => i.tag)).toEqual(["x-c10-py37", "x-c11-py38"]);
  });

  test("explicit combinations, in the order written", async () => {
    const graph = await plan(`${AXES}
[images.x]
tag = "x-{cuda}-{python}"
matrix = ["cuda", "python"]
combinations = [{ python = "py38", cuda = "c11" }, { cuda = "c10", python = "py37" }]
`);
    expect(graph.images.map((i) => i.values)).toEqual([{ cuda: "c11", python: "py38" }, { cuda: "c10", python: "py37" }]);
  });



  test("the benchmark's 1,000-image product, written as rows and as tables, plans to the same graph as the product", async () => {
    const graphs = await Promise.all((["cross", "explicit", "explicit-tables"] as const).map((shape) => plan(generateMatrix(shape, 1000))));
    expect(graphs[0]!.images.length).toBeGreaterThan(900);
    expect(graphs[1]).toEqual(graphs[0]!);
    expect(graphs[2]).toEqual(graphs[0]!);
  });

  test("args: axes, single attributes and templates, in order; a later arg of the same name wins in place", async () => {
    const graph = await plan(`${AXES}
[images.base]
tag = "b-{cuda}"
matrix = ["cuda"]
[images.x]
tag = "x-{cuda}-{python}"
matrix = ["cuda", "python"]
from = "base"
args = [{ BASE_IMAGE = "{from}", PYTHON_VERSION = "first" }, "python", "cuda.CUDA", { NOTE = "{family}: py {python.PYTHON_VERSION} on {cuda}, {{literal}}" }]
`);
    const image = graph.images.find((i) => i.id === "x-c10-py38")!;
    expect(image.args).toEqual([
      { name: "BASE_IMAGE", value: "r.io/p/img:b-c10" },
      { name: "PYTHON_VERSION", value: "3.8" },
      { name: "CUDA", value: "10.0" },
      { name: "NOTE", value: "x: py 3.8 on c10, {literal}" },
    ]);
  });

  test("--base-url replaces the repository everywhere, base references included", async () => {
    const graph = await plan(`${AXES}
[images.base]
tag = "b"
[images.x]
tag = "x"
from = "base"
`, "localhost:5000/test");
    expect(graph.images.map((i) => i.reference)).toEqual(["localhost:5000/test:b", "localhost:5000/test:x"]);
    expect(graph.images[1]!.args).toEqual([{ name: "BASE_IMAGE", value: "localhost:5000/test:b" }]);
  });

  test("ids are valid bake target names and unique", async () => {
    const graph = await plan(`${AXES}
[axes.v]
"3.7" = {}
"3-7" = {}
[images.x]
tag = "x-{v}"
matrix = ["v"]
`);
    expect(graph.images.map((i) => i.id)).toEqual(["x-3-7", "x-3-7-2"]);
  });


  test("clashing ids get the first free suffix, as a search from -2 for each would give", async () => {
    // Tags that differ only in '.' and '-' share a stem; some tags are themselves another's suffixed id.
    const plainIds = (tags: readonly string[]) => {
      const used = new Set(["default", "x"]);
      return tags.map((tag) => {
        const stem = tag.replace(/[^A-Za-z0-9_-]/g, "-");
        let id = stem;
        for (let n = 2; used.has(id); n++) id = `${stem}-${n}`;
        used.add(id);
        return id;
      });
    };
    const name = fc.array(fc.constantFrom("1", "2"), { minLength: 1, maxLength: 3 });
    const separators = fc.array(fc.constantFrom(".", "-"), { minLength: 2, maxLength: 2 });
    const values = fc.uniqueArray(fc.tuple(name, separators).map(([parts, seps]) => parts.map((p, i) => (i === 0 ? p : `${seps[i - 1]}${p}`)).join("")), { minLength: 1, maxLength: 40 });
    await fc.assert(
      fc.asyncProperty(values, async (names) => {
        const axis = names.map((v) => `"${v}" = {}`).join("\n");
        const graph = await plan(`repository = "r.io/p/img"\n[axes.v]\n${axis}\n[images.x]\ntag = "x-{v}"\nmatrix = ["v"]\n`);
        expect(graph.images.map((i) => i.id)).toEqual(plainIds(graph.images.map((i) => i.tag)));
      }),
      { numRuns: 300 },
    );
  });

  test("the same matrix plans to the same JSON every time", async () => {
    const toml = `${AXES}\n[images.x]\ntag = "x-{cuda}-{python}"\nmatrix = ["python", "cuda"]\n`;
    expect(JSON.stringify(await plan(toml))).toBe(JSON.stringify(await plan(toml)));
  });
});

describe("mistakes the planner finds are reported together, each at its line", () => {


  test("a from family with no matching image, a cycle, a duplicate reference, a bad tag", async () => {
    const missing = await problems(`${AXES}
[images.base]
tag = "b-{cuda}"
matrix = ["cuda"]
exclude = [{ cuda = "c11" }]
[images.x]
tag = "x-{cuda}"
matrix = ["cuda"]
from = "base"
`);
    expect(missing.map((d) => [d.code, d.line, d.message])).toEqual([
      ["NO_BASE_IMAGE", 17, '"base" has no image with cuda=c11, which cuda=c11 of "x" builds FROM'],
    ]);
    // skip_without_base: the combinations with no base are left out, not reported; with none left, the family is empty.
    const skipping = `${AXES}
[images.base]
tag = "b-{cuda}-{python}"
matrix = ["cuda", "python"]
exclude = [{ cuda = "c11", python = "py38" }]
[images.x]
tag = "x-{cuda}-{python}"
matrix = ["python", "cuda"]
from = "base"
skip_without_base = true
`;
    expect((await plan(skipping)).images.filter((i) => i.family === "x").map((i) => [i.tag, i.from])).toEqual([
      ["x-c10-py37", "b-c10-py37"],
      ["x-c11-py37", "b-c11-py37"],
      ["x-c10-py38", "b-c10-py38"],
    ]);
    const noneLeft = await problems(skipping.replace('exclude = [{ cuda = "c11", python = "py38" }]', 'exclude = [{ cuda = "c10" }, { cuda = "c11" }]'));
    expect(noneLeft.map((d) => [d.code, d.message, d.hint])).toContainEqual(["EMPTY", 'family "x" produces no images', 'none of its combinations has a base image in "base" (skip_without_base)']);
    const misplaced = await problems(`${AXES}\n[images.a]\ntag = "a"\nskip_without_base = "true"\n[images.b]\ntag = "b"\nskip_without_base = true\n`);
    expect(misplaced.map((d) => [d.line, d.message, d.hint])).toEqual([
      [12, 'expected true or false, found the string "true"', "write it unquoted: true"],
      [15, "`skip_without_base` has no effect without `from`", undefined],
    ]);
    const cycle = await problems(`${AXES}\n[images.a]\ntag = "a"\nfrom = "b"\n[images.b]\ntag = "b"\nfrom = "a"\n`);
    expect(cycle.map((d) => d.message)).toEqual(["families build FROM each other in a loop: a → b → a"]);
    const duplicate = await problems(`${AXES}\n[images.a]\ntag = "same"\n[images.b]\ntag = "same"\n`);
    expect(duplicate[0]!.message).toBe('two images would both be r.io/p/img:same: the single image of "a" and the single image of "b"');
    const badTag = await problems(`${AXES}\n[images.a]\ntag = "-{python}"\nmatrix = ["python"]\n`);
    expect(badTag[0]!.message).toBe('the tag "-py37" (for python=py37) is not a valid Docker tag');
  });



});


test("family order: each family after its base, else as declared, loops included, as the plain statement of it", () => {
  // The plain statement: again and again, the first-declared family whose base is placed
  // (or that has none here); in a loop, the first-declared one left.
  const plainOrder = (families: readonly Pick<Family, "name" | "from">[]) => {
    const known = new Set(families.map((f) => f.name));
    const placed = new Set<string>();
    const remaining = [...families];
    const ordered: string[] = [];
    while (remaining.length > 0) {
      const index = remaining.findIndex((f) => f.from === undefined || !known.has(f.from) || placed.has(f.from));
      const [next] = remaining.splice(Math.max(index, 0), 1);
      ordered.push(next!.name);
      placed.add(next!.name);
    }
    return ordered;
  };
  const froms = fc.array(fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined }), { minLength: 1, maxLength: 10 });
  fc.assert(
    fc.property(froms, (bases) => {
      const families = bases.map((base, i) => ({ name: `f${i}`, from: base === undefined ? undefined : `f${base}` }));
      expect(familyOrder(families as unknown as Family[]).map((f) => f.name)).toEqual(plainOrder(families));
    }),
    { numRuns: 2000 },
  );
});

