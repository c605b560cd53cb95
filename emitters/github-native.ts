// Multi-platform images on native runners (the `platform-runners` option): an image whose
// every platform has a runner is built by one job per platform on that runner, pushed by
// digest, and a merge job joins the digests into one manifest list under every tag
// (docker buildx imagetools create), as Docker's own guide does it. Pull requests are
// unchanged: the stage job builds such an image for the runner's platform and pushes
// nothing. A tested image is built and tested on each platform's runner before its digest
// is handed on: the merge joins only platforms that passed. An image with a platform
// without a runner is built in one job under QEMU, as without the option.

import { CalibanError } from "../core/errors.ts";
import { hasOwnRepositories, type BuildGraph, type ImageNode } from "../core/graph.ts";
import { imageAnnotationSpecs, platformCacheSpecs, platformSlug } from "./build-settings.ts";
import type { OptionValue } from "./contract.ts";
import type { GithubOptions } from "./github-types.ts";
import { buildArgLines, labelFields, repositoryFields, type Digests } from "./github-entry.ts";
import { baseCheckScript, registryAnswerStep, RUNTIME_REFERENCES, runtimeBuildArgs } from "./github-resolve.ts";
import type { TextWriter } from "./text.ts";
import { ACTIONS, RETRY, retriedStep } from "./github-actions.ts";
import { githubAlias } from "./github-build-time.ts";
import { secretFields, secretStepLines } from "./github-secrets.ts";
import { hasSecrets } from "./secrets.ts";
import { cosignSetupStep, signingStep } from "./github-signing.ts";

