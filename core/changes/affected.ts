// Which images changed, and why: between two plans of a matrix (`affected --since REV`,
// the revision's files read through git), or from a list of changed paths (`--changed`,
// for CI systems that give one). And the subgraph of the affected images that `emit
// --since` renders, an unaffected base named by its content reference.

import { sharedTags, type BuildArg, type BuildGraph, type FamilyNode, type ImageNode } from "../graph.ts";
import { basePartOf, withBaseContentArg } from "../base-parts.ts";
import { digestedSettings, normalPath, type InputsDigester } from "./inputs.ts";
import { comparePaths } from "./path-order.ts";

/** Why an image is affected. Paths are relative to the matrix file's directory. */
export type Reason =
  | { readonly kind: "new" }
  | { readonly kind: "dockerfile"; readonly path: string }
  | { readonly kind: "files"; readonly paths: readonly string[] }
  | { readonly kind: "context"; readonly context: string }
  | { readonly kind: "args"; readonly names: readonly string[] }
  | { readonly kind: "base"; readonly image: string }
  | { readonly kind: "upstream"; readonly images: readonly string[] }
  | { readonly kind: "build"; readonly changed: readonly BuildSetting[] }
  | { readonly kind: "matrix"; readonly path: string };

/** A build setting an image's inputs hold beside its files, args and base. */
type BuildSetting = "labels" | "annotations" | "platforms" | "target" | "runner";

export interface AffectedImage {
  readonly image: ImageNode;
  readonly why: readonly Reason[];
}

export interface PlannedSide {
  readonly graph: BuildGraph;
  /** Digests the side's files (the digester that planned it, or one over the same tree). */
  readonly digester: InputsDigester;
}

/** The images of `now` whose inputs differ from `then`'s image of the same tag, or that `then` lacks, in plan order. */
export function affectedSince(now: PlannedSide, then: PlannedSide | undefined): AffectedImage[] {
  const before = new Map((then?.graph.images ?? []).map((image) => [image.tag, image]));
  const nowById = new Map(now.graph.images.map((image) => [image.id, image]));
  const thenById = new Map((then?.graph.images ?? []).map((image) => [image.id, image]));
  const result: AffectedImage[] = [];
  // Many images share a context: its files are compared once (20,000 files each, else).
  const filesChanged = new Map<string, string[] | undefined>();
  for (const image of now.graph.images) {
    const old = before.get(image.tag);
    if (!old || !then) {
      result.push({ image, why: [{ kind: "new" }] });
      continue;
    }
    if (old.inputs === image.inputs) continue;
    const base = image.from === null ? undefined : nowById.get(image.from)!;
    const oldBase = old.from === null ? undefined : thenById.get(old.from)!;
    const a = then.digester.parts(old.dockerfile, old.context, old.args, oldBase, old.upstream, digestedSettings(then.graph, old), old.fromParts);
    const b = now.digester.parts(image.dockerfile, image.context, image.args, base, image.upstream, digestedSettings(now.graph, image), image.fromParts);
    const why: Reason[] = [];
    if (a.dockerfile !== b.dockerfile || old.dockerfile !== image.dockerfile) why.push({ kind: "dockerfile", path: image.dockerfile });
    if (a.context !== b.context) {
      const key = [old.context, old.dockerfile, image.context, image.dockerfile].join("\0");
      if (!filesChanged.has(key)) filesChanged.set(key, changedFiles(then.digester, old, now.digester, image));
      const files = filesChanged.get(key);
      why.push(files === undefined ? { kind: "context", context: image.context } : { kind: "files", paths: files });
    }
    const names = changedArgs(a.args, b.args);
    if (names.length > 0) why.push({ kind: "args", names });
    if (a.build.join("\n") !== b.build.join("\n")) why.push({ kind: "build", changed: changedBuildSettings(then.graph, old, now.graph, image) });
    if (a.upstream.join("\n") !== b.upstream.join("\n")) why.push({ kind: "upstream", images: image.upstream.filter((pinned) => !old.upstream.includes(pinned)) });
    if (a.base !== b.base) why.push({ kind: "base", image: base ? base.reference : "(none)" });
    result.push({ image, why });
  }
  return result;
}

/** Which of an image's labels, platforms, target and runner differ between two plans of it. */
function changedBuildSettings(then: BuildGraph, old: ImageNode, now: BuildGraph, image: ImageNode): BuildSetting[] {
  const labels = (node: ImageNode) => JSON.stringify(node.labels.filter((label) => !label.revision));
  const changed: BuildSetting[] = [];
  if (labels(old) !== labels(image)) changed.push("labels");
  if (JSON.stringify(old.annotations ?? []) !== JSON.stringify(image.annotations ?? [])) changed.push("annotations");
  const [was, is] = [digestedSettings(then, old), digestedSettings(now, image)];
  if (was.platforms.join(",") !== is.platforms.join(",")) changed.push("platforms");
  if (old.target !== image.target) changed.push("target");
  if (JSON.stringify(was.runner) !== JSON.stringify(is.runner)) changed.push("runner");
  return changed;
}

