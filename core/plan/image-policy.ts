// An image's `published`, `rebuild`, `free_disk` (core/matrix/matrix-policy.ts) and `secrets`, as the graph carries
// them: a field only where it differs from the default, so a graph that uses neither is
// the graph it was. Neither is an input (the digester never sees them). An internal image
// is pushed under its content reference alone: an alias or a shared tag of it would
// publish nothing, and is refused where it is written.

import { formatKeyPath, type KeyPath } from "../errors.ts";
import type { BuildSecret } from "../graph.ts";
import type { CompiledFamily } from "./compile-family.ts";
import type { TaggedImage } from "./image-tags.ts";
import { describeCombination } from "./combination-text.ts";

/** Sets the image's `published`, `rebuild`, `freeDisk` and `secrets` fields where they apply; an internal image's aliases and shared tags are reported (once per place each is written). */
export function setImagePolicy(node: { published?: false; rebuild?: "always"; freeDisk?: true; secrets?: readonly BuildSecret[] }, compiled: CompiledFamily, image: TaggedImage, aliases: readonly string[], shared: readonly string[]): void {
  const internal = compiled.published === false;
  if (internal) {
    refuseTags(compiled, image, "alias", aliases, compiled.aliasPaths);
    refuseTags(compiled, image, "shared tag", shared, compiled.sharedTagPaths);
    node.published = false;
  }
  if (compiled.rebuild === "always") node.rebuild = "always";
  if (compiled.freeDisk === true) node.freeDisk = true;
  if (compiled.secrets !== undefined) node.secrets = compiled.secrets;
}

function refuseTags(compiled: CompiledFamily, image: TaggedImage, what: string, tags: readonly string[], keyPaths: readonly KeyPath[]): void {
  tags.forEach((tag, index) => {
    const keyPath = keyPaths[index]!;
    if (!image.firstReport(`published\u0000${keyPath.join(".")}\u0000${compiled.publishedPath.join(".")}`)) return;
    const message = `the ${what} "${tag}" of ${describeCombination(image.values)} of "${image.family}" would publish nothing: the image is internal (published = false, at ${formatKeyPath(compiled.publishedPath)}), pushed under its content reference only`;
    image.report("INVALID_VALUE", keyPath, message, `leave the ${what} out for internal images (a \`when\` rule can give published = false to the images without one), or publish the image`);
  });
}