const PAIR = /^([a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?)=([^=,\s]+)$/;

/** `linux/amd64=ubuntu-latest,linux/arm64=ubuntu-24.04-arm` → platform → runner label. */
export function platformRunners(option: string): Map<string, string> {
  const runners = new Map<string, string>();
  for (const pair of option.split(",").filter((text) => text.trim() !== "")) runners.set(PAIR.exec(pair.trim())![1]!, PAIR.exec(pair.trim())![2]!);
  return runners;
}

export function platformRunnersProblem(value: OptionValue): string | undefined {
  const text = String(value);
  if (text === "") return undefined;
  if (text.includes("${{")) return "cannot hold an expression (`${{`)";
  const bad = text.split(",").find((pair) => !PAIR.test(pair.trim()));
  return bad === undefined ? undefined : `${JSON.stringify(bad)} is not PLATFORM=RUNNER (e.g. linux/arm64=ubuntu-24.04-arm)`;
}

/** The images built one job per platform: more than one platform, each with a runner. */
export function nativeImages(graph: BuildGraph, runners: ReadonlyMap<string, string>): Set<string> {
  if (runners.size === 0) return new Set();
  return new Set(graph.images.filter((image) => image.platforms.length > 1 && image.platforms.every((platform) => runners.has(platform))).map((image) => image.id));
}

/** One platform's build of an image: its matrix entry in the stage's native job. */
export function nativeEntry(image: ImageNode, platform: string, runner: string, graph: BuildGraph, literal: (text: string) => string, digests: Digests, base: ImageNode | undefined, timeout: number | undefined): string {
  const cache = platformCacheSpecs(graph, image, "gha", platform);
  return JSON.stringify({
    id: image.id,
    image: image.reference,
    ...(hasOwnRepositories(graph) ? repositoryFields(image, base) : {}),
    base: base ? base.id : "",
    platform,
    "platform-slug": platformSlug(platform),
    "runs-on": [literal(runner)],
    dockerfile: literal(image.dockerfile),
    context: literal(image.context),
    "build-args": buildArgLines(image, base, literal, digests),
    ...labelFields(image, literal),
    target: literal(image.target ?? ""),
    // The family's smoke test ("" for none), run on this platform's runner before the push.
    test: literal(image.test ?? ""),
    "cache-from": cache.from.join("\n"),
    "cache-to": cache.to.join("\n"),
    ...(timeout === undefined ? {} : { "timeout-minutes": timeout }),
    ...(hasSecrets(graph) ? secretFields(image, literal) : {}),
    // Its annotations on this platform's push (the manifest; an index too with attestations); the merge job puts them on the list.
    ...(annotated(graph) ? { annotations: literal(imageAnnotationSpecs({ ...image, platforms: [platform] }, graph.attest.provenance !== null || graph.attest.sbom).join("\n")) } : {}),
  });
}

/** Whether some image has annotations: every entry then names its own. Asked once a graph, not once an entry. */
const annotatedGraphs = new WeakMap<BuildGraph, boolean>();
function annotated(graph: BuildGraph): boolean {
  let found = annotatedGraphs.get(graph);
  if (found === undefined) annotatedGraphs.set(graph, (found = graph.images.some((image) => image.annotations !== undefined)));
  return found;
}

/** An image's entry in the merge job: the tags its manifest list gets, and how many platforms it joins. */
export function mergeEntry(image: ImageNode, buildTime: readonly number[] | null, internal = false, annotations = false): string {
  return JSON.stringify({
    id: image.id,
    image: image.reference,
    // When some image is internal (published = false): whether this one's tag is pushed.
    ...(internal ? { published: image.published !== false } : {}),
    repository: image.repository,
    aliases: image.aliases.map((alias) => `${image.repository}:${buildTime === null ? alias : githubAlias(alias, buildTime)}`).join("\n"),
    platforms: image.platforms.length,
    // The list's own annotations, one a line, when some image has any.
    ...(annotations ? { annotations: (image.annotations ?? []).map((annotation) => `index:${annotation.name}=${annotation.value}`).join("\n") } : {}),
  });
}

/** The native job's steps (after checkout, buildx and the login): look up, build one platform and push it by digest, hand the digest to the merge job. */
export function writeNativeSteps(out: TextWriter, graph: BuildGraph, options: GithubOptions, images: readonly ImageNode[]): void {
  const contentTags = options["content-tags"];
  const building = contentTags ? "steps.registry.outputs.has != 'true'" : "";
  if (contentTags) {
    out.lines([
      ...registryAnswerStep(),
      "  - name: Check that its base image was built",
      `    if: ${building} && matrix.base`,
      "    env:",
      `      BASE: ${RUNTIME_REFERENCES.baseContent}`,
      "    run: |",
      ...baseCheckScript(graph, false).map((line) => `      ${line}`),
    ]);
  }
  const attest = graph.attest;
  // Both builds of an image with secrets are handed them (github-secrets.ts).
  const secrets = secretStepLines(images);
  const inputs = [
    "      context: ${{ matrix.context }}",
    "      file: ${{ matrix.dockerfile }}",
    `      build-args: ${contentTags ? runtimeBuildArgs(graph) : "${{ matrix.build-args }}"}`,
    "      labels: |",
    "        ${{ matrix.labels }}",
    "        ${{ matrix.revision-label && format('{0}={1}', matrix.revision-label, github.sha) || '' }}",
    "      target: ${{ matrix.target }}",
  ];
  if (graph.images.some((image) => image.test !== null)) {
    // A tested image: built for this runner's own platform, loaded and tested first; a failure
    // ends the job before its digest is pushed, so the merge joins nothing of it.
    const tested = `${building ? `${building} && ` : ""}matrix.test != ''`;
    out.lines([
      `  - uses: ${ACTIONS.buildPush}`,
      `    if: ${tested}`,
      "    with:",
      ...inputs,
      ...(graph.cache ? ["      cache-from: ${{ matrix.cache-from }}"] : []),
      // Loaded into this runner's docker only: nothing is pushed by this build.
      "      tags: ${{ matrix.image }}",
      "      load: true",
      ...secrets,
      "  - name: Test the image on this platform",
      `    if: ${tested}`,
      "    env:",
      "      IMAGE: ${{ matrix.image }}",
      "      TEST: ${{ matrix.test }}",
      '    run: docker run --rm "$IMAGE" sh -c "$TEST"',
    ]);
  }
  // Pushed by digest, tried again when the registry fails it (retriedStep).
  out.lines(retriedStep([
    `  - uses: ${ACTIONS.buildPush}`,
    ...(building ? [`    if: ${building}`] : []),
    "    with:",
    ...inputs,
    "      platforms: ${{ matrix.platform }}",
    ...(graph.cache ? ["      cache-from: ${{ matrix.cache-from }}", "      cache-to: ${{ matrix.cache-to }}"] : []),
    ...(attest.provenance !== null ? [`      provenance: mode=${attest.provenance}`] : []),
    ...(attest.sbom ? ["      sbom: true"] : []),
    // By digest: the merge job gives the manifest list its tags.
    ...(annotated(graph) ? ["      annotations: ${{ matrix.annotations }}"] : []),
    "      outputs: type=image,name=${{ matrix.image }},push-by-digest=true,name-canonical=true,push=true",
    ...secrets,
  ], "build", "true", "The build and push"));
  out.lines([
    "  - name: Hand the digest to the merge job",
    ...(building ? [`    if: ${building}`] : []),
    "    env:",
    "      DIGEST: ${{ steps.build.outputs.digest || steps.build-2.outputs.digest || steps.build-3.outputs.digest }}",
    "    run: |",
    '      mkdir -p "$RUNNER_TEMP/digests"',
    '      touch "$RUNNER_TEMP/digests/${DIGEST#sha256:}"',
    `  - uses: ${ACTIONS.uploadArtifact}`,
    ...(building ? [`    if: ${building}`] : []),
    "    with:",
    "      name: digests-${{ matrix.id }}-${{ matrix.platform-slug }}",
    "      path: ${{ runner.temp }}/digests/*",
    "      if-no-files-found: error",
    "      retention-days: 1",
  ]);
}

/**
 * The merge job's steps: the registry has the image (point its tags at it), or the
 * platforms' digests are joined under every tag. With [sign], each tag is signed once it
 * names the list (cosign sign --recursive: the list and every platform in it).
 */
export function writeMergeSteps(out: TextWriter, options: GithubOptions, aliases: string, graph: BuildGraph): void {
  const contentTags = options["content-tags"];
  const internal = graph.images.some((image) => image.published === false);
  const signs = graph.sign !== undefined;
  out.lines(cosignSetupStep(graph, options, ""));
  if (contentTags) out.lines(registryAnswerStep());
  const building = contentTags ? "steps.registry.outputs.has != 'true'" : "";
  out.lines([
    `  - uses: ${ACTIONS.downloadArtifact}`,
    ...(building ? [`    if: ${building}`] : []),
    "    with:",
    "      pattern: digests-${{ matrix.id }}-*",
    "      path: ${{ runner.temp }}/digests",
    "      merge-multiple: true",
  ]);
  const env = [
    "      IMAGE: ${{ matrix.image }}",
    ...(internal ? ["      PUBLISHED: ${{ matrix.published }}"] : []),
    ...(contentTags ? [`      CONTENT: ${RUNTIME_REFERENCES.content}`, "      HAS: ${{ steps.registry.outputs.has }}"] : []),
    "      REPOSITORY: ${{ matrix.repository }}",
    `      ALIASES: ${aliases}`,
    "      PLATFORMS: ${{ matrix.platforms }}",
    ...(annotated(graph) ? ["      ANNOTATIONS: ${{ matrix.annotations }}"] : []),
  ];
  const signed = signs ? 'sign_tags "${tags[@]}"; ' : "";
  const script = [
    // An internal image's (published = false) platforms are joined under its content reference alone.
    ...(internal ? ["tags=()", '[ "$PUBLISHED" = false ] || tags+=(--tag "$IMAGE")'] : ['tags=(--tag "$IMAGE")']),
    ...(contentTags ? ['[ "$HAS" = true ] || tags+=(--tag "$CONTENT")'] : []),
    'while IFS= read -r alias; do [ -z "$alias" ] || tags+=(--tag "$alias"); done <<< "$ALIASES"',
    ...(contentTags ? [`if [ "$HAS" = true ]; then ${internal ? '[ "${#tags[@]}" = 0 ] || ' : ""}retry docker buildx imagetools create "\${tags[@]}" "$CONTENT"; ${signed}exit 0; fi`] : []),
    'cd "$RUNNER_TEMP/digests"',
    "digests=(*)",
    'if [ "${#digests[@]}" != "$PLATFORMS" ]; then',
    '  echo "::error::$IMAGE: ${#digests[@]} of $PLATFORMS platforms were built (a platform\'s job failed): not joined"',
    "  exit 1",
    "fi",
    // Each platform's digest (a file named by it) as a source of the list: one word each.
    'sources=("${digests[@]/#/$REPOSITORY@sha256:}")',
    // The image's annotations on the list it makes (data in the environment, never script text).
    ...(annotated(graph)
      ? ["flags=()", 'while IFS= read -r annotation; do [ -z "$annotation" ] || flags+=(--annotation "$annotation"); done <<< "$ANNOTATIONS"', 'retry docker buildx imagetools create "${flags[@]}" "${tags[@]}" "${sources[@]}"']
      : ['retry docker buildx imagetools create "${tags[@]}" "${sources[@]}"']),
    ...(signs ? ['sign_tags "${tags[@]}"'] : []),
  ];
  const name = "Join the platforms under every tag";
  if (signs) out.lines(signingStep(graph, name, "", env, script));
  else out.lines([`  - name: ${name}`, "    env:", ...env, "    run: |", ...[RETRY, ...script].map((line) => `      ${line}`)]);
}

/** Refuses what the native jobs cannot do: the matrix-only format, which has no merge job. */
export function checkPlatformRunners(options: GithubOptions): void {
  if (options["platform-runners"] !== "" && options.format === "matrix") {
    throw new CalibanError({ code: "EMITTER", message: "emit github: platform-runners needs the whole workflow (its merge jobs); --format matrix writes none", hint: "leave platform-runners out, or emit the workflow" });
  }
}
