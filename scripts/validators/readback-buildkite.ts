// Buildkite read back (readback.ts) as the agent reads a pipeline: the YAML parsed (it is
// uploaded with --no-interpolation, so every value is taken as written), each step's `if`
// evaluated as Buildkite does when the pipeline is uploaded (the few forms of its
// conditional language this emitter writes: ==, !=, =~, !~ over build.branch and
// build.pull_request.id, && and ||), and each command step run as the agent runs it
// (`bash -e -c COMMAND`, the default shell) in depends_on order, each in a checkout of
// its own, with Buildkite's variables, a recording docker, a `caliban-images resolve`
// that answers `--format lines` with the plan's digests, and a `buildkite-agent` whose
// artifacts a step uploads and a later step downloads.

import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { branchPublishes, firstPlainBranch } from "../../core/branch-patterns.ts";
import { imagesById, type BuildGraph } from "../../core/graph.ts";
import { BUILD_TIME, REVISION } from "./build-time-readback.ts";
import { publishingBuilds } from "./readback-gitlab.ts";
import { dockerBuildView, normalise, recordingDocker, type ImageView, type OutputView } from "./readback-view.ts";

export interface BuildkiteStep {
  readonly key: string;
  readonly label?: string;
  readonly if?: string;
  readonly depends_on?: readonly string[];
  readonly command: string;
  readonly timeout_in_minutes?: number;
}

/** The steps of a pipeline, in file order; an error when a step is not a command step with a key, or depends on a step neither before it nor `inBuild` (the steps of earlier uploads). */
export function buildkiteSteps(pipeline: string, inBuild: readonly string[] = []): BuildkiteStep[] {
  const parsed = parseYaml(pipeline) as { steps?: BuildkiteStep[] };
  const steps = parsed.steps ?? [];
  const seen = new Set<string>(inBuild);
  for (const step of steps) {
    if (typeof step.key !== "string" || typeof step.command !== "string") throw new Error(`not a command step with a key: ${JSON.stringify(step).slice(0, 200)}`);
    for (const need of step.depends_on ?? []) if (!seen.has(need)) throw new Error(`step ${step.key} depends on ${need}, which is not an earlier step`);
    seen.add(step.key);
  }
  return steps;
}

/** The build a pipeline runs for: its branch, and a pull request's number (null: none), and its source (webhook, schedule, ui, ...). */
export interface BuildkiteBuild {
  readonly branch: string;
  readonly pullRequest: string | null;
  readonly source?: string;
}

/** A publishing build of `graph`: BUILD_TIME's branch when it publishes (the fixture's aliases name it), else a plain publishing branch. */
export function publishingBuild(graph: BuildGraph): BuildkiteBuild {
  const branch = branchPublishes(graph.publish.branches, BUILD_TIME.branch) ? BUILD_TIME.branch : (firstPlainBranch(graph.publish.branches) ?? "main");
  if (!branchPublishes(graph.publish.branches, branch)) throw new Error(`no branch of ${graph.publish.branches.join(", ")} to build as a publishing build`);
  return { branch, pullRequest: null, source: "webhook" };
}

/** Whether Buildkite runs a step with this `if` in `build` (no `if`: always). */
export function stepRuns(step: BuildkiteStep, build: BuildkiteBuild): boolean {
  return step.if === undefined || evaluateCondition(step.if, build);
}

/**
 * Runs the steps Buildkite would run for `build` in file order (dependencies first), each
 * in a new directory, with bash -e, a recording docker (`existing`: what its registry has)
 * and `variables` beside Buildkite's; returns the images built (a plain build, or buildx's
 * pushing one), what each depends on, and docker's calls.
 */
export function buildkiteView(steps: readonly BuildkiteStep[], graph: BuildGraph, build: BuildkiteBuild, existing: readonly string[] = [], variables: Record<string, string> = {}): OutputView & { readonly calls: readonly string[][]; readonly ran: readonly string[] } {
  const docker = recordingDocker(existing);
  const tools = docker.directory;
  fakeAgent(tools);
  fakeLinesResolve(tools, graph, existing);
  const env = {
    PATH: `${tools}:${process.env.PATH}`,
    DOCKER: docker.path,
    BUILDKITE: "true",
    BUILDKITE_BRANCH: build.branch,
    BUILDKITE_PULL_REQUEST: build.pullRequest ?? "false",
    BUILDKITE_SOURCE: build.source ?? "webhook",
    BUILDKITE_COMMIT: REVISION,
    BUILDKITE_BUILD_CREATED_AT: `${BUILD_TIME.date.slice(0, 4)}-${BUILD_TIME.date.slice(4, 6)}-${BUILD_TIME.date.slice(6)}T23:59:59Z`,
    ...variables,
  };
  const ran: string[] = [];
  for (const step of steps) {
    if (!stepRuns(step, build)) continue;
    // A checkout of its own: what a step needs from another comes as an artifact.
    const checkout = mkdtempSync(join(tmpdir(), "buildkite-checkout-"));
    const run = Bun.spawnSync(["bash", "-e", "-c", step.command], { cwd: checkout, env: { ...env, HOME: checkout, BUILDKITE_STEP_KEY: step.key } });
    // Removed after: npm test runs thousands of steps.
    rmSync(checkout, { recursive: true, force: true });
    if (run.exitCode !== 0) throw new Error(`step ${step.key} failed (${run.exitCode}): ${run.stderr.toString()}`);
    ran.push(step.key);
  }
  const calls = docker.calls();
  const images: ImageView[] = publishingBuilds(calls).map(dockerBuildView);
  const byId = imagesById(graph);
  const bases: Record<string, string[]> = {};
  for (const step of steps) {
    const image = byId.get(step.key);
    if (image) bases[image.reference] = (step.depends_on ?? []).filter((need) => byId.has(need)).map((need) => byId.get(need)!.reference);
  }
  return { ...normalise(images, bases), calls, ran };
}

