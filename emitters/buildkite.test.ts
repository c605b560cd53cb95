// Buildkite read back as the agent reads it (scripts/validators/readback-buildkite.ts), for
// every fixture, with content tags (and without, for gitlab.test.ts's PLAIN_READBACK few):
// Buildkite's published schema accepts every golden pipeline (when a copy of it is here),
// the steps and their depends_on are the plan's (resolve, then one step per image depending
// on its base's, the shared tags last), and the commands, run by bash in that order, each
// in its own checkout with the artifact passed on, build the plan's images and push its
// shared tags. Then what a build does by its kind: a pull request's builds and pushes
// nothing; an image the registry has is not rebuilt, its tags are moved; another branch's
// build runs no step.

import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv from "ajv";
import { parse as parseYaml } from "yaml";
import { fixtureCases, loadFixture, REPO_ROOT } from "../fixtures/golden.ts";
import { builtin, planText } from "../fixtures/test-helpers.ts";
import { emitLoaded } from "../cli/emit.ts";
import { emittedText } from "./contract.ts";
import { sharedTags } from "../core/graph.ts";
import { planView } from "../scripts/validators/readback.ts";
import { allBuilds, publishingBuilds } from "../scripts/validators/readback-gitlab.ts";
import { buildkiteSteps, buildkiteView, evaluateCondition, publishingBuild, stepRuns } from "../scripts/validators/readback-buildkite.ts";
import { createdSharedTags, planSharedTags, type SharedTagView } from "../scripts/validators/readback-shared-tags.ts";
import { RESOLVE_STEP, SHARED_TAGS_STEP, UPLOAD_STEP } from "./buildkite.ts";
import { BUILDKITE_LOCK_STEP } from "./buildkite-lock-step.ts";
import { hasLockJob } from "./options.ts";

const byReference = (tags: readonly SharedTagView[]) => tags.map(({ reference, sources }) => ({ reference, sources })).sort((a, b) => (a.reference < b.reference ? -1 : 1));

/** As gitlab.test.ts: without content tags, read back where that differs most; every plain file is still a golden, schema-checked and shellchecked. */
const PLAIN_READBACK = new Set(["chain-build", "hostile", "shared-tags", "build-settings"]);

/**
 * github-job-cap (273 images of one shape, GitHub's job cap) is read for its steps and
 * their dependencies, not run: running its 273 steps took 10 s of npm test's five
 * minutes, and every step's shape runs in the other fixtures.
 */
const STEPS_ONLY = new Set(["github-job-cap"]);

/** The resolve step runs too: caliban-images is "installed" by `true`, the fake resolve on PATH answers. */
const RUNNABLE = ["install-command=true"];

describe("buildkite reads back, as the agent runs it, to the plan", () => {
  for (const fixture of fixtureCases()) {
    for (const contentTags of PLAIN_READBACK.has(fixture.name) ? [true, false] : [true]) {
      test(`${fixture.name}${contentTags ? "" : " (content-tags=false)"}`, async () => {
        const { loaded, graph } = await loadFixture(fixture);
        const files = emitLoaded(builtin("buildkite"), loaded, graph, [...RUNNABLE, ...(contentTags ? [] : ["content-tags=false"])]);
        expect(files.map((file) => file.path)).toEqual([".buildkite/pipeline.yml"]);
        const steps = buildkiteSteps(emittedText(files[0]!));
        const resolve = contentTags ? [RESOLVE_STEP] : [];
        const shared = sharedTags(graph).length > 0;
        // The lock step first, with a schedule and a lock: a schedule's build runs it (buildkite-lock.test.ts), a push's does not.
        const lock = hasLockJob(graph) ? [BUILDKITE_LOCK_STEP] : [];
        expect(steps.map((step) => step.key)).toEqual([...lock, ...resolve, ...graph.images.map((image) => image.id), ...(shared ? [SHARED_TAGS_STEP] : [])]);
        for (const image of graph.images) expect(steps.find((step) => step.key === image.id)!.depends_on).toEqual([...resolve, ...(image.from === null ? [] : [image.from])]);
        if (STEPS_ONLY.has(fixture.name)) return;

        const view = buildkiteView(steps, graph, publishingBuild(graph));
        expect(view.ran).toEqual(steps.map((step) => step.key).filter((key) => key !== BUILDKITE_LOCK_STEP));
        const plan = planView(graph, contentTags);
        expect(view.images).toEqual(plan.images);
        expect(view.bases).toEqual(plan.bases);
        const expected = planSharedTags(graph, contentTags);
        expect(byReference(createdSharedTags(view.calls, expected.map((tag) => tag.reference)))).toEqual(byReference(expected));
      });
    }
  }
});

/** Buildkite's schema (github.com/buildkite/pipeline-schema, schema.json), which is not committed here: $BUILDKITE_PIPELINE_SCHEMA, else .cache/buildkite/schema.json. */
const SCHEMA_PATH = process.env.BUILDKITE_PIPELINE_SCHEMA ?? join(REPO_ROOT, ".cache", "buildkite", "schema.json");

