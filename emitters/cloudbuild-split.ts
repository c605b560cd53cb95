// How a graph too large for one Cloud Build config (300 steps) is split into several,
// submitted in order. Caliban's form takes ranges of the graph's order; with content
// tags a config carries the bases of its images that an earlier config builds, so that
// no config needs an image only an earlier build has (a pull request's pushes nothing).

import { CalibanError } from "../core/errors.ts";
import type { BuildGraph, ImageNode } from "../core/graph.ts";

/** A config's share of the graph: its images, and the ancestors of theirs an earlier config builds, which it carries (indices, graph order). */
export interface ConfigPart {
  readonly images: readonly number[];
  readonly carried: readonly number[];
}

/** Caliban's form: ranges of the graph's order; an image whose base an earlier config pushed pulls it. */
export function contiguousParts(count: number, perConfig: number): ConfigPart[] {
  return Array.from({ length: Math.max(1, Math.ceil(count / perConfig)) }, (_, i) => ({ images: Array.from({ length: Math.min(perConfig, count - i * perConfig) }, (_, j) => i * perConfig + j), carried: [] }));
}

/**
 * With content tags, a config also carries each ancestor of its images that an earlier
 * config builds: a step that pulls it by its content reference when the registry has it
 * (the earlier config pushed it), and builds it (pushing nothing) when not, as in a pull
 * request's build (_PUSH=false), which pushes nothing for a later config to pull. Carried
 * steps count within the config's steps.
 */
export function partsCarrying(graph: BuildGraph, perConfig: number, indexById: ReadonlyMap<string, number>): ConfigPart[] {
  const parts: { images: number[]; carried: number[] }[] = [];
  let current = { images: [] as number[], carried: [] as number[] };
  let here = new Set<number>();
  const baseOf = (i: number) => (graph.images[i]!.from === null ? undefined : indexById.get(graph.images[i]!.from!)!);
  const missing = (i: number) => {
    const chain: number[] = [];
    for (let base = baseOf(i); base !== undefined && !here.has(base); base = baseOf(base)) chain.unshift(base);
    return chain;
  };
  for (let i = 0; i < graph.images.length; i++) {
    let needed = missing(i);
    if (current.images.length > 0 && current.images.length + current.carried.length + needed.length + 1 > perConfig) {
      parts.push(current);
      current = { images: [], carried: [] };
      here = new Set();
      needed = missing(i);
    }
    if (needed.length + 1 > perConfig) {
      throw new CalibanError({ code: "LIMIT", message: `emit cloudbuild: image ${graph.images[i]!.id} builds FROM a chain of ${needed.length} images, which with it do not fit the ${perConfig} steps a config has room for`, hint: "raise max-steps" });
    }
    for (const base of needed) here.add(base);
    current.carried.push(...needed);
    current.images.push(i);
    here.add(i);
  }
  parts.push(current);
  return parts;
}

/** The id of the step that carries an image into a later config. */
export function carriedStep(image: ImageNode): string {
  return `${image.reference}-carried`;
}
