// The commands, declared once: the list gives both the parser and --help.

import { CalibanError, fail } from "../core/errors.ts";
import { located } from "../core/load.ts";
import { normalOutputPath } from "../core/matrix.ts";
import { displayName } from "../core/printable.ts";
import { importLegacyConfig } from "../import/legacy-import.ts";
import { loadMatrix, planLoaded } from "../core/load.ts";
import type { Matrix } from "../core/matrix.ts";
import { repositoryProblem } from "../core/names.ts";
import { builtinEmitters } from "../emitters/index.ts";
import { chunks } from "../emitters/contract.ts";
import { describeOptions } from "../emitters/options.ts";
import { findEmitter, loadPlugins, registerEmitters, type PluginReference, type RegisteredEmitter } from "../emitters/plugins.ts";
import { emitLoaded } from "./emit.ts";
import { matrixHere, readMatrixSource, readTextFile, type MatrixSource } from "./matrix-source.ts";
import { plannedOutputs, writeOutputs } from "./output.ts";
import type { Comparison, Planned } from "./affected.ts";
import { affectedSubgraph } from "../core/affected.ts";

/** `affected` and `emit --since` read git and node:path: loaded when used, not at every start. */
const affectedModule = () => import("./affected.ts");
import { WorkingTree } from "./working-tree.ts";
import { NO_SOURCES } from "../core/inputs.ts";
import type { Io } from "./terminal.ts";
import { graphJsonChunks } from "../emitters/plan-json.ts";
import { renderPlan } from "../emitters/plan-text.ts";

type Options = Record<string, unknown>;

interface CommandSpec {
  readonly name: string;
  readonly usage: string;
  readonly description: string;
  readonly options: readonly (readonly [string, string, { default?: unknown; type?: unknown[] }?])[];
  readonly examples: readonly string[];
}

const MATRIX_OPTION = ["--matrix <file>", "matrix file (default: ./matrix.toml, else the embedded default)"] as const;
const BASE_URL_OPTION = ["--base-url <repository>", "push images to this repository instead of the matrix's `repository`"] as const;
const SINCE_OPTION = ["--since <revision>", "only the images whose inputs differ from those at this git revision (see `caliban-images affected`)"] as const;
const CHANGED_OPTION = ["--changed", "only the images the PATHs given after the command affect (changed files, relative to the repository's root)"] as const;
const PLUGIN_OPTION: readonly [string, string, { type: unknown[] }] = ["--plugin <file>", "load emitters from this .ts or .js module (repeatable)", { type: [String] }];

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: "plan",
    usage: "plan",
    description: "Show the supported combinations and the build graph, stage by stage",
    options: [MATRIX_OPTION, BASE_URL_OPTION, ["--json", "print the build graph as JSON (format: README, \"plan --json\")"]],
    examples: ["caliban-images plan", "caliban-images plan --matrix images.toml --json"],
  },
  {
    name: "affected",
    usage: "affected [...paths]",
    description: "List the images whose inputs changed since a git revision (--since), or that changed files affect (--changed PATH...)",
    options: [MATRIX_OPTION, BASE_URL_OPTION, SINCE_OPTION, CHANGED_OPTION, ["--json", "print the graph's entries of the affected images, each with why"]],
    examples: ["caliban-images affected --since origin/main", "caliban-images affected --since HEAD~1 --json", "caliban-images affected --changed docker/base.Dockerfile docker/app/main.py"],
  },
  {
    name: "emit",
    usage: "emit [emitter] [...paths]",
    description: "Write the build graph for a CI system or build tool (see `caliban-images emitters`)",
    options: [
      MATRIX_OPTION,
      BASE_URL_OPTION,
      ["-o, --output <path>", "write to this file (or directory) instead of stdout; replaced whole or not at all"],
      ["--all", "write every output the matrix's [outputs] lists, where it says"],
      ["--option <key=value>", "set an emitter option (repeatable); see `caliban-images emit NAME --help`", { type: [String] }],
      ["--format <format>", "short for --option format=FORMAT (e.g. emit github --format matrix)"],
      SINCE_OPTION,
      CHANGED_OPTION,
      PLUGIN_OPTION,
    ],
    examples: [
      "caliban-images emit cloudbuild --base-url gcr.io/test -o cloudbuild.json",
      "caliban-images emit cloudbuild --option timeout=3600s",
      "caliban-images emit github -o .github/workflows/build-images.yml",
      "caliban-images emit github --format matrix >> \"$GITHUB_OUTPUT\"",
      "caliban-images emit make -o Makefile && make -j4 push",
      "caliban-images emit bake > docker-bake.hcl && docker buildx bake",
      "caliban-images emit bake --since origin/main -o docker-bake.hcl   (only what changed)",
      "caliban-images emit --all   (every file [outputs] lists)",
    ],
  },
  {
    name: "check",
    usage: "check",
    description: "Exit 0 when every file the matrix's [outputs] lists is what `emit --all` would write; else list the stale and missing ones, exit 3",
    options: [MATRIX_OPTION, PLUGIN_OPTION],
    examples: ["caliban-images check", "caliban-images check || caliban-images emit --all"],
  },
  {
    name: "import",
    usage: "import <legacy-config>",
    description: "Convert Caliban's legacy cloudbuild_config.json into a matrix.toml",
    options: [
      ["-o, --output <file>", "write the matrix to this file instead of stdout"],
      ["--base-url <repository>", "the repository the legacy generator's --base_url named (default: gcr.io/blueshift-playground/blueshift)"],
    ],
    examples: ["caliban-images import scripts/cloudbuild_config.json -o matrix.toml"],
  },
  {
    name: "emitters",
    usage: "emitters",
    description: "List the available emitters: built in, and from plugins",
    options: [MATRIX_OPTION, PLUGIN_OPTION],
    examples: ["caliban-images emitters", "caliban-images emitters --plugin ci/gitlab.ts"],
  },
];

