// GitLab CI read back through gitlab-ci-local (scripts/validators/readback-gitlab.ts), for
// every fixture, with content tags (and without, for a few: PLAIN_READBACK): GitLab's schema accepts the file, the jobs
// and their needs are the plan's (resolve, then one job per image needing its base's, the
// shared tags last), and the scripts, run by bash in that order, build the plan's images
// and push its shared tags. Then what a pipeline does by its kind: a merge request's builds
// and pushes nothing; an image the registry has is not rebuilt, its tags are moved.

import { describe, expect, test } from "bun:test";
import { fixtureCases, loadFixture } from "../fixtures/golden.ts";
import { builtin } from "../fixtures/test-helpers.ts";
import { emitLoaded } from "../cli/emit.ts";
import { emittedText } from "./contract.ts";
import { imageRunner, sharedTags } from "../core/graph.ts";
import { planView } from "../scripts/validators/readback.ts";
import { allBuilds, gitlabCheckout, gitlabJobs, gitlabPreview, gitlabPushVariable, gitlabView, jobScript, previewJobs, publishingBuilds } from "../scripts/validators/readback-gitlab.ts";
import { createdSharedTags, planSharedTags, type SharedTagView } from "../scripts/validators/readback-shared-tags.ts";
import { RESOLVE_JOB, SHARED_TAGS_JOB } from "./gitlab.ts";
import { GITLAB_LOCK_JOB } from "./gitlab-lock-job.ts";
import { hasLockJob } from "./options.ts";

const byReference = (tags: readonly SharedTagView[]) => tags.map(({ reference, sources }) => ({ reference, sources })).sort((a, b) => (a.reference < b.reference ? -1 : 1));

/**
 * Without content tags the pipeline has no resolve job and builds each image FROM its
 * base's tag: read back for the fixtures where that differs most (a chain, hostile
 * values, shared tags, every build setting). Every fixture's plain file is still a
 * golden, and shellcheck reads each (emitters/shellcheck.test.ts); gitlab-ci-local's
 * run a fixture costs about 1.5 s, which npm test's five minutes cannot give all 42.
 */
const PLAIN_READBACK = new Set(["chain-build", "hostile", "shared-tags", "build-settings"]);

/**
 * github-job-cap (273 images of one shape, GitHub's job cap) is read by gitlab-ci-local for
 * its jobs and needs, not run: running its 273 jobs took 9 s of npm test's five minutes,
 * and every job's shape runs in the other fixtures.
 */
const JOBS_ONLY = new Set(["github-job-cap"]);

describe("gitlab reads back through gitlab-ci-local to the plan", () => {
  for (const fixture of fixtureCases()) {
    for (const contentTags of PLAIN_READBACK.has(fixture.name) ? [true, false] : [true]) {
      test(`${fixture.name}${contentTags ? "" : " (content-tags=false)"}`, async () => {
        const { loaded, graph } = await loadFixture(fixture);
        const files = emitLoaded(builtin("gitlab"), loaded, graph, contentTags ? [] : ["content-tags=false"]);
        expect(files.map((file) => file.path)).toEqual([".gitlab-ci.yml"]);
        const checkout = gitlabCheckout(emittedText(files[0]!));
        const preview = gitlabPreview(checkout);
        const jobs = previewJobs(preview);
        const shared = sharedTags(graph).length > 0;
        const resolve = contentTags ? [RESOLVE_JOB] : [];
        const lock = hasLockJob(graph) ? [GITLAB_LOCK_JOB] : [];
        expect(jobs.map((job) => job.name)).toEqual([...lock, ...resolve, ...graph.images.map((image) => image.id), ...(shared ? [SHARED_TAGS_JOB] : [])].sort(byStage(jobs)));
        for (const image of graph.images) expect(jobs.find((job) => job.name === image.id)!.needs).toEqual([...resolve, ...(image.from === null ? [] : [image.from])]);
        if (JOBS_ONLY.has(fixture.name)) return;

        const view = gitlabView(preview, jobs, graph);
        const plan = planView(graph, contentTags);
        expect(view.images).toEqual(plan.images);
        expect(view.bases).toEqual(plan.bases);
        const expected = planSharedTags(graph, contentTags);
        expect(byReference(createdSharedTags(view.calls, expected.map((tag) => tag.reference)))).toEqual(byReference(expected));
      });
    }
  }
});

