// A GitHub workflow of ours run on this machine as a runner would run it, for the e2e
// tests: jobs in order of their needs, each matrix entry in turn, every `if`, `env`,
// `with` and job output evaluated by GitHub's own evaluator, every `run:` step by bash
// (with $GITHUB_OUTPUT, $GITHUB_EVENT_NAME, $GITHUB_REF), against a real docker engine.
// The actions are stood in for: checkout is the working copy, setup-buildx and
// setup-qemu do nothing, login-action does nothing (a loopback registry needs no login),
// build-push-action is `docker build` with its inputs, read as the action reads them,
// then `docker push` of each tag when `push` is true (its `digest` output the one docker's
// push names, as the action's names what it pushed); upload-artifact copies its path to a
// folder of the run's, by name, and download-artifact copies it back (failing when no job
// uploaded it, as the action does). Any other action stops the run.

import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { evaluate, evaluateTemplate, truthy, type Context } from "../validators/github-expressions.ts";
import { buildPushActionList, REVISION } from "../validators/readback.ts";

interface Step {
  readonly id?: string;
  readonly name?: string;
  readonly if?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly "continue-on-error"?: boolean | string;
  readonly env?: Record<string, string>;
  readonly with?: Record<string, unknown>;
}

interface Job {
  readonly needs?: string[];
  readonly if?: string;
  readonly env?: Record<string, string>;
  readonly outputs?: Record<string, string>;
  readonly strategy?: { matrix: { include: Record<string, unknown>[] } };
  readonly steps: Step[];
}

export interface WorkflowRun {
  /** The first failed step's exit status, or 0. */
  readonly exit: number;
  /** What the failed steps said. */
  readonly stderr: string;
  /** Each job's result: success, failure or skipped. */
  readonly results: Readonly<Record<string, string>>;
  /** The steps that ran, as "JOB: STEP". */
  readonly ran: readonly string[];
  /** What every step said on stderr, in order. */
  readonly log: string;
}

/** Runs `workflow` for one event on `ref`, in `cwd`, `docker` the CLI its steps and build-push-action call. */
export function runWorkflow(workflow: string, options: { cwd: string; event: string; ref: string; docker: string; env: Record<string, string | undefined>; secrets?: Record<string, string>; sha?: string }): WorkflowRun {
  const jobs = (parseYaml(workflow) as { jobs: Record<string, Job> }).jobs;
  // The commit the run is for (github.sha, $GITHUB_SHA): the checkout's, when a test gives it.
  const github = { event_name: options.event, ref: options.ref, sha: options.sha ?? REVISION };
  const results: Record<string, string> = {};
  const outputs: Record<string, Record<string, string>> = {};
  const ran: string[] = [];
  let exit = 0;
  let stderr = "";
  let log = "";
  // The run's artifacts, by name: no other run's.
  const artifacts = mkdtempSync(join(options.cwd, "..", "artifacts-"));
  for (const [name, job] of Object.entries(jobs)) {
    const needs = Object.fromEntries((job.needs ?? []).map((need) => [need, { result: results[need] ?? "skipped", outputs: outputs[need] ?? {} }]));
    const failedNeed = (job.needs ?? []).some((need) => results[need] !== "success");
    let result = "skipped";
    for (const entry of job.strategy?.matrix.include ?? [{}]) {
      // The job's temporary folder ($RUNNER_TEMP, runner.temp): one per job, shared by its steps.
      const context: Context = { github, matrix: entry as Context, needs, runner: { temp: mkdtempSync(join(options.cwd, "..", "runner-temp-")) }, secrets: options.secrets ?? {} };
      // A job's `if` without a status function is `success() && (...)`, as GitHub reads it.
      const condition = job.if ?? "success()";
      const status = { failed: failedNeed };
      if (!truthy(evaluate(/\b(success|failure|cancelled|always)\(\)/.test(condition) ? condition : `success() && (${condition.replace(/^\$\{\{(.*)\}\}$/s, "$1")})`, context, status))) continue;
      if (result === "skipped") result = "success";
      const env = Object.fromEntries(Object.entries(job.env ?? {}).map(([key, value]) => [key, String(evaluateTemplate(value, context) ?? "")]));
      const steps: Record<string, { outputs: Record<string, string>; outcome: string }> = {};
      let failed = false;
      for (const step of job.steps) {
        const inStep: Context = { ...context, env, steps };
        const stepCondition = step.if ?? "success()";
        if (!truthy(evaluate(/\b(success|failure|cancelled|always)\(\)/.test(stepCondition) ? stepCondition : `success() && (${stepCondition.replace(/^\$\{\{(.*)\}\}$/s, "$1")})`, inStep, { failed }))) continue;
        ran.push(`${name}: ${step.name ?? step.uses ?? step.id}`);
        const outcome = runStep(step, inStep, env, { ...options, artifacts });
        log += outcome.stderr;
        if (step.id !== undefined) steps[step.id] = { outputs: outcome.outputs, outcome: outcome.exit === 0 ? "success" : "failure" };
        // `continue-on-error` (a boolean, or an expression of one): a failure it allows fails the step alone.
        const mayFail = [true, "true"].includes(evaluateTemplate(String(step["continue-on-error"] ?? "false"), inStep) as boolean | string);
        if (outcome.exit !== 0 && !mayFail) {
          failed = true;
          stderr += outcome.stderr;
          if (exit === 0) exit = outcome.exit;
        }
      }
      if (failed) result = "failure";
      if (job.outputs && !failed) outputs[name] = Object.fromEntries(Object.entries(job.outputs).map(([key, value]) => [key, String(evaluateTemplate(value, { ...context, steps }) ?? "")]));
    }
    results[name] = result;
  }
  return { exit, stderr, results, ran, log };
}

