// The workflow's first job: `caliban-images resolve` in the commit the run checked out.
// It stops the run when the matrix no longer gives the graph this workflow was emitted
// for; says whether the run publishes (`publish`: a push, schedule or manual run on a
// branch [publish] lists; never a pull request or a tag); with content tags, reads every
// image's inputs digest from that tree (so a Dockerfile edited without emitting the
// workflow again is built all the same) and asks the registry which content tags it has:
// present or absent, and a registry that cannot say fails the run. Every build job needs
// it and reads its outputs: `publish`, the digests (`inputs`, id → hex) and the images
// the registry has (`present`, ids).

import { CalibanError } from "../core/errors.ts";
import { hasOwnRepositories, imageRegistries, type BuildGraph } from "../core/graph.ts";
import { LOOPBACK } from "../core/names.ts";
import type { GithubOptions } from "./github-types.ts";
import { installStep } from "./github-install.ts";
import { workflowLiteral, yamlScalar } from "./quoting.ts";
import type { TextWriter } from "./text.ts";
import { checkoutStep } from "./github-actions.ts";
import { buildTimeOutputs, buildTimeRooms, buildTimeStep } from "./github-build-time.ts";
import type { PipelineVariable } from "./contract.ts";
import { workflowVarEnv, workflowVarFlags } from "./pipeline-variables.ts";
import { cosignSetupStep } from "./github-signing.ts";

export const RESOLVE_JOB = "resolve";
/** A pull request's resolve job: no login, no permission beyond reading the repository. */
export const PR_RESOLVE_JOB = "pr_resolve";

/** The condition of every login, push and moved tag: the resolve job's word that this run publishes. */
export const PUBLISHING = `needs.${RESOLVE_JOB}.outputs.publish == 'true'`;

/** What a build job's steps name an image's content references by: job-level env, from the resolve job's digests. */
export const RUNTIME_REFERENCES = {
  content: "${{ env.CONTENT }}",
  baseContent: "${{ env.BASE_CONTENT }}",
  /** The entry's build args are a format() string whose {0} is the base's content reference. */
  buildArgs: "${{ format(matrix.build-args, env.BASE_CONTENT) }}",
} as const;

/** Whether an image of the graph gives its base's tag in an arg ({from.tag}: core/base-parts.ts), which a job then gives the base's content tag. */
function givesBaseTag(graph: BuildGraph): boolean {
  return graph.images.some((image) => image.fromParts !== undefined && Object.values(image.fromParts).includes("tag"));
}

/** A job's build args with content tags: the entry's format() string, {0} the base's content reference, and {1} its tag when an arg holds the base's tag (buildArgLines). */
export function runtimeBuildArgs(graph: BuildGraph): string {
  return givesBaseTag(graph) ? "${{ format(matrix.build-args, env.BASE_CONTENT, env.BASE_CONTENT_TAG) }}" : RUNTIME_REFERENCES.buildArgs;
}

/** A job's `env:` lines: the image's content reference and (`withBase`, for a job that builds) its base's, as this run's checkout gives them. */
export function digestEnv(graph: BuildGraph, withBase = true, resolveJob = RESOLVE_JOB): string[] {
  const inputs = (id: string) => `fromJSON(needs.${resolveJob}.outputs.inputs)[${id}]`;
  // A repository holds no quote or brace (core/graph.ts): it is written into the format string as it is. In several, each entry names its own.
  const reference = hasOwnRepositories(graph)
    ? (id: string, repository: string) => `format('{0}:inputs-{1}', ${repository}, ${inputs(id)})`
    : (id: string) => `format('${graph.repository}:inputs-{0}', ${inputs(id)})`;
  // The tag of the base's content reference, for an arg holding the base's tag: only a graph with one has it.
  const baseTag = withBase && givesBaseTag(graph) ? [`  BASE_CONTENT_TAG: \${{ matrix.base != '' && format('inputs-{0}', ${inputs("matrix.base")}) || '' }}`] : [];
  return ["env:", `  CONTENT: \${{ ${reference("matrix.id", "matrix.repository")} }}`, ...(withBase ? [`  BASE_CONTENT: \${{ matrix.base != '' && ${reference("matrix.base", "matrix.base-repository")} || '' }}`] : []), ...baseTag];
}

/**
 * The lines of a step's script that check the base is in the registry (or, `artifact`, handed
 * over by this pull request's run), with the registry's three answers: there, not there
 * ("no such manifest": its job failed, exit 1), or no answer (asked again, 4 tries, then exit 4 with its words). A loopback
 * registry is plain http, which docker's manifest client asks only with --insecure.
 */
export function baseCheckScript(graph: BuildGraph, artifact: boolean): string[] {
  const insecure = imageRegistries(graph).some((host) => LOOPBACK.test(host)) ? " --insecure" : "";
  return [
    ...(artifact ? ['if [ -f "$RUNNER_TEMP/base/image.tar" ]; then exit 0; fi'] : []),
    // No answer (a 5xx, the network) is asked again, 4 tries in all; "no such manifest" is an answer.
    "for try in 1 2 3 4; do",
    `  if out=$(docker manifest inspect${insecure} "$BASE" 2>&1 >/dev/null); then exit 0; fi`,
    '  case "$out" in "no such manifest"*) echo "::error::its base $BASE was not built in this run (its job failed): not building"; exit 1 ;; esac',
    '  echo "::warning::cannot ask the registry for $BASE (try $try): $out"',
    '  if [ "$try" -lt 4 ]; then sleep $((try * try * 5)); fi',
    "done",
    'echo "::error::cannot ask the registry for $BASE: $out"',
    "exit 4",
  ];
}

