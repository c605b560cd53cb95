// A command's matrix, read and planned: --matrix or the matrix found here, --var,
// --base-url, its files digested from the working tree. Shared by the commands; what emits
// (the built-in emitters and plugins) is cli/emitter-registry.ts, loaded by those that emit.

import { fail } from "../core/errors.ts";
import { unmovedFamilies, type BuildGraph } from "../core/graph.ts";
import { NO_SOURCES, type InputsDigester, type SourceTree } from "../core/changes/inputs.ts";
import { matrixDigester } from "../core/changes/matrix-digester.ts";
import { loadMatrix, planLoaded, type LoadedMatrix } from "../core/load.ts";
import type { GivenVariables, Matrix } from "../core/matrix/matrix.ts";
import { IDENTIFIER_PATTERN, repositoryProblem } from "../core/names.ts";
import { readMatrixSource, type MatrixSource } from "./matrix-source.ts";
import type { Io } from "./terminal.ts";
import { WorkingTree } from "./working-tree.ts";

export type Options = Record<string, unknown>;

export interface Planned {
  readonly loaded: LoadedMatrix;
  readonly graph: BuildGraph;
  readonly source: MatrixSource;
  readonly sources: SourceTree;
  /** What read the sources for the plan, with what it read: ask it (not a new one) of the same files. */
  readonly digester: InputsDigester;
  readonly repository: string | undefined;
}

/** --base-url, checked against Docker's repository grammar. */
export function baseUrlOption(options: Options): string | undefined {
  const baseUrl = optionalString(options.baseUrl, "--base-url");
  const problem = baseUrl === undefined ? undefined : repositoryProblem(baseUrl);
  if (problem) fail("USAGE", `--base-url "${baseUrl}" ${problem}`);
  return baseUrl;
}

export async function loadGraph(options: Options, io: Io, planOptions: { readonly lock?: false } = {}): Promise<Planned> {
  const baseUrl = baseUrlOption(options);
  const source = await readMatrixSource(optionalString(options.matrix, "--matrix"), (line) => io.stderr(`${line}\n`));
  const loaded = await loadMatrix(source.text, source.file, variablesOption(options.var));
  // Planning a large matrix is half the work: the JIT policy must be back before it (see below).
  if (mostImages(loaded.matrix) > LARGE_MATRIX) Bun.unsafe.setJITPolicy(1);
  // The embedded matrix names no files of the folder it runs in: its images are digested with none.
  const tree = source.directory === undefined ? undefined : new WorkingTree(source.directory);
  const sources = tree ?? NO_SOURCES;
  const digester = matrixDigester(loaded.matrix, sources);
  const graph = planLoaded(loaded, { sources, digester, ...(tree ? { checkPaths: tree } : {}), ...planOptions, ...(baseUrl === undefined ? {} : { repository: baseUrl }) });
  // What reading and planning left behind (the TOML's tables, each image's text) is
  // collected before any output is made, where a graph is large enough for it to count.
  if (graph.images.length >= COLLECT_AFTER_PLANNING) Bun.gc(true);
  // A family with an absolute repository stays where it is: said, so that a test push cannot land in production unawares.
  const unmoved = baseUrl === undefined ? [] : unmovedFamilies(graph);
  if (unmoved.length > 0) io.stderr(`warning: --base-url moves no image of ${unmoved.join(", ")}: ${unmoved.length === 1 ? "its repository is" : "their repositories are"} absolute (write ${unmoved.length === 1 ? "it" : "them"} as {repository}/PATH to move with it)\n`);
  if (graph.lock !== null && graph.lock.unlocked.length > 0) {
    const { unlocked, file } = graph.lock;
    io.stderr(`warning: ${file} has no digest for ${unlocked.join(", ")}: builds pull ${unlocked.length === 1 ? "its tag" : "their tags"} (run caliban-images lock)\n`);
  }
  return { loaded, graph, source, sources, digester, repository: baseUrl };
}

/**
 * The binary starts with a reluctant JIT (scripts/compile-flags.ts, Bun's documented
 * use of it): a small matrix's run is over before compiling would pay. Planning and
 * emitting a large one runs the same code thousands of times, so the normal policy
 * comes back first.
 */
const LARGE_MATRIX = 500;

/**
 * From how many images a full collection follows planning (core/memory.ts): at 100,000
 * it takes 30 ms and lowers the peak by 30 MiB; at 10,000 there is little to gain.
 */
const COLLECT_AFTER_PLANNING = 50_000;

/** At most how many images the matrix makes: each family's explicit list, or its product plus includes. */
function mostImages(matrix: Matrix): number {
  let total = 0;
  for (const family of matrix.families) {
    const product = family.axes.reduce((count, axis) => count * matrix.axes.get(axis)!.values.length, 1);
    total += family.combinations?.count ?? product + family.include.count;
  }
  return total;
}

/** --var NAME=VALUE, repeatable: values of the matrix's [vars] to plan with (the matrix says which names there are). */
export function variablesOption(value: unknown): GivenVariables {
  const values = new Map<string, string>();
  for (const item of stringList(value)) {
    const equals = item.indexOf("=");
    const name = equals < 0 ? item : item.slice(0, equals);
    if (equals < 0 || !IDENTIFIER_PATTERN.test(name)) fail("USAGE", `--var ${JSON.stringify(item)}: give NAME=VALUE, a variable of the matrix's [vars] and its value`, { hint: "e.g. --var TAG_PREFIX=nightly-" });
    if (values.has(name)) fail("USAGE", `--var ${name} is given twice`, { hint: "give each variable once" });
    values.set(name, item.slice(equals + 1));
  }
  return { values };
}

export function optionalString(value: unknown, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) fail("USAGE", `${flag} is given more than once`);
  if (typeof value !== "string" || value === "") fail("USAGE", `${flag} needs a value`);
  return value;
}

export function stringList(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

