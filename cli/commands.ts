// The commands, declared once: the list gives both the parser and --help.

import { didYouMean, fail } from "../core/errors.ts";
import type { BuildGraph } from "../core/graph.ts";
import { importLegacyConfig } from "../core/legacy-import.ts";
import { loadMatrix, planLoaded, type LoadedMatrix } from "../core/load.ts";
import { repositoryProblem } from "../core/names.ts";
import type { Emitter } from "../emitters/contract.ts";
import { builtinEmitters } from "../emitters/index.ts";
import { describeOptions } from "../emitters/options.ts";
import { runEmitter } from "../emitters/run.ts";
import { readMatrixSource, readTextFile } from "./matrix-source.ts";
import { writeOutputs } from "./output.ts";
import { renderPlan } from "./render-plan.ts";

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
}

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

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: "plan",
    usage: "plan",
    description: "Show the supported combinations and the build graph, stage by stage",
    options: [MATRIX_OPTION, BASE_URL_OPTION, ["--json", "print the build graph as JSON (format: README, \"plan --json\")"]],
    examples: ["caliban-images plan", "caliban-images plan --matrix images.toml --json"],
  },
  {
    name: "emit",
    usage: "emit <emitter>",
    description: "Write the build graph for a CI system or build tool (see `caliban-images emitters`)",
    options: [
      MATRIX_OPTION,
      BASE_URL_OPTION,
      ["-o, --output <path>", "write to this file (or directory) instead of stdout; replaced whole or not at all"],
      ["--option <key=value>", "set an emitter option (repeatable); see `caliban-images emit NAME --help`", { type: [String] }],
      ["--format <format>", "short for --option format=FORMAT (e.g. emit github --format matrix)"],
    ],
    examples: [
      "caliban-images emit cloudbuild --base-url gcr.io/test -o cloudbuild.json",
      "caliban-images emit cloudbuild --option timeout=3600s",
      "caliban-images emit github -o .github/workflows/build-images.yml",
      "caliban-images emit github --format matrix >> \"$GITHUB_OUTPUT\"",
      "caliban-images emit make -o Makefile && make -j4 push",
      "caliban-images emit bake > docker-bake.hcl && docker buildx bake",
    ],
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
    description: "List the available emitters",
    options: [],
    examples: ["caliban-images emitters"],
  },
];

export async function runCommand(name: string, args: string[], options: Options, io: Io): Promise<number> {
  switch (name) {
    case "plan":
      return plan(options, io);
    case "emit":
      return emit(args[0]!, options, io);
    case "emit-help":
      return emitHelp(args[0]!, io);
    case "import":
      return importLegacy(args[0]!, options, io);
    case "emitters":
      return listEmitters(io);
    default:
      throw new Error(`command ${name} has no implementation`);
  }
}

/** `emit NAME --help` shows that emitter's options, which cac's help cannot know. */
export function emitterHelpRequest(argv: readonly string[]): { name: string; options: Options } | undefined {
  if (argv[0] !== "emit" || !argv.some((a) => a === "--help" || a === "-h")) return undefined;
  const name = argv.slice(1).find((a) => !a.startsWith("-"));
  return name ? { name, options: {} } : undefined;
}

async function loadGraph(options: Options, io: Io): Promise<{ loaded: LoadedMatrix; graph: BuildGraph }> {
  const baseUrl = optionalString(options.baseUrl, "--base-url");
  if (baseUrl !== undefined) {
    const problem = repositoryProblem(baseUrl);
    if (problem) fail("USAGE", `--base-url "${baseUrl}" ${problem}`);
  }
  const source = await readMatrixSource(optionalString(options.matrix, "--matrix"), (line) => io.stderr(`${line}\n`));
  const loaded = await loadMatrix(source.text, source.file);
  const graph = planLoaded(loaded, baseUrl === undefined ? {} : { repository: baseUrl });
  return { loaded, graph };
}

async function plan(options: Options, io: Io): Promise<number> {
  const { loaded, graph } = await loadGraph(options, io);
  io.stdout(options.json ? `${JSON.stringify(graph, null, 2)}\n` : renderPlan(graph, loaded.matrix.file));
  return 0;
}

function findEmitter(name: string): Emitter<any> {
  const emitters: readonly Emitter<any>[] = builtinEmitters;
  const emitter = emitters.find((e) => e.name === name);
  if (!emitter) {
    fail("EMITTER", `unknown emitter "${name}"`, { hint: didYouMean(name, emitters.map((e) => e.name)) ?? "see caliban-images emitters" });
  }
  return emitter;
}

async function emit(name: string, options: Options, io: Io): Promise<number> {
  const emitter = findEmitter(name);
  const { loaded, graph } = await loadGraph(options, io);
  const format = optionalString(options.format, "--format");
  const commandLine = [...stringList(options.option), ...(format === undefined ? [] : [`format=${format}`])];
  const files = runEmitter(emitter, loaded, graph, commandLine);
  writeOutputs(files, optionalString(options.output, "-o"), io.stdout);
  return 0;
}

function emitHelp(name: string, io: Io): number {
  const emitter = findEmitter(name);
  io.stdout(
    [
      `caliban-images emit ${emitter.name}: ${emitter.description}`,
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
  const source = await readTextFile(path, "legacy config");
  const baseUrl = optionalString(options.baseUrl, "--base-url");
  if (baseUrl !== undefined) {
    const problem = repositoryProblem(baseUrl);
    if (problem) fail("USAGE", `--base-url "${baseUrl}" ${problem}`);
  }
  const result = importLegacyConfig(source.text, path, baseUrl);
  for (const warning of result.warnings) io.stderr(`warning: ${path}: ${warning}\n`);
  writeOutputs([{ path: "matrix.toml", contents: result.toml }], optionalString(options.output, "-o"), io.stdout);
  return 0;
}

function listEmitters(io: Io): number {
  const emitters: readonly Emitter<any>[] = builtinEmitters;
  const width = Math.max(...emitters.map((e) => e.name.length));
  io.stdout(`${emitters.map((e) => `${e.name.padEnd(width)}  ${e.description}`).join("\n")}\n`);
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
