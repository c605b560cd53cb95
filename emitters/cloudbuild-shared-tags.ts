// Cloud Build and shared tags (`shared_tags`: core/graph.ts, sharedTags). The config that
// builds the last of a shared tag's images ends with one step, `shared-tags`, that pushes
// each such shared tag as one manifest list over its images (docker buildx imagetools
// create, in the builder the buildx steps run in), waiting for the steps that push those
// images; the images an earlier config built were pushed before this config was submitted
// (submit.sh submits each config once the one before has succeeded). A failed step fails
// the build and Cloud Build starts no step after it: the shared tags stay as they were.
// With [publish], only a build that pushes ($_PUSH) pushes them. Each config keeps room
// for the step (one of its setup steps, as the split counts them).

import type { BuildGraph, ImageNode, SharedTag } from "../core/graph.ts";
import { needsBuildx, sharedTagAnnotationSpecs } from "./build-settings.ts";
import { SOURCE_FUNCTIONS, stepText } from "./cloudbuild-resolve.ts";
import { IF_PUSHING, PUSH_SETTING, scriptWord } from "./cloudbuild-steps.ts";

export const SHARED_TAGS_STEP = "shared-tags";

/** Whether the configs need room for a shared-tags step. */
export function hasSharedTags(graph: BuildGraph): boolean {
  return graph.images.some((image) => image.sharedTags !== undefined && image.sharedTags.length > 0);
}

/**
 * The shared-tags step of a config whose images are `images` (indices, graph order): none
 * when no shared tag's last image is among them. `shared` is sharedTags(graph) (core/graph.ts),
 * found once for all the configs. Its sources are the images as they were
 * pushed: with content tags their content references (the digests the resolve step left, read
 * by the functions it left: see cloudbuild-resolve.ts),
 * which an image's step pushes, or points its tags from when the registry has it.
 */
export function sharedTagsSteps(graph: BuildGraph, allShared: readonly SharedTag[], images: readonly number[], indexById: ReadonlyMap<string, number>, builder: string, contentTags: boolean, gated: boolean): object[] {
  if (allShared.length === 0) return [];
  const here = new Set(images);
  const shared = allShared.filter((tag) => here.has(Math.max(...tag.images.map((image) => indexById.get(image.id)!))));
  if (shared.length === 0) return [];
  const sources = [...new Set(shared.flatMap((tag) => tag.images))];
  // With content tags each source is a variable the script sets from the resolve step's digests.
  const word = (image: ImageNode) => (contentTags ? `"$$image_${sources.indexOf(image) + 1}"` : image.reference);
  const lines = [
    ...(contentTags ? sources.map((image, index) => `image_${index + 1}=${image.repository}:inputs-$$(inputs_of ${image.id})`) : []),
    // References hold no character a shell reads (core/graph.ts).
    ...shared.flatMap((tag) => [
      `${contentTags ? "retry " : ""}docker buildx imagetools create${sharedTagAnnotationSpecs(tag.images).map((spec) => ` --annotation ${scriptWord(spec)}`).join("")} --tag ${tag.reference} ${tag.images.map(word).join(" ")}`,
      // With [sign], the list is signed once made (it is no one image's: no inputs digest).
      ...(graph.sign === undefined ? [] : [`sign_reference ${tag.reference}`]),
    ]),
  ];
  const script = [...(gated ? [PUSH_SETTING, IF_PUSHING, ...lines.map((line) => `  ${line}`), "fi"] : lines), ""].join("\n");
  // A source this config pushes: its image's step (with content tags, or buildx: the one step), else its push step.
  const pushStep = (image: ImageNode) => (contentTags || needsBuildx(graph, image) ? image.reference : `${image.reference}-push`);
  const waitFor = sources.filter((image) => here.has(indexById.get(image.id)!)).map(pushStep);
  return [{ id: SHARED_TAGS_STEP, name: builder, entrypoint: "bash", args: ["-c", `${stepText(["set -euo pipefail", ...(contentTags ? [SOURCE_FUNCTIONS] : [])])}${script}`], waitFor }];
}
