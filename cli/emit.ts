// An emitter run on a loaded matrix, as `emit` runs it: the matrix's [emit.NAME]
// settings and the command line's options, a mistake in the settings reported at its
// line in the matrix file.

import type { BuildGraph } from "../core/graph.ts";
import { located, type LoadedMatrix } from "../core/load.ts";
import { normalOutputPath } from "../core/matrix/matrix.ts";
import type { EmittedFile, Emitter } from "../emitters/contract.ts";
import type { RegisteredEmitter } from "../emitters/plugins.ts";
import type { Planned } from "./load-graph.ts";
import { runEmitter } from "../emitters/run.ts";

export function emitLoaded(
  target: Emitter<any> | RegisteredEmitter,
  loaded: LoadedMatrix,
  graph: BuildGraph,
  commandLine: readonly string[] = [],
  matrixPath?: string,
  shape?: string,
  warn?: (message: string) => void,
): readonly EmittedFile[] {
  const name = "emitter" in target ? target.emitter.name : target.name;
  const file = loaded.matrix.file;
  const settings = Object.hasOwn(loaded.matrix.emit, name) ? loaded.matrix.emit[name] : undefined;
  // [outputs], from the repository's root as the matrix is: paths in the matrix are relative to its folder.
  const folder = matrixPath === undefined ? "" : matrixPath.slice(0, matrixPath.lastIndexOf("/") + 1);
  const outputs = Object.values(loaded.matrix.outputs).map((path) => `${folder}${normalOutputPath(path)}`);
  // [vars] as planned: the pipeline passes the values given with --var on to the caliban-images it runs.
  const variables = loaded.matrix.variables.map(({ name, value, set }) => ({ name, value, set }));
  return located(loaded.document, () =>
    runEmitter(target, graph, { matrixFile: file, ...(matrixPath === undefined ? {} : { matrixPath }), ...(shape === undefined ? {} : { shape }), ...(warn === undefined ? {} : { warn }), outputs, variables, fromCommandLine: commandLine, ...(settings ? { fromMatrix: { file, values: settings } } : {}) }),
  );
}

/**
 * Options a pipeline's files need from where they are and which repository holds them,
 * for an emitter that has them and where neither the matrix nor the command line sets
 * them: `github-repository` from git remote origin (Cloud Build's triggers, with
 * [publish]), and `directory`, the -o folder from the repository's root (where Cloud
 * Build's triggers, GitLab's parent and Buildkite's first file find the other files).
 */
export async function pipelineDefaults(registered: RegisteredEmitter, planned: Pick<Planned, "loaded" | "graph" | "source">, given: readonly string[], directory: string | undefined): Promise<string[]> {
  const { emitter } = registered;
  if (planned.source.directory === undefined) return [];
  const unset = (key: string) => Object.hasOwn(emitter.options, key) && !given.some((option) => option.startsWith(`${key}=`)) && !Object.hasOwn(planned.loaded.matrix.emit[emitter.name] ?? {}, key);
  const wantsRepository = planned.graph.publish.declared && unset("github-repository");
  const wantsDirectory = directory !== undefined && unset("directory");
  if (!wantsRepository && !wantsDirectory) return [];
  const { findRepository, githubRepositoryOf } = await import("./git-tree.ts");
  const path: typeof import("node:path") = require("node:path");
  const defaults: string[] = [];
  if (wantsRepository) {
    const repository = githubRepositoryOf(planned.source.directory);
    if (repository) defaults.push(`github-repository=${repository}`);
  }
  if (wantsDirectory && directory !== undefined) {
    const root = findRepository(planned.source.directory)?.root ?? process.cwd();
    const relative = path.relative(root, path.resolve(directory)).split(path.sep).join("/");
    if (relative !== "" && !relative.startsWith("..")) defaults.push(`directory=${relative}`);
  }
  return defaults;
}

/**
 * The GitHub workflow names its own path in its `paths:` filter: with `-o FILE` (and no
 * `output` option), that is FILE, relative to the repository's root (else to this folder),
 * wherever the command runs. A FILE outside the repository keeps the default.
 */
export async function ownPathDefault(registered: RegisteredEmitter, planned: Pick<Planned, "loaded" | "source">, given: readonly string[], file: string | undefined): Promise<string[]> {
  const { emitter } = registered;
  if (file === undefined || registered.source !== undefined || emitter.name !== "github") return [];
  if (given.some((option) => option.startsWith("output=")) || Object.hasOwn(planned.loaded.matrix.emit[emitter.name] ?? {}, "output")) return [];
  const { findRepository } = await import("./git-tree.ts");
  const path: typeof import("node:path") = require("node:path");
  const root = (planned.source.directory === undefined ? undefined : findRepository(planned.source.directory)?.root) ?? process.cwd();
  const relative = path.relative(root, path.resolve(file)).split(path.sep).join("/");
  return relative === "" || relative.startsWith("..") || path.isAbsolute(relative) ? [] : [`output=${relative}`];
}

/** Whether a path is a directory that exists. */
export function isDirectory(path: string): boolean {
  const fs: typeof import("node:fs") = require("node:fs");
  try {
    return fs.statSync(path).isDirectory();
  } catch {
    return false;
  }
}

