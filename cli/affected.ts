// `affected --since REV` and `--changed PATH...`, and the affected subgraph that
// `emit --since` renders: the revision's matrix and files read through git, the
// working tree's from disk, both digested by the same code (core/changes/inputs.ts).

import { isAbsolute, join, relative, resolve } from "node:path";
import { affectedByPaths, affectedSince, type AffectedImage, type PlannedSide, type Reason } from "../core/changes/affected.ts";
import { CalibanError, fail, formatDiagnostic } from "../core/errors.ts";
import { displayName } from "../core/printable.ts";
import { findRepository, resolveRevision } from "./git-tree.ts";
import { planRevision, revisionMatrixPath } from "./revision-plan.ts";
import type { Planned } from "./load-graph.ts";


/** What to compare against: a revision, or the changed paths a CI system listed. */
export type Comparison = { readonly since: string } | { readonly changed: readonly string[] };

/** The images affected since a revision, or by changed paths, in plan order, each with why. */
export async function findAffected(planned: Planned, comparison: Comparison, warn: (line: string) => void): Promise<AffectedImage[]> {
  const { loaded, graph, source } = planned;
  if (source.directory === undefined) {
    fail("USAGE", "the embedded matrix has no files to compare", { hint: "run it where a matrix.toml is, or pass --matrix FILE" });
  }
  const now: PlannedSide = { graph, digester: planned.digester };
  const repository = findRepository(source.directory);
  if ("changed" in comparison) {
    // Paths as CI systems give them: relative to the repository's root (else to this folder).
    const base = repository?.root ?? process.cwd();
    const matrixDirectory = resolve(source.directory);
    const paths = comparison.changed.map((path) => relative(matrixDirectory, isAbsolute(path) ? path : join(base, path)).split("\\").join("/"));
    const matrixName = source.file.slice(source.file.lastIndexOf("/") + 1);
    return affectedByPaths(now, matrixName, paths);
  }
  if (!repository) fail("USAGE", `--since needs a git repository, and ${displayName(source.directory)} is in none`, { hint: "or give the changed files: --changed PATH..." });
  const commit = resolveRevision(repository, comparison.since);
  let then: PlannedSide;
  try {
    const old = await planRevision(repository, commit, comparison.since, source.file, loaded);
    if (old === undefined) {
      warn(`${revisionMatrixPath(repository, source.file)} does not exist at ${comparison.since}: every image is new`);
      return affectedSince(now, undefined);
    }
    then = { graph: old.graph, digester: old.digester };
  } catch (error) {
    if (!(error instanceof CalibanError)) throw error;
    warn(`the matrix at ${comparison.since} does not plan (${formatDiagnostic(error.diagnostics[0]!)}): every image counts as new`);
    return affectedSince(now, undefined);
  }
  return affectedSince(now, then);
}

/** `affected --json`: the graph's entries, each with why. */
export function affectedJson(affected: readonly AffectedImage[], comparison: Comparison): string {
  const against = "since" in comparison ? { since: comparison.since } : { changed: comparison.changed };
  return `${JSON.stringify({ version: 1, ...against, images: affected.map(({ image, why }) => ({ ...image, why })) }, null, 2)}\n`;
}

export function describeReason(reason: Reason): string {
  switch (reason.kind) {
    case "new":
      return "new";
    case "dockerfile":
      return `dockerfile ${reason.path}`;
    case "files":
      return `files ${reason.paths.join(", ")}`;
    case "context":
      return `context ${reason.context}`;
    case "args":
      return `args ${reason.names.join(", ")}`;
    case "base":
      return `base ${reason.image}`;
    case "build":
      return `build ${reason.changed.join(", ")}`;
    case "upstream":
      return `upstream ${reason.images.join(", ")}`;
    case "matrix":
      return `matrix ${reason.path}`;
  }
}

/**
 * Output files (paths as -o placed them) that a context of the graph sends: each is then
 * one of its images' inputs, and an output that names digests (github --format matrix,
 * an --since output) changes them by being written, so that no rerun is ever the same. One warning per such file; [outputs] and .dockerignore
 * leave a file out.
 */
export function outputsInContexts(planned: Planned, outputPaths: readonly string[]): string[] {
  if (planned.source.directory === undefined) return [];
  const digester = planned.digester;
  const matrixDirectory = resolve(planned.source.directory);
  const pairs = new Map<string, { context: string; dockerfile: string; images: number }>();
  for (const image of planned.graph.images) {
    const key = `${image.context}\u0000${image.dockerfile}`;
    const pair = pairs.get(key);
    if (pair) pair.images++;
    else pairs.set(key, { context: image.context, dockerfile: image.dockerfile, images: 1 });
  }
  const warnings: string[] = [];
  for (const output of outputPaths) {
    const path = relative(matrixDirectory, resolve(output)).split("\\").join("/");
    if (path.startsWith("../") || isAbsolute(path)) continue;
    let images = 0;
    for (const { context, dockerfile, images: count } of pairs.values()) {
      if (isAbsolute(context)) continue;
      const inContext = relative(resolve(matrixDirectory, context), resolve(matrixDirectory, path)).split("\\").join("/");
      if (inContext.startsWith("../") || isAbsolute(inContext) || inContext === "") continue;
      if (digester.sends(context, dockerfile, inContext)) images += count;
    }
    if (images > 0) {
      warnings.push(
        `${displayName(output)} is in the build context of ${images} image${images === 1 ? "" : "s"}: it is one of their inputs, so each change to it rebuilds them (and an output that names digests, such as --format matrix's, changes with each emit into it); list it in the matrix's [outputs] (or in .dockerignore)`,
      );
    }
  }
  return warnings;
}
