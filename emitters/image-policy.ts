// What every built-in emitter does alike with an image's `published` (core/graph.ts): an
// internal image is pushed under its content reference alone, and the images built FROM
// it build FROM that. A pipeline written without content references (content-tags=false)
// has nothing else to push it under but its tag, which published = false forbids: such a
// pipeline is refused, naming the option, rather than publish what the matrix keeps in.

import type { BuildGraph, ImageNode } from "../core/graph.ts";
import { CalibanError } from "../core/errors.ts";

/** The graph's internal images (published = false). */
export function internalImages(graph: BuildGraph): ImageNode[] {
  return graph.images.filter((image) => image.published === false);
}

/** Refuses content-tags=false for a graph with internal images: the emitter named in the message. */
export function checkInternalImages(graph: BuildGraph, emitter: string, contentTags: boolean): void {
  if (contentTags) return;
  const internal = internalImages(graph);
  if (internal.length === 0) return;
  const named = internal.slice(0, 3).map((image) => image.id).join(", ") + (internal.length > 3 ? ` and ${internal.length - 3} more` : "");
  throw new CalibanError({
    code: "EMITTER",
    message: `emit ${emitter}: content-tags=false pushes each image under its tag only, and ${internal.length === 1 ? "image" : "images"} ${named} ${internal.length === 1 ? "is" : "are"} internal (published = false): pushed under ${internal.length === 1 ? "its" : "their"} content reference alone, which that option leaves out`,
    hint: "emit with content tags (the default: leave --option content-tags=false out), or publish the images (published = true)",
  });
}