/** A step that says whether the registry has the image, as the resolve job found it: steps.registry.outputs.has. */
export function registryAnswerStep(resolveJob = RESOLVE_JOB): string[] {
  return [
    "  - name: Whether the registry has its inputs digest (the resolve job asked it)",
    "    id: registry",
    "    env:",
    `      HAS: \${{ contains(fromJSON(needs.${resolveJob}.outputs.present), matrix.id) }}`,
    "    run: |",
    '      echo "has=$HAS" >> "$GITHUB_OUTPUT"',
    '      if [ "$HAS" = true ]; then echo "$CONTENT is in the registry: not rebuilt"; fi',
  ];
}

/**
 * Which runs a resolve job serves: every run (a workflow without pull requests), the runs
 * that may publish (beside a pull request's own), or a pull request's.
 */
export type ResolveRun = "every" | "publish" | "pull_request";

/**
 * The resolve job. `login`: the registry login steps, run when the first step says the run
 * publishes, so that a private registry can be asked; any other run asks it anonymously.
 */
export function writeResolveJob(out: TextWriter, graph: BuildGraph, options: GithubOptions, matrixFile: string, shape: string, login: readonly string[], lockJob: boolean, permissions: readonly string[], run: ResolveRun, variables: readonly PipelineVariable[]): void {
  // The values it was emitted with (--var): resolve plans the graph this workflow is for.
  const vars = workflowVarFlags(variables);
  const contentTags = options["content-tags"];
  const conditions = [
    ...(run === "pull_request" ? ["github.event_name == 'pull_request'"] : run === "publish" ? ["github.event_name != 'pull_request'"] : []),
    // With a lock, a scheduled run only updates it (the lock job): the build runs on the commit that job makes.
    ...(lockJob && run !== "pull_request" ? ["github.event_name != 'schedule'"] : []),
  ];
  out.lines([
    `${run === "pull_request" ? PR_RESOLVE_JOB : RESOLVE_JOB}:`,
    `  name: Check the workflow, read the digests from this checkout${run === "pull_request" ? " (pull request)" : ""}`,
    ...(conditions.length > 0 ? [`  if: ${conditions.join(" && ")}`] : []),
    `  runs-on: ${yamlScalar(options["runs-on"])}`,
    "  timeout-minutes: 15",
    // It asks the registry, and pushes nothing.
    ...permissions.map((line) => `  ${line}`),
    "  outputs:",
    `    publish: \${{ steps.${RESOLVE_JOB}-publish.outputs.publish }}`,
    ...buildTimeOutputs(buildTimeRooms(graph)),
    ...(contentTags ? [`    inputs: \${{ steps.${RESOLVE_JOB}.outputs.inputs }}`, `    present: \${{ steps.${RESOLVE_JOB}.outputs.present }}`] : []),
    "  env:",
    // Env values are evaluated by GitHub: a path holding `${{` is written as the expression of its text.
    `    MATRIX: ${yamlScalar(workflowLiteral(matrixFile))}`,
    `    WORKFLOW: ${yamlScalar(workflowLiteral(options.output))}`,
    ...(contentTags ? [`    REPOSITORY: ${yamlScalar(graph.repository)}`] : []),
    ...workflowVarEnv(variables),
    "  steps:",
    // The date, the short commit and the branch of the aliases that name them: once for every job of the run.
    ...buildTimeStep(buildTimeRooms(graph)),
    ...checkoutStep().map((line) => `    ${line}`),
    ...installStep(options).map((line) => `    ${line}`),
    "    - name: Check that this workflow is what the matrix gives, and whether this run publishes",
    `      id: ${RESOLVE_JOB}-publish`,
    `      run: caliban-images resolve --matrix "$MATRIX"${vars} --for "$WORKFLOW" --shape ${shape} --event "$GITHUB_EVENT_NAME" --ref "$GITHUB_REF" --format github >> "$GITHUB_OUTPUT"`,
    ...(contentTags
      ? [
          ...login.map((line) => `  ${line}`),
          // With [sign], resolve verifies each image the registry has with cosign; one that does not verify is rebuilt.
          ...cosignSetupStep(graph, options, "").map((line) => `  ${line}`),
          "    - name: Read every image's inputs digest, and ask the registry which it has",
          `      id: ${RESOLVE_JOB}`,
          `      run: caliban-images resolve --matrix "$MATRIX"${vars} --registry "$REPOSITORY" --format github >> "$GITHUB_OUTPUT"`,
        ]
      : []),
  ]);
}

/**
 * The resolve job's outputs, read by every build job: the digests, `"ID":"HEX",` per image,
 * and the ids the registry has. A job's outputs hold at most `limit` bytes (1 MB, as UTF-16).
 */
export function checkResolveOutputs(graph: BuildGraph, limit: number): void {
  const units = graph.images.reduce((sum, image) => sum + 2 * image.id.length + 76, 64);
  if (2 * units > limit) {
    throw new CalibanError({
      code: "LIMIT",
      message: `emit github: the resolve job's outputs would be about ${Math.ceil((2 * units) / 1000)} KB for ${graph.images.length} images; a job's outputs hold at most 1 MB`,
      hint: "keep your own workflow and feed it the matrices: caliban-images emit github --format matrix (see caliban-images docs/ci-github.md)",
    });
  }
}
