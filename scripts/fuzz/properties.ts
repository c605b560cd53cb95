// The properties, shared by `npm test` (a few hundred cases) and `npm run fuzz` (many more).

import { expect } from "bun:test";
import { validateWorkflow } from "../validators/action-validator.ts";
import { parse as parseHcl } from "@cdktf/hcl2json";
import { CalibanError } from "../../core/errors.ts";
import { loadMatrix, planLoaded } from "../../core/load.ts";
import { builtinEmitters } from "../../emitters/index.ts";
import { builtin } from "../../fixtures/test-helpers.ts";
import { emitLoaded } from "../../cli/emit.ts";
import { actionlint } from "../validators/actionlint.ts";
import { hasMake } from "../validators/tools.ts";
import { cloudbuildView, githubView, readGithubWorkflow, makeView, planView, resolveOutputs, runnerOutputs } from "../validators/readback.ts";
import { relativeToContext } from "../../emitters/bake.ts";
import { matrixToml, type MatrixModel } from "./arbitraries.ts";
import { emittedText } from "../../emitters/contract.ts";
import { imageRegistries, type BuildGraph } from "../../core/graph.ts";
import type { LoadedMatrix } from "../../core/load.ts";
import { buildkiteSteps, buildkiteView, publishingBuild } from "../validators/readback-buildkite.ts";
import { gitlabCheckout, gitlabPreview, gitlabView, previewJobs } from "../validators/readback-gitlab.ts";

const emitter = builtin;

/** What build-push-action cannot carry unchanged; emit github must refuse exactly these. */
const MANGLED_BY_BUILD_PUSH_ACTION = (value: string) => /\s$/.test(value) || value.includes(',"');

/**
 * A valid random matrix: plans, and every emitter's output reads back to the plan
 * through its consumer. Cloud Build configs are returned, for Google's loader to check
 * in one batch (it takes a moment to start).
 */
export async function checkMatrixOutputs(model: MatrixModel): Promise<string> {
  const toml = matrixToml(model);
  const loaded = await loadMatrix(toml, model.file);
  const graph = planLoaded(loaded);
  const plan = planView(graph);

  const [cloudbuildFile] = emitLoaded(emitter("cloudbuild"), loaded, graph);
  const cloudbuild = emittedText(cloudbuildFile!);
  if (graph.images.length <= 150) expect(cloudbuildFile!.path).toBe(model.emit.cloudbuild.output);
  const cloudbuildRead = cloudbuildView([cloudbuild], [], {}, graph);
  expect(cloudbuildRead.images).toEqual(plan.images);
  expect(cloudbuildRead.bases).toEqual(plan.bases);

  if (hasMake) {
    // make -j2 push with a recording docker: a recipe the file name or a value put in would show here.
    const made = makeView(emittedText(emitLoaded(emitter("make"), loaded, graph)[0]!), graph);
    expect(made.images).toEqual(plan.images);
    expect(made.bases).toEqual(plan.bases);
    expect(made.stderr).toBe("");
  }

  const mangled = graph.images.some((image) => image.args.some((arg) => MANGLED_BY_BUILD_PUSH_ACTION(arg.value)) || image.labels.some((label) => !label.revision && MANGLED_BY_BUILD_PUSH_ACTION(label.value)));
  let workflow: string | undefined;
  try {
    workflow = emittedText(emitLoaded(emitter("github"), loaded, graph)[0]!);
  } catch (error) {
    if (!(error instanceof CalibanError) || !mangled) throw error;
  }
  expect(workflow === undefined).toBe(mangled);
  if (workflow !== undefined) {
    expect(await actionlint(workflow)).toEqual([]);
    expect(validateWorkflow(workflow).errors).toEqual([]);
    const read = readGithubWorkflow(workflow);
    expect(Object.keys(read)).toEqual(["name", "on", "concurrency", "permissions", "jobs"]);
    // Only the [publish] branches publish; a pull request pushes nothing.
    expect(Object.keys(read.on)).toEqual(["push", "pull_request", "workflow_dispatch"]);
    expect(read.on.push.branches).toEqual(["main"]);
    expect(read.name).toBe(model.emit.github.name);
    for (const job of Object.values(read.jobs) as { "runs-on": string }[]) expect(job["runs-on"]).toBe(model.emit.github["runs-on"]);
    expect(githubView(read, "workflow", resolveOutputs(graph)).images).toEqual(plan.images);
    const lines = runnerOutputs(emittedText(emitLoaded(emitter("github"), loaded, graph, ["format=matrix"])[0]!));
    const include = Object.values(lines).flatMap((line) => JSON.parse(line).include);
    // The matrices as data, for a workflow of the user's: each entry names its image, args and content reference itself.
    expect(githubView({ jobs: { all: { strategy: { matrix: { include } } } } }, "data").images).toEqual(plan.images.map(({ settings: _, ...image }) => image));
  }

  // bake reads a dockerfile relative to its context: where that depends on the directory, the emitter refuses.
  // The commit's variable is REVISION: a repository variable of that name is refused.
  const revision = graph.images.some((image) => image.labels.some((label) => label.revision));
  // CALIBAN_INPUTS holds the digests resolve reads: a repository variable of that name is refused too.
  const placeable = graph.images.every((image) => relativeToContext(image.context, image.dockerfile) !== undefined) && !(revision && model.emit.bake.variable === "REVISION") && model.emit.bake.variable !== "CALIBAN_INPUTS";
  let bake: string | undefined;
  try {
    bake = emittedText(emitLoaded(emitter("bake"), loaded, graph)[0]!);
  } catch (error) {
    if (!(error instanceof CalibanError) || placeable) throw error;
  }
  expect(bake !== undefined).toBe(placeable);
  if (bake !== undefined) {
    const parsed = (await parseHcl("docker-bake.hcl", bake)) as { target: Record<string, unknown>; variable: Record<string, unknown> };
    expect(Object.keys(parsed).sort()).toEqual(["function", "group", "target", "variable"]);
    expect(Object.keys(parsed.variable).sort()).toEqual([model.emit.bake.variable, "CALIBAN_INPUTS", ...(revision ? ["REVISION"] : [])].sort());
    expect(Object.keys(parsed.target).sort()).toEqual(graph.images.map((i) => i.id).sort());
  }

  checkJobPipelines(graph, loaded, plan);
  return cloudbuild;
}

