// [sets]: named sets of combinations, written once and used by several families, in
// `exclude` and as a `when` rule's match; checked where written and where used.

import { expect, test } from "bun:test";
import { planText, problemsOf } from "../../fixtures/test-helpers.ts";

const MATRIX = `repository = "r.io/cuda"
[axes.cuda]
cu118 = { CUDA = "11.8" }
cu124 = { CUDA = "12.4" }
cu126 = { CUDA = "12.6" }
[axes.os]
ubuntu2204 = {}
ubuntu2404 = {}
[axes.flavour]
base = {}
cudnn = {}
[sets]
no-noble = [{ cuda = "<cu124", os = "ubuntu2404" }]
cudnn9 = [{ cuda = ">=cu124" }, { cuda = "cu118", os = "ubuntu2204" }]
[images.cuda]
matrix = ["cuda", "os"]
tag = "{cuda.CUDA}-{os}"
exclude = ["no-noble"]
[images.flavour]
matrix = ["cuda", "os", "flavour"]
tag = "{cuda.CUDA}-{flavour}-{os}"
exclude = ["no-noble", { flavour = "cudnn", cuda = ["cu118"], os = "ubuntu2404" }]
[[images.flavour.when]]
match = "cudnn9"
aliases = ["{cuda.CUDA}-{flavour}-cudnn9-{os}"]
`;

test("a set excludes the same combinations in every family that names it; a when rule matches any of its patterns", async () => {
  const { graph } = await planText(MATRIX);
  const tags = (family: string) => graph.images.filter((image) => image.family === family).map((image) => image.tag);
  expect(tags("cuda")).toEqual(["11.8-ubuntu2204", "12.4-ubuntu2204", "12.4-ubuntu2404", "12.6-ubuntu2204", "12.6-ubuntu2404"]);
  expect(tags("flavour")).toEqual(["11.8-base-ubuntu2204", "11.8-cudnn-ubuntu2204", "12.4-base-ubuntu2204", "12.4-cudnn-ubuntu2204", "12.4-base-ubuntu2404", "12.4-cudnn-ubuntu2404", "12.6-base-ubuntu2204", "12.6-cudnn-ubuntu2204", "12.6-base-ubuntu2404", "12.6-cudnn-ubuntu2404"]);
  const aliased = graph.images.filter((image) => image.aliases.length > 0).map((image) => image.tag);
  // Every combination from CUDA 12.4, and 11.8 on 22.04: all of them here.
  expect(aliased).toEqual(tags("flavour"));
});

test("mistakes at their line: an unknown set (with a hint), a set naming an axis the family does not span, a set's unknown axis or value", async () => {
  const messages = async (toml: string) => (await problemsOf(toml)).map((d) => `${d.line}: ${d.message}${d.hint ? ` (${d.hint})` : ""}`);
  expect(await messages(MATRIX.replace('exclude = ["no-noble"]', 'exclude = ["no-nobel"]'))).toEqual(['18: no set named "no-nobel" (did you mean "no-noble"?)']);
  const narrow = `${MATRIX}[images.single]\nmatrix = ["cuda"]\ntag = "{cuda}"\nexclude = ["no-noble"]\n`;
  expect(await messages(narrow)).toEqual(['29: the set "no-noble" names "os", which this family does not span (use it in families that span those axes, or make a set of their own)']);
  expect(await messages(MATRIX.replace('cudnn9 = [{ cuda = ">=cu124" }', 'cudnn9 = [{ cudaa = ">=cu124" }'))).toEqual(['14: unknown axis "cudaa" (did you mean "cuda"?)']);
  expect(await messages(MATRIX.replace('cudnn9 = [{ cuda = ">=cu124" }', 'cudnn9 = [{ cuda = ">=cu125" }'))).toEqual([expect.stringMatching(/^14: axis "cuda" has no value "cu125" \(in the range ">=cu125"\)/)]);
  expect(await messages(MATRIX.replace('match = "cudnn9"', 'match = "cudnn8"'))).toEqual(['24: no set named "cudnn8" (did you mean "cudnn9"?)']);
});
