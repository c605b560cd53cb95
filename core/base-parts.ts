// The base given as parts (docs/matrix.md, "The base as parts"). A family built FROM another names
// its base in its build args whole, `{from}` (`repository:tag`), or as its two parts,
// `{from.repository}` and `{from.tag}`, each the whole value of an arg, for a Dockerfile
// that says `FROM ${IMAGE_NAME}:${BASE_TAG}` as NVIDIA's CUDA Dockerfiles do. The graph
// says which args hold a part (ImageNode.fromParts). A pipeline that builds FROM the
// base's content reference gives a tag arg the base's content tag, as it gives an arg
// holding the whole reference the content reference, so that the FROM line is the image
// this run built either way; the plan checks that it is (core/plan/base-parts-chain.ts).

import { withBaseContent, type BasePart, type BuildArg, type ImageNode } from "./graph.ts";

/** The parts a template may name, `{from.PART}`, in the order messages list them. */
export const BASE_PARTS: readonly BasePart[] = ["repository", "tag"];

export function isBasePart(name: string): name is BasePart {
  return (BASE_PARTS as readonly string[]).includes(name);
}

/** The part of its base that an image's arg holds, if it holds one. */
export function basePartOf(image: ImageNode, arg: BuildArg): BasePart | undefined {
  return image.fromParts?.[arg.name];
}

/** `inputs-<hex>`: the tag of an image's content reference, which a pipeline gives the arg holding {from.tag}. */
export function contentTagOf(image: ImageNode): string {
  return image.contentReference.slice(image.repository.length + 1);
}

/**
 * An arg's value as a build FROM the base's content reference gets it: the base's content
 * reference where it held the base's reference, the content tag where it is the base's
 * tag; the base's repository stays (the content reference is in the same repository).
 */
export function withBaseContentArg(image: ImageNode, arg: BuildArg, base: ImageNode): string {
  return basePartOf(image, arg) === "tag" ? contentTagOf(base) : withBaseContent(arg.value, base);
}

/**
 * An arg's value as the inputs digest and the graph's shape read it: the base named, not
 * written (`{from}`, `{from.repository}`, `{from.tag}`), since the base's own digest stands
 * for it and the repository images are pushed to is no input. The value itself when it names no base.
 */
export function baseNamedValue(value: string, part: BasePart | undefined, base: { readonly reference: string } | undefined): string {
  if (part !== undefined) return `{from.${part}}`;
  // The common case, from_arg's value: the reference whole.
  if (base !== undefined && value === base.reference) return "{from}";
  return base !== undefined && value.includes(base.reference) ? value.split(base.reference).join("{from}") : value;
}
