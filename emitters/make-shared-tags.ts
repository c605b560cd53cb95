// make: each shared tag (`shared_tags`: core/graph.ts, sharedTags) is a target that pushes
// one manifest list over its images, `docker buildx imagetools create --tag TAG SOURCE...`,
// each source the image as `make push` pushed it. The target depends on every one of its
// images' push targets, so make runs it only after all of them succeeded: a failed image
// stops it (with -k too: make runs no target whose prerequisite failed), and the shared
// tag stays as it was. `push` depends on it; `make all` and `make test` push nothing.
// With [sign] the manifest list is signed once made (emitters/make-sign.ts).

import { sharedTags, type BuildGraph, type ImageNode, type SharedTag } from "../core/graph.ts";
import type { TextWriter } from "./text.ts";
import { sharedTagAnnotationSpecs } from "./build-settings.ts";
import { makeValue, shellWord } from "./quoting.ts";

/**
 * The shared tags' targets. `source`: an image's reference as a recipe word, as its push
 * target pushed it (its content reference with content tags, the one its tags are pointed
 * from when the registry has it); `tagReference`: the shared tag's reference, moved by
 * REPOSITORY=... as its images are; `retried`: whether a push is retried (`$(RETRY) ...`).
 */
export function writeSharedTagTargets(out: TextWriter, graph: BuildGraph, source: (image: ImageNode) => string, tagReference: (shared: SharedTag) => string, retried: boolean): void {
  const shared = sharedTags(graph);
  if (shared.length === 0) return;
  const targets = shared.map(sharedTagTarget);
  out.lines([
    "# Each shared tag: one manifest list over its images (each as it was pushed), once every one of them is pushed.",
    `.PHONY: ${targets.join(" ")}`,
    `push: ${targets.join(" ")}`,
    "",
  ]);
  shared.forEach((tag, index) => {
    // The annotations its images have alike go on the list, where registries read a description: through a
    // target-specific variable, which holds them as one make value ('$' and '#' escaped by makeValue).
    const specs = sharedTagAnnotationSpecs(tag.images);
    if (specs.length > 0) out.line(`${targets[index]}: CALIBAN_ANNOTATIONS := ${specs.map((spec) => `--annotation ${makeValue(shellWord(spec))}`).join(" ")}`);
    const create = `$(DOCKER) buildx imagetools create${specs.length > 0 ? " $(CALIBAN_ANNOTATIONS)" : ""} --tag ${tagReference(tag)} ${tag.images.map(source).join(" ")}`;
    // With [sign], the new manifest list is signed too (by the digest its tag names once made; it is no one image's, so no inputs digest).
    const sign = graph.sign === undefined ? "" : ` && $(call COSIGN_SIGN,${tagReference(tag)},)`;
    out.lines([`${targets[index]}: ${tag.images.map((image) => `push/${image.id}`).join(" ")}`, `\t${retried ? `$(RETRY) ${create}` : create}${sign}`, ""]);
  });
}

/**
 * A shared tag's target: `push/shared/ID/TAG`, ID its first image's. One tag may be shared
 * in several repositories (each family's `latest`), each a first image of its own; ids and
 * tags hold no '/' or ':', so the name is no other target's.
 */
export function sharedTagTarget(shared: SharedTag): string {
  return `push/shared/${shared.images[0]!.id}/${shared.tag}`;
}
