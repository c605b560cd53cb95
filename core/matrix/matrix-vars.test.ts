// [vars]: variables with defaults, named {$NAME} in templates and set with --var when a
// command plans. The plan changes with a value; every mistake is reported at its line
// with a hint; a variable never collides with an axis; a value is checked where it lands.

import { describe, expect, test } from "bun:test";
import { CalibanError, type Diagnostic } from "../errors.ts";
import { graphShape } from "../changes/graph-shape.ts";
import type { BuildGraph } from "../graph.ts";
import { loadMatrix, planLoaded } from "../load.ts";

const MATRIX = `repository = "r.io/p/img"

[vars]
TAG_PREFIX = ""
MIRROR = "https://pypi.org/simple"

[axes.python]
py37 = { PYTHON_VERSION = "3.7" }
py38 = { PYTHON_VERSION = "3.8" }

[images.base]
tag = "{$TAG_PREFIX}base"
labels = { "org.example.mirror" = "{$MIRROR}" }

[images.app]
tag = "{$TAG_PREFIX}app-{python}"
aliases = ["{$TAG_PREFIX}{python.PYTHON_VERSION}"]
matrix = ["python"]
from = "base"
args = [{ BASE_IMAGE = "{from}" }, "python", { PIP_INDEX_URL = "{$MIRROR}/{python}" }]
`;

async function planWith(toml: string, values: Record<string, string> = {}, undeclaredIgnored = false): Promise<BuildGraph> {
  const loaded = await loadMatrix(toml, "m.toml", { values: new Map(Object.entries(values)), undeclaredIgnored });
  return planLoaded(loaded);
}

async function problemsWith(toml: string, values: Record<string, string> = {}): Promise<Diagnostic[]> {
  try {
    await planWith(toml, values);
  } catch (error) {
    if (error instanceof CalibanError) return [...error.diagnostics];
    throw error;
  }
  throw new Error("the matrix was accepted");
}

const where = (found: readonly Diagnostic[]) => found.map((d) => [d.code, d.line, d.column, d.message, d.hint]);

describe("values", () => {
  test("the defaults fill every template: tags, aliases, labels, args, and the base's reference in its child's args", async () => {
    const graph = await planWith(MATRIX);
    expect(graph.images.map((image) => image.reference)).toEqual(["r.io/p/img:base", "r.io/p/img:app-py37", "r.io/p/img:app-py38"]);
    expect(graph.images[1]!.aliases).toEqual(["3.7"]);
    expect(graph.images[0]!.labels).toEqual([{ name: "org.example.mirror", value: "https://pypi.org/simple", revision: false }]);
    expect(graph.images[1]!.args).toEqual([
      { name: "BASE_IMAGE", value: "r.io/p/img:base" },
      { name: "PYTHON_VERSION", value: "3.7" },
      { name: "PIP_INDEX_URL", value: "https://pypi.org/simple/py37" },
    ]);
  });

  test("--var changes the plan: every image's tag, its id, its args and digests, and the graph's shape; the others keep their defaults", async () => {
    const defaults = await planWith(MATRIX);
    const nightly = await planWith(MATRIX, { TAG_PREFIX: "nightly-" });
    expect(nightly.images.map((image) => [image.id, image.reference])).toEqual([
      ["nightly-base", "r.io/p/img:nightly-base"],
      ["nightly-app-py37", "r.io/p/img:nightly-app-py37"],
      ["nightly-app-py38", "r.io/p/img:nightly-app-py38"],
    ]);
    expect(nightly.images[1]!.args[0]).toEqual({ name: "BASE_IMAGE", value: "r.io/p/img:nightly-base" });
    expect(nightly.images[1]!.args[2]!.value).toBe("https://pypi.org/simple/py37");
    expect(graphShape(nightly)).not.toBe(graphShape(defaults));
    // A value given equal to the default plans the same graph: the value is what counts.
    expect(graphShape(await planWith(MATRIX, { TAG_PREFIX: "" }))).toBe(graphShape(defaults));
    // A build arg's value is an input of the image: its digest moves, and its child's.
    const mirrored = await planWith(MATRIX, { MIRROR: "https://mirror.example/simple" });
    expect(mirrored.images[0]!.inputs).not.toBe(defaults.images[0]!.inputs);
    expect(mirrored.images[1]!.args[2]!.value).toBe("https://mirror.example/simple/py37");
  });

  test("a value is text: braces, '$' and quotes arrive as written, never templated again", async () => {
    const graph = await planWith(MATRIX, { MIRROR: "{python} ${x} {{ '$HOME' }}" });
    expect(graph.images[1]!.args[2]!.value).toBe("{python} ${x} {{ '$HOME' }}/py37");
  });

  test("{$NAME} cannot collide with an axis: an axis named like a variable, or named vars, stays an axis", async () => {
    const toml = `repository = "r.io/p/img"\n[vars]\nvars = "v"\npython = "var"\n[axes.vars]\na = { X = "1" }\n[axes.python]\npy37 = {}\n[images.x]\ntag = "{vars}-{vars.X}-{python}-{$vars}-{$python}"\nmatrix = ["vars", "python"]\n`;
    expect((await planWith(toml)).images.map((image) => image.tag)).toEqual(["a-1-py37-v-var"]);
  });

  test("a value is checked where it lands: a tag it breaks is reported at the tag's line", async () => {
    const found = await problemsWith(MATRIX, { TAG_PREFIX: "no/" });
    expect(found[0]).toMatchObject({ code: "INVALID_VALUE", line: 12, message: 'the tag "no/base" (for the single image) is not a valid Docker tag' });
    // A control character can land nowhere: refused at the variable, whether default or given.
    expect(where(await problemsWith(MATRIX, { MIRROR: "a\nb" }))).toEqual([["INVALID_VALUE", 5, 1, "--var MIRROR contains a newline, which no build tool can carry", undefined]]);
  });
});

