// A Buildkite build of the pipeline a checkout holds (.buildkite/pipeline.yml at HEAD), run
// here as the agent runs it: the steps Buildkite would run for the build (each `if`
// evaluated as at upload, scripts/validators/readback-buildkite.ts), in file order, each in
// a fresh clone of the checkout at HEAD with `bash -e -c COMMAND`, Buildkite's variables,
// and a `buildkite-agent` whose artifacts a step uploads and a later step downloads. A step
// whose dependency failed, or did not run, does not run: Buildkite's default. A step that
// uploads a pipeline (`buildkite-agent pipeline upload`) adds its steps after the others.

import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { buildkiteSteps, fakeAgent, stepRuns, uploadedPipelines, type BuildkiteBuild } from "../validators/readback-buildkite.ts";

export interface BuildkiteRun {
  readonly exit: number;
  /** Each step's output, for a failure's message. */
  readonly log: string;
  readonly passed: readonly string[];
}

export function runBuildkite(work: string, build: BuildkiteBuild, env: Record<string, string>, scratch: string): BuildkiteRun {
  const head = Bun.spawnSync(["git", "rev-parse", "HEAD"], { cwd: work }).stdout.toString().trim();
  const steps = buildkiteSteps(readFileSync(join(work, ".buildkite/pipeline.yml"), "utf8"));
  const tools = mkdtempSync(join(scratch, "agent-"));
  fakeAgent(tools);
  const passed = new Set<string>();
  let exit = 0;
  let log = "";
  const uploads = uploadedPipelines(tools);
  let uploaded = 0;
  for (let index = 0; index < steps.length; index++) {
    const step = steps[index]!;
    if (!stepRuns(step, build) || !(step.depends_on ?? []).every((need) => passed.has(need))) continue;
    const checkout = mkdtempSync(join(scratch, "checkout-"));
    const clone = Bun.spawnSync(["git", "clone", "-q", work, checkout]);
    if (clone.exitCode !== 0) throw new Error(`git clone: ${clone.stderr.toString()}`);
    const run = Bun.spawnSync(["bash", "-e", "-c", step.command], {
      cwd: checkout,
      env: {
        ...env,
        PATH: `${tools}:${env.PATH ?? process.env.PATH}`,
        HOME: checkout,
        BUILDKITE: "true",
        BUILDKITE_STEP_KEY: step.key,
        BUILDKITE_BRANCH: build.branch,
        BUILDKITE_PULL_REQUEST: build.pullRequest ?? "false",
        BUILDKITE_SOURCE: build.source ?? "webhook",
        BUILDKITE_COMMIT: head,
        BUILDKITE_BUILD_CREATED_AT: new Date().toISOString(),
      },
    });
    log += `--- ${step.key} (exit ${run.exitCode})\n${run.stdout.toString()}${run.stderr.toString()}`;
    if (run.exitCode === 0) passed.add(step.key);
    else exit = 1;
    const files = existsSync(uploads) ? readdirSync(uploads).sort() : [];
    // An uploaded step may depend on any step already in the build.
    for (const file of files.slice(uploaded)) steps.push(...buildkiteSteps(readFileSync(join(uploads, file), "utf8"), steps.map((earlier) => earlier.key)));
    uploaded = files.length;
  }
  return { exit, log, passed: [...passed] };
}
