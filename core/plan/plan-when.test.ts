// `[[images.NAME.when]]`: settings per value and per combination, read at their lines and
// laid over the family's own, in order (the fixture fixtures/per-combination runs them
// through every emitter's consumer).

import { describe, expect, test } from "bun:test";
import { planText, problemsOf } from "../../fixtures/test-helpers.ts";

const BASE = `repository = "r.io/python"
[axes.python]
py312 = { PYTHON_VERSION = "3.12" }
py313 = { PYTHON_VERSION = "3.13" }
[axes.variant]
full = {}
slim = { SLIM = "1" }
[images.python]
matrix = ["python", "variant"]
tag = "{python.PYTHON_VERSION}-{variant}"
aliases = ["{python}-{variant}"]
labels = { kind = "python", "x.variant" = "{variant}" }
args = ["python"]
`;

const planned = async (rules: string) => {
  const { graph } = await planText(`${BASE}${rules}`);
  return Object.fromEntries(graph.images.map((image) => [image.tag, image]));
};

describe("when: the images a rule matches get its settings", () => {
  test("a value: aliases add up after the family's; a combination: one image gets an alias of its own", async () => {
    const images = await planned(`[[images.python.when]]
match = { python = "py313" }
aliases = ["{variant}"]
[[images.python.when]]
match = { python = "py313", variant = "full" }
aliases = ["latest", "3"]
`);
    expect(images["3.13-full"]!.aliases).toEqual(["py313-full", "full", "latest", "3"]);
    expect(images["3.13-slim"]!.aliases).toEqual(["py313-slim", "slim"]);
    expect(images["3.12-full"]!.aliases).toEqual(["py312-full"]);
  });

  test("a list of values; dockerfile, context, platforms, target and test replace the family's, the last match winning", async () => {
    const images = await planned(`[[images.python.when]]
match = { variant = ["slim"], python = ["py312", "py313"] }
dockerfile = "slim.Dockerfile"
context = "slim"
platforms = ["linux/amd64", "linux/arm64"]
target = "slim"
test = "python -c 'import sys'"
[[images.python.when]]
match = { python = "py313", variant = "slim" }
platforms = ["linux/arm64"]
`);
    expect(images["3.12-slim"]).toMatchObject({ dockerfile: "slim.Dockerfile", context: "slim", platforms: ["linux/amd64", "linux/arm64"], target: "slim", test: "python -c 'import sys'" });
    expect(images["3.13-slim"]!.platforms).toEqual(["linux/arm64"]);
    expect(images["3.12-full"]).toMatchObject({ dockerfile: "Dockerfile", context: ".", platforms: [], target: null, test: null });
  });

  test("args and labels add up, one of the same name replacing the family's in its place; an axis's attributes by name", async () => {
    const images = await planned(`[[images.python.when]]
match = { variant = "slim" }
args = ["variant", { PYTHON_VERSION = "{python.PYTHON_VERSION}-slim" }]
labels = { "x.variant" = "slim!", extra = "yes" }
`);
    expect(images["3.13-slim"]!.args).toEqual([
      { name: "PYTHON_VERSION", value: "3.13-slim" },
      { name: "SLIM", value: "1" },
    ]);
    expect(images["3.13-full"]!.args).toEqual([{ name: "PYTHON_VERSION", value: "3.13" }]);
    expect(images["3.13-slim"]!.labels.map((label) => `${label.name}=${label.value}`)).toEqual(["kind=python", "x.variant=slim!", "extra=yes"]);
  });

  test("a rule's settings are inputs of the image: its digest moves with them, the others' do not", async () => {
    const before = await planned("");
    const after = await planned(`[[images.python.when]]\nmatch = { python = "py313", variant = "slim" }\nplatforms = ["linux/arm64"]\n`);
    expect(after["3.13-slim"]!.inputs).not.toBe(before["3.13-slim"]!.inputs);
    expect(after["3.12-slim"]!.inputs).toBe(before["3.12-slim"]!.inputs);
  });
});