/** Paths (relative to the matrix's directory) that differ between two contexts' files, or undefined when one is not a folder. */
function changedFiles(thenDigester: InputsDigester, old: ImageNode, nowDigester: InputsDigester, image: ImageNode): string[] | undefined {
  const a = thenDigester.contextListing(old.context, old.dockerfile);
  const b = nowDigester.contextListing(image.context, image.dockerfile);
  if (!a || !b || old.context !== image.context) return undefined;
  // Both lists are in code point order: one walk over the two, no map of 20,000 paths.
  const paths: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.files.length || j < b.files.length) {
    const order = i === a.files.length ? 1 : j === b.files.length ? -1 : comparePaths(a.files[i]!.path, b.files[j]!.path);
    if (order < 0) paths.push(a.files[i++]!.path);
    else if (order > 0) paths.push(b.files[j++]!.path);
    else {
      if (a.files[i]!.kind !== b.files[j]!.kind || a.digests[i] !== b.digests[j]) paths.push(b.files[j]!.path);
      i++;
      j++;
    }
  }
  return paths.map((path) => inContext(image.context, path));
}

/** Arg names whose digested line differs, was added or was removed, in the new order then the removed ones. */
function changedArgs(then: readonly string[], now: readonly string[]): string[] {
  const name = (line: string) => {
    const rest = line.slice("arg ".length);
    const colon = rest.indexOf(":");
    return rest.slice(colon + 1, colon + 1 + Number(rest.slice(0, colon)));
  };
  const before = new Map(then.map((line) => [name(line), line]));
  const after = new Map(now.map((line) => [name(line), line]));
  const names: string[] = [];
  for (const [arg, line] of after) if (before.get(arg) !== line) names.push(arg);
  for (const arg of before.keys()) if (!after.has(arg)) names.push(arg);
  return names;
}

/**
 * The images a list of changed paths (relative to the matrix file's directory) affects:
 * a Dockerfile, an ignore file, or a file its context sends; the matrix file itself,
 * whose earlier text is unknown here, affects every image, and the lock file every image
 * it pins. A base's change reaches its descendants.
 */
export function affectedByPaths(now: PlannedSide, matrixPath: string, changed: readonly string[]): AffectedImage[] {
  const paths = [...new Set(changed.map(normalPath))];
  const matrixChanged = paths.includes(normalPath(matrixPath));
  const lockChanged = now.graph.lock !== null && paths.includes(normalPath(now.graph.lock.file));
  const affected = new Map<string, AffectedImage>();
  const result: AffectedImage[] = [];
  for (const image of now.graph.images) {
    const why: Reason[] = [];
    if (matrixChanged) why.push({ kind: "matrix", path: matrixPath });
    if (lockChanged && image.upstream.length > 0) why.push({ kind: "upstream", images: image.upstream });
    if (paths.includes(normalPath(image.dockerfile))) why.push({ kind: "dockerfile", path: image.dockerfile });
    const context = normalPath(image.context);
    const sent = paths.filter((path) => {
      if (path === normalPath(`${image.dockerfile}.dockerignore`)) return true;
      const relative = context === "" ? path : path.startsWith(`${context}/`) ? path.slice(context.length + 1) : undefined;
      return relative !== undefined && (relative === ".dockerignore" || now.digester.sends(image.context, image.dockerfile, relative));
    });
    if (sent.length > 0) why.push({ kind: "files", paths: sent });
    const base = image.from === null ? undefined : affected.get(image.from);
    if (base) why.push({ kind: "base", image: base.image.reference });
    if (why.length === 0) continue;
    const entry = { image, why };
    affected.set(image.id, entry);
    result.push(entry);
  }
  return result;
}

/**
 * The graph of `ids` only, in graph order. An image whose base is left out builds FROM
 * the base's content reference, which an earlier run pushed: its args name that instead
 * of the base's reference (and its content tag where an arg held the base's tag, which
 * leaves no part to redirect: fromParts goes), and it no longer waits for anything.
 */
export function affectedSubgraph(graph: BuildGraph, affected: ReadonlySet<string>): BuildGraph {
  const byId = new Map(graph.images.map((image) => [image.id, image]));
  // A shared tag is one manifest list over all its images: one affected image brings the
  // others along, so the list is made again over every one of them (the pipeline finds
  // the unaffected ones in the registry and builds nothing of them).
  const ids = new Set(affected);
  for (const shared of sharedTags(graph)) if (shared.images.some((image) => affected.has(image.id))) for (const image of shared.images) ids.add(image.id);
  const kept = new Map<string, ImageNode>();
  for (const image of graph.images) {
    if (!ids.has(image.id)) continue;
    const base = image.from === null ? undefined : byId.get(image.from)!;
    if (!base || ids.has(base.id)) {
      kept.set(image.id, { ...image, level: base ? kept.get(base.id)!.level + 1 : 0 });
      continue;
    }
    const args: BuildArg[] = image.args.map((arg) => (arg.value.includes(base.reference) || basePartOf(image, arg) ? { name: arg.name, value: withBaseContentArg(image, arg, base) } : arg));
    const { fromParts: _, ...unlinked } = image;
    kept.set(image.id, { ...unlinked, args, from: null, fromArg: null, level: 0 });
  }
  const families: FamilyNode[] = graph.families.map((family) => ({ ...family, images: family.images.filter((id) => kept.has(id)) }));
  // Levels changed: graph order must still put every image after its base, and does (a subsequence of it).
  return { ...graph, families, images: [...kept.values()] };
}


function inContext(context: string, path: string): string {
  const prefix = normalPath(context);
  return prefix === "" ? path : `${prefix}/${path}`;
}
