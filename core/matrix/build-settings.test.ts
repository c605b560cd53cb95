// Aliases, labels, platforms, target, [cache] and [attest]: read, checked at their line,
// carried by the graph, and (labels, platforms, target) part of the inputs.

import { describe, expect, test } from "bun:test";
import { planText, problemsOf } from "../../fixtures/test-helpers.ts";

const BASE = `repository = "ghcr.io/your-org/images"
[axes.python]
py311 = { PYTHON_VERSION = "3.11" }
py312 = { PYTHON_VERSION = "3.12" }
[axes.cuda]
cu124 = { CUDA = "12.4" }
cu118 = { CUDA = "11.8" }
`;

const gpu = (extra: string) => `${BASE}[images.gpu]
tag = "gpu-{cuda}-{python}"
matrix = ["python", "cuda"]
${extra}`;

test("aliases, labels (every image's, then the family's), platforms and target reach each image; [cache] and [attest] the graph", async () => {
  const { graph } = await planText(`labels = { "org.opencontainers.image.source" = "https://github.com/your-org/images", "org.opencontainers.image.revision" = "{revision}", "x.family" = "{family}", "x.kind" = "base" }
${BASE}[images.gpu]
tag = "gpu-{cuda}-{python}"
aliases = ["gpu-{python}-cuda{cuda.CUDA}"]
matrix = ["python", "cuda"]
labels = { "org.opencontainers.image.description" = "Python {python.PYTHON_VERSION} on CUDA {cuda.CUDA}", "x.kind" = "gpu" }
platforms = ["linux/amd64", "linux/arm64"]
target = "runtime"
[cache]
type = "registry"
repository = "ghcr.io/your-org/cache"
[attest]
provenance = true
sbom = true
`);
  const image = graph.images[0]!;
  expect(image.aliases).toEqual(["gpu-py311-cuda12.4"]);
  expect(image.labels).toEqual([
    { name: "org.opencontainers.image.source", value: "https://github.com/your-org/images", revision: false },
    { name: "org.opencontainers.image.revision", value: "", revision: true },
    { name: "x.family", value: "gpu", revision: false },
    { name: "x.kind", value: "gpu", revision: false },
    { name: "org.opencontainers.image.description", value: "Python 3.11 on CUDA 12.4", revision: false },
  ]);
  expect(image.platforms).toEqual(["linux/amd64", "linux/arm64"]);
  expect(image.target).toBe("runtime");
  expect(graph.cache).toEqual({ type: "registry", repository: "ghcr.io/your-org/cache" });
  expect(graph.attest).toEqual({ provenance: "max", sbom: true });
  // Without them: nothing set.
  const plain = (await planText(gpu(""))).graph;
  expect(plain.images[0]).toMatchObject({ aliases: [], labels: [], platforms: [], target: null });
  expect(plain.cache).toBeNull();
  expect(plain.attest).toEqual({ provenance: null, sbom: false });
  expect((await planText(gpu("[cache]\n"))).graph.cache).toEqual({ type: null, repository: null });
  expect((await planText(gpu('[cache]\ntype = "none"\n'))).graph.cache).toBeNull();
});

describe("what is part of the inputs", () => {
  const inputs = async (extra: string) => (await planText(gpu(extra))).graph.images.map((image) => image.inputs);
  test("a label, a platform or a target changes them; an alias, the cache, attestations and the revision label do not; none set changes nothing", async () => {
    const plain = await inputs("");
    expect(await inputs('aliases = ["a-{cuda}-{python}"]\n')).toEqual(plain);
    expect(await inputs('labels = { "org.opencontainers.image.revision" = "{revision}" }\n')).toEqual(plain);
    expect(await inputs('[cache]\ntype = "gha"\n[attest]\nsbom = true\n')).toEqual(plain);
    for (const changed of ['labels = { a = "b" }\n', 'platforms = ["linux/arm64"]\n', 'target = "runtime"\n']) {
      const other = await inputs(changed);
      other.forEach((digest, i) => expect(digest).not.toBe(plain[i]!));
    }
  });
});

describe("mistakes are reported at their line", () => {
  const messages = async (toml: string) => (await problemsOf(toml)).map((d) => `${d.line}: ${d.message}`);
  test("an alias that is no tag, that another image has, or that names no axis that tells the images apart", async () => {
    expect(await messages(gpu('aliases = ["gpu {python}"]\n'))).toEqual(['11: the alias "gpu py311" (for python=py311, cuda=cu124) is not a valid Docker tag']);
    expect(await messages(gpu('aliases = ["gpu-{python}"]\n'))).toEqual([
      '11: two images would both be ghcr.io/your-org/images:gpu-py311: python=py311, cuda=cu124 of "gpu" and python=py311, cuda=cu118 of "gpu" (as an alias)',
      '11: two images would both be ghcr.io/your-org/images:gpu-py312: python=py312, cuda=cu124 of "gpu" and python=py312, cuda=cu118 of "gpu" (as an alias)',
    ]);
    // An alias that is another image's tag: whichever is planned second is the clash.
    expect((await messages(gpu('aliases = ["gpu-cu118-py311"]\n')))[0]).toBe('9: two images would both be ghcr.io/your-org/images:gpu-cu118-py311: python=py311, cuda=cu124 of "gpu" (as an alias) and python=py311, cuda=cu118 of "gpu"');
  });
  test("labels, platforms, target, [cache] and [attest]", async () => {
    expect(await messages(gpu('labels = { "bad name" = "x" }\n'))).toEqual(['11: "bad name" is not a label name']);
    expect(await messages(gpu('labels = { a = "v{revision}" }\n'))).toEqual(["11: {revision} is the commit the CI builds, set at build time: it must be the whole value"]);
    expect(await messages(gpu('labels = { a = "{pyton}" }\n'))).toEqual(["11: the template names {pyton}, which is not an axis of this family"]);
    expect(await messages(gpu('platforms = ["amd64"]\n'))).toEqual(['11: "amd64" is not a platform']);
    expect(await messages(gpu('platforms = ["linux/amd64", "linux/amd64"]\n'))).toEqual(["11: platform linux/amd64 is listed twice"]);
    expect(await messages(gpu('target = "-x"\n'))).toContain('11: the target "-x" (for python=py311, cuda=cu124) is not a Dockerfile stage name');
    expect(await messages(gpu('[cache]\ntype = "s3"\n'))).toEqual(['12: "s3" is not a cache type']);
    expect(await messages(gpu('[cache]\ntyp = "gha"\n'))).toEqual(['12: unknown key "typ" here']);
    expect(await messages(gpu('[attest]\nprovenance = "full"\n'))).toEqual(['12: "full" is not a provenance mode']);
  });
});

test("a registry cache in the image's own repository is tagged cache-TAG, which must be a tag too", async () => {
  const long = "t".repeat(125);
  const messages = async (cache: string) => (await problemsOf(`repository = "r.io/x"\n[images.a]\ntag = "${long}"\n${cache}`)).map((d) => `${d.line}: ${d.message}`);
  expect(await messages("[cache]\n")).toEqual([`3: the tag "${long}" is too long for its registry cache's tag, cache-${long} (at most 128 characters)`]);
  // In a repository of its own, the cache is tagged as the image; gha has no tag.
  for (const cache of ['[cache]\nrepository = "r.io/cache"\n', '[cache]\ntype = "gha"\n']) expect((await planText(`repository = "r.io/x"\n[images.a]\ntag = "${long}"\n${cache}`)).graph.images).toHaveLength(1);
});
