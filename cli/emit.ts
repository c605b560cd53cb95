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
 * them (Cloud Build's triggers, with [publish]; GitLab's child pipelines, always):
 * `github-repository` from git remote origin, and `directory`, the -o folder from the
 * repository's root.
 */
/** Defaults worked out whether or not the matrix has [publish]: a split GitLab or Buildkite pipeline names its further files by their path from the root. */
const DEFAULTED_WITHOUT_PUBLISH = new Set(["gitlab directory", "buildkite directory"]);

export async function pipelineDefaults(registered: RegisteredEmitter, planned: Pick<Planned, "loaded" | "graph" | "source">, given: readonly string[], directory: string | undefined): Promise<string[]> {
  const { emitter } = registered;
  if (planned.source.directory === undefined) return [];
  const set = (key: string) => given.some((option) => option.startsWith(`${key}=`)) || Object.hasOwn(planned.loaded.matrix.emit[emitter.name] ?? {}, key);
  const wanted = (key: string) => Object.hasOwn(emitter.options, key) && !set(key) && (planned.graph.publish.declared || DEFAULTED_WITHOUT_PUBLISH.has(`${emitter.name} ${key}`));
  if (!wanted("github-repository") && !wanted("directory")) return [];
  const { findRepository, githubRepositoryOf } = await import("./git-tree.ts");
  const path: typeof import("node:path") = require("node:path");
  const defaults: string[] = [];
  if (wanted("github-repository")) {
    const repository = githubRepositoryOf(planned.source.directory);
    if (repository) defaults.push(`github-repository=${repository}`);
  }
  if (wanted("directory") && directory !== undefined) {
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

