// Every fixture, every emitter, read back through the tool that consumes it, must
// equal the plan: the same images, args, dockerfiles and contexts, and every image
// built after its base. (bake is read back by real buildx in the e2e suite; here
// HashiCorp's own HCL parser checks its syntax.)

import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateWorkflow } from "../scripts/validators/action-validator.ts";
import { parse as parseHcl } from "@cdktf/hcl2json";
import { parse as parseYaml } from "yaml";
import { fixtureCases, loadFixture } from "../fixtures/golden.ts";
import { builtin } from "../fixtures/test-helpers.ts";
import { actionlint } from "../scripts/validators/actionlint.ts";
import { hasMake } from "../scripts/validators/tools.ts";
import { cloudbuildView, fakeResolve, githubView, readGithubWorkflow, makeView, planView, resolveOutputs, REVISION, runnerOutputs } from "../scripts/validators/readback.ts";
import { emitLoaded } from "../cli/emit.ts";
import { MAX_MATRIX_JOBS } from "./github.ts";
import { emittedText } from "./contract.ts";
import { movedRepository, sharedTags } from "../core/graph.ts";
import { createdSharedTags, githubPushingJobs, githubSharedTags, lastPush, planSharedTags, type SharedTagView } from "../scripts/validators/readback-shared-tags.ts";
import { runScripts } from "../scripts/validators/readback-cloudbuild.ts";
import { SHARED_TAGS_JOB } from "./github-shared-tags.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

/** Shared tags in an order that compares with toEqual (outputs push them in an order of their own). */
const byReference = (tags: readonly SharedTagView[]) => tags.map(({ reference, sources }) => ({ reference, sources })).sort((a, b) => (a.reference < b.reference ? -1 : 1));

const emitter = builtin;

