// GitLab CI read back (readback.ts) through gitlab-ci-local, which runs a .gitlab-ci.yml
// on this machine as GitLab's runner would: it parses the file (with GitLab's own JSON
// schema), evaluates workflow:rules, and lists the jobs with their needs (--list-json);
// --preview prints the pipeline with `default:` merged into each job. Each image job's
// script (before_script, then script) is then run by bash in `needs` order, with a
// recording docker and the resolve job's file as `caliban-images resolve --format lines`
// writes it (the plan's digests), so every argument docker gets is what GitLab's shell
// would hand it. gitlab-ci-local 4.75 needs Node 22's Set methods: it runs under bun.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { scratchFolder } from "./scratch.ts";
import { parse as parseYaml } from "yaml";
import { imagesById, type BuildGraph } from "../../core/graph.ts";
import { REPO_ROOT } from "../../fixtures/golden.ts";
import { BUILD_TIME, REVISION } from "./build-time-readback.ts";
import { dockerBuildView, normalise, recordingDocker, type ImageView, type OutputView } from "./readback-view.ts";

export const GITLAB_CI_LOCAL = join(REPO_ROOT, "node_modules", "gitlab-ci-local", "dist", "index.js");

/** gitlab-ci-local in `directory` (a git repository holding .gitlab-ci.yml), by the bun running this test. */
export function gitlabCiLocal(directory: string, args: readonly string[], env: Record<string, string> = {}): { exitCode: number; stdout: string; stderr: string } {
  const run = Bun.spawnSync([process.execPath, GITLAB_CI_LOCAL, "--no-color", ...args], { cwd: directory, env: { ...process.env, FORCE_COLOR: "0", ...env } });
  return { exitCode: run.exitCode ?? -1, stdout: run.stdout.toString(), stderr: run.stderr.toString() };
}

/** A new git repository on branch `branch` with the pipeline committed, as a checkout is. */
export function gitlabCheckout(pipeline: string, branch = "main"): string {
  const directory = scratchFolder("gitlab-");
  writeFileSync(join(directory, ".gitlab-ci.yml"), pipeline);
  const git = Bun.spawnSync(["sh", "-c", `git init -q -b ${branch} && git add .gitlab-ci.yml && git -c user.name=t -c user.email=t@example.invalid -c commit.gpgsign=false commit -qm test`], { cwd: directory });
  if (git.exitCode !== 0) throw new Error(`git: ${git.stderr.toString()}`);
  return directory;
}

export interface GitlabJobView {
  readonly name: string;
  readonly stage: string;
  readonly needs: readonly string[];
}