const schemaValidator = () => new Ajv({ strict: false, allErrors: true, formats: { regex: true } }).compile(JSON.parse(readFileSync(SCHEMA_PATH, "utf8")));

test.skipIf(!existsSync(SCHEMA_PATH))("Buildkite's pipeline schema accepts every golden pipeline (content tags and plain) (needs buildkite/pipeline-schema's schema.json in .cache/buildkite/ or $BUILDKITE_PIPELINE_SCHEMA)", () => {
  const validate = schemaValidator();
  let checked = 0;
  for (const fixture of fixtureCases()) {
    for (const name of readdirSync(fixture.expected).filter((file) => /^(plain__)?buildkite__/.test(file))) {
      const valid = validate(parseYaml(readFileSync(join(fixture.expected, name), "utf8")));
      expect([fixture.name, name, valid ? [] : validate.errors]).toEqual([fixture.name, name, []]);
      checked++;
    }
  }
  expect(checked).toBe(2 * fixtureCases().length);
});

test("a family's timeout is its steps' timeout_in_minutes; queue= puts every step on one agent queue; runner labels are not read", async () => {
  const { loaded, graph } = await planText('repository = "ghcr.io/o/i"\n[images.cuda]\ntag = "cuda"\ntimeout = 600\nrunner = ["self-hosted", "gpu"]\n[images.app]\ntag = "app"\nfrom = "cuda"\n');
  const text = emittedText(emitLoaded(builtin("buildkite"), loaded, graph, ["queue=builders"])[0]!);
  const parsed = parseYaml(text) as { agents?: Record<string, string>; steps: { key: string; timeout_in_minutes?: number; agents?: unknown }[] };
  expect(parsed.agents).toEqual({ queue: "builders" });
  const [cuda, app] = graph.images.map((image) => image.id);
  expect(parsed.steps.map((step) => [step.key, step.timeout_in_minutes, step.agents])).toEqual([["resolve", undefined, undefined], [cuda, 600, undefined], [app, undefined, undefined]]);
  if (existsSync(SCHEMA_PATH)) {
    const validate = schemaValidator();
    expect([validate(parsed), validate.errors ?? []]).toEqual([true, []]);
  }
  expect(() => emitLoaded(builtin("buildkite"), loaded, graph, ["queue=a b"])).toThrow(/not a queue name/);
});

describe("what a build does by its kind", async () => {
  const fixture = fixtureCases().find((f) => f.name === "shared-tags")!;
  const { loaded, graph } = await loadFixture(fixture);
  const text = emittedText(emitLoaded(builtin("buildkite"), loaded, graph, RUNNABLE)[0]!);
  const steps = buildkiteSteps(text);
  const main = publishingBuild(graph);

  test("a pull request's build builds every image (tagged with its content reference) and pushes nothing, logs in nowhere, moves no tag", () => {
    // Its branch is a publishing one: a pull request from main of a fork does not publish either.
    const { calls, ran } = buildkiteView(steps, graph, { branch: main.branch, pullRequest: "7" });
    expect(ran).toEqual(steps.map((step) => step.key));
    expect(calls.filter((call) => call[0] === "push" || call.includes("--push") || call.includes("imagetools") || call[0] === "login")).toEqual([]);
    expect(allBuilds(calls).length).toBe(graph.images.length);
  });

  test("a publishing build logs in with the variables the options name, once per step that talks to the registry", () => {
    const { calls } = buildkiteView(steps, graph, main, [], { REGISTRY_USER: "bot", REGISTRY_PASSWORD: "secret" });
    expect(calls.filter((call) => call[0] === "login").length).toBe(steps.length);
    expect(calls.find((call) => call[0] === "login")).toEqual(["login", "-u", "bot", "--password-stdin", "registry.example.com"]);
  });

  test("an image whose content reference the registry has is not rebuilt: its tags are pointed at it", () => {
    const first = graph.images[0]!;
    const { calls } = buildkiteView(steps, graph, main, [first.contentReference]);
    const built = publishingBuilds(calls).map((args) => args[args.indexOf("-t") + 1]);
    expect(built).not.toContain(first.reference);
    expect(built.length).toBe(graph.images.length - 1);
    expect(calls).toContainEqual(["buildx", "imagetools", "create", "--tag", first.reference, first.contentReference]);
  });

  test("each step's if, as Buildkite evaluates it at upload: main (a push or a schedule) and a pull request run every step, another branch none", () => {
    expect(steps.every((step) => stepRuns(step, main))).toBe(true);
    expect(steps.every((step) => stepRuns(step, { ...main, source: "schedule" }))).toBe(true);
    expect(steps.every((step) => stepRuns(step, { branch: "feature", pullRequest: "7" }))).toBe(true);
    expect(steps.some((step) => stepRuns(step, { branch: "feature", pullRequest: null }))).toBe(false);
    expect(buildkiteView(steps, graph, { branch: "feature", pullRequest: null }).ran).toEqual([]);
  });

  test("the script decides as the if does: another branch's build, were its steps run, pushes nothing; a schedule on main publishes", () => {
    const feature = buildkiteView(steps, graph, { branch: "feature", pullRequest: null }, [], {});
    expect(feature.ran).toEqual([]);
    const forced = buildkiteView(steps.map(({ if: _, ...step }) => step), graph, { branch: "feature", pullRequest: null });
    expect(forced.calls.filter((call) => call.includes("--push") || call[0] === "push" || call.includes("imagetools"))).toEqual([]);
    const scheduled = buildkiteView(steps, graph, { ...main, source: "schedule" });
    expect(publishingBuilds(scheduled.calls).length).toBe(graph.images.length);
  });

  test("without pull_requests a pull request's build runs no step; conditions read as Buildkite's language (regex, !~, parentheses)", async () => {
    const publishFixture = fixtureCases().find((f) => f.name === "publish")!;
    const other = await loadFixture(publishFixture);
    const otherSteps = buildkiteSteps(emittedText(emitLoaded(builtin("buildkite"), other.loaded, other.graph)[0]!));
    const when = otherSteps[0]!.if!;
    const expected = other.graph.publish.pullRequests;
    expect(evaluateCondition(when, { branch: "feature", pullRequest: "7" })).toBe(expected);
    expect(evaluateCondition(when, { branch: "release/1.0", pullRequest: null })).toBe(true);
    expect(evaluateCondition(when, { branch: "releases/1.0", pullRequest: null })).toBe(false);
    expect(evaluateCondition("(build.branch !~ /^a\\/b$/) && build.pull_request.id == null", { branch: "a/b", pullRequest: null })).toBe(false);
  });

  test("a pipeline the agent interpolated (uploaded without --no-interpolation) stops in its first step with the fix", () => {
    const interpolated = steps[0]!.command.replaceAll("$$", "$");
    const run = Bun.spawnSync(["bash", "-e", "-c", interpolated], { env: { PATH: process.env.PATH } });
    expect(run.exitCode).toBe(2);
    expect(run.stderr.toString()).toContain("upload it with buildkite-agent pipeline upload --no-interpolation");
  });
});