for (const fixture of fixtureCases()) {
  describe(fixture.name, async () => {
    const { loaded, graph } = await loadFixture(fixture);
    const only = (name: string, options: string[] = []) => emittedText(emitLoaded(emitter(name), loaded, graph, options)[0]!);

    // Every emitter's default writes content tags (build only what the registry lacks); content-tags=false, the plain form.
    for (const contentTags of [true, false]) {
      const mode = contentTags ? "" : " (content-tags=false)";
      const options = contentTags ? [] : ["content-tags=false"];
      const plan = planView(graph, contentTags);
      const only = (name: string, more: string[] = []) => emittedText(emitLoaded(emitter(name), loaded, graph, [...options, ...more])[0]!);

      test(`cloudbuild reads back to the plan (split configs in their submission order)${mode}`, () => {
        const files = emitLoaded(emitter("cloudbuild"), loaded, graph, options);
        const configs = files.filter((f) => f.path.endsWith(".json") && !f.path.startsWith("trigger-"));
        // submit.sh, run by bash from elsewhere with gcloud as a shim, submits every config in order, passing flags on.
        const directory = scratchFolder("submit-");
        for (const file of files) writeFileSync(join(directory, file.path), emittedText(file));
        const shims = scratchFolder("shims-");
        writeFileSync(join(shims, "gcloud"), '#!/bin/sh\necho "$@" >> "$GCLOUD_LOG"\n', { mode: 0o755 });
        const log = join(shims, "log");
        const submitted = Bun.spawnSync(["bash", join(directory, "submit.sh"), "--project", "p"], { cwd: tmpdir(), env: { ...process.env, PATH: `${shims}:${process.env.PATH}`, GCLOUD_LOG: log } });
        expect(submitted.exitCode).toBe(0);
        expect(readFileSync(log, "utf8")).toBe(configs.map((f) => `builds submit --config ${join(directory, f.path)} --project p .\n`).join(""));
        for (const folder of [directory, shims]) rmSync(folder, { recursive: true, force: true });
        const view = cloudbuildView(configs.map(emittedText), [], {}, graph);
        expect(view.images).toEqual(plan.images);
        expect(view.bases).toEqual(plan.bases);
        // Each shared tag: one manifest list over its images as they were pushed, by a step after their pushes (a step it waits for, or an earlier config).
        const shared = planSharedTags(graph, contentTags);
        const references = shared.map((tag) => tag.reference);
        expect(byReference(createdSharedTags(view.calls, references))).toEqual(byReference(shared));
        for (const tag of shared) {
          const step = view.steps.find((s) => createdSharedTags(s.calls, [tag.reference]).length > 0)!;
          const waited = new Set<string>();
          const visit = (ids: readonly string[]) => {
            for (const id of ids.filter((w) => !waited.has(w))) {
              waited.add(id);
              visit(view.steps.find((s) => s.config === step.config && s.id === id)?.waitFor ?? []);
            }
          };
          visit(step.waitFor);
          for (const source of tag.sources) {
            const pusher = view.steps.find((s) => s !== step && lastPush(s.calls, source) >= 0)!;
            expect(pusher.config < step.config || (pusher.config === step.config && waited.has(pusher.id))).toBe(true);
          }
        }
        // A build that pushes nothing (a pull request's: _PUSH=false) pushes no shared tag either.
        if (shared.length > 0 && graph.publish.declared) expect(createdSharedTags(cloudbuildView(configs.map(emittedText), [], { _PUSH: "false" }, graph).calls, references)).toEqual([]);
      });

      test(`github: actionlint and action-validator find nothing; the matrices read back to the plan${mode}`, async () => {
        const text = only("github");
        expect(await actionlint(text, "build-images.yml")).toEqual([]);
        // Every action pinned by a release's full commit SHA, the release named beside it.
        const uses = text.split("\n").filter((line) => /^\s*(- )?uses: /.test(line));
        expect(uses.length).toBeGreaterThan(0);
        for (const line of uses) expect(line).toMatch(/uses: [a-z0-9-]+\/[a-z0-9-]+@[0-9a-f]{40} # v[0-9]+\.[0-9]+\.[0-9]+$/);
        expect(validateWorkflow(text).errors).toEqual([]);
        const workflow = readGithubWorkflow(text);
        // Its digests come from the resolve job, as `caliban-images resolve` prints them for this graph.
        const resolved = resolveOutputs(graph);
        const view = githubView(workflow, "workflow", resolved);
        // GitHub's natural build cache is its own (gha), scoped per image.
        const plan = planView(graph, contentTags, "gha");
        expect(view.images).toEqual(plan.images);
        for (const [reference, bases] of Object.entries(plan.bases)) for (const base of bases) expect(view.after[reference]!.has(base)).toBe(true);
        for (const job of Object.values(workflow.jobs) as { strategy?: { matrix: { include: unknown[] } } }[]) {
          if (job.strategy === undefined) continue; // the schedule's update-lock job
          expect(job.strategy.matrix.include.length).toBeLessThanOrEqual(MAX_MATRIX_JOBS);
        }
        // A pull request runs its own jobs, which build the same images (each for the runner's platform), push none and are handed no build secret.
        if (graph.publish.pullRequests) {
          const pulled = githubView(workflow, "workflow", resolveOutputs(graph, [], false), "pull_request");
          expect(pulled.images.map(({ settings: _, ...image }) => image)).toEqual(plan.images.map(({ settings: _, secrets: __, ...image }) => image));
        }
        // --format matrix: the same matrices, one NAME=JSON line per job, as $GITHUB_OUTPUT takes them.
        const outputs = runnerOutputs(only("github", ["format=matrix"]));
        const twins = Object.keys(workflow.jobs).filter((name) => name.startsWith("pr_") && name !== "pr_resolve");
        for (const twin of twins) expect(workflow.jobs[twin].strategy).toEqual(workflow.jobs[twin.slice(3)].strategy);
        expect(Object.keys(outputs)).toEqual(Object.keys(workflow.jobs).filter((name) => workflow.jobs[name].strategy !== undefined && !twins.includes(name)));
        const fromLines = Object.values(outputs).map((value) => JSON.parse(value).include);
        // The lines are data for a workflow of the user's: each entry names its image, args and content reference itself.
        const jobNames = Object.keys(outputs);
        // The shared tags: one job after every job that pushes one of their images, on publishing runs only; each step creates one over its images as pushed.
        const shared = planSharedTags(graph, contentTags);
        const sharedJob = githubSharedTags(workflow, SHARED_TAGS_JOB, resolved);
        if (shared.length === 0) expect(sharedJob).toBeUndefined();
        else {
          expect(sharedJob!.runs).toBe(true);
          expect(byReference(sharedJob!.created)).toEqual(byReference(shared));
          for (const image of sharedTags(graph).flatMap((tag) => tag.images)) for (const job of githubPushingJobs(workflow, resolved, image.id)) expect([image.id, job, sharedJob!.after.has(job)]).toEqual([image.id, job, true]);
          expect(githubSharedTags(workflow, SHARED_TAGS_JOB, resolveOutputs(graph, [], false))!.runs).toBe(false);
          if (graph.publish.pullRequests) expect(githubSharedTags(workflow, SHARED_TAGS_JOB, resolveOutputs(graph, [], false), "pull_request")!.runs).toBe(false);
        }
        expect(githubView({ jobs: Object.fromEntries(fromLines.map((include, i) => [jobNames[i]!, { needs: workflow.jobs[jobNames[i]!].needs, strategy: { matrix: { include } } }])) }, "data").images).toEqual(planView(graph, contentTags).images.map(({ settings: _, ...image }) => image));
      });

      test.skipIf(!hasMake)(`make: \`make -j2 push\` runs docker with the plan's arguments, each image after its base${mode}`, () => {
        // The hostile fixture tries to create this file through the shell; nothing may run it.
        rmSync("/tmp/caliban-pwned", { force: true });
        const view = makeView(only("make"), graph);
        expect(existsSync("/tmp/caliban-pwned")).toBe(false);
        expect(view.stderr).toBe("");
        expect(view.images).toEqual(plan.images);
        expect(view.bases).toEqual(plan.bases);
        for (const [reference, bases] of Object.entries(plan.bases)) {
          for (const base of bases) expect(view.order.indexOf(base)).toBeLessThan(view.order.indexOf(reference));
        }
        // Every reference is pushed: the tag, the content tag, each alias.
        expect([...view.pushes].sort()).toEqual(plan.images.flatMap((i) => [i.reference, ...(i.content ? [i.content] : []), ...(i.settings?.aliases ?? [])]).sort());
        // Each shared tag: one manifest list over its images as pushed, after their pushes; REPOSITORY=... moves it with them.
        const shared = planSharedTags(graph, contentTags);
        const checkShared = (calls: readonly string[][], planned: readonly SharedTagView[]) => {
          const created = createdSharedTags(calls, planned.map((tag) => tag.reference));
          expect(byReference(created)).toEqual(byReference(planned));
          for (const tag of created) for (const source of tag.sources) expect([source, lastPush(calls, source) >= 0 && lastPush(calls, source) < tag.index]).toEqual([source, true]);
        };
        checkShared(view.calls, shared);
        if (shared.length > 0) checkShared(makeView(only("make"), graph, ["REPOSITORY=localhost:5000/moved"]).calls, planSharedTags(graph, contentTags, "localhost:5000/moved"));
      });
    }

    test.skipIf(!hasMake)("make: `make help` lists every named target and every image with its reference, which follows REPOSITORY", () => {
      const directory = scratchFolder("caliban-make-help-");
      writeFileSync(join(directory, "Makefile"), only("make"));
      const help = (...args: string[]) => {
        const run = Bun.spawnSync(["make", "--no-print-directory", "help", ...args], { cwd: directory });
        expect(run.stderr.toString()).toBe("");
        return run.stdout.toString();
      };
      const named = ["all", "push", ...(graph.images.some((image) => image.test !== null) ? ["test"] : []), ...graph.families.filter((f) => f.images.length > 0).flatMap((f) => [`build/family/${f.name}`, `push/family/${f.name}`])];
      // Each image's reference follows REPOSITORY, unless its family's repository is absolute.
      const check = (lines: string[], repository: string) => {
        expect(lines[0]).toBe("Targets:");
        expect(lines.slice(1, 1 + named.length).map((line) => line.trim().split(/\s+/)[0])).toEqual(named);
        expect(lines[1 + named.length]).toStartWith("Images");
        expect(lines.slice(2 + named.length).map((line) => line.trim().split(/\s+/))).toEqual(graph.images.map((i) => [i.id, `${movedRepository(i, repository)}:${i.tag}`]));
      };
      check(help().trimEnd().split("\n"), graph.repository);
      check(help("REPOSITORY=localhost:5000/moved").trimEnd().split("\n"), "localhost:5000/moved");
      rmSync(directory, { recursive: true });
    });

    test.skipIf(!hasMake)("make: every target is phony, so a file named like one does not stop it", () => {
      const directory = scratchFolder("caliban-make-phony-");
      writeFileSync(join(directory, "Makefile"), only("make"));
      // The first image builds FROM nothing here: only .PHONY makes make run it when the file exists.
      const image = graph.images[0]!;
      const family = graph.families.find((f) => f.images.length > 0)!;
      const targets = [`build/${image.id}`, `push/${image.id}`, `build/family/${family.name}`, `push/family/${family.name}`, "all"];
      mkdirSync(join(directory, "build", "family"), { recursive: true });
      mkdirSync(join(directory, "push", "family"), { recursive: true });
      for (const target of targets) writeFileSync(join(directory, target), "");
      for (const target of targets) {
        // The commit and branch as a CI gives them: aliases that name them need them (this folder is no git repository).
        const run = Bun.spawnSync(["make", "-n", target, "DOCKER=docker", `CALIBAN_IMAGES=${fakeResolve(directory, graph)}`, `REVISION=${REVISION}`, "BRANCH=main"], { cwd: directory });
        expect(run.stderr.toString()).toBe("");
        expect(run.stdout.toString()).toContain("docker ");
      }
      rmSync(directory, { recursive: true });
    });

    test("bake: HashiCorp's HCL parser reads it; a target per image, a group per family", async () => {
      const parsed = (await parseHcl("docker-bake.hcl", only("bake"))) as { target: Record<string, unknown>; group: Record<string, unknown> };
      expect(Object.keys(parsed.target).sort()).toEqual(graph.images.map((i) => i.id).sort());
      expect(Object.keys(parsed.group).sort()).toEqual(["default", ...graph.families.map((f) => f.name)].sort());
      // No target holds a shared tag: each is a warning and a comment, whose command bash runs over the images' tags (bake --push pushed them), moved by the variable as they are.
      const warnings: string[] = [];
      const text = emittedText(emitLoaded(emitter("bake"), loaded, graph, [], undefined, undefined, (message) => warnings.push(message))[0]!);
      const shared = planSharedTags(graph, false);
      for (const tags of (Object.values(parsed.target) as { tags: string[] }[][]).flat()) for (const tag of shared) expect(tags.tags).not.toContain(tag.reference);
      const commands = text.split("\n").filter((line) => line.startsWith("#   docker buildx imagetools create ")).map((line) => line.slice("#   ".length));
      expect(commands).toHaveLength(shared.length);
      expect(warnings.filter((warning) => warning.includes("imagetools create"))).toEqual(commands.map((command) => expect.stringContaining(command)));
      if (shared.length > 0) {
        for (const [repository, env] of [[undefined, {}], ["localhost:5000/moved", { REPOSITORY: "localhost:5000/moved" }]] as const) {
          const calls = runScripts(commands, [], env).flat();
          expect(byReference(createdSharedTags(calls, planSharedTags(graph, false, repository).map((tag) => tag.reference)))).toEqual(byReference(planSharedTags(graph, false, repository)));
        }
      }
    });
  });
}

test("the GitHub job cap fixture does split a stage", async () => {
  const fixture = fixtureCases().find((f) => f.name === "github-job-cap")!;
  const { loaded, graph } = await loadFixture(fixture);
  const workflow = parseYaml(emittedText(emitLoaded(emitter("github"), loaded, graph)[0]!));
  expect(Object.keys(workflow.jobs)).toEqual(["resolve", "stage1", "stage2_part1", "stage2_part2", "pr_resolve", "pr_stage1", "pr_stage2_part1", "pr_stage2_part2"]);
  // Every job needs the resolve job directly: its digests are read from needs.resolve.outputs.
  expect(workflow.jobs.stage2_part2.needs).toEqual(["resolve", "stage1"]);
});

// The npm build of action-validator does not check path globs (it says so); this does:
// every filter is a dockerfile, a context, the matrix or the workflow itself.
test("the workflow's path filters name exactly the build's inputs", async () => {
  const fixture = fixtureCases().find((f) => f.name === "three-level-chain")!;
  const { loaded, graph } = await loadFixture(fixture);
  const [file] = emitLoaded(emitter("github"), loaded, graph);
  const paths = parseYaml(emittedText(file!)).on.push.paths;
  expect(paths).toEqual([
    "docker/cuda.Dockerfile",
    "docker/**",
    "docker/python.Dockerfile",
    "docker/torch.Dockerfile",
    "docker/jax.Dockerfile",
    "fixtures/three-level-chain/matrix.toml",
    ".github/workflows/build-images.yml",
  ]);
});
