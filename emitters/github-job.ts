// A GitHub workflow job: its stage's matrix of images, each built by the same steps.
// The registry is asked first (content tags), a smoke test runs before the push, and an
// image checks that its base was built. These jobs run only on runs that publish; a pull
// request runs their twins (github-pr-job.ts), which hold no write permission. Every user value reaches a script as an environment
// variable, never as the script's text.

import type { BuildGraph } from "../core/graph.ts";
import type { GithubOptions, StageJob } from "./github-types.ts";
import type { EntrySettings } from "./github-entry.ts";
import { writeMergeSteps, writeNativeSteps } from "./github-native.ts";
import type { TextWriter } from "./text.ts";
import { yamlScalar } from "./quoting.ts";
import { jobPermissions, writeLogin } from "./github-login.ts";
import { baseCheckScript, digestEnv, PUBLISHING, registryAnswerStep, RESOLVE_JOB, RUNTIME_REFERENCES, runtimeBuildArgs } from "./github-resolve.ts";
import { ACTIONS, checkoutStep, RETRY, retriedStep } from "./github-actions.ts";
import { freeDiskStep, imageTag, jobTimeout, labelAndTargetInputs } from "./github-entry.ts";
import { aliasesExpression, buildTimeRooms } from "./github-build-time.ts";
import { secretStepLines } from "./github-secrets.ts";
import { cosignSetupStep, PUSH_SIGNED, signBuildStep, signingPermissions, signingStep } from "./github-signing.ts";

const { content: CONTENT, baseContent: BASE_CONTENT } = RUNTIME_REFERENCES;

