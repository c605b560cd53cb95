// A matrix planned as a git revision has it: its matrix file, Dockerfiles, contexts and
// lock file read through git (cli/git-tree.ts), nothing checked out. `affected --since`
// compares with such a plan; `prune` keeps the images of several.

import { join } from "node:path";
import type { InputsDigester } from "../core/changes/inputs.ts";
import { matrixDigester } from "../core/changes/matrix-digester.ts";
import type { BuildGraph } from "../core/graph.ts";
import { loadMatrix, planLoaded, type LoadedMatrix } from "../core/load.ts";
import { GitTree, type Repository } from "./git-tree.ts";

export interface RevisionPlan {
  readonly loaded: LoadedMatrix;
  readonly graph: BuildGraph;
  readonly digester: InputsDigester;
}

/**
 * The matrix file `matrixFile` (its name, in the repository's matrix folder) planned at
 * `commit`, which messages call `revision`; undefined when the revision has no such file.
 * With this run's --var values (`current`): a variable the revision does not declare, none
 * of its templates names. A matrix that does not plan throws its CalibanError.
 */
export async function planRevision(
  repository: Repository,
  commit: string,
  revision: string,
  matrixFile: string,
  current: LoadedMatrix,
  options: { readonly repository?: string } = {},
): Promise<RevisionPlan | undefined> {
  const tree = new GitTree(repository, commit, join(repository.root, repository.matrixDirectory));
  const matrixPath = revisionMatrixPath(repository, matrixFile);
  const text = tree.fileAt(matrixPath);
  if (text === undefined) return undefined;
  const given = { values: new Map(current.matrix.variables.filter((v) => v.set).map((v) => [v.name, v.value])), undeclaredIgnored: true };
  const loaded = await loadMatrix(new TextDecoder().decode(text), `${revision}:${matrixPath}`, given);
  // Its name, `REV:path`, is for messages: the tree's own name of it says which files are its lock and itself.
  const matrixName = matrixPath.slice(matrixPath.lastIndexOf("/") + 1);
  const digester = matrixDigester(loaded.matrix, tree, matrixName);
  const graph = planLoaded(loaded, { sources: tree, matrixName, digester, ...(options.repository === undefined ? {} : { repository: options.repository }) });
  return { loaded, graph, digester };
}

/** The matrix file's path in the repository (`images/matrix.toml`). */
export function revisionMatrixPath(repository: Repository, matrixFile: string): string {
  return join(repository.matrixDirectory, matrixFile.slice(matrixFile.lastIndexOf("/") + 1)).split("\\").join("/");
}