describe("past max-steps: the first file uploads the others, each at most max-steps steps", async () => {
  const { loaded, graph } = await loadFixture(fixtureCases().find((f) => f.name === "github-job-cap")!);
  const files = emitLoaded(builtin("buildkite"), loaded, graph, ["max-steps=100"]);
  const texts = files.map((file) => emittedText(file));

  test("files in upload order; every depends_on names a step of the same file or an earlier upload; every image once", () => {
    expect(files.map((file) => file.path)).toEqual([".buildkite/pipeline.yml", ".buildkite/pipeline-02.yml", ".buildkite/pipeline-03.yml"]);
    const inBuild: string[] = [];
    for (const text of texts) {
      // buildkiteSteps refuses a dependency on a step not yet in the build.
      const steps = buildkiteSteps(text, inBuild);
      expect(steps.length).toBeLessThanOrEqual(100);
      inBuild.push(...steps.map((step) => step.key));
    }
    expect(inBuild.slice(0, 2)).toEqual([RESOLVE_STEP, UPLOAD_STEP]);
    expect(inBuild.slice(2).sort()).toEqual(graph.images.map((image) => image.id).sort());
    const upload = buildkiteSteps(texts[0]!)[1]!.command;
    expect(upload.split("\n").filter((line) => line.startsWith("buildkite-agent"))).toEqual(["buildkite-agent pipeline upload --no-interpolation '.buildkite/pipeline-02.yml'", "buildkite-agent pipeline upload --no-interpolation '.buildkite/pipeline-03.yml'"]);
    // From the repository's root, where -o wrote them (emit's default, from the -o folder).
    expect(emittedText(emitLoaded(builtin("buildkite"), loaded, graph, ["max-steps=100", "directory=ci"])[0]!)).toContain("buildkite-agent pipeline upload --no-interpolation 'ci/.buildkite/pipeline-02.yml'");
    if (existsSync(SCHEMA_PATH)) {
      const validate = schemaValidator();
      for (const text of texts) expect([validate(parseYaml(text)), validate.errors ?? []]).toEqual([true, []]);
    }
  });

  test("the shared tags' step is in the last file; max-steps is at least 4 and at most 500", async () => {
    const shared = await loadFixture(fixtureCases().find((f) => f.name === "shared-tags")!);
    const parts = emitLoaded(builtin("buildkite"), shared.loaded, shared.graph, ["max-steps=4"]).map((file) => emittedText(file));
    expect(parts.length).toBe(shared.graph.images.length);
    expect(parts.map((text) => buildkiteSteps(text, [RESOLVE_STEP, UPLOAD_STEP, ...shared.graph.images.map((image) => image.id)]).some((step) => step.key === SHARED_TAGS_STEP))).toEqual(parts.map((_, index) => index === parts.length - 1));
    expect(() => emitLoaded(builtin("buildkite"), loaded, graph, ["max-steps=3"])).toThrow(/max-steps.*from 4 to 500/);
    expect(() => emitLoaded(builtin("buildkite"), loaded, graph, ["max-steps=501"])).toThrow(/max-steps.*from 4 to 500/);
  });
});
