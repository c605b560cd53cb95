// A pipeline too large for one file is split into runs of images in level order (GitLab's
// child pipelines, Buildkite's later uploads): every base is in the same run as the images
// built FROM it, or an earlier one, which the CI runs (or uploads) first.

import type { BuildGraph, ImageNode } from "../core/graph.ts";
import { inDirectory } from "./input-paths.ts";

/** The graph's images in level order, `size` at a time. */
export function imageRuns(graph: BuildGraph, size: number): ImageNode[][] {
  const byLevel = [...graph.images].sort((a, b) => a.level - b.level);
  const runs: ImageNode[][] = [];
  for (let start = 0; start < byLevel.length; start += size) runs.push(byLevel.slice(start, start + size));
  return runs;
}

/** A part's number as its file names it: two digits at least, as many as the last needs. */
export function partNumber(number: number, count: number): string {
  return String(number).padStart(Math.max(2, String(count).length), "0");
}

/** The folder a split pipeline's files were written into, from the repository's root ("./" for the root), as `-o` takes it. */
export function writtenInto(directory: string): string {
  return inDirectory(directory, "") || "./";
}