/** Cases run so far: gitlab-ci-local reads every GITLAB_EVERY-th (about a second each; npm test's budget). */
let cases = 0;
const GITLAB_EVERY = Number(process.env.FUZZ_GITLAB_EVERY ?? 8);

/**
 * GitLab and Buildkite, whose scripts the same values reach as shell words in YAML
 * scalars: Buildkite's steps run by bash as the agent runs them (every case), GitLab's
 * jobs as gitlab-ci-local reads them (--preview) run by bash, each reading back to the
 * plan. Both log in to one registry: a graph pushed to several is refused, and only it.
 */
function checkJobPipelines(graph: BuildGraph, loaded: LoadedMatrix, plan: ReturnType<typeof planView>): void {
  const oneRegistry = imageRegistries(graph).length <= 1;
  const emitted = (name: string) => {
    try {
      return emittedText(emitLoaded(emitter(name), loaded, graph, ["install-command=true"])[0]!);
    } catch (error) {
      if (!(error instanceof CalibanError) || oneRegistry) throw error;
      expect(error.message).toContain("registries");
      return undefined;
    }
  };
  const pipeline = emitted("buildkite");
  expect(pipeline !== undefined).toBe(oneRegistry);
  if (pipeline !== undefined) {
    const read = buildkiteView(buildkiteSteps(pipeline), graph, publishingBuild(graph));
    expect(read.images).toEqual(plan.images);
    expect(read.bases).toEqual(plan.bases);
  }
  if (cases++ % GITLAB_EVERY !== 0) return;
  const gitlab = emitted("gitlab");
  if (gitlab === undefined) return;
  const preview = gitlabPreview(gitlabCheckout(gitlab));
  const read = gitlabView(preview, previewJobs(preview), graph);
  expect(read.images).toEqual(plan.images);
  expect(read.bases).toEqual(plan.bases);
}

/** Any text as a matrix: the only failure allowed is a CalibanError (exit 2), never another exception. */
export async function checkNeverCrashes(text: string): Promise<void> {
  try {
    const loaded = await loadMatrix(text, "mutated.toml");
    const graph = planLoaded(loaded);
    for (const e of builtinEmitters) {
      try {
        emitLoaded(e, loaded, graph);
      } catch (error) {
        if (!(error instanceof CalibanError)) throw error;
      }
    }
  } catch (error) {
    if (!(error instanceof CalibanError)) throw new Error(`not a CalibanError for input ${JSON.stringify(text)}: ${(error as Error)?.stack ?? error}`);
    // Every diagnostic says something, and says where.
    for (const d of error.diagnostics) {
      expect(d.message.length).toBeGreaterThan(0);
      expect(d.file).toBe("mutated.toml");
    }
  }
}
