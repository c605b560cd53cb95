// A GitLab pipeline past `max-jobs` is split into child pipelines (gitlab-parts.ts), read
// by gitlab-ci-local as GitLab would read each file: the parent runs the children one
// after another; each child holds at most max-jobs jobs, the images in level order, each
// once, needing its base's job where the base is in the same child (an earlier child has
// built the others). scripts/e2e/gitlab.e2e.ts runs a split pipeline for real.

import { describe, expect, test } from "bun:test";
import { parse as parseYaml } from "yaml";
import { fixtureCases, loadFixture } from "../fixtures/golden.ts";
import { builtin } from "../fixtures/test-helpers.ts";
import { emitLoaded } from "../cli/emit.ts";
import { emittedText } from "./contract.ts";
import { imagesById, sharedTags } from "../core/graph.ts";
import { gitlabCheckout, gitlabJobs, gitlabPreview, gitlabPushVariable } from "../scripts/validators/readback-gitlab.ts";
import { GITLAB_LOCK_JOB } from "./gitlab-lock-job.ts";
import { RESOLVE_JOB, SHARED_TAGS_JOB } from "./gitlab.ts";

describe("a pipeline past max-jobs: child pipelines, as gitlab-ci-local reads them", async () => {
  const fixture = fixtureCases().find((f) => f.name === "github-job-cap")!;
  const { loaded, graph } = await loadFixture(fixture);
  const files = emitLoaded(builtin("gitlab"), loaded, graph, ["max-jobs=100"]);
  const text = new Map(files.map((file) => [file.path, emittedText(file)]));
  const children = files.slice(1).map((file) => file.path);

  test("the parent triggers each child in turn, in its own stage, waiting for it and passing on whether it publishes", () => {
    expect(files[0]!.path).toBe(".gitlab-ci.yml");
    expect(children).toEqual([".gitlab-ci/images-01.yml", ".gitlab-ci/images-02.yml", ".gitlab-ci/images-03.yml"]);
    const jobs = gitlabJobs(gitlabCheckout(text.get(".gitlab-ci.yml")!));
    expect(jobs.map((job) => [job.name, job.stage])).toEqual([
      ["images-01", "images-01"],
      ["images-02", "images-02"],
      ["images-03", "images-03"],
    ]);
    const parent = parseYaml(text.get(".gitlab-ci.yml")!) as Record<string, unknown>;
    for (const [index, path] of children.entries()) {
      expect(parent[`images-0${index + 1}`]).toEqual({ stage: `images-0${index + 1}`, variables: { CALIBAN_PUBLISH: "$CALIBAN_PUSH" }, trigger: { include: [{ local: path }], strategy: "depend" } });
    }
    // From the repository's root, where -o wrote them (the CLI's default, from the -o folder).
    const inCi = emitLoaded(builtin("gitlab"), loaded, graph, ["max-jobs=100", "directory=ci"]);
    expect(emittedText(inCi[0]!)).toContain("      - local: ci/.gitlab-ci/images-01.yml\n");
  });

  test("each child: at most max-jobs jobs, its own resolve first; every image once, in level order, needing its base where the base is in it", () => {
    const byId = imagesById(graph);
    const childOf = new Map<string, number>();
    const counts: number[] = [];
    for (const [index, path] of children.entries()) {
      const jobs = gitlabJobs(gitlabCheckout(text.get(path)!), ["CI_PIPELINE_SOURCE=parent_pipeline"]);
      counts.push(jobs.length);
      expect(jobs[0]).toEqual({ name: RESOLVE_JOB, stage: RESOLVE_JOB, needs: [] });
      const names = new Set(jobs.map((job) => job.name));
      for (const job of jobs.slice(1)) {
        if (job.name === SHARED_TAGS_JOB) continue;
        expect(childOf.has(job.name)).toBe(false);
        childOf.set(job.name, index);
        const image = byId.get(job.name)!;
        const base = image.from === null ? undefined : image.from;
        const expectedNeeds = [RESOLVE_JOB, ...(base !== undefined && names.has(base) ? [base] : [])];
        expect({ job: job.name, needs: job.needs }).toEqual({ job: job.name, needs: expectedNeeds });
      }
    }
    expect(counts.every((count) => count <= 100)).toBe(true);
    expect([...childOf.keys()].sort()).toEqual(graph.images.map((image) => image.id).sort());
    // A base is built by the same child or an earlier one.
    for (const image of graph.images) if (image.from !== null) expect(childOf.get(image.from)!).toBeLessThanOrEqual(childOf.get(image.id)!);
  });

  test("the shared tags are pushed once, by the last child, after its images", async () => {
    const shared = await loadFixture(fixtureCases().find((f) => f.name === "shared-tags")!);
    expect(sharedTags(shared.graph).length).toBeGreaterThan(0);
    const parts = emitLoaded(builtin("gitlab"), shared.loaded, shared.graph, ["max-jobs=4"]).slice(1);
    expect(parts.map((part) => emittedText(part).includes(`\n${SHARED_TAGS_JOB}:\n`))).toEqual([false, true]);
    const last = gitlabJobs(gitlabCheckout(emittedText(parts.at(-1)!)), ["CI_PIPELINE_SOURCE=parent_pipeline"]);
    expect(last.map((job) => job.name)).toEqual([RESOLVE_JOB, ...shared.graph.images.toSorted((a, b) => a.level - b.level).slice(2).map((image) => image.id), SHARED_TAGS_JOB]);
  });

  test("a child publishes when its parent does: its workflow:rules read CALIBAN_PUBLISH, which only a trigger job sets", () => {
    const child = text.get(children[0]!)!;
    expect(gitlabPushVariable(child, ["CI_PIPELINE_SOURCE=parent_pipeline", "CALIBAN_PUBLISH=true"])).toBe("true");
    expect(gitlabPushVariable(child, ["CI_PIPELINE_SOURCE=parent_pipeline", "CALIBAN_PUBLISH=false"])).toBe("false");
  });

  test("one pipeline while it fits (the default 500); more children than the parent can hold is refused with a hint", () => {
    expect(emitLoaded(builtin("gitlab"), loaded, graph).map((file) => file.path)).toEqual([".gitlab-ci.yml"]);
    expect(() => emitLoaded(builtin("gitlab"), loaded, graph, ["max-jobs=3"])).toThrow(/273 images would need 137 child pipelines, more than the parent's 3 jobs \(max-jobs\)/);
    expect(() => emitLoaded(builtin("gitlab"), loaded, graph, ["max-jobs=2"])).toThrow(/max-jobs.*at least 3/);
  });

  test("the scheduled lock job stays in the parent, with the functions its script calls (registry_login), as gitlab-ci-local merges default: into it", async () => {
    const publish = await loadFixture(fixtureCases().find((f) => f.name === "publish-example")!);
    const files = emitLoaded(builtin("gitlab"), publish.loaded, publish.graph, ["max-jobs=4"]);
    expect(files.length).toBeGreaterThan(2);
    const preview = gitlabPreview(gitlabCheckout(emittedText(files[0]!)));
    const lock = preview[GITLAB_LOCK_JOB] as { before_script?: string[]; script?: string[] };
    expect(lock.script!.some((line) => line === "registry_login")).toBe(true);
    expect((lock.before_script ?? []).join("\n")).toContain("registry_login() {");
    for (const child of files.slice(1)) expect(emittedText(child)).not.toContain(GITLAB_LOCK_JOB);
  });
});