/** The jobs gitlab-ci-local lists (workflow:rules evaluated), with their needs; an error when it refuses the file. */
export function gitlabJobs(directory: string, variables: readonly string[] = []): GitlabJobView[] {
  const run = gitlabCiLocal(directory, ["--list-json", ...variables.flatMap((v) => ["--variable", v])]);
  if (run.exitCode !== 0) throw new Error(`gitlab-ci-local --list-json failed (${run.exitCode}): ${run.stderr}${run.stdout}`);
  const jobs = JSON.parse(run.stdout.slice(run.stdout.search(/^\[/m))) as { name: string; stage: string; needs?: { job: string }[] }[];
  return jobs.map((job) => ({ name: job.name, stage: job.stage, needs: (job.needs ?? []).map((need) => need.job) }));
}

interface PreviewJob {
  readonly stage?: string;
  readonly needs?: readonly (string | { readonly job: string })[];
  readonly before_script?: readonly string[];
  readonly script?: readonly string[];
}

/**
 * The jobs of a pipeline as gitlab-ci-local's --preview prints them, listed as --list-json
 * lists them (by stage, then in file order), with their needs: one gitlab-ci-local run a
 * fixture instead of two (each validates GitLab's schema, about 0.6 s). The test of a
 * pipeline's kinds checks this reading against --list-json's.
 */
export function previewJobs(preview: Record<string, PreviewJob>): GitlabJobView[] {
  const stages = (preview as unknown as { stages?: readonly string[] }).stages ?? [];
  const keywords = new Set(["stages", "workflow", "variables", "default", "include"]);
  return Object.entries(preview)
    .filter(([name, job]) => !keywords.has(name) && !name.startsWith(".") && job?.script !== undefined)
    .map(([name, job]) => ({ name, stage: job.stage ?? "test", needs: (job.needs ?? []).map((need) => (typeof need === "string" ? need : need.job)) }))
    .map((job, index) => ({ job, index, rank: stages.indexOf(job.stage) }))
    .sort((a, b) => a.rank - b.rank || a.index - b.index)
    .map(({ job }) => job);
}

/** The pipeline as gitlab-ci-local merges it (--preview): `default:` in each job. */
export function gitlabPreview(directory: string): Record<string, PreviewJob> {
  const run = gitlabCiLocal(directory, ["--preview"]);
  if (run.exitCode !== 0) throw new Error(`gitlab-ci-local --preview failed (${run.exitCode}): ${run.stderr}`);
  // It writes the shared before_script once, as an anchor each job aliases.
  return parseYaml(run.stdout.slice(run.stdout.indexOf("---")), { maxAliasCount: -1 }) as Record<string, PreviewJob>;
}

/** A job's shell text, as the runner runs it: before_script, then script, in one shell. */
export function jobScript(job: PreviewJob): string {
  return [...(job.before_script ?? []), ...(job.script ?? [])].join("\n");
}

/**
 * Runs the image jobs (and the shared-tags job) in `order` with bash, a recording docker
 * (`existing`: what its registry has) and `variables` as GitLab would set them; returns the
 * images built (a plain build, or buildx's pushing one) and what each needs.
 */
export function gitlabView(preview: Record<string, PreviewJob>, jobs: readonly GitlabJobView[], graph: BuildGraph, existing: readonly string[] = [], variables: Record<string, string> = {}): OutputView & { readonly calls: readonly string[][] } {
  const docker = recordingDocker(existing);
  const directory = docker.directory;
  const hex = (inputs: string) => inputs.slice("sha256:".length);
  const tags = new Set(existing.map((reference) => reference.slice(reference.lastIndexOf(":") + 1)));
  mkdirSync(join(directory, ".caliban-images"), { recursive: true });
  writeFileSync(join(directory, ".caliban-images", "resolved"), graph.images.map((image) => `${image.id} ${hex(image.inputs)}${image.rebuild !== "always" && tags.has(`inputs-${hex(image.inputs)}`) ? " present" : ""}\n`).join(""));
  const env = {
    PATH: `${directory}:${process.env.PATH}`,
    HOME: directory,
    DOCKER: docker.path,
    CALIBAN_PUSH: "true",
    CI_COMMIT_SHA: REVISION,
    CI_COMMIT_BRANCH: BUILD_TIME.branch,
    CI_PIPELINE_CREATED_AT: `${BUILD_TIME.date.slice(0, 4)}-${BUILD_TIME.date.slice(4, 6)}-${BUILD_TIME.date.slice(6)}T23:59:59Z`,
    ...variables,
  };
  for (const job of jobs) {
    // The resolve job's answer is the file written above; the scheduled lock job builds nothing (emitters/gitlab-lock.test.ts runs it).
    if (job.name === "resolve" || job.name === "update-lock") continue;
    const run = Bun.spawnSync(["bash", "-e", "-c", jobScript(preview[job.name]!)], { cwd: directory, env });
    if (run.exitCode !== 0) throw new Error(`job ${job.name} failed (${run.exitCode}): ${run.stderr.toString()}`);
  }
  const calls = docker.calls();
  const images: ImageView[] = publishingBuilds(calls).map(dockerBuildView);
  const byId = imagesById(graph);
  const bases: Record<string, string[]> = {};
  for (const job of jobs) {
    const image = byId.get(job.name);
    if (image) bases[image.reference] = job.needs.filter((need) => byId.has(need)).map((need) => byId.get(need)!.reference);
  }
  return { ...normalise(images, bases), calls };
}

/** The builds' arguments (after `build` or `buildx build`): every plain build, and buildx's that push (not the loaded one a smoke test runs in). */
export function publishingBuilds(calls: readonly (readonly string[])[]): string[][] {
  return calls.filter((call) => call[0] === "build" || (call[0] === "buildx" && call[1] === "build" && call.includes("--push"))).map((call) => call.slice(call[0] === "build" ? 1 : 2));
}

/** Every build's arguments, plain or buildx. */
export function allBuilds(calls: readonly (readonly string[])[]): string[][] {
  return calls.filter((call) => call[0] === "build" || (call[0] === "buildx" && call[1] === "build")).map((call) => call.slice(call[0] === "build" ? 1 : 2));
}

/**
 * What $CALIBAN_PUSH is in a job of `pipeline` as gitlab-ci-local runs it (workflow:rules
 * evaluated for its branch and `variables`, such as CI_PIPELINE_SOURCE): a probe job is
 * added to the file, and run alone with the shell executor.
 */
export function gitlabPushVariable(pipeline: string, variables: readonly string[] = [], branch = "main"): string {
  const probe = `${pipeline}\ncaliban-probe:\n  stage: ${/^  - (\S+)$/m.exec(pipeline)![1]}\n  needs: []\n  before_script: []\n  script:\n    - echo "push=$CALIBAN_PUSH"\n`;
  const checkout = gitlabCheckout(probe, branch);
  // The schema is validated where each fixture's file is read (--preview); the probe job is ours.
  const run = gitlabCiLocal(checkout, ["caliban-probe", "--no-json-schema-validation", ...variables.flatMap((v) => ["--variable", v])]);
  if (run.exitCode !== 0) throw new Error(`gitlab-ci-local caliban-probe failed (${run.exitCode}): ${run.stderr}${run.stdout}`);
  return /> push=(\S*)/.exec(run.stdout)?.[1] ?? "";
}