function runStep(step: Step, context: Context, jobEnv: Record<string, string>, options: { cwd: string; docker: string; env: Record<string, string | undefined>; artifacts: string }): { exit: number; stderr: string; outputs: Record<string, string> } {
  const value = (text: unknown) => String(evaluateTemplate(String(text ?? ""), context) ?? "");
  const stepEnv = Object.fromEntries(Object.entries(step.env ?? {}).map(([key, text]) => [key, value(text)]));
  const temp = String((context.runner as Context).temp);
  const outputFile = join(mkdtempSync(join(options.cwd, "..", "step-output-")), "output");
  writeFileSync(outputFile, "");
  const env = { ...options.env, ...jobEnv, ...stepEnv, GITHUB_OUTPUT: outputFile, GITHUB_EVENT_NAME: String((context.github as Context).event_name), GITHUB_REF: String((context.github as Context).ref), GITHUB_SHA: String((context.github as Context).sha), RUNNER_TEMP: temp };
  const shell = (script: string) => {
    const run = Bun.spawnSync(["bash", "-e", "-o", "pipefail", "-c", script], { cwd: options.cwd, env });
    const outputs: Record<string, string> = {};
    for (const line of readFileSync(outputFile, "utf8").split("\n")) if (line.includes("=")) outputs[line.slice(0, line.indexOf("="))] = line.slice(line.indexOf("=") + 1);
    return { exit: run.exitCode, stderr: run.stderr.toString(), outputs };
  };
  if (step.run !== undefined) return shell(value(step.run));
  const action = step.uses!.split("@")[0]!;
  if (["actions/checkout", "docker/setup-buildx-action", "docker/setup-qemu-action", "docker/login-action"].includes(action)) return { exit: 0, stderr: "", outputs: {} };
  if (action === "actions/upload-artifact" || action === "actions/download-artifact") {
    const store = join(options.artifacts, value(step.with?.name));
    const path = value(step.with?.path);
    if (action === "actions/upload-artifact") {
      mkdirSync(store, { recursive: true });
      cpSync(path, join(store, path.slice(path.lastIndexOf("/") + 1)), { recursive: true });
      return { exit: 0, stderr: "", outputs: {} };
    }
    if (!existsSync(store)) return { exit: 1, stderr: `Unable to download artifact(s): Artifact not found for name: ${value(step.with?.name)}\n`, outputs: {} };
    mkdirSync(path, { recursive: true });
    cpSync(store, path, { recursive: true });
    return { exit: 0, stderr: "", outputs: {} };
  }
  if (action !== "docker/build-push-action") throw new Error(`the e2e runner stands in for no ${step.uses}`);
  const input = (name: string) => value(step.with?.[name]);
  const tags = buildPushActionList(input("tags"), false);
  const words = ["build", ...tags.flatMap((tag) => ["-t", tag]), ...buildPushActionList(input("build-args")).flatMap((arg) => ["--build-arg", arg]), ...buildPushActionList(input("labels")).flatMap((label) => ["--label", label])];
  if (input("target") !== "") words.push("--target", input("target"));
  words.push("-f", input("file"), input("context"));
  const quoted = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;
  const push = [true, "true"].includes(evaluateTemplate(String(step.with?.push ?? "false"), context) as boolean | string);
  const pushes = tags.map((tag) => `${quoted(options.docker)} push ${quoted(tag)}`);
  const digest = `sed -n 's/^.*digest: \\(sha256:[0-9a-f]\\{64\\}\\) size: .*$/digest=\\1/p' "$RUNNER_TEMP/pushed" | head -n 1 >> "$GITHUB_OUTPUT"`;
  return shell([`${quoted(options.docker)} ${words.map(quoted).join(" ")}`, ...(push ? [`{\n${pushes.join("\n")}\n} | tee "$RUNNER_TEMP/pushed"`, digest] : [])].join("\n"));
}
