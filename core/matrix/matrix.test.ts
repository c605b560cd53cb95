// Reading a matrix: every mistake reported together, each at its line and column,
// with a hint; orders as the file gives them; combinations as rows and tables.

import { describe, expect, test } from "bun:test";
import { AXES, planText, problemsOf } from "../../fixtures/test-helpers.ts";

const plan = async (toml: string, repository?: string) => (await planText(toml, repository)).graph;
const problems = problemsOf;

describe("reading", () => {
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

  test("a combination table with a mistake is reported where it is, in a long list", async () => {
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

test("an unquoted version as a value name (3.10 = {...}) is TOML's dotted key: said so, with the quoted form, once per value", async () => {
  const messages = (await problemsOf('repository = "r.io/x"\n[axes.python]\n3.10 = { PYTHON_VERSION = "3.10" }\n[images.a]\ntag = "a-{python}"\nmatrix = ["python"]\n')).map((d) => `${d.line}: ${d.message} (${d.hint})`);
  expect(messages).toEqual(['3: TOML reads the unquoted key 3.10 as the dotted key 3 → 10, not as one value name (quote it: "3.10" = { ... })']);
});

test("one mistake, one error: a tag template that gives no valid tag is reported once for its family; matrix = \"python\" once, with the list it means", async () => {
  const tag = (await problemsOf('repository = "r.io/x"\n[axes.python]\npy1 = {}\npy2 = {}\n[axes.cuda]\nc1 = {}\nc2 = {}\n[images.a]\ntag = "a {python}-{cuda}"\nmatrix = ["python", "cuda"]\n')).map((d) => `${d.line}: ${d.message}`);
  expect(tag).toEqual(['9: the tag "a py1-c1" (for python=py1, cuda=c1) is not a valid Docker tag']);
  const matrix = (await problemsOf('repository = "r.io/x"\n[axes.python]\npy1 = { V = "1" }\n[images.a]\ntag = "a-{python}"\nmatrix = "python"\n')).map((d) => `${d.line}: ${d.message} (${d.hint})`);
  expect(matrix).toEqual(['6: expected an array of axis names, found the string "python" (write matrix = ["python"])']);
});
