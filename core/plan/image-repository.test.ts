// A family's `repository` (issue 29): each image is in its family's repository, a
// template over its axes; `{repository}/...` is below the top-level one and moves with
// it (--base-url), an absolute one stays; every mistake is reported at its line.

import { describe, expect, test } from "bun:test";
import { AXES, planText, problemsOf } from "../../fixtures/test-helpers.ts";
import { graphShape } from "../changes/graph-shape.ts";
import { isLockable } from "../changes/lock.ts";
import { cacheReference, hasOwnRepositories, imageRegistries, movedRepository, unmovedFamilies } from "../graph.ts";

/** Jupyter's shape: a base in a repository below the top-level one, scipy FROM it in an absolute one, tools in the top-level one. */
const MATRIX = `repository = "quay.io/jupyter"
[axes.python]
py311 = { V = "3.11" }
py312 = { V = "3.12" }
[images.base-notebook]
repository = "{repository}/{family}"
tag = "python-{python.V}"
matrix = ["python"]
[images.scipy-notebook]
repository = "quay.io/jupyter-stacks/scipy-notebook"
tag = "python-{python.V}"
matrix = ["python"]
from = "base-notebook"
[images.tools]
tag = "tools-{python}"
matrix = ["python"]
from = "scipy-notebook"
`;

const plan = async (toml: string, repository?: string) => (await planText(toml, repository)).graph;

describe("each image is in its family's repository", () => {
  test("the same tag in two repositories is two images; ids begin with the repository's last component; a child names its base's reference, in whatever repository", async () => {
    const graph = await plan(MATRIX);
    expect(graph.images.map((image) => [image.id, image.reference])).toEqual([
      ["base-notebook-python-3-11", "quay.io/jupyter/base-notebook:python-3.11"],
      ["base-notebook-python-3-12", "quay.io/jupyter/base-notebook:python-3.12"],
      ["scipy-notebook-python-3-11", "quay.io/jupyter-stacks/scipy-notebook:python-3.11"],
      ["scipy-notebook-python-3-12", "quay.io/jupyter-stacks/scipy-notebook:python-3.12"],
      ["tools-py311", "quay.io/jupyter:tools-py311"],
      ["tools-py312", "quay.io/jupyter:tools-py312"],
    ]);
    expect(graph.images.map((image) => image.repositorySuffix)).toEqual(["/base-notebook", "/base-notebook", null, null, undefined, undefined]);
    for (const image of graph.images) expect(image.contentReference).toBe(`${image.repository}:inputs-${image.inputs.slice("sha256:".length)}`);
    expect(graph.images[2]!.args).toEqual([{ name: "V", value: "3.11" }, { name: "BASE_IMAGE", value: "quay.io/jupyter/base-notebook:python-3.11" }]);
    expect(graph.images[4]!.args.at(-1)).toEqual({ name: "BASE_IMAGE", value: "quay.io/jupyter-stacks/scipy-notebook:python-3.11" });
    expect(graph.repository).toBe("quay.io/jupyter");
    expect([hasOwnRepositories(graph), unmovedFamilies(graph), imageRegistries(graph)]).toEqual([true, ["scipy-notebook"], ["quay.io"]]);
  });

  test("a template over the axes gives each image its own; {repository} alone is the top-level one, as if unset", async () => {
    const graph = await plan(`${AXES}
[images.a]
repository = "{repository}/{cuda}-{family}"
tag = "py-{python}"
matrix = ["cuda", "python"]
[images.b]
repository = "{repository}"
tag = "b-{python}"
matrix = ["python"]
`);
    expect(graph.images.map((image) => image.reference)).toEqual(["r.io/p/img/c10-a:py-py37", "r.io/p/img/c10-a:py-py38", "r.io/p/img/c11-a:py-py37", "r.io/p/img/c11-a:py-py38", "r.io/p/img:b-py37", "r.io/p/img:b-py38"]);
    expect(graph.images.map((image) => image.id)).toEqual(["c10-a-py-py37", "c10-a-py-py38", "c11-a-py-py37", "c11-a-py-py38", "b-py37", "b-py38"]);
    expect("repositorySuffix" in graph.images[4]!).toBe(false);
  });

  test("a graph of one repository, Caliban's, is as it was: no image has a suffix, and plan --json has no such key", async () => {
    const graph = await plan(`${AXES}
[images.a]
tag = "a-{python}"
matrix = ["python"]
`);
    expect(hasOwnRepositories(graph)).toBe(false);
    expect(JSON.stringify(graph)).not.toContain("repositorySuffix");
    expect(graph.images.map((image) => image.id)).toEqual(["a-py37", "a-py38"]);
  });
});

