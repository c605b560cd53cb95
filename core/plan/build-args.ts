// Build args: in order with names unique (the rule both the planner and the lock pinner
// apply), which one gives the base image's reference, and which give its parts.

import type { BasePart, BuildArg, ImageNode } from "../graph.ts";
import type { Indices } from "./combinations.ts";
import type { CompiledArg, CompiledFamily } from "./compile-family.ts";

/** Sets an arg: a later arg of the same name replaces the earlier one, in its place. Args are few: a scan beats a map. */
export function setArg(args: BuildArg[], arg: BuildArg): void {
  for (let i = 0; i < args.length; i++) {
    if (args[i]!.name === arg.name) {
      args[i] = arg;
      return;
    }
  }
  args.push(arg);
}

/** The arg that gives exactly the base's reference, if the one meant to still does (a later arg of its name may replace it). */
export function exactBaseArg(args: readonly BuildArg[], name: string | undefined, base: ImageNode): string | null {
  const arg = name === undefined ? undefined : args.find((a) => a.name === name);
  return arg !== undefined && arg.value === base.reference ? arg.name : null;
}

/** Base image → arg name → the arg giving that base's reference (`from_arg`). */
const baseArgs = new WeakMap<ImageNode, Map<string, BuildArg>>();

/** The arg naming a base image's reference: one object per base, shared by the images built FROM it. */
export function baseReferenceArg(name: string, base: ImageNode): BuildArg {
  let byName = baseArgs.get(base);
  if (!byName) baseArgs.set(base, (byName = new Map()));
  let arg = byName.get(name);
  if (!arg) byName.set(name, (arg = { name, value: base.reference }));
  return arg;
}

/** Whether an arg source's template is one part of the base, `{from.repository}` or `{from.tag}` (the reader allows them only whole). */
function partOf(source: CompiledArg): BasePart | undefined {
  if (source.kind !== "template" || source.parts.length !== 1) return undefined;
  const only = source.parts[0]!;
  return typeof only === "object" && "from" in only && only.from !== "reference" ? only.from : undefined;
}

/** The views whose args name no part of the base: most, and every image of them is answered at once. */
const withoutParts = new WeakSet<readonly CompiledArg[]>();

/**
 * The args of an image (`args`, as the planner set them) that hold a part of its base,
 * in their order (ImageNode.fromParts), or undefined for none: an arg whose template is
 * `{from.tag}` holds the tag, unless a later arg of its name replaced it.
 */
export function fromPartsOf(compiled: CompiledFamily, indices: Indices, args: readonly BuildArg[]): Readonly<Record<string, BasePart>> | undefined {
  const sources = compiled.args;
  if (withoutParts.has(sources)) return undefined;
  if (!sources.some((source) => partOf(source) !== undefined)) {
    withoutParts.add(sources);
    return undefined;
  }
  const held = new Map<string, BasePart>();
  for (const source of sources) {
    const part = partOf(source);
    if (part !== undefined) held.set((source as { name: string }).name, part);
    else if (source.kind === "template") held.delete(source.name);
    else if (source.kind === "attribute") held.delete(source.attribute);
    else for (const arg of source.byValue[indices[source.axis]!]!) held.delete(arg.name);
  }
  // The base's reference the planner adds last, when no template names {from}, replaces an arg of its name too.
  if (!compiled.family.argsNameFrom) held.delete(compiled.family.fromArg);
  if (held.size === 0) return undefined;
  const parts: Record<string, BasePart> = {};
  for (const arg of args) {
    const part = held.get(arg.name);
    if (part !== undefined) parts[arg.name] = part;
  }
  return parts;
}