/** A job: its stage's matrix of images, each built and pushed by the same steps. */
export function writeJob(
  out: TextWriter,
  job: StageJob,
  registry: string,
  options: GithubOptions,
  tested: boolean,
  lockJob: boolean,
  settings: EntrySettings,
  graph: BuildGraph,
): void {
  // Aliases, labels (the commit's from github.sha) and target: inputs of build-push-action when some image has them.
  const settingInputs = [
    ...labelAndTargetInputs(settings),
  ];
  const aliasTag = settings.aliases ? [`        ${aliasesExpression(settings.buildTime, RESOLVE_JOB)}`] : [];
  const publishing = PUBLISHING;
  if (job.kind !== "build") {
    writePlatformJob(out, job, registry, options, lockJob, graph);
    return;
  }
  // A native image is built a job per platform (the native jobs), not here.
  const notNative = job.anyNative ? " && !matrix.native" : "";
  // What only a build that pushes gets: platforms, the cache and attestations. A loaded build
  // (a tested image's, before its test) is for the runner's own platform, exports no cache
  // and has no attestations; a tested image is then pushed by a second build, which the
  // cache makes short.
  const loadedWhen = tested ? "matrix.test != ''" : "";
  const buildkitInputs = (pushing: boolean) => buildkitLines(settings, pushing ? "" : loadedWhen);
  settingInputs.push(...buildkitInputs(false));
  // With smoke tests, build-push-action pushes only an image without one; the others are loaded, tested, then pushed.
  const pushes = tested ? `${publishing} && matrix.test == ''` : publishing;
  const push = `\${{ ${pushes} }}`;
  const load = tested ? ["      load: ${{ matrix.test != '' }}"] : [];
  // Every build of an image with secrets is handed them, the loaded one before a smoke test too.
  const secrets = secretStepLines(job.images);
  out.line("name: ${{ matrix.id }}");
  writeNeeds(out, job, options, lockJob);
  out.lines([`runs-on: ${job.runners ? "${{ matrix.runs-on }}" : yamlScalar(options["runs-on"])}`, `timeout-minutes: ${jobTimeout(graph, options["timeout-minutes"])}`, ...jobPermissions(registry, options, "write", signingPermissions(graph)), "strategy:", "  fail-fast: false", "  matrix:", "    include:"]);
  for (const entry of job.entries) out.line(`      - ${entry}`);
  if (options["content-tags"]) out.lines(digestEnv(graph));
  out.lines(["steps:", ...checkoutStep().map((line) => `  ${line}`)]);
  out.lines(freeDiskStep(options["free-disk"], settings.freeDisk));
  if (settings.platforms) {
    // Other platforms than the runner's are built under QEMU.
    out.lines([`  - uses: ${ACTIONS.setupQemu}`, "    if: matrix.platforms != ''"]);
  }
  out.line(`  - uses: ${ACTIONS.setupBuildx}`);
  writeLogin(out, registry, options, publishing);
  out.lines(cosignSetupStep(graph, options, publishing));
  if (!options["content-tags"]) {
    // A build that pushes is tried again when the registry fails it.
    out.lines(retriedStep([
      `  - uses: ${ACTIONS.buildPush}`,
      ...(job.anyNative ? ["    if: ${{ !matrix.native }}"] : []),
      "    with:",
      "      context: ${{ matrix.context }}",
      "      file: ${{ matrix.dockerfile }}",
      "      build-args: ${{ matrix.build-args }}",
      ...(settings.aliases ? ["      tags: |", "        ${{ matrix.image }}", ...aliasTag] : ["      tags: ${{ matrix.image }}"]),
      ...settingInputs,
      `      push: ${push}`,
      ...load,
      ...secrets,
    ], "build", pushes, "The build and push"));
    if (tested) {
      // A native image is built and tested a job per platform.
      const plainCondition = job.anyNative ? "(!matrix.native) && " : "";
      const rebuild = pushBuild(settings, plainCondition, ["      tags: |", "        ${{ matrix.image }}", ...aliasTag], [...settingInputs.filter((line) => !isBuildkitLine(line)), ...buildkitInputs(true)], secrets);
      writeTestThenPush(out, plainCondition, ["IMAGE: ${{ matrix.image }}", ...aliasEnv(settings)], ['retry docker push "$IMAGE"', ...aliasPushes(settings)], "IMAGE", rebuild);
    }
    return;
  }
  // The resolve job asked the registry for the image's content reference: an image it has
  // is not rebuilt, its tag is pointed at it. Matrix values reach the scripts as environment
  // variables, never as text of the script.
  // An internal image (published = false) has no tag to point: its content reference is all there is.
  const pointWhen = `steps.registry.outputs.has == 'true' && ${publishing}${job.anyNative ? " && !matrix.native" : ""}${settings.internal ? " && matrix.published" : ""}`;
  const pointEnv = [`      CONTENT: ${CONTENT}`, "      IMAGE: ${{ matrix.image }}", ...(settings.aliases ? [`      ALIASES: ${aliasesExpression(settings.buildTime, RESOLVE_JOB)}`] : [])];
  const point = settings.aliases
    ? ['tags=(--tag "$IMAGE")', 'while IFS= read -r alias; do [ -n "$alias" ] && tags+=(--tag "$alias"); done <<< "$ALIASES"', 'retry docker buildx imagetools create "${tags[@]}" "$CONTENT"']
    : ['retry docker buildx imagetools create --tag "$IMAGE" "$CONTENT"'];
  out.lines(registryAnswerStep());
  // With [sign], each tag pointed is signed: buildx wraps a single-platform image in a new index, which no signature covers yet.
  if (graph.sign !== undefined) out.lines(signingStep(graph, "Point the tag at it", pointWhen, pointEnv, [...point, settings.aliases ? 'sign_tags "${tags[@]}"' : 'sign_tags --tag "$IMAGE"']));
  else out.lines(["  - name: Point the tag at it", `    if: ${pointWhen}`, "    env:", ...pointEnv, "    run: |", ...[RETRY, ...point].map((line) => `      ${line}`)]);
  if (job.needs.length > 0) {
    out.lines([
      "  - name: Check that its base image was built",
      `    if: steps.registry.outputs.has != 'true' && matrix.base${notNative}`,
      "    env:",
      `      BASE: ${BASE_CONTENT}`,
      "    run: |",
      ...baseCheckScript(graph, false).map((line) => `      ${line}`),
    ]);
  }
  out.lines(retriedStep([
    `  - uses: ${ACTIONS.buildPush}`,
    `    if: steps.registry.outputs.has != 'true'${notNative}`,
    "    with:",
    "      context: ${{ matrix.context }}",
    "      file: ${{ matrix.dockerfile }}",
    `      build-args: ${runtimeBuildArgs(graph)}`,
    "      tags: |",
    `        ${imageTag(settings)}`,
    `        ${CONTENT}`,
    ...aliasTag,
    ...settingInputs,
    `      push: ${push}`,
    ...load,
    ...secrets,
  ], "build", pushes, "The build and push"));
  out.lines(signBuildStep(graph, "build", `steps.registry.outputs.has != 'true'${notNative} && ${pushes}`));
  if (tested) {
    const condition = `steps.registry.outputs.has != 'true'${notNative} && `;
    const rebuild = pushBuild(settings, condition, ["      tags: |", `        ${imageTag(settings)}`, `        ${CONTENT}`, ...aliasTag], [...settingInputs.filter((line) => !isBuildkitLine(line)), ...buildkitInputs(true)], secrets, runtimeBuildArgs(graph));
    writeTestThenPush(
      out,
      condition,
      [`CONTENT: ${CONTENT}`, `IMAGE: ${imageTag(settings)}`, ...aliasEnv(settings)],
      ['retry docker push "$CONTENT"', settings.internal ? '[ -z "$IMAGE" ] || retry docker push "$IMAGE"' : 'retry docker push "$IMAGE"', ...aliasPushes(settings)],
      "CONTENT",
      rebuild === undefined ? undefined : [...rebuild, ...signBuildStep(graph, "push", `${condition}matrix.test != '' && ${PUBLISHING}`)],
      graph,
    );
  }
}