/** gitlab-ci-local lists jobs by stage, then in file order. */
function byStage(jobs: readonly { name: string }[]): (a: string, b: string) => number {
  const order = new Map(jobs.map((job, index) => [job.name, index]));
  return (a, b) => (order.get(a) ?? -1) - (order.get(b) ?? -1);
}

describe("what a pipeline does by its kind", async () => {
  const fixture = fixtureCases().find((f) => f.name === "shared-tags")!;
  const { loaded, graph } = await loadFixture(fixture);
  const text = emittedText(emitLoaded(builtin("gitlab"), loaded, graph)[0]!);
  const checkout = gitlabCheckout(text);
  const jobs = gitlabJobs(checkout);
  const preview = gitlabPreview(checkout);

  test("the jobs as --preview prints them (how each fixture's test reads them) are the jobs --list-json lists, with their needs", () => {
    expect(previewJobs(preview)).toEqual(jobs);
  });

  test("a merge request's pipeline builds every image (tagged with its content reference) and pushes nothing, logs in nowhere, moves no tag", () => {
    const { calls } = gitlabView(preview, jobs, graph, [], { CALIBAN_PUSH: "false" });
    expect(calls.filter((call) => call[0] === "push" || call.includes("--push") || call.includes("imagetools") || call[0] === "login")).toEqual([]);
    expect(allBuilds(calls).length).toBe(graph.images.length);
  });

  test("an image whose content reference the registry has is not rebuilt: its tags are pointed at it", () => {
    const first = graph.images[0]!;
    const { calls } = gitlabView(preview, jobs, graph, [first.contentReference]);
    const built = publishingBuilds(calls).map((args) => args[args.indexOf("-t") + 1]);
    expect(built).not.toContain(first.reference);
    expect(built.length).toBe(graph.images.length - 1);
    expect(calls).toContainEqual(["buildx", "imagetools", "create", "--tag", first.reference, first.contentReference]);
  });

  test("workflow:rules, as gitlab-ci-local evaluates them: a push or a schedule on main publishes, a merge request's pipeline and another branch's do not", () => {
    expect(gitlabPushVariable(text)).toBe("true");
    expect(gitlabPushVariable(text, ["CI_PIPELINE_SOURCE=merge_request_event"])).toBe("false");
    expect(gitlabPushVariable(text, ["CI_PIPELINE_SOURCE=schedule"])).toBe("true");
    // Another branch: GitLab creates no pipeline (no rule matches); gitlab-ci-local runs it anyway, and it publishes nothing.
    expect(gitlabPushVariable(text, [], "feature")).toBe("false");
    expect(jobScript(preview[SHARED_TAGS_JOB]!)).toContain('if ! [ "$CALIBAN_PUSH" = true ]; then');
  });

  test("a family's runner labels are its jobs' tags (gitlab-ci-local's reading); runner-tags=false leaves them out; GitHub's hosted labels are warned of", () => {
    const families = new Map(graph.families.map((family) => [family.name, family]));
    const tagsOf = (job: string) => (preview[job] as { tags?: string[] } | undefined)?.tags;
    for (const image of graph.images) expect([image.id, tagsOf(image.id)]).toEqual([image.id, [...imageRunner(families.get(image.family)!, image)!]]);
    expect(tagsOf(RESOLVE_JOB)).toBeUndefined();
    const warnings: string[] = [];
    const untagged = emittedText(emitLoaded(builtin("gitlab"), loaded, graph, ["runner-tags=false"], undefined, undefined, (warning) => warnings.push(warning))[0]!);
    expect(untagged).not.toMatch(/^ {2}tags:/m);
    expect(warnings).toEqual([]);
    emitLoaded(builtin("gitlab"), loaded, graph, [], undefined, undefined, (warning) => warnings.push(warning));
    expect(warnings).toEqual(['family "base": runner ubuntu-latest names GitHub\'s hosted runners; its GitLab jobs get that tag and wait for a runner that has it (give your runners these tags, or set [emit.gitlab] runner-tags = false)', 'family "notebook": runner ubuntu-latest names GitHub\'s hosted runners; its GitLab jobs get that tag and wait for a runner that has it (give your runners these tags, or set [emit.gitlab] runner-tags = false)']);
  });
});