export async function runCommand(name: string, args: string[], options: Options, io: Io): Promise<number> {
  switch (name) {
    case "plan":
      return plan(options, io);
    case "affected":
      return affected(args, options, io);
    case "emit":
      if (options.all) return emitAll(args, options, io, "write");
      if (args[0] === undefined) fail("USAGE", "emit needs an emitter's name, or --all", { hint: "see caliban-images emitters" });
      return emit(args[0], args.slice(1), options, io);
    case "check":
      return emitAll(args, options, io, "check");
    case "emit-help":
      return emitHelp(args[0]!, options, io);
    case "import":
      return importLegacy(args[0]!, options, io);
    case "emitters":
      return listEmitters(options, io);
    default:
      throw new Error(`command ${name} has no implementation`);
  }
}

/** `emit NAME --help` shows that emitter's options, which cac's help cannot know: the argv without the help flag. */
export function emitterHelpRequest(argv: readonly string[]): string[] | undefined {
  if (argv[0] !== "emit" || !argv.some((a) => a === "--help" || a === "-h")) return undefined;
  const rest = argv.filter((a) => a !== "--help" && a !== "-h");
  return rest.slice(1).some((a) => !a.startsWith("-")) ? rest : undefined;
}

/** --base-url, checked against Docker's repository grammar. */
function baseUrlOption(options: Options): string | undefined {
  const baseUrl = optionalString(options.baseUrl, "--base-url");
  const problem = baseUrl === undefined ? undefined : repositoryProblem(baseUrl);
  if (problem) fail("USAGE", `--base-url "${baseUrl}" ${problem}`);
  return baseUrl;
}

async function loadGraph(options: Options, io: Io): Promise<Planned> {
  const baseUrl = baseUrlOption(options);
  const source = await readMatrixSource(optionalString(options.matrix, "--matrix"), (line) => io.stderr(`${line}\n`));
  const loaded = await loadMatrix(source.text, source.file);
  // Planning a large matrix is half the work: the JIT policy must be back before it (see below).
  if (mostImages(loaded.matrix) > LARGE_MATRIX) Bun.unsafe.setJITPolicy(1);
  // The embedded matrix names no files of the folder it runs in: its images are digested with none.
  const sources = source.directory === undefined ? NO_SOURCES : new WorkingTree(source.directory);
  const graph = planLoaded(loaded, { sources, ...(baseUrl === undefined ? {} : { repository: baseUrl }) });
  return { loaded, graph, source, sources, repository: baseUrl };
}

/**
 * The binary starts with a reluctant JIT (scripts/compile-flags.ts, Bun's documented
 * use of it): a small matrix's run is over before compiling would pay. Planning and
 * emitting a large one runs the same code thousands of times, so the normal policy
 * comes back first.
 */
