// A pull request's twin of a stage job. GitHub fixes a job's permissions when the
// workflow is written, not by its event: a job that pushes on `push` would hold
// `packages: write` on a same-repository pull request too. So a pull request runs its own
// jobs, `pr_`-named, that hold nothing beyond reading the repository, log in nowhere, read
// no secret and push nothing: each image is built into the runner's docker (buildx's
// docker driver, the runner's platform), tested, and handed to the images built FROM it
// as an artifact.

import type { BuildGraph } from "../core/graph.ts";
import type { GithubOptions, StageJob } from "./github-types.ts";
import type { EntrySettings } from "./github-entry.ts";
import type { TextWriter } from "./text.ts";
import { yamlScalar } from "./quoting.ts";
import { baseCheckScript, digestEnv, PR_RESOLVE_JOB, registryAnswerStep, RUNTIME_REFERENCES, runtimeBuildArgs } from "./github-resolve.ts";
import { ACTIONS, checkoutStep } from "./github-actions.ts";
import { entrySettings, freeDiskStep, jobTimeout, labelAndTargetInputs } from "./github-entry.ts";
import { aliasesExpression } from "./github-build-time.ts";

const { content: CONTENT, baseContent: BASE_CONTENT } = RUNTIME_REFERENCES;

/** The pull-request twin of a job's name. */
export function pullRequestJob(name: string): string {
  return `pr_${name}`;
}

/** The twins of the stage jobs: native images build in them too (native and merge jobs publish only). */
export function writePullRequestJobs(out: TextWriter, jobs: readonly StageJob[], options: GithubOptions, settings: EntrySettings, graph: BuildGraph): void {
  const builds = jobs.filter((job) => job.kind === "build");
  const names = new Set(builds.map((job) => job.name));
  for (const job of builds) {
    out.indented(() => {
      out.line(`${pullRequestJob(job.name)}:`);
      out.indented(() => writePullRequestJob(out, job, options, settings, graph, job.needs.filter((need) => names.has(need))));
    });
  }
}

/** A stage job's twin for a pull request: `job` is a build job. */
function writePullRequestJob(out: TextWriter, job: StageJob, options: GithubOptions, settings: EntrySettings, graph: BuildGraph, needs: readonly string[]): void {
  const contentTags = options["content-tags"];
  out.lines([
    "name: ${{ matrix.id }}",
    "needs:",
    ...[PR_RESOLVE_JOB, ...needs.map(pullRequestJob)].map((need) => `  - ${need}`),
    // With content tags a failed image stops only the images built FROM it (their base check).
    `if: \${{ ${[...(contentTags && needs.length > 0 ? ["!cancelled()", `needs.${PR_RESOLVE_JOB}.result == 'success'`] : []), "github.event_name == 'pull_request'"].join(" && ")} }}`,
    `runs-on: ${job.runners ? "${{ matrix.runs-on }}" : yamlScalar(options["runs-on"])}`,
    `timeout-minutes: ${jobTimeout(graph, options["timeout-minutes"])}`,
    "strategy:",
    "  fail-fast: false",
    "  matrix:",
    "    include:",
    ...job.entries.map((entry) => `      - ${entry}`),
    ...(contentTags ? digestEnv(graph, true, PR_RESOLVE_JOB) : []),
    "steps:",
    ...checkoutStep().map((line) => `  ${line}`),
    ...freeDiskStep(options["free-disk"], entrySettings(graph).freeDisk),
    // The docker driver builds FROM the images the runner's docker holds (a base loaded below).
    `  - uses: ${ACTIONS.setupBuildx}`,
    "    with:",
    "      driver: docker",
  ]);
  // With content tags, an image the registry has is not built: its content reference is there to build FROM.
  const unbuilt = contentTags ? "steps.registry.outputs.has != 'true' && " : "";
  if (contentTags) out.lines(registryAnswerStep(PR_RESOLVE_JOB));
  out.lines([
    "  - name: Take the base image this pull request built",
    `    if: ${unbuilt}matrix.base`,
    "    id: base",
    `    uses: ${ACTIONS.downloadArtifact}`,
    // A base the run did not build has no artifact: the image builds FROM the registry's.
    "    continue-on-error: true",
    "    with:",
    "      name: image-${{ matrix.base }}",
    "      path: ${{ runner.temp }}/base",
    "  - name: Load it",
    "    if: steps.base.outcome == 'success'",
    '    run: docker load --input "$RUNNER_TEMP/base/image.tar"',
  ]);
  if (contentTags && needs.length > 0) {
    out.lines([
      "  - name: Check that its base image was built",
      `    if: ${unbuilt}matrix.base`,
      "    env:",
      `      BASE: ${BASE_CONTENT}`,
      "    run: |",
      ...baseCheckScript(graph, true).map((line) => `      ${line}`),
    ]);
  }
  const built = contentTags ? CONTENT : "${{ matrix.image }}";
  out.lines([
    `  - uses: ${ACTIONS.buildPush}`,
    ...(contentTags ? ["    if: steps.registry.outputs.has != 'true'"] : []),
    "    with:",
    "      context: ${{ matrix.context }}",
    "      file: ${{ matrix.dockerfile }}",
    `      build-args: ${contentTags ? runtimeBuildArgs(graph) : "${{ matrix.build-args }}"}`,
    "      tags: |",
    "        ${{ matrix.image }}",
    ...(contentTags ? [`        ${CONTENT}`] : []),
    ...(settings.aliases ? [`        ${aliasesExpression(settings.buildTime, PR_RESOLVE_JOB)}`] : []),
    ...labelAndTargetInputs(settings),
    // The runner's platform, no cache export and no attestations: the docker driver has none of them.
    ...(settings.provenance !== null ? ["      provenance: false"] : []),
    ...(settings.sbom ? ["      sbom: false"] : []),
    "      push: false",
    "      load: true",
  ]);
  if (graph.images.some((image) => image.test !== null)) {
    out.lines([
      "  - name: Test the image",
      `    if: ${unbuilt}matrix.test != ''`,
      "    env:",
      `      IMAGE: ${built}`,
      "      TEST: ${{ matrix.test }}",
      '    run: docker run --rm "$IMAGE" sh -c "$TEST"',
    ]);
  }
  out.lines([
    "  - name: Hand the image to the jobs built FROM it",
    `    if: ${unbuilt}matrix.is-base`,
    "    env:",
    `      IMAGE: ${built}`,
    '    run: docker save --output "$RUNNER_TEMP/image.tar" "$IMAGE"',
    `  - uses: ${ACTIONS.uploadArtifact}`,
    `    if: ${unbuilt}matrix.is-base`,
    "    with:",
    "      name: image-${{ matrix.id }}",
    "      path: ${{ runner.temp }}/image.tar",
    "      retention-days: 1",
  ]);
}
