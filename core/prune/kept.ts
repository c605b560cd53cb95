// What `prune` keeps, from the graphs of the plans it keeps (the [publish] branches'
// heads, their last lock generations, the working tree): every tag those graphs push or
// read, by repository. Pure: the CLI plans the graphs (cli/kept-plans.ts), and
// prune-plan.ts decides against a registry's contents.

import { cacheReference, type BuildGraph } from "../graph.ts";

/** A plan `prune` keeps: which one (a branch, a lock generation, the working tree), and its graph. */
export interface KeptPlan {
  /** How the listing names it: `main (1a2b3c4)`, `lock generation 5d6e7f8 (main)`, `the working tree`. */
  readonly label: string;
  readonly graph: BuildGraph;
}

/** The tags of each repository that a kept plan names, with the first plan that names each. */
export interface KeptTags {
  /** Repository → tag → the label of the first kept plan that names it. */
  readonly tags: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** `[cache] repository` of the kept graphs: every tag there is a cache, named like an image. */
  readonly cacheRepositories: ReadonlySet<string>;
}

/**
 * Every reference the kept plans push or read: each image's content reference, its tag,
 * aliases and shared tags, and its registry cache (`cacheReference`, and the per-platform
 * `-os-arch` ones GitHub's native runners keep). A cache of any type is kept: a graph
 * whose [cache] names no type is a registry cache for every emitter but GitHub's.
 */
export function keptTags(plans: readonly KeptPlan[]): KeptTags {
  const tags = new Map<string, Map<string, string>>();
  const cacheRepositories = new Set<string>();
  const keep = (reference: string, label: string) => {
    const colon = reference.lastIndexOf(":");
    const repository = reference.slice(0, colon);
    let kept = tags.get(repository);
    if (!kept) tags.set(repository, (kept = new Map()));
    if (!kept.has(reference.slice(colon + 1))) kept.set(reference.slice(colon + 1), label);
  };
  for (const { label, graph } of plans) {
    if (graph.cache?.repository) cacheRepositories.add(graph.cache.repository);
    for (const image of graph.images) {
      keep(image.contentReference, label);
      for (const tag of [image.tag, ...image.aliases, ...(image.sharedTags ?? [])]) keep(`${image.repository}:${tag}`, label);
      if (graph.cache === null) continue;
      const cache = cacheReference(graph, image);
      keep(cache, label);
      for (const platform of image.platforms) keep(`${cache}-${platform.replaceAll("/", "-")}`, label);
    }
  }
  return { tags, cacheRepositories };
}

/** The repositories `prune` reads: every kept image's, and each `[cache] repository`; sorted. */
export function prunedRepositories(plans: readonly KeptPlan[]): string[] {
  const repositories = new Set<string>();
  for (const { graph } of plans) {
    for (const image of graph.images) repositories.add(image.repository);
    if (graph.cache?.repository) repositories.add(graph.cache.repository);
  }
  return [...repositories].sort();
}