const LARGE_MATRIX = 500;

/** At most how many images the matrix makes: each family's explicit list, or its product plus includes. */
function mostImages(matrix: Matrix): number {
  let total = 0;
  for (const family of matrix.families) {
    const product = family.axes.reduce((count, axis) => count * matrix.axes.get(axis)!.values.length, 1);
    total += family.combinations?.count ?? product + family.include.count;
  }
  return total;
}

async function plan(options: Options, io: Io): Promise<number> {
  const { loaded, graph } = await loadGraph(options, io);
  if (options.json) await writeOutputs([{ path: "plan.json", contents: chunks(() => graphJsonChunks(graph)) }], undefined, io);
  else io.stdout(renderPlan(graph, loaded.matrix.file));
  return 0;
}

/** Built-in emitters plus plugins from --plugin (relative to the cwd) and the matrix's `plugins` (relative to it). */
async function emitterRegistry(options: Options, matrix: { source: MatrixSource; plugins: readonly string[] } | undefined): Promise<RegisteredEmitter[]> {
  const references: PluginReference[] = stringList(options.plugin).map((path) => ({ path, base: process.cwd(), namedIn: "--plugin" }));
  if (matrix && matrix.source.directory !== undefined) {
    for (const path of matrix.plugins) references.push({ path, base: matrix.source.directory, namedIn: matrix.source.file });
  }
  return registerEmitters(builtinEmitters, await loadPlugins(references));
}

/** --since REV or --changed PATH..., or undefined for neither; both is a mistake. */
function comparisonOption(options: Options, paths: readonly string[], required: boolean): Comparison | undefined {
  const since = optionalString(options.since, "--since");
  if (since !== undefined && options.changed) fail("USAGE", "give --since REVISION or --changed PATH..., not both");
  if (options.changed) return { changed: paths };
  if (paths.length > 0) fail("USAGE", `unexpected argument "${paths[0]}"`, { hint: "changed paths follow --changed" });
  if (since !== undefined) return { since };
  if (required) fail("USAGE", "affected needs --since REVISION or --changed PATH...", { hint: "e.g. caliban-images affected --since origin/main" });
  return undefined;
}

async function affected(paths: string[], options: Options, io: Io): Promise<number> {
  const comparison = comparisonOption(options, paths, true)!;
  const planned = await loadGraph(options, io);
  const { affectedJson, findAffected } = await affectedModule();
  const images = await findAffected(planned, comparison, (line) => io.stderr(`warning: ${line}\n`));
  io.stderr(`${images.length} of ${planned.graph.images.length} images affected${"since" in comparison ? ` since ${comparison.since}` : " by the changed paths"}\n`);
  if (options.json) io.stdout(affectedJson(images, comparison));
  else io.stdout(images.map(({ image }) => `${image.reference}\n`).join(""));
  return 0;
}

async function emit(name: string, paths: string[], options: Options, io: Io): Promise<number> {
  const comparison = comparisonOption(options, paths, false);
  const planned = await loadGraph(options, io);
  const { loaded, source } = planned;
  let { graph } = planned;
  if (comparison) {
    const { findAffected } = await affectedModule();
    const images = await findAffected(planned, comparison, (line) => io.stderr(`warning: ${line}\n`));
    io.stderr(`${images.length} of ${graph.images.length} images affected${"since" in comparison ? ` since ${comparison.since}` : " by the changed paths"}\n`);
    if (images.length === 0) {
      io.stderr("nothing to build: nothing written\n");
      return 0;
    }
    graph = affectedSubgraph(graph, new Set(images.map(({ image }) => image.id)));
  }
  const registry = await emitterRegistry(options, { source, plugins: loaded.matrix.plugins });
  const registered = findEmitter(registry, name);
  for (const configured of Object.keys(loaded.matrix.emit)) {
    if (!registry.some((r) => r.emitter.name === configured)) io.stderr(`warning: ${displayName(loaded.matrix.file)}: [emit.${configured}] configures no known emitter\n`);
  }
  const format = optionalString(options.format, "--format");
  const given = [...stringList(options.option), ...(format === undefined ? [] : [`format=${format}`])];
  const target = optionalString(options.output, "-o");
  const intoDirectory = target !== undefined && (target.endsWith("/") || isDirectory(target));
  const commandLine = [...(await pipelineDefaults(registered, planned, given, intoDirectory ? target : undefined)), ...given];
  const files = emitLoaded(registered, loaded, graph, commandLine);
  // What made the files, as a message about them names it: a plugin's faults are the plugin's.
  const producer = registered.source ? `plugin ${registered.source}: emitter "${registered.emitter.name}"` : `emit ${registered.emitter.name}`;
  if (target !== undefined) {
    const { outputsInContexts } = await affectedModule();
    for (const warning of outputsInContexts(planned, plannedOutputs(files, target, producer).map((file) => file.path))) io.stderr(`warning: ${warning}\n`);
  }
  await writeOutputs(files, target, io, producer);
  return 0;
}