/**
 * A job's needs and its condition. Every job needs the resolve job (the digests, and
 * whether the run publishes) and runs only when it succeeded, and only on a run that
 * publishes: a manual run on a branch [publish] does not list builds nothing. With content tags a failed
 * image stops only the images built FROM it: a later stage runs though an entry of the
 * one before failed, and each image first checks that its own base is there (by its
 * content reference, which only a successful build makes). With a lock, a scheduled run
 * only updates it (the lock job): the build runs on the commit that job makes.
 */
export function writeNeeds(out: TextWriter, job: Pick<StageJob, "needs">, options: GithubOptions, lockJob: boolean): void {
  out.lines(["needs:", ...[RESOLVE_JOB, ...job.needs].map((need) => `  - ${need}`)]);
  const conditions = [
    ...(options["content-tags"] && job.needs.length > 0 ? ["!cancelled()", `needs.${RESOLVE_JOB}.result == 'success'`] : []),
    PUBLISHING,
    ...(lockJob ? ["github.event_name != 'schedule'"] : []),
  ];
  out.line(`if: \${{ ${conditions.join(" && ")} }}`);
}

/**
 * A stage's native job (one platform's build of each native image, on its runner) or its
 * merge job (the platforms joined under every tag): on pushes, the schedule and manual
 * runs only; a pull request builds these images in its own stage job.
 */
function writePlatformJob(out: TextWriter, job: StageJob, registry: string, options: GithubOptions, lockJob: boolean, graph: BuildGraph): void {
  out.line(job.kind === "native" ? "name: ${{ matrix.id }} (${{ matrix.platform }})" : "name: ${{ matrix.id }} (all platforms)");
  writeNeeds(out, job, options, lockJob);
  // A merge job only joins manifests: the option's time, whatever a family's build takes.
  out.lines([`runs-on: ${job.kind === "native" ? "${{ matrix.runs-on }}" : yamlScalar(options["runs-on"])}`, `timeout-minutes: ${job.kind === "native" ? jobTimeout(graph, options["timeout-minutes"]) : options["timeout-minutes"]}`, ...jobPermissions(registry, options, "write", job.kind === "merge" ? signingPermissions(graph) : []), "strategy:", "  fail-fast: false", "  matrix:", "    include:"]);
  for (const entry of job.entries) out.line(`      - ${entry}`);
  if (options["content-tags"]) out.lines(digestEnv(graph, job.kind === "native"));
  out.lines(["steps:", ...(job.kind === "native" ? checkoutStep().map((line) => `  ${line}`) : []), `  - uses: ${ACTIONS.setupBuildx}`]);
  writeLogin(out, registry, options, PUBLISHING);
  // A platform's build is signed in its merge job (cosign sign --recursive signs the list and every platform in it): only the merge holds what signing needs.
  if (job.kind === "native") writeNativeSteps(out, graph, options, job.images);
  else writeMergeSteps(out, options, aliasesExpression(buildTimeRooms(graph), RESOLVE_JOB), graph);
}

/**
 * build-push-action's platforms, cache-from, cache-to, provenance and sbom, when the graph
 * sets them. `loaded`: the condition under which the build is loaded rather than pushed
 * (then for the runner's platform only, with no cache export and no attestations); `""`
 * for a build that always pushes.
 */
