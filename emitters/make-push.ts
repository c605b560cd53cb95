// make's `push/ID` with content tags: resolve said whether the registry has the image's
// content reference (`present/ID=1`); an image it has is not rebuilt, its tag and aliases
// are pointed at it, and any other is built and pushed. An internal image (published =
// false) has no tag to point: it is there, or built and pushed under its content
// reference alone. An image rebuilt every run (rebuild = "always") reads no answer.

import type { ImageNode } from "../core/graph.ts";

/**
 * The recipe: `content` is the image's content reference as a shell word, `pointed` the
 * references to point at it when the registry has it (its tag and aliases; none for an
 * internal image), `commands` what builds and pushes it otherwise, in order.
 */
export function contentPushRecipe(image: ImageNode, base: ImageNode | undefined, content: string, pointed: readonly string[], commands: readonly string[], signPointed?: (reference: string) => string): string {
  const head = `push/${image.id}:${base ? ` push/${base.id}` : ""}\n`;
  if (image.rebuild === "always") return `${head}${joined(commands, "\t", "\n", "\n")}\n`;
  // A pointed tag may name a new manifest (buildx wraps a single-platform image in an index): with [sign], it is signed too.
  let points = "";
  for (const reference of pointed) points += `${points === "" ? "; \\\n\t  " : " && \\\n\t  "}$(RETRY) $(call POINT_TAG,${content},${reference})${signPointed ? ` && ${signPointed(reference)}` : ""}`;
  return `${head}\t${present(image)} \\
\t  echo 'push/${image.id}: the registry has its inputs digest: not rebuilt'${points}; \\
\telse \\
${joined(commands, "\t  ", " && \\\n", "; \\\n")}\tfi

`;
}

/**
 * `lines`, each after `before` and before `between` (`after` for the last): as Array's join
 * would, but by concatenation, which leaves the copying of long lines (a build command, of
 * many pieces) to the file's write, where it is done anyway. A join copies each one now.
 */
function joined(lines: readonly string[], before: string, between: string, after: string): string {
  let text = "";
  for (let i = 0; i < lines.length; i++) text += before + lines[i]! + (i === lines.length - 1 ? after : between);
  return text;
}

/** What resolve said of the image's content tag, as data the recipe reads (`present/ID` is 1 when the registry has it). */
function present(image: ImageNode): string {
  return `present='$(present/${image.id})'; if [ "$$present" = 1 ]; then`;
}