describe("--base-url moves the top-level repository and the families below it, not an absolute one", () => {
  test("references, base args and content references follow; the shape an emitted pipeline names does not change", async () => {
    const original = await plan(MATRIX);
    const moved = await plan(MATRIX, "localhost:5000/test");
    expect(moved.images.map((image) => image.reference)).toEqual([
      "localhost:5000/test/base-notebook:python-3.11",
      "localhost:5000/test/base-notebook:python-3.12",
      "quay.io/jupyter-stacks/scipy-notebook:python-3.11",
      "quay.io/jupyter-stacks/scipy-notebook:python-3.12",
      "localhost:5000/test:tools-py311",
      "localhost:5000/test:tools-py312",
    ]);
    expect(moved.images[2]!.args.at(-1)!.value).toBe("localhost:5000/test/base-notebook:python-3.11");
    expect(moved.images.map((image) => image.id)).toEqual(original.images.map((image) => image.id));
    expect(moved.images.map((image) => image.inputs)).toEqual(original.images.map((image) => image.inputs));
    expect(graphShape(moved)).toBe(graphShape(original));
    // movedRepository is what make's REPOSITORY, bake's variable and resolve --registry apply to the plan's graph.
    expect(original.images.map((image) => movedRepository(image, "localhost:5000/test"))).toEqual(moved.images.map((image) => image.repository));
  });

  test("a family's repository is part of the shape: another path, or another absolute repository, makes an emitted pipeline stale", async () => {
    const shape = graphShape(await plan(MATRIX));
    expect(graphShape(await plan(MATRIX.replace('"{repository}/{family}"', '"{repository}/{family}-x"')))).not.toBe(shape);
    expect(graphShape(await plan(MATRIX.replace("jupyter-stacks", "jupyter-other")))).not.toBe(shape);
    expect(graphShape(await plan(MATRIX.replace('repository = "quay.io/jupyter"', 'repository = "ghcr.io/jupyter"')))).toBe(shape);
  });
});

