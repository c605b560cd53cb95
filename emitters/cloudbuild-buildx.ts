// Cloud Build steps for an image with platforms, a build cache or attestations: buildx
// (BuildKit) in the docker builder image, with a builder of the docker-container driver
// that one setup step makes (and QEMU, for other platforms than the worker's). Every step
// of a build shares one daemon and /builder/home, so the builder made once serves all.
//
// BuildKit's builder pulls an image's base from the registry, which the base's own step
// pushed (`--push`: every tag, the cache exported, the attestations attached). A build that
// pushes nothing (`_PUSH=false`, a pull request's) builds with `docker build` instead, for
// the worker's platform, into the shared daemon where the images built FROM it find it.

import { cacheReference, type BuildGraph, type ImageNode } from "../core/graph.ts";
import { annotationSpecs, attestSpecs, cacheSpecs } from "./build-settings.ts";
import { CONTENT_WORD, digestPrelude, registryHasCall } from "./cloudbuild-resolve.ts";
import { IF_PUSHING, PUSH_SETTING, secretScriptParts } from "./cloudbuild-steps.ts";
import { splitAliases } from "./build-time.ts";
import { BUILD_TIME_CALL, stampedAliases } from "./cloudbuild-build-time.ts";

export const BUILDX_STEP = "buildx";
const BUILDER = "caliban-images";

/** The setup step: QEMU's handlers when an image has other platforms, and the builder. */
export function buildxSetupStep(graph: BuildGraph, builder: string, waitFor: string) {
  const platforms = graph.images.some((image) => image.platforms.length > 0);
  const script = [
    "set -euo pipefail",
    ...(platforms ? ["docker run --privileged --rm tonistiigi/binfmt --install all"] : []),
    `docker buildx create --name ${BUILDER} --driver docker-container --use`,
    "",
  ].join("\n");
  return { id: BUILDX_STEP, name: builder, entrypoint: "bash", args: ["-c", script], waitFor: [waitFor] };
}

/** With [sign], a push that signs the digest buildx names in its metadata file (signing.ts's sign_pushed); '$' doubled for Cloud Build. */
function signedPush(graph: BuildGraph, image: ImageNode, push: string): string[] {
  if (graph.sign === undefined) return [push];
  return ["meta=$$(mktemp)", push.replace(" --push ", () => ' --push --metadata-file "$$meta" '), `sign_pushed ${image.repository} "$$meta" "$$(inputs_of ${image.id})"`];
}

/**
 * The image's step script. `word` writes a shell word for a Cloud Build step (its '$'
 * doubled); `settings` are its -t, --label and --target words; `args` its --build-arg words.
 */
export function buildxScript(
  graph: BuildGraph,
  image: ImageNode,
  contentTags: boolean,
  gated: boolean,
  word: (text: string) => string,
  settings: string,
  args: string,
  base: ImageNode | undefined,
): string {
  const content = CONTENT_WORD;
  const aliases = splitAliases(image).fixed.map((alias) => `${image.repository}:${alias}`);
  // The aliases naming build-time values go with the push only, their values found then.
  const stamped = stampedAliases(image);
  const found = stamped.words.length > 0 ? [BUILD_TIME_CALL] : [];
  const stampedTags = stamped.words.map((word) => ` -t ${word}`).join("");
  // An internal image (published = false) is tagged with its content reference alone.
  // Its secrets go with every build (handed to it only when it pushes, with [publish]); the retag names no build.
  const secrets = secretScriptParts(image, gated);
  const tags = `${image.published === false ? `-t ${content}` : `-t ${image.reference}${contentTags ? ` -t ${content}` : ""}`}${settings}${secrets.word}`;
  const source = `-f ${word(image.dockerfile)}${args} ${word(image.context)}`;
  const cache = cacheSpecs(graph, image, "registry", image.reference, cacheReference(graph, image));
  const cacheFlags = [...cache.from.map((spec) => ` --cache-from ${spec}`), ...cache.to.map((spec) => ` --cache-to ${spec}`)].join("");
  const attest = [...attestSpecs(graph).map((spec) => ` --attest ${spec}`), ...annotationSpecs(graph, image).map((spec) => ` --annotation ${word(spec)}`)].join("");
  const platforms = image.platforms.length === 0 ? "" : ` --platform ${image.platforms.join(",")}`;
  const tested = contentTags ? content : image.reference;
  const test = image.test === null ? [] : [`docker run --rm ${tested} sh -c ${word(image.test)}`];
  const push = [
    ...(image.test === null ? [] : [`docker build ${tags} ${source}`, ...test]),
    ...found,
    ...signedPush(graph, image, `${contentTags ? "retry " : ""}docker buildx build --builder ${BUILDER}${platforms}${cacheFlags}${attest} --push ${tags}${stampedTags} ${source}`),
  ];
  const local = [`docker build ${tags} ${source}`, ...test];
  const indent = (lines: readonly string[], depth: number) => lines.map((line) => `${"  ".repeat(depth)}${line}`);
  const build = (depth: number) => (gated ? [`${"  ".repeat(depth)}${IF_PUSHING}`, ...indent(push, depth + 1), `${"  ".repeat(depth)}else`, ...indent(local, depth + 1), `${"  ".repeat(depth)}fi`] : indent(push, depth));
  const setting = [...(gated ? [PUSH_SETTING] : []), ...secrets.define];
  if (!contentTags) return ["set -euo pipefail", ...stamped.define, ...setting, ...build(0), ""].join("\n");
  // rebuild = "always": built whatever the registry has, so it is not asked.
  if (image.rebuild === "always") return `${digestPrelude(image, base)}${[...stamped.define, ...setting, `echo '${image.reference}: rebuilt every run (rebuild = "always")'`, ...build(0), ""].join("\n")}`;
  // The registry has it: its tags (every platform's manifest) are pointed at it; an internal image has none.
  const pointed = [image.reference, ...aliases, ...stamped.words];
  // A pointed tag names a new manifest when buildx wraps a single-platform image in an index: with [sign], each is signed.
  const signPointed = graph.sign === undefined ? [] : pointed.map((reference) => `sign_reference ${reference} "$$(inputs_of ${image.id})"`);
  const retag = image.published === false ? [] : [...found, `retry docker buildx imagetools create ${pointed.map((reference) => `--tag ${reference}`).join(" ")} ${content}`, ...signPointed];
  return `${digestPrelude(image, base)}${[
    ...stamped.define,
    ...setting,
    `if ${registryHasCall(image, graph.sign !== undefined)}; then`,
    `  echo '${image.reference}: the registry has its inputs digest: not rebuilt'`,
    ...(retag.length === 0 ? [] : gated ? [`  ${IF_PUSHING}`, ...indent(retag, 2), "  fi"] : indent(retag, 1)),
    "else",
    ...build(1),
    "fi",
    "",
  ].join("\n")}`;
}
