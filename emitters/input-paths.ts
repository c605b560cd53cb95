// The files whose change should rebuild the images, as a CI's path filter names them:
// each Dockerfile, each context but the matrix's own folder when that is the
// repository's root (which would match every change), the matrix file and its lock
// file. Relative to the repository's root: the matrix's folder within it
// (EmitContext.matrixPath) leads each path. Without it, the matrix's folder is taken to
// be the root. Each emitter writes them in its filter's own syntax.

import { posix } from "node:path";
import type { BuildGraph } from "../core/graph.ts";
import type { EmitContext } from "./contract.ts";

export interface InputPath {
  readonly path: string;
  /** A folder: every file below it. */
  readonly folder: boolean;
}

export function inputPaths(graph: BuildGraph, context: Pick<EmitContext, "matrixFile" | "matrixPath">): InputPath[] {
  const seen = new Set<string>();
  const paths: InputPath[] = [];
  const add = (path: string | undefined, folder: boolean) => {
    // A path outside the repository is no path of it; one that names nothing ("./") neither.
    if (path === undefined || path === "" || path === ".." || path.startsWith("../") || path.startsWith("/")) return;
    const key = `${folder}\u0000${path}`;
    if (!seen.has(key)) paths.push({ path, folder });
    seen.add(key);
  };
  const matrixPath = context.matrixPath;
  const folder = matrixPath === undefined ? "" : matrixPath.slice(0, matrixPath.lastIndexOf("/") + 1);
  const fromRoot = (path: string) => (path.startsWith("/") ? path : normal(`${folder}${path}`));
  for (const image of graph.images) {
    add(fromRoot(image.dockerfile), false);
    const context = fromRoot(image.context);
    // The root itself as a folder would match every change.
    if (context !== "") add(context, true);
  }
  const matrix = matrixFromRoot(context);
  add(matrix, false);
  // The lock file beside it: a moved upstream digest is a change to build.
  if (graph.lock !== null && matrix !== "" && !matrix.startsWith("../")) add(`${matrix.slice(0, matrix.lastIndexOf("/") + 1)}${graph.lock.file}`, false);
  return paths;
}

/** `path` in the folder the `directory` option names (from the repository's root; "" for the root itself), as a job at the root names it. */
export function inDirectory(directory: string, path: string): string {
  return directory === "" ? path : `${directory.replace(/\/+$/, "")}/${path}`;
}

/** The matrix file as a job at the repository's root names it (EmitContext.matrixPath, else as the user named it). */
export function matrixFromRoot(context: Pick<EmitContext, "matrixFile" | "matrixPath">): string {
  return context.matrixPath ?? (context.matrixFile.startsWith("<") ? "matrix.toml" : normal(context.matrixFile));
}

/** A relative path without '.' segments, each 'x/..' resolved, no final '/'; "" for the folder itself. */
function normal(path: string): string {
  const normalized = posix.normalize(path).replace(/\/$/, "");
  return normalized === "." ? "" : normalized;
}