/**
 * `buildkite-agent artifact upload PATH` keeps PATH under the step's key; `artifact download
 * --step KEY PATH DIR` puts it back at DIR/PATH; `pipeline upload --no-interpolation FILE`
 * keeps FILE, numbered in upload order, in uploadedPipelines(directory).
 */
export function uploadedPipelines(directory: string): string {
  return join(directory, "artifacts", "uploads");
}

export function fakeAgent(directory: string): void {
  const store = join(directory, "artifacts");
  mkdirSync(store);
  const path = join(directory, "buildkite-agent");
  writeFileSync(
    path,
    `#!/usr/bin/env bash
set -eu
store=${JSON.stringify(store)}
case "$1 $2" in
  "artifact upload") [ $# = 3 ] || exit 9; mkdir -p "$store/$BUILDKITE_STEP_KEY/$(dirname "$3")"; cp "$3" "$store/$BUILDKITE_STEP_KEY/$3" ;;
  "artifact download") [ $# = 6 ] && [ "$3" = --step ] || exit 9; [ -f "$store/$4/$5" ] || { echo "no artifact $5 from step $4" >&2; exit 1; }; mkdir -p "$6/$(dirname "$5")"; cp "$store/$4/$5" "$6/$5" ;;
  "pipeline upload") [ $# = 4 ] && [ "$3" = --no-interpolation ] || exit 9; mkdir -p "$store/uploads"; cp "$4" "$store/uploads/$(printf '%03d' "$(($(ls "$store/uploads" | wc -l) + 1))").yml" ;;
  *) echo "buildkite-agent: not faked: $*" >&2; exit 9 ;;
esac
`,
  );
  chmodSync(path, 0o755);
}

/** `caliban-images resolve ... --format lines`: the plan's `ID HEX`, and ` present` for an image whose content reference is in `existing`. */
function fakeLinesResolve(directory: string, graph: BuildGraph, existing: readonly string[]): void {
  const tags = new Set(existing.map((reference) => reference.slice(reference.lastIndexOf(":") + 1)));
  const hex = (inputs: string) => inputs.slice("sha256:".length);
  const lines = graph.images.map((image) => `${image.id} ${hex(image.inputs)}${image.rebuild !== "always" && tags.has(`inputs-${hex(image.inputs)}`) ? " present" : ""}`).join("\n");
  const path = join(directory, "caliban-images");
  writeFileSync(path, `#!/usr/bin/env bash\n[ "$1" = resolve ] && [ "\${*: -2}" = "--format lines" ] || { echo "fake resolve: $*" >&2; exit 9; }\ncat <<'EOF'\n${lines}\nEOF\n`);
  chmodSync(path, 0o755);
}

type Value = string | null | boolean | RegExp;

/**
 * A Buildkite conditional, for the variables build.branch and build.pull_request.id: a
 * small recursive-descent reading of its C-like expressions (|| over &&, comparisons,
 * parentheses, strings, null and /regex/ literals). Anything else is an error, not false.
 */
export function evaluateCondition(text: string, build: BuildkiteBuild): boolean {
  const tokens = text.match(/\s*(\|\||&&|==|!=|=~|!~|\(|\)|\/(?:\\.|[^/\\])*\/|"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|[A-Za-z_][A-Za-z0-9_.]*)/gy)?.map((token) => token.trim()) ?? [];
  if (tokens.join("").replace(/\s/g, "") !== text.replace(/\s/g, "")) throw new Error(`conditional not read: ${text}`);
  let at = 0;
  const variables: Record<string, Value> = { "build.branch": build.branch, "build.pull_request.id": build.pullRequest, "build.source": build.source ?? "webhook" };
  const operand = (): Value => {
    const token = tokens[at++]!;
    if (token === "(") {
      const value = or();
      if (tokens[at++] !== ")") throw new Error(`conditional: no ) in ${text}`);
      return value;
    }
    if (token === "null") return null;
    if (token.startsWith("/")) return new RegExp(token.slice(1, -1).replace(/\\\//g, "/"));
    if (token.startsWith('"') || token.startsWith("'")) return token.slice(1, -1);
    if (!(token in variables)) throw new Error(`conditional: unknown variable ${token}`);
    return variables[token]!;
  };
  const comparison = (): boolean => {
    const left = operand();
    const op = tokens[at];
    if (op !== "==" && op !== "!=" && op !== "=~" && op !== "!~") return left === true;
    at++;
    const right = operand();
    if (op === "==") return left === right;
    if (op === "!=") return left !== right;
    if (!(right instanceof RegExp) || typeof left !== "string") throw new Error(`conditional: ${op} needs a string and a regex: ${text}`);
    return right.test(left) === (op === "=~");
  };
  const and = (): boolean => {
    let value = comparison();
    while (tokens[at] === "&&") (at++, (value = comparison() && value));
    return value;
  };
  const or = (): boolean => {
    let value = and();
    while (tokens[at] === "||") (at++, (value = and() || value));
    return value;
  };
  const value = or();
  if (at !== tokens.length) throw new Error(`conditional: unread ${tokens.slice(at).join(" ")} in ${text}`);
  return value;
}
