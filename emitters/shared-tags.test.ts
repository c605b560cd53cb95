// Shared tags (`shared_tags`) in each emitter, beyond what the readback of
// fixtures/shared-tags shows (readback.test.ts): a failed image leaves its shared tag as it
// was (make -k, with a recording docker whose smoke test fails for one image); a shared tag
// over an image built a job per platform waits for that image's merge job; the Cloud Build
// split keeps each shared tag after all its images; --format matrix says what it leaves out.

import { describe, expect, test } from "bun:test";
import { parse as parseYaml } from "yaml";
import { emitLoaded } from "../cli/emit.ts";
import { builtin, planText } from "../fixtures/test-helpers.ts";
import { makeView, resolveOutputs } from "../scripts/validators/readback.ts";
import { createdSharedTags, githubPushingJobs, githubSharedTags, planSharedTags } from "../scripts/validators/readback-shared-tags.ts";
import { actionlint } from "../scripts/validators/actionlint.ts";
import { hasMake } from "../scripts/validators/tools.ts";
import { emittedText } from "./contract.ts";
import { SHARED_TAGS_JOB } from "./github-shared-tags.ts";

/** Two families, each an image per architecture under one shared tag; base's images are tested. */
const MATRIX = `repository = "r.io/stacks"
[axes.arch]
x86_64 = {}
aarch64 = {}
[images.base]
matrix = ["arch"]
tag = "base-{arch}"
shared_tags = ["base"]
test = "true"
[[images.base.when]]
match = { arch = "x86_64" }
platforms = ["linux/amd64"]
[[images.base.when]]
match = { arch = "aarch64" }
platforms = ["linux/arm64"]
[images.tool]
matrix = ["arch"]
tag = "tool-{arch}"
shared_tags = ["tool"]
[[images.tool.when]]
match = { arch = "x86_64" }
platforms = ["linux/amd64"]
[[images.tool.when]]
match = { arch = "aarch64" }
platforms = ["linux/arm64"]
`;

const { loaded, graph } = await planText(MATRIX);
const image = (tag: string) => graph.images.find((candidate) => candidate.tag === tag)!;
const emit = (name: string, options: string[] = [], warn?: (message: string) => void) => emitLoaded(builtin(name), loaded, graph, options, undefined, undefined, warn);

describe.each([[true], [false]])("make (content tags: %p)", (contentTags) => {
  test.skipIf(!hasMake)("make -k push: an image whose test fails leaves its shared tag as it was; the other shared tag is pushed over its images", () => {
    const makefile = emittedText(emit("make", contentTags ? [] : ["content-tags=false"])[0]!);
    const failing = image("base-aarch64");
    const view = makeView(makefile, graph, [], [], [contentTags ? failing.contentReference : failing.reference]);
    const planned = planSharedTags(graph, contentTags);
    expect(createdSharedTags(view.calls, planned.map((tag) => tag.reference)).map(({ reference, sources }) => ({ reference, sources }))).toEqual(planned.filter((tag) => tag.reference === "r.io/stacks:tool"));
  });
});

test("github: a shared tag over an image built a job per platform waits for its merge job; the workflow passes actionlint", async () => {
  // base-x86_64 is built on both platforms' runners (a job each, then merged); the others in one job each.
  const { loaded, graph } = await planText(MATRIX.replace('platforms = ["linux/amd64"]', 'platforms = ["linux/amd64", "linux/riscv64"]').replace('[[images.base.when]]\nmatch = { arch = "aarch64" }\nplatforms = ["linux/arm64"]', '[[images.base.when]]\nmatch = { arch = "aarch64" }\nplatforms = ["linux/arm64", "linux/ppc64le"]'));
  const text = emittedText(emitLoaded(builtin("github"), loaded, graph, ["platform-runners=linux/arm64=ubuntu-24.04-arm,linux/ppc64le=ppc64le-runner"])[0]!);
  expect((await actionlint(text, "build-images.yml")).filter((finding) => finding.kind !== "runner-label")).toEqual([]);
  const workflow = parseYaml(text);
  expect(workflow.jobs[SHARED_TAGS_JOB].needs).toEqual(["resolve", "stage1", "stage1_merge"]);
  const resolved = resolveOutputs(graph);
  const read = githubSharedTags(workflow, SHARED_TAGS_JOB, resolved)!;
  expect(githubPushingJobs(workflow, resolved, "base-aarch64")).toEqual(["stage1_native", "stage1_merge"]);
  for (const id of graph.images.map((i) => i.id)) for (const job of githubPushingJobs(workflow, resolved, id)) expect(read.after.has(job)).toBe(true);
  expect(read.created.map(({ reference, sources }) => ({ reference, sources }))).toEqual(planSharedTags(graph));
});

test("github --format matrix: the matrices hold no shared tag, and a warning says so", () => {
  const warnings: string[] = [];
  emit("github", ["format=matrix"], (message) => warnings.push(message));
  expect(warnings).toEqual([expect.stringContaining("docker buildx imagetools create --tag r.io/stacks:base r.io/stacks:base-x86_64 r.io/stacks:base-aarch64")]);
});

test("cloudbuild split: each config keeps room for the shared-tags step, which comes in the config of its last image and waits for the steps there that push its images", () => {
  for (const contentTags of [true, false]) {
    const configs = emit("cloudbuild", [`max-steps=${contentTags ? 4 : 5}`, `content-tags=${contentTags}`]).filter((file) => /^cloudbuild-\d+\.json$/.test(file.path));
    const steps = configs.map((file) => (JSON.parse(emittedText(file)) as { steps: { id: string; waitFor: string[] }[] }).steps);
    for (const config of steps) expect(config.length).toBeLessThanOrEqual(contentTags ? 4 : 5);
    const shared = steps.flatMap((config, index) => config.filter((step) => step.id === "shared-tags").map((step) => ({ index, waitFor: step.waitFor })));
    // Four images, one a config: base's shared tag comes with base-aarch64, tool's with tool-aarch64.
    expect(shared).toEqual([
      { index: 1, waitFor: [image("base-aarch64").reference] },
      { index: 3, waitFor: [image("tool-aarch64").reference] },
    ]);
  }
  // The plain form's image takes build, test and push steps: beside buildx's and the shared tags' setup, max-steps 4 leaves too little.
  expect(() => emit("cloudbuild", ["max-steps=4", "content-tags=false"])).toThrow("max-steps 4 leaves no room for an image's 3 steps beside the 2 setup steps of each config");
});
