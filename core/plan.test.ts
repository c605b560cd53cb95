import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { CalibanError, type Diagnostic } from "./errors.ts";
import { stages } from "./graph.ts";
import { loadMatrix, planLoaded } from "./load.ts";
import type { Family } from "./matrix.ts";
import { familyOrder } from "./family-order.ts";
import { generateMatrix } from "../scripts/bench/generate.ts";

async function plan(toml: string, repository?: string) {
  const loaded = await loadMatrix(toml, "m.toml");
  return planLoaded(loaded, repository ? { repository } : {});
}

async function problems(toml: string): Promise<Diagnostic[]> {
  try {
    await plan(toml);
  } catch (error) {
    if (error instanceof CalibanError) return [...error.diagnostics];
    throw error;
  }
  throw new Error("the matrix was accepted");
}

const AXES = `
repository = "r.io/p/img"
[axes.python]
py37 = { PYTHON_VERSION = "3.7" }
py38 = { PYTHON_VERSION = "3.8" }
[axes.cuda]
c10 = { CUDA = "10.0" }
c11 = { CUDA = "11.0" }
`;

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

  test("combinations and include may be rows, one value per axis of `matrix` in its order: the same graph as tables", async () => {
    const family = (list: string) => `${AXES}\n[images.x]\ntag = "x-{cuda}-{python}"\nmatrix = ["cuda", "python"]\n${list}\n`;
    const rows = await plan(family(`combinations = [["c11", "py38"], { python = "py37", cuda = "c10" }, ["c10", "py38"]]`));
    const tables = await plan(family(`combinations = [{ cuda = "c11", python = "py38" }, { cuda = "c10", python = "py37" }, { cuda = "c10", python = "py38" }]`));
    expect(rows).toEqual(tables);
    expect(rows.images.map((i) => i.tag)).toEqual(["x-c11-py38", "x-c10-py37", "x-c10-py38"]);
    const included = await plan(family(`exclude = [{ cuda = "c11" }]\ninclude = [["c11", "py37"]]`));
    expect(included.images.map((i) => i.tag)).toEqual(["x-c10-py37", "x-c10-py38", "x-c11-py37"]);

    const found = await problems(family(`combinations = [\n  ["c11"],\n  ["c10", "py39"],\n  ["c10", 3.8],\n]\nexclude = [["c10", "py37"]]`));
    expect(found.map((d) => [d.code, d.line, d.column, d.message])).toEqual([
      ["INVALID_VALUE", 13, 1, "`combinations` lists every image explicitly; it cannot be combined with `include` or `exclude`"],
      ["INVALID_VALUE", 14, 3, "the row has 1 value; a row gives one value per axis of `matrix`, in its order (cuda, python)"],
      ["UNKNOWN_REFERENCE", 15, 11, 'axis "python" has no value "py39"'],
      ["WRONG_TYPE", 16, 11, "expected a string, found the number 3.8"],
      ["WRONG_TYPE", 18, 12, "expected a table, found an array"],
    ]);
    expect(found[1]!.hint).toBe('e.g. ["c10", "py37"]');
    expect(found[4]!.hint).toBe('a pattern names the axes it matches: { cuda = "..." }');
  });

  test("a combination table with a mistake is reported where it is, in a list read mostly on the quick path", async () => {
    const family = (list: string) => `${AXES}\n[images.x]\ntag = "x-{cuda}-{python}"\nmatrix = ["cuda", "python"]\n${list}\n`;
    const found = await problems(
      family(
        [
          "combinations = [",
          '  { cuda = "c10", python = "py37" },',
          '  { cuda = "c11" },',
          '  { python = "py38", cuda = "c10", os = "x" },',
          '  { cuda = "c11", python = "py39" },',
          '  { cuda = "c11", python = 3 },',
          '  { python = "py38", cuda = "c11" },',
          "]",
        ].join("\n"),
      ),
    );
    expect(found.map((d) => [d.code, d.line, d.column, d.message])).toEqual([
      ["MISSING_KEY", 15, 3, 'the combination does not give a value for "python"'],
      ["UNKNOWN_REFERENCE", 16, 36, '"os" is not an axis of this family'],
      ["UNKNOWN_REFERENCE", 17, 19, 'axis "python" has no value "py39"'],
      ["WRONG_TYPE", 18, 19, "expected a string, found the number 3"],
    ]);
    // Axes named like Object.prototype's members: a table that leaves one out is missing it, not given it.
    const inherited = `repository = "r.io/p/img"\n[axes.constructor]\na = {}\n[axes.toString]\nb = {}\n[images.x]\ntag = "x-{constructor}-{toString}"\nmatrix = ["constructor", "toString"]\n`;
    expect((await plan(`${inherited}combinations = [{ constructor = "a", toString = "b" }]`)).images.map((i) => i.tag)).toEqual(["x-a-b"]);
    const missing = await problems(`${inherited}combinations = [{ toString = "b" }]`);
    expect(missing.map((d) => [d.code, d.message])).toEqual([["MISSING_KEY", 'the combination does not give a value for "constructor"']]);
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

  test("axes, their values and families keep the file's order, names that read as numbers included", async () => {
    // A JavaScript object would list "10", "11" and "7" (and families "2", "1") first.
    const graph = await plan(`repository = "r.io/p/img"
[axes.cuda]
"9.2" = {}
"10" = {}
cu8 = {}
"7" = {}
[axes.1]
b = {}
"0" = {}
[images.z]
tag = "z-{cuda}-{1}"
matrix = ["cuda", "1"]
[images.2]
tag = "two-{cuda}"
matrix = ["cuda"]
[images.1]
tag = "one-{cuda}"
matrix = ["cuda"]
`);
    expect(graph.families.map((f) => f.name)).toEqual(["z", "2", "1"]);
    expect(graph.images.filter((i) => i.family === "z").map((i) => i.tag)).toEqual(
      ["9.2", "10", "cu8", "7"].flatMap((cuda) => [`z-${cuda}-b`, `z-${cuda}-0`]),
    );
    expect(graph.images.filter((i) => i.family === "1").map((i) => i.tag)).toEqual(["one-9.2", "one-10", "one-cu8", "one-7"]);
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

describe("mistakes are reported together, each at its line", () => {
  test("unknown keys, axes, families and template variables", async () => {
    const found = await problems(`${AXES}
[images.x]
tag = "x-{pyton}"
matrx = ["python"]
matrix = ["python", "gpu"]
from = "bse"
[images.base]
tag = "b"
`);
    expect(found.map((d) => [d.code, d.line, d.column, d.message, d.hint])).toEqual([
      ["UNKNOWN_REFERENCE", 11, 1, "the template names {pyton}, which is not an axis of this family", 'did you mean "python"?'],
      ["UNKNOWN_KEY", 12, 1, 'unknown key "matrx" here', 'did you mean "matrix"?'],
      ["UNKNOWN_REFERENCE", 13, 21, 'unknown axis "gpu"', 'expected one of: "python", "cuda"'],
      ["UNKNOWN_REFERENCE", 14, 1, 'no image family named "bse"', 'did you mean "base"?'],
    ]);
    expect(found.every((d) => d.file === "m.toml")).toBe(true);
  });

  test("a number where a string belongs, with the hint that TOML drops .0", async () => {
    const [problem] = await problems(`repository = "r.io/x"\n[axes.cuda]\nc10 = { CUDA = 10.0 }\n[images.x]\ntag = "x"\n`);
    expect(problem).toMatchObject({ code: "WRONG_TYPE", line: 3, column: 9, message: "expected a string, found the number 10" });
    expect(problem!.hint).toBe('quote it as written: "10.0" (TOML reads 10.0 as the number 10)');
  });

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
    const cycle = await problems(`${AXES}\n[images.a]\ntag = "a"\nfrom = "b"\n[images.b]\ntag = "b"\nfrom = "a"\n`);
    expect(cycle.map((d) => d.message)).toEqual(["families build FROM each other in a loop: a → b → a"]);
    const duplicate = await problems(`${AXES}\n[images.a]\ntag = "same"\n[images.b]\ntag = "same"\n`);
    expect(duplicate[0]!.message).toBe('two images would both be r.io/p/img:same: the single image of "a" and the single image of "b"');
    const badTag = await problems(`${AXES}\n[images.a]\ntag = "-{python}"\nmatrix = ["python"]\n`);
    expect(badTag[0]!.message).toBe('the tag "-py37" (for python=py37) is not a valid Docker tag');
  });

  test("base axes must be a subset; attributes must exist on the values used", async () => {
    const found = await problems(`${AXES}
[axes.os]
u18 = { BASE_IMAGE = "ubuntu:18.04" }
u20 = {}
[images.base]
tag = "b-{cuda}"
matrix = ["cuda"]
[images.x]
tag = "x-{python}-{os}"
matrix = ["python", "os"]
from = "base"
args = ["os.BASE_IMAGE"]
`);
    expect(found.map((d) => d.message)).toEqual(['"base" spans axis "cuda", which "x" does not, so no single base image matches']);
    const attribute = await problems(`${AXES}
[axes.os]
u18 = { BASE_IMAGE = "ubuntu:18.04" }
u20 = {}
[images.x]
tag = "x-{os}"
matrix = ["os"]
args = ["os.BASE_IMAGE"]
`);
    expect(attribute.map((d) => [d.line, d.message])).toEqual([[16, 'axis "os" value "u20" has no attribute BASE_IMAGE']]);
  });

  test("an empty matrix, an empty family, an invalid repository and names", async () => {
    expect((await problems(`repository = "r.io/x"\n`)).map((d) => d.code)).toEqual(["EMPTY"]);
    expect((await problems(`${AXES}[images.x]\ntag = "x-{cuda}"\nmatrix = ["cuda"]\nexclude = [{}]\n`)).map((d) => d.message)).toEqual(['family "x" produces no images']);
    const names = await problems(`repository = "R.io/Upper:tag"\n[axes."bad axis"]\nv = {}\n[images.x]\ntag = "x"\n[axes.a]\n"bad value!" = { "bad-arg" = "v" }\n`);
    expect(names.map((d) => d.code)).toEqual(["INVALID_VALUE", "INVALID_NAME", "INVALID_NAME", "INVALID_NAME"]);
  });

  test("a control character in a build-arg value is refused", async () => {
    const [problem] = await problems(`repository = "r.io/x"\n[axes.a]\nv = { X = "line\\nbreak" }\n[images.x]\ntag = "x"\n`);
    expect(problem!.message).toContain("contains a newline");
    const escapes: [string, string][] = [["\\u0085", "U+0085"], ["\\u2028", "a line separator (U+2028)"], ["\\t", "a tab"], ["\\u007F", "U+007F"]];
    for (const [escape, named] of escapes) {
      const [found] = await problems(`repository = "r.io/x"\n[axes.a]\nv = { X = "a${escape}b" }\n[images.x]\ntag = "x"\n`);
      expect(found!.message).toContain(named);
    }
  });
});

describe("TOML syntax errors", () => {
  test("file:line:col, the line with a caret, and a hint", async () => {
    const [problem] = await problems(`repository = "r.io/x"\n[axes.a]\nv = { X = unquoted }\n`);
    expect(problem).toMatchObject({ code: "TOML_SYNTAX", file: "m.toml", line: 3, column: 11 });
    expect(problem!.excerpt).toBe("  3 | v = { X = unquoted }\n    |           ^");
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

test("thousands of mistakes: each reported at its line; hints among an axis's values stop at a budget, the errors do not", async () => {
  const values = Array.from({ length: 1000 }, (_, i) => `v${i} = { X = "x${i}" }`);
  // 300 unknown values, then 300 numbers where a value's name belongs.
  const rows = [...Array.from({ length: 300 }, (_, i) => `  ["u${i}"],`), ...Array.from({ length: 300 }, (_, i) => `  [${i}],`)];
  const toml = ['repository = "r.example.com/x"', "[axes.v]", ...values, "[images.a]", 'tag = "a-{v}"', 'matrix = ["v"]', "combinations = [", ...rows, "]"].join("\n");
  const found = await problems(toml);
  expect(found).toHaveLength(600);
  const firstRowLine = toml.split("\n").indexOf(rows[0]!) + 1;
  found.forEach((d, i) => expect(d.line).toBe(firstRowLine + i));
  const unknown = found.slice(0, 300);
  expect(unknown[0]!.hint).toBe('did you mean "v0"?');
  // 200,000 comparisons, 1,000 values each: 200 hints.
  expect(unknown.filter((d) => d.hint !== undefined)).toHaveLength(200);
  expect(unknown[299]!.message).toBe('axis "v" has no value "u299"');
  expect(found.slice(300).every((d) => d.hint?.startsWith("quote it"))).toBe(true);
});