describe("mistakes, each at its line with a hint", () => {
  test("--var naming no variable: at [vars], with the near name; without [vars], how to declare it", async () => {
    expect(where(await problemsWith(MATRIX, { TAG_PRFIX: "x" }))).toEqual([["UNKNOWN_REFERENCE", 3, 1, '--var TAG_PRFIX: the matrix declares no variable "TAG_PRFIX"', 'did you mean "TAG_PREFIX"?']]);
    const plain = 'repository = "r.io/p/img"\n[images.x]\ntag = "x"\n';
    expect(where(await problemsWith(plain, { TAG_PREFIX: "x" }))).toEqual([["UNKNOWN_REFERENCE", undefined, undefined, '--var TAG_PREFIX: the matrix declares no variable "TAG_PREFIX"', 'declare it with its default: [vars] TAG_PREFIX = "..."']]);
    // Another revision's matrix (affected --since) leaves out what it does not declare.
    expect((await planWith(plain, { TAG_PREFIX: "x" }, true)).images.map((image) => image.tag)).toEqual(["x"]);
  });

  test("a template naming an undeclared variable, one with an attribute, a variable written as an axis", async () => {
    const toml = MATRIX.replace('tag = "{$TAG_PREFIX}base"', 'tag = "{$TAG_PREFX}base"')
      .replace('aliases = ["{$TAG_PREFIX}{python.PYTHON_VERSION}"]', 'aliases = ["{$MIRROR.X}", "{TAG_PREFIX}", "{vars.MIRROR}"]');
    expect(where(await problemsWith(toml))).toEqual([
      ["UNKNOWN_REFERENCE", 12, 1, "the template names {$TAG_PREFX}, which is not a variable of [vars]", "did you mean {$TAG_PREFIX}?"],
      ["INVALID_VALUE", 17, 12, "{$MIRROR} has no attributes: a variable is one value", undefined],
      ["UNKNOWN_REFERENCE", 17, 27, "the template names {TAG_PREFIX}, which is not an axis of this family", "TAG_PREFIX is a variable of [vars]: write {$TAG_PREFIX}"],
      ["UNKNOWN_REFERENCE", 17, 43, "the template names {vars.MIRROR}, which is not an axis of this family", "MIRROR is a variable of [vars]: write {$MIRROR}"],
    ]);
    const none = 'repository = "r.io/p/img"\n[images.x]\ntag = "{$TAG}x"\n';
    expect(where(await problemsWith(none))).toEqual([["UNKNOWN_REFERENCE", 3, 1, "the template names {$TAG}, which is not a variable of [vars]", 'declare it with its default: [vars] TAG = "..."']]);
  });

  test("[vars] itself: names as make, bake and a shell take them; string values", async () => {
    const toml = 'repository = "r.io/p/img"\n[vars]\n"TAG-PREFIX" = ""\nCOUNT = 3\n[images.x]\ntag = "x"\n';
    expect(where(await problemsWith(toml))).toEqual([
      ["INVALID_NAME", 3, 1, '"TAG-PREFIX" is not a valid variable name', "use letters, digits and '_', not starting with a digit (as make, bake and a shell name a variable)"],
      ["WRONG_TYPE", 4, 1, "expected a string, found the number 3", 'quote it as written: "3"'],
    ]);
    expect(where(await problemsWith('repository = "r.io/p/img"\nvars = ["TAG"]\n[images.x]\ntag = "x"\n'))).toEqual([
      ["WRONG_TYPE", 2, 1, "expected a table, found an array", 'write each variable with its default, e.g. [vars] TAG_PREFIX = ""'],
    ]);
  });
});