/**
 * Options a pipeline's files need from where they are and which repository holds them,
 * for an emitter that has them and where neither the matrix nor the command line sets
 * them (today Cloud Build's triggers, with [publish]): `github-repository` from git
 * remote origin, and `directory`, the -o folder from the repository's root.
 */
async function pipelineDefaults(registered: RegisteredEmitter, planned: Pick<Planned, "loaded" | "graph" | "source">, given: readonly string[], directory: string | undefined): Promise<string[]> {
  const { emitter } = registered;
  if (!planned.graph.publish.declared || planned.source.directory === undefined) return [];
  const set = (key: string) => given.some((option) => option.startsWith(`${key}=`)) || Object.hasOwn(planned.loaded.matrix.emit[emitter.name] ?? {}, key);
  const { findRepository, githubRepositoryOf } = await import("./git-tree.ts");
  const path: typeof import("node:path") = require("node:path");
  const defaults: string[] = [];
  if (Object.hasOwn(emitter.options, "github-repository") && !set("github-repository")) {
    const repository = githubRepositoryOf(planned.source.directory);
    if (repository) defaults.push(`github-repository=${repository}`);
  }
  if (Object.hasOwn(emitter.options, "directory") && !set("directory") && directory !== undefined) {
    const root = findRepository(planned.source.directory)?.root ?? process.cwd();
    const relative = path.relative(root, path.resolve(directory)).split(path.sep).join("/");
    if (relative !== "" && !relative.startsWith("..")) defaults.push(`directory=${relative}`);
  }
  return defaults;
}

