// make with DOCKER=podman: podman builds and pushes a plain image as docker does, but its
// `buildx build` is its own `build`, which has no --push, no cache export, attestations or
// annotations, and no `imagetools` to make a manifest list. An image the Makefile builds
// with buildx (emitters/build-settings.ts, needsBuildx: several platforms, a cache, ...),
// and every image FROM one, cannot be built so. Rather than fail at the first of them,
// after every other image was built (a user saw 23 built before `unknown flag: --push`),
// make stops before any build when the goals reach one, and names them.

import { sharedTags, type BuildGraph, type ImageNode } from "../core/graph.ts";
import { needsBuildx } from "./build-settings.ts";
import { sharedTagTarget } from "./make-shared-tags.ts";

/** The images whose targets their tag names too (build/TAG): targets are named by id, a tag also unless it is another image's id or names several images (in several repositories). */
export function tagTargetImages(graph: BuildGraph): ImageNode[] {
  // Most graphs' ids are their tags: then there is nothing to count.
  if (graph.images.every((image) => image.tag === image.id)) return [];
  const ids = new Set(graph.images.map((image) => image.id));
  const uses = graph.images.reduce((count, image) => count.set(image.tag, (count.get(image.tag) ?? 0) + 1), new Map<string, number>());
  return graph.images.filter((image) => image.tag !== image.id && !ids.has(image.tag) && uses.get(image.tag) === 1);
}

/** The Makefile's lines that refuse DOCKER=podman for the goals that reach a buildx-built image (none when no image is). */
export function podmanRefusal(graph: BuildGraph): string[] {
  // An image FROM a refused one is refused too: make builds its base first (and a base comes before its images).
  const refused = new Set<string>();
  for (const image of graph.images) {
    if (needsBuildx(graph, image) || (image.from !== null && refused.has(image.from))) refused.add(image.id);
  }
  if (refused.size === 0) return [];
  const ids = graph.images.filter((image) => refused.has(image.id)).map((image) => image.id);
  const shown = ids.length > 8 ? `${ids.slice(0, 8).join(" ")} and ${ids.length - 8} more` : ids.join(" ");
  const message = `DOCKER=podman cannot build ${ids.length === 1 ? "the image" : `${ids.length} images`} these goals reach: ${shown}. They are built with docker buildx (several platforms, a build cache, attestations, annotations or signing, or FROM such an image), whose --push and manifest lists podman's build has not. Nothing was built: build them with docker (DOCKER=docker), or ask make for the other images' targets`;
  const everyImage = refused.size === graph.images.length;
  const goals = everyImage
    ? "$(filter-out help,$(or $(MAKECMDGOALS),all))"
    : `$(filter all push test ${[
        ...ids.flatMap((id) => [`build/${id}`, `push/${id}`, `test/${id}`]),
        ...tagTargetImages(graph).filter((image) => refused.has(image.id)).flatMap((image) => [`build/${image.tag}`, `push/${image.tag}`]),
        ...graph.families.filter((family) => family.images.some((id) => refused.has(id))).flatMap((family) => [`build/family/${family.name}`, `push/family/${family.name}`]),
        ...sharedTags(graph).map(sharedTagTarget),
      ].join(" ")},$(or $(MAKECMDGOALS),all))`;
  return [
    "# DOCKER=podman: make stops before any build when its goals reach an image podman cannot build (emitters/make-podman.ts).",
    "ifeq ($(notdir $(DOCKER)),podman)",
    `ifneq (${goals},)`,
    `$(error ${message})`,
    "endif",
    "endif",
    "",
  ];
}
