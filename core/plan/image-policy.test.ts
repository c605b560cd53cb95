// `published` and `rebuild`, per family and per `when` rule: read at their lines, carried
// by the graph only where they differ from the default, and no input of an image (its
// digest, and its children's, are the same with them or without).

import { describe, expect, test } from "bun:test";
import { planText, problemsOf } from "../../fixtures/test-helpers.ts";
import { graphShape } from "../changes/graph-shape.ts";

const BASE = `repository = "r.io/ml"
[axes.cuda]
cu124 = { CUDA = "12.4" }
cu126 = { CUDA = "12.6" }
[axes.python]
py312 = { PYTHON_VERSION = "3.12" }
[images.cuda]
tag = "cuda-{cuda}"
matrix = ["cuda"]
[images.torch]
tag = "torch-{cuda}-{python}"
matrix = ["cuda", "python"]
from = "cuda"
`;

/** BASE with `extra` lines added to [images.cuda] (before [images.torch]), then `after`. */
const withCuda = (extra: string, after = "") => `${BASE.replace("[images.torch]", `${extra}\n[images.torch]`)}${after}`;
const byTag = async (toml: string) => Object.fromEntries((await planText(toml)).graph.images.map((image) => [image.tag, image]));
const messages = async (toml: string) => (await problemsOf(toml)).map((d) => `${d.line}: ${d.message}${d.hint ? ` (${d.hint})` : ""}`);

describe("the graph's fields", () => {
  test("a family's published = false and rebuild = \"always\": on each of its images; absent on the others, and on every image without them", async () => {
    const images = await byTag(withCuda('published = false\nrebuild = "always"'));
    expect(images["cuda-cu124"]!.published).toBe(false);
    expect(images["cuda-cu124"]!.rebuild).toBe("always");
    expect("published" in images["torch-cu124-py312"]!).toBe(false);
    expect("rebuild" in images["torch-cu124-py312"]!).toBe(false);
    const plain = await byTag(BASE);
    for (const image of Object.values(plain)) expect(Object.keys(image).filter((key) => key === "published" || key === "rebuild")).toEqual([]);
  });

  test("published = true and rebuild = \"changed\", the defaults, written out: the same graph as without them", async () => {
    const { graph } = await planText(withCuda('published = true\nrebuild = "changed"'));
    const { graph: plain } = await planText(BASE);
    expect(JSON.stringify(graph)).toBe(JSON.stringify(plain));
  });

  test("a `when` rule sets them for the images it matches, over the family's own", async () => {
    const images = await byTag(
      withCuda(
        'published = false\n[[images.cuda.when]]\nmatch = { cuda = "cu126" }\npublished = true\nrebuild = "always"',
      ),
    );
    expect(images["cuda-cu124"]!.published).toBe(false);
    expect("rebuild" in images["cuda-cu124"]!).toBe(false);
    expect("published" in images["cuda-cu126"]!).toBe(false);
    expect(images["cuda-cu126"]!.rebuild).toBe("always");
  });

  test("no input: every image's digest (its children's too) is the one it has without them; the shape tells them apart", async () => {
    const { graph } = await planText(withCuda('published = false\nrebuild = "always"', '[[images.torch.when]]\nmatch = { cuda = "cu126" }\nrebuild = "always"\n'));
    const { graph: plain } = await planText(BASE);
    expect(graph.images.map((image) => [image.id, image.inputs, image.contentReference])).toEqual(plain.images.map((image) => [image.id, image.inputs, image.contentReference]));
    // A pipeline emitted for one is stale for the other: it pushes and builds otherwise.
    expect(graphShape(graph)).not.toBe(graphShape(plain));
  });
});

describe("mistakes, at their line with a hint", () => {
  test("an internal image's aliases and shared tags: each refused where written, once, naming where published = false is", async () => {
    const toml = withCuda('published = false\naliases = ["c-{cuda}"]\nshared_tags = ["s-{cuda}"]');
    expect(await messages(toml)).toEqual([
      '11: the alias "c-cu124" of cuda=cu124 of "cuda" would publish nothing: the image is internal (published = false, at images.cuda.published), pushed under its content reference only (leave the alias out for internal images (a `when` rule can give published = false to the images without one), or publish the image)',
      '12: the shared tag "s-cu124" of cuda=cu124 of "cuda" would publish nothing: the image is internal (published = false, at images.cuda.published), pushed under its content reference only (leave the shared tag out for internal images (a `when` rule can give published = false to the images without one), or publish the image)',
    ]);
  });

  test("published = false in a rule, an alias in the family's table: the alias's line, naming the rule", async () => {
    const toml = withCuda('aliases = ["c-{cuda}"]\n[[images.cuda.when]]\nmatch = { cuda = "cu126" }\npublished = false');
    const found = await messages(toml);
    expect(found).toHaveLength(1);
    expect(found[0]).toStartWith('10: the alias "c-cu126" of cuda=cu126 of "cuda" would publish nothing: the image is internal (published = false, at images.cuda.when[0].published)');
  });

  test("wrong types and values: at the key's line", async () => {
    expect(await messages(withCuda('published = "false"'))).toEqual(["10: expected true or false, found the string \"false\" (write it unquoted: false)"]);
    expect(await messages(withCuda('rebuild = "nightly"'))).toEqual([
      '10: rebuild must be "changed" or "always", found "nightly" (rebuild = "always": built on every run; "changed" (the default): built when the registry lacks its content reference)',
    ]);
    expect(await messages(withCuda("rebuild = true"))).toEqual(['10: expected a string, found boolean true (write rebuild = "always")']);
    expect(await messages(withCuda('[[images.cuda.when]]\nmatch = { cuda = "cu126" }\nrebuild = "sometimes"'))).toEqual([expect.stringMatching(/^12: rebuild must be "changed" or "always", found "sometimes"/)]);
    expect(await messages(withCuda('[[images.cuda.when]]\nmatch = { cuda = "cu126" }\npublished = 0'))).toEqual([expect.stringMatching(/^12: expected true or false, found the number 0/)]);
  });
});
