// The files whose change should rebuild the images, as a CI's path filter names them:
// each Dockerfile, each context but the matrix's own folder (which would match every
// change), the matrix file and its lock file. Relative to the matrix file's folder, which is taken to
// be the repository's root; each emitter writes them in its filter's own syntax.

import type { BuildGraph } from "../core/graph.ts";

export interface InputPath {
  readonly path: string;
  /** A folder: every file below it. */
  readonly folder: boolean;
}

export function inputPaths(graph: BuildGraph, matrixFile: string): InputPath[] {
  const seen = new Set<string>();
  const paths: InputPath[] = [];
  const add = (path: string, folder: boolean) => {
    const key = `${folder}\u0000${path}`;
    if (!seen.has(key)) paths.push({ path, folder });
    seen.add(key);
  };
  for (const image of graph.images) {
    add(repoPath(image.dockerfile), false);
    if (image.context !== ".") add(repoPath(image.context), true);
  }
  const matrix = matrixFile.startsWith("<") ? "matrix.toml" : repoPath(matrixFile);
  // A matrix outside the folder is no path of it; a name that is no file's ("./") names nothing.
  if (matrix !== "" && !matrix.startsWith("../") && !matrix.startsWith("/")) {
    add(matrix, false);
    // The lock file beside it: a moved upstream digest is a change to build.
    if (graph.lock !== null) add(`${matrix.slice(0, matrix.lastIndexOf("/") + 1)}${graph.lock.file}`, false);
  }
  return paths;
}

function repoPath(path: string): string {
  return path.replace(/^(\.\/)+/, "");
}
