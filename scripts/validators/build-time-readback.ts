// The build-time values of aliases (core/build-time.ts) as each consumer finds them, for
// the readbacks (readback.ts): a date, a commit and a branch the test chooses, given the
// way each CI gives them (a `date` that answers with the chosen day, GitHub's github.sha
// and github.ref_name, Cloud Build's $COMMIT_SHA and $BRANCH_NAME, make's REVISION= and
// BRANCH=, bake's environment), so that what the consumer then runs (the resolve job's
// step, a step's script, make's $(shell)) makes the tags itself. The plan's side is
// core's own rule (expandBuildTime), never our escaping undone.

import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BuildTimeValues } from "../../core/build-time.ts";
import { evaluateTemplate, type Context } from "./github-expressions.ts";

/** The commit a readback test says the CI builds (also the revision labels' value). */
export const REVISION = "0123456789abcdef0123456789abcdef01234567";

/**
 * The values the readbacks build with: a leap day, the commit, and a branch a pusher
 * chose to be hostile (a shell's quotes and `$(...)`, non-ASCII letters, a '/', and
 * longer than any alias leaves it room for).
 */
export const BUILD_TIME: BuildTimeValues = {
  date: "20240229",
  commit: REVISION,
  branch: `release/2.0 ünïcödé's $(touch /tmp/caliban-pwned) "x"/${"long-".repeat(30)}end`,
};

/** A `date` first on PATH in `directory`: `date -u +%Y%m%d` answers BUILD_TIME's day; anything else is the real date's. */
export function fakeDate(directory: string): void {
  const real = Bun.which("date") ?? "/bin/date";
  const path = join(directory, "date");
  writeFileSync(path, `#!/bin/sh\nif [ "$*" = "-u +%Y%m%d" ]; then echo ${BUILD_TIME.date}; else exec ${real} "$@"; fi\n`);
  chmodSync(path, 0o755);
}

interface Job {
  readonly outputs?: Record<string, string>;
  readonly steps?: readonly { readonly id?: string; readonly run?: string; readonly env?: Record<string, string> }[];
}

/**
 * A resolve job's outputs that come from its build-time step, as the runner makes them
 * for `event`: the step's env evaluated (github.head_ref for a pull request, else
 * github.ref_name, is BUILD_TIME's branch), its script run by `bash -e` with GITHUB_SHA and
 * a $GITHUB_OUTPUT file, and the job's `outputs:` evaluated over what it wrote. None
 * without such a step.
 */
export function githubBuildTimeOutputs(job: Job | undefined, event: string): Record<string, string> {
  const step = job?.steps?.find((candidate) => candidate.id === "build-time");
  if (job === undefined || step?.run === undefined) return {};
  const pullRequest = event === "pull_request";
  const github: Context = { event_name: event, sha: BUILD_TIME.commit, head_ref: pullRequest ? BUILD_TIME.branch : "", ref_name: pullRequest ? "1/merge" : BUILD_TIME.branch };
  const env = Object.fromEntries(Object.entries(step.env ?? {}).map(([name, value]) => [name, String(evaluateTemplate(value, { github }) ?? "")]));
  const directory = mkdtempSync(join(tmpdir(), "github-step-"));
  fakeDate(directory);
  const output = join(directory, "output");
  writeFileSync(output, "");
  const run = Bun.spawnSync(["bash", "-e", "-c", step.run], { env: { ...env, PATH: `${directory}:${process.env.PATH}`, GITHUB_SHA: BUILD_TIME.commit, GITHUB_OUTPUT: output } });
  if (run.exitCode !== 0) throw new Error(`github: the build-time step failed (${run.exitCode}): ${run.stderr.toString()}`);
  const written = runnerOutputLines(readFileSync(output, "utf8"));
  rmSync(directory, { recursive: true, force: true });
  const steps = { "build-time": { outputs: written } };
  return Object.fromEntries(Object.entries(job.outputs ?? {}).filter(([, value]) => value.includes("steps.build-time.")).map(([name, value]) => [name, String(evaluateTemplate(value, { steps }) ?? "")]));
}

/** `name=value` lines of a $GITHUB_OUTPUT file (the build-time step writes no block). */
function runnerOutputLines(text: string): Record<string, string> {
  return Object.fromEntries(text.split("\n").filter(Boolean).map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]));
}

/** A Cloud Build step's `env`, substitutions made (`substitute`), as `export` lines a script begins with: Cloud Build hands the step these variables. */
export function stepEnvExports(env: readonly string[] | undefined, substitute: (text: string) => string): string {
  return (env ?? [])
    .map((entry) => {
      const value = substitute(entry);
      const equals = value.indexOf("=");
      return `export ${value.slice(0, equals)}='${value.slice(equals + 1).replaceAll("'", `'\\''`)}'\n`;
    })
    .join("");
}