describe("mistakes in a family's repository, each at its line", () => {
  const family = (repository: string) => `${AXES}
[images.a]
tag = "a-{python}"
matrix = ["python"]
repository = ${JSON.stringify(repository)}
`;
  const line = AXES.split("\n").length + 4;
  const cases: [string, string, string | undefined][] = [
    ["https://quay.io/jupyter/a", `the repository "https://quay.io/jupyter/a" names a URL scheme (https://): a repository is the registry host and path alone, e.g. "quay.io/jupyter/a"`, undefined],
    ["quay.io/jupyter/a:latest", 'the repository "quay.io/jupyter/a:latest" must not contain a tag (\':\'); the tag comes from each family\'s `tag` template', undefined],
    ["quay.io", 'the repository "quay.io" is a registry host with no repository path: its images would be quay.io:TAG, which docker reads as an image on Docker Hub; add the path, e.g. "quay.io/your-org/images"', undefined],
    ["{repository}/{python}-Notebook", 'the repository "r.io/p/img/py37-Notebook" must be lowercase after the registry host', 'it is the top-level repository "r.io/p/img", then "/py37-Notebook"'],
    ["base/{repository}", "{repository}, the top-level repository, can only begin a family's repository", 'e.g. repository = "{repository}/base-notebook", or a whole repository of its own'],
    ["{repository}-gpu", "{repository} is followed by a path below it: a '/' comes next", 'e.g. repository = "{repository}/base-notebook"'],
    ["{repository}{python}", "{repository} is followed by a path below it: a '/' comes next", 'e.g. repository = "{repository}/base-notebook"'],
    ["{repository.NAME}/a", "{repository}, the top-level repository, has no attributes", undefined],
    ["", "the repository is empty", "leave `repository` out for the top-level repository"],
    ["{repository}/{cuda}", "the template names {cuda}, which is not an axis of this family", 'add "cuda" to this family\'s `matrix`'],
    ["{repository}/{from}", "{from} is only defined in the build args of a family with `from`", undefined],
  ];
  for (const [repository, message, hint] of cases) {
    test(JSON.stringify(repository), async () => {
      const problems = await problemsOf(family(repository));
      expect(problems.map((d) => ({ line: d.line, keyPath: d.keyPath?.join("."), message: d.message, hint: d.hint }))).toEqual([{ line, keyPath: "images.a.repository", message, hint }]);
    });
  }

  test("a templated repository that is no repository is reported once for its family, not once per image", async () => {
    const problems = await problemsOf(family("{repository}/{python}-X").replace("[axes.cuda]", "py39 = {}\n[axes.cuda]"));
    expect(problems.map((d) => d.message)).toEqual(['the repository "r.io/p/img/py37-X" must be lowercase after the registry host']);
  });

  test("two images of one reference are refused, whichever families give it; one tag in two repositories is not", async () => {
    const both = (repository: string) => `${AXES}
[images.a]
repository = "q.io/x/a"
tag = "v-{python}"
matrix = ["python"]
[images.b]
repository = ${JSON.stringify(repository)}
tag = "v-{python}"
matrix = ["python"]
`;
    expect((await plan(both("q.io/x/b"))).images.map((image) => image.reference)).toEqual(["q.io/x/a:v-py37", "q.io/x/a:v-py38", "q.io/x/b:v-py37", "q.io/x/b:v-py38"]);
    const clash = await problemsOf(both("q.io/x/a"));
    expect(clash.map((d) => [d.code, d.keyPath?.join("."), d.message])).toEqual([
      ["DUPLICATE", "images.b.tag", 'two images would both be q.io/x/a:v-py37: python=py37 of "a" and python=py37 of "b"'],
      ["DUPLICATE", "images.b.tag", 'two images would both be q.io/x/a:v-py38: python=py38 of "a" and python=py38 of "b"'],
    ]);
  });
});

describe("what else reads an image's repository", () => {
  test("the lock pins no image of the graph's repositories, whichever family's", () => {
    const ours = new Set(["quay.io/jupyter", "quay.io/jupyter/base-notebook"]);
    expect(isLockable("quay.io/jupyter/base-notebook:latest", undefined, ours)).toBe(false);
    expect(isLockable("quay.io/jupyter:tools", undefined, ours)).toBe(false);
    expect(isLockable("quay.io/jupyter/other:latest", undefined, ours)).toBe(true);
    expect(isLockable("ubuntu", undefined, ours)).toBe(true);
    expect(isLockable("localhost:5000/x", undefined, new Set(["localhost:5000/x"]))).toBe(true);
  });

  test("a [cache] repository keeps an image of a family's own repository under its id: another repository may share its tag", async () => {
    const graph = await plan(`${MATRIX}[cache]\nrepository = "quay.io/jupyter/cache"\n`);
    expect(graph.images.map((image) => cacheReference(graph, image))).toEqual([
      "quay.io/jupyter/cache:base-notebook-python-3-11",
      "quay.io/jupyter/cache:base-notebook-python-3-12",
      "quay.io/jupyter/cache:scipy-notebook-python-3-11",
      "quay.io/jupyter/cache:scipy-notebook-python-3-12",
      "quay.io/jupyter/cache:tools-py311",
      "quay.io/jupyter/cache:tools-py312",
    ]);
  });
});