/** Whether a path is a directory that exists. */
function isDirectory(path: string): boolean {
  const fs: typeof import("node:fs") = require("node:fs");
  try {
    return fs.statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Exit status of `check` when an output is stale or missing (1 is a bug of ours, 2 bad input). */
export const EXIT_STALE = 3;

/**
 * `emit --all` writes each output the matrix's [outputs] lists, relative to the matrix
 * file's directory; `check` writes nothing and says which are not what it would write.
 */
async function emitAll(args: readonly string[], options: Options, io: Io, mode: "write" | "check"): Promise<number> {
  const command = mode === "write" ? "emit --all" : "check";
  if (args.length > 0) fail("USAGE", `${command} takes no emitter name: it writes what [outputs] lists`, { hint: `run caliban-images emit ${args[0]} for one emitter` });
  for (const flag of ["output", "since", "changed", "option", "format"] as const) {
    if (options[flag] !== undefined && options[flag] !== false) fail("USAGE", `${command} does not take --${flag === "output" ? "output (-o)" : flag}: [outputs] and [emit.NAME] say what it writes`);
  }
  const { loaded, graph, source } = await loadGraph(options, io);
  const outputs = Object.entries(loaded.matrix.outputs);
  if (source.directory === undefined || outputs.length === 0) {
    fail("USAGE", `${displayName(loaded.matrix.file)} lists no [outputs]`, { hint: 'add, e.g., [outputs] with make = "Makefile" and github = ".github/workflows/images.yml"' });
  }
  const registry = await emitterRegistry(options, { source, plugins: loaded.matrix.plugins });
  const stale: string[] = [];
  let files = 0;
  for (const [name, path] of outputs) {
    const registered = located(loaded.document, () => {
      try {
        return findEmitter(registry, name);
      } catch (error) {
        if (!(error instanceof CalibanError)) throw error;
        throw new CalibanError(error.diagnostics.map((d) => ({ ...d, file: loaded.matrix.file, keyPath: ["outputs", name] })));
      }
    });
    // A workflow names its own path in its triggers: the path [outputs] gives it, unless [emit.NAME] sets one.
    const ownPath = !path.endsWith("/") && "output" in registered.emitter.options && !(loaded.matrix.emit[name] && "output" in loaded.matrix.emit[name]!) ? [`output=${normalOutputPath(path)}`] : [];
    const defaults = await pipelineDefaults(registered, { loaded, graph, source } as Planned, ownPath, path.endsWith("/") ? (source.directory === "." ? path : `${source.directory}/${path}`) : undefined);
    const emitted = emitLoaded(registered, loaded, graph, [...defaults, ...ownPath]);
    const target = source.directory === "." ? path : `${source.directory}/${path}`;
    const producer = registered.source ? `plugin ${registered.source}: emitter "${name}"` : `emit ${name}`;
    if (mode === "write") {
      await writeOutputs(emitted, target, io, producer);
      continue;
    }
    for (const file of plannedOutputs(emitted, target, producer)) {
      files++;
      const expected = typeof file.contents === "string" ? file.contents : [...file.contents].join("");
      const present = readIfFile(file.path);
      if (present === undefined) stale.push(`missing  ${file.path}`);
      else if (present !== expected) stale.push(`stale    ${file.path}`);
    }
  }
  if (mode === "write") return 0;
  if (stale.length === 0) {
    io.stderr(`${files} output files are up to date\n`);
    return 0;
  }
  io.stdout(stale.map((line) => `${line}\n`).join(""));
  io.stderr(`${stale.length} of ${files} output files are not what \`caliban-images emit --all\` writes: run it, and commit what it writes\n`);
  return EXIT_STALE;
}

/** A file's text, or undefined when there is no regular file there. */
function readIfFile(path: string): string | undefined {
  const fs: typeof import("node:fs") = require("node:fs");
  try {
    return fs.readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

async function emitHelp(name: string, options: Options, io: Io): Promise<number> {
  let registry = await emitterRegistry(options, undefined);
  if (!registry.some((r) => r.emitter.name === name)) {
    // Perhaps a plugin the matrix names.
    const { loaded, source } = await loadGraph(options, { stdout: (text) => io.stdout(text), stderr: () => {}, flushed: () => io.flushed() });
    registry = await emitterRegistry(options, { source, plugins: loaded.matrix.plugins });
  }
  const { emitter, source } = findEmitter(registry, name);
  io.stdout(
    [
      `caliban-images emit ${emitter.name}: ${emitter.description}${source ? ` (plugin ${source})` : ""}`,
      "",
      "Usage:",
      `  $ caliban-images emit ${emitter.name} [--matrix FILE] [--base-url REPOSITORY] [-o PATH] [--option KEY=VALUE ...]`,
      "",
      `Options (--option KEY=VALUE, or in the matrix as [emit.${emitter.name}]):`,
      describeOptions(emitter),
      "",
    ].join("\n"),
  );
  return 0;
}

async function importLegacy(path: string, options: Options, io: Io): Promise<number> {
  const source = readTextFile(path, "legacy config");
  const result = importLegacyConfig(source.text, path, baseUrlOption(options));
  for (const warning of result.warnings) io.stderr(`warning: ${displayName(path)}: ${warning}\n`);
  await writeOutputs([{ path: "matrix.toml", contents: result.toml }], optionalString(options.output, "-o"), io);
  return 0;
}

async function listEmitters(options: Options, io: Io): Promise<number> {
  let matrix: { source: MatrixSource; plugins: readonly string[] } | undefined;
  // The embedded matrix names no plugins: read a matrix only when one would be chosen over it.
  if (options.matrix !== undefined || matrixHere()) {
    const { loaded, source } = await loadGraph(options, io);
    matrix = { source, plugins: loaded.matrix.plugins };
  }
  const registry = await emitterRegistry(options, matrix);
  const width = Math.max(...registry.map((r) => r.emitter.name.length));
  const lines = registry.map(({ emitter, source }) => `${emitter.name.padEnd(width)}  ${emitter.description}${source ? `  (plugin ${source})` : ""}`);
  io.stdout(`${lines.join("\n")}\n`);
  return 0;
}

function optionalString(value: unknown, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) fail("USAGE", `${flag} is given more than once`);
  if (typeof value !== "string" || value === "") fail("USAGE", `${flag} needs a value`);
  return value;
}

function stringList(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