describe("when: mistakes are reported at their line, with a hint", () => {
  const messages = async (rules: string) => (await problemsOf(`${BASE}${rules}`)).map((d) => `${d.line}: ${d.message}${d.hint ? ` (${d.hint})` : ""}`);

  test("no match, an axis the family does not span, a value its axis lacks, a rule that sets nothing, an unknown key", async () => {
    expect(await messages("[[images.python.when]]\naliases = [\"x\"]\n")).toEqual(["14: this `when` rule has no `match` (say which images it is for, e.g. match = { python = \"...\" })"]);
    expect(await messages('[[images.python.when]]\nmatch = { pyton = "py313" }\naliases = ["x"]\n')).toEqual(['15: "pyton" is not an axis of this family (did you mean "python"?)']);
    expect(await messages('[[images.python.when]]\nmatch = { python = "py3133" }\naliases = ["x"]\n')).toEqual(['15: axis "python" has no value "py3133" (did you mean "py313"?)']);
    expect(await messages('[[images.python.when]]\nmatch = { python = "py313" }\n')).toEqual(["14: this `when` rule sets nothing (give the matched images one of: dockerfile, context, args, aliases, shared_tags, labels, platforms, target, test, runner, timeout, published, rebuild, free_disk)"]);
    expect(await messages('[[images.python.when]]\nmatch = { python = "py313" }\ntag = "x"\n')).toEqual(["16: `tag` is the family's, for all its images: a `when` rule cannot set it (rules set dockerfile, context, args, aliases, shared_tags, labels, platforms, target, test, runner, timeout, published, rebuild, free_disk)"]);
    expect(await messages('[[images.python.when]]\nmatch = { python = "py313" }\naliasses = ["x"]\n')).toEqual([expect.stringMatching(/^16: unknown key "aliasses" here \(did you mean "aliases"\?\)/)]);
    expect(await messages('[[images.python.when]]\nmatch = {}\naliases = ["x"]\n')).toEqual(["15: the match names no axis, so it is every image (set what every image gets in the family's own table)"]);
  });

  test("an alias that is the image's own tag, or given twice, is said as such; one that names another image, as before", async () => {
    expect(await messages('[[images.python.when]]\nmatch = { python = "py313", variant = "full" }\naliases = ["{python.PYTHON_VERSION}-{variant}"]\n')).toEqual([
      '16: the alias "3.13-full" of python=py313, variant=full of "python" is its own tag (leave it out)',
    ]);
    expect((await messages('[[images.python.when]]\nmatch = { python = "py313" }\naliases = ["{python}-{variant}"]\n'))[0]).toContain("is given to it twice");
    expect((await messages('[[images.python.when]]\nmatch = { variant = "full" }\naliases = ["latest"]\n'))[0]).toContain("two images would both be r.io/python:latest");
  });

  test("templates in a rule are checked as the family's: an axis it does not span", async () => {
    expect(await messages('[[images.python.when]]\nmatch = { python = "py313" }\naliases = ["{cuda}"]\n')).toEqual([expect.stringMatching(/^16: the template names \{cuda\}, which is not an axis of this family/)]);
  });
});

describe("ranges of values, in the order an axis writes them", () => {
  const CUDA = `repository = "r.io/cuda"
[axes.cuda]
cu124 = { CUDA = "12.4" }
cu125 = { CUDA = "12.5" }
cu126 = { CUDA = "12.6" }
[axes.os]
ubuntu2204 = {}
ubuntu2404 = {}
[images.cuda]
matrix = ["cuda", "os"]
tag = "{cuda.CUDA}-{os}"
`;
  const tags = async (rest: string) => (await planText(`${CUDA}${rest}`)).graph.images.map((image) => `${image.tag}${image.aliases.length > 0 ? ` (${image.aliases.join(", ")})` : ""}`);

  test("an exclude with a range: ubuntu24.04 only from CUDA 12.5", async () => {
    expect(await tags('exclude = [{ cuda = "<cu125", os = "ubuntu2404" }]\n')).toEqual(["12.4-ubuntu2204", "12.5-ubuntu2204", "12.5-ubuntu2404", "12.6-ubuntu2204", "12.6-ubuntu2404"]);
  });

  test("a when with ranges, and a list mixing a range and a value: >=, >, <=, <", async () => {
    const rules = (match: string) => `[[images.cuda.when]]\nmatch = { cuda = ${match}, os = "ubuntu2204" }\naliases = ["{cuda}"]\n`;
    expect(await tags(rules('">=cu125"'))).toEqual(["12.4-ubuntu2204", "12.4-ubuntu2404", "12.5-ubuntu2204 (cu125)", "12.5-ubuntu2404", "12.6-ubuntu2204 (cu126)", "12.6-ubuntu2404"]);
    expect((await tags(rules('">cu125"'))).filter((tag) => tag.includes("("))).toEqual(["12.6-ubuntu2204 (cu126)"]);
    expect((await tags(rules('["<cu125", "cu126"]'))).filter((tag) => tag.includes("("))).toEqual(["12.4-ubuntu2204 (cu124)", "12.6-ubuntu2204 (cu126)"]);
    expect((await tags(rules('"<=cu125"'))).filter((tag) => tag.includes("("))).toEqual(["12.4-ubuntu2204 (cu124)", "12.5-ubuntu2204 (cu125)"]);
  });

  test("a range naming no value of the axis, or naming nothing, is reported at its line", async () => {
    const messages = async (rest: string) => (await problemsOf(`${CUDA}${rest}`)).map((d) => `${d.line}: ${d.message}`);
    expect(await messages('exclude = [{ cuda = ">=cu127" }]\n')).toEqual(['12: axis "cuda" has no value "cu127" (in the range ">=cu127")']);
    expect(await messages('exclude = [{ cuda = "<cu124" }]\n')).toEqual(['12: the range "<cu124" names no value of axis "cuda" (its values, in order: cu124, cu125, cu126)']);
  });
});