function buildkitLines(settings: EntrySettings, loaded: string): string[] {
  // An input's value: `always` when the build always pushes; else `pushed` (an expression) unless loaded.
  // GitHub's `a && b || c` is b when a holds only if b is not empty: the pushed value comes first.
  const unlessLoaded = (pushed: string, always: string, otherwise: string) => (loaded === "" ? always : `\${{ !(${loaded}) && ${pushed} || ${otherwise} }}`);
  const lines: string[] = [];
  if (settings.platforms) lines.push(`      platforms: ${unlessLoaded("matrix.platforms", "${{ matrix.platforms }}", "''")}`);
  if (settings.cache) {
    lines.push("      cache-from: ${{ matrix.cache-from }}");
    lines.push(`      cache-to: ${unlessLoaded("matrix.cache-to", "${{ matrix.cache-to }}", "''")}`);
  }
  if (settings.provenance !== null) lines.push(`      provenance: ${unlessLoaded(`'mode=${settings.provenance}'`, `mode=${settings.provenance}`, "'false'")}`);
  if (settings.sbom) lines.push(`      sbom: ${unlessLoaded("'true'", "true", "'false'")}`);
  // Annotations go with the push: an image loaded into docker keeps none.
  if (settings.annotations) lines.push(`      annotations: ${unlessLoaded("matrix.annotations", "${{ matrix.annotations }}", "''")}`);
  return lines;
}

const BUILDKIT_INPUTS = ["      platforms:", "      cache-from:", "      cache-to:", "      provenance:", "      sbom:", "      annotations:"];

function isBuildkitLine(line: string): boolean {
  return BUILDKIT_INPUTS.some((start) => line.startsWith(start));
}

/**
 * With platforms or attestations, a tested image is pushed by a second build-push-action
 * (its layers in the builder's cache): a `docker push` of the loaded image would push one
 * platform and no attestation. Undefined when a `docker push` pushes all there is.
 */
function pushBuild(settings: EntrySettings, condition: string, tags: readonly string[], inputs: readonly string[], secrets: readonly string[], buildArgs = "${{ matrix.build-args }}"): string[] | undefined {
  if (!settings.platforms && settings.provenance === null && !settings.sbom) return undefined;
  return retriedStep([
    `  - uses: ${ACTIONS.buildPush}`,
    `    if: ${condition}matrix.test != '' && ${PUBLISHING}`,
    "    with:",
    "      context: ${{ matrix.context }}",
    "      file: ${{ matrix.dockerfile }}",
    `      build-args: ${buildArgs}`,
    ...tags,
    ...inputs,
    "      push: true",
    ...secrets,
  ], "push", "true", "The push");
}

/** A tested image's aliases, pushed after it: from the entry's newline-separated list. */
function aliasEnv(settings: EntrySettings): string[] {
  return settings.aliases ? [`ALIASES: ${aliasesExpression(settings.buildTime, RESOLVE_JOB)}`] : [];
}

function aliasPushes(settings: EntrySettings): string[] {
  return settings.aliases ? ['while IFS= read -r alias; do [ -z "$alias" ] || retry docker push "$alias"; done <<< "$ALIASES"'] : [];
}

/**
 * The family's smoke test in the image just built (`sh -c TEST`, the test from the matrix
 * entry as an environment variable), then its push: a failing test ends the job before
 * the push, and the images built FROM it find no base (see the base check).
 */
function writeTestThenPush(out: TextWriter, condition: string, env: readonly string[], pushes: readonly string[], tested: string, rebuild?: readonly string[], graph?: BuildGraph): void {
  out.lines([
    "  - name: Test the image",
    `    if: ${condition}matrix.test != ''`,
    "    env:",
    ...env.map((line) => `      ${line}`),
    "      TEST: ${{ matrix.test }}",
    `    run: docker run --rm "$${tested}" sh -c "$TEST"`,
  ]);
  if (rebuild) {
    out.lines(rebuild);
    return;
  }
  const when = `${condition}matrix.test != '' && ${PUBLISHING}`;
  if (graph?.sign !== undefined) {
    // With [sign], each push is signed by the digest the registry answered it with (push_signed).
    out.lines(signingStep(graph, "Push it", when, env.map((line) => `      ${line}`), [...PUSH_SIGNED, ...pushes.map((line) => line.replaceAll("retry docker push", "push_signed"))]));
    return;
  }
  out.lines([
    "  - name: Push it",
    `    if: ${when}`,
    "    env:",
    ...env.map((line) => `      ${line}`),
    "    run: |",
    ...[RETRY, ...pushes].map((line) => `      ${line}`),
  ]);
}
