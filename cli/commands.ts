// The commands, declared once: the list gives both the parser and --help.

import { didYouMean, fail } from "../core/errors.ts";
import { matrixSchema } from "../core/matrix/matrix-schema.ts";
import { displayName } from "../core/printable.ts";
import { graphShape } from "../core/changes/graph-shape.ts";
import { importLegacyConfig } from "../import/legacy-import.ts";
import { affectedSubgraph } from "../core/changes/affected.ts";
import { chunks } from "../emitters/contract.ts";
import { describeOptions } from "../emitters/options.ts";
import { findEmitter } from "../emitters/plugins.ts";
import { graphJsonChunks } from "../emitters/plan-json.ts";
import { renderPlan, selectFamilies } from "../emitters/plan-text.ts";
import { renderSummary, SUMMARY_ABOVE } from "../emitters/plan-summary.ts";
import { familiesPicture, mermaidTooLarge, renderDot, renderMermaid } from "../emitters/plan-graph.ts";
import type { Comparison } from "./affected.ts";
import { emitAll } from "./emit-all.ts";
import { emitLoaded, isDirectory, ownPathDefault, pipelineDefaults } from "./emit.ts";
import { baseUrlOption, emitterRegistry, loadGraph, optionalString, stringList, type Options } from "./load-graph.ts";
import { matrixHere, matrixPathOf, readTextFile, type MatrixSource } from "./matrix-source.ts";
import { plannedOutputs, writeOutputs } from "./output.ts";
import type { Io } from "./terminal.ts";

/** `affected` and `emit --since` read git and node:path: loaded when used, not at every start. */
const affectedModule = () => import("./affected.ts");

interface CommandSpec {
  readonly name: string;
  readonly usage: string;
  readonly description: string;
  readonly options: readonly (readonly [string, string, { default?: unknown; type?: unknown[] }?])[];
  readonly examples: readonly string[];
}

const MATRIX_OPTION = ["--matrix <file>", "matrix file (default: ./matrix.toml, else the embedded default)"] as const;
const BASE_URL_OPTION = ["--base-url <repository>", "push images to this repository instead of the matrix's `repository` (a family's own repository moves only when written as {repository}/PATH)"] as const;
const SINCE_OPTION = ["--since <revision>", "only the images whose inputs differ from those at this git revision (see `caliban-images affected`)"] as const;
const CHANGED_OPTION = ["--changed", "only the images the PATHs given after the command affect (changed files, relative to the repository's root)"] as const;
const PLUGIN_OPTION: readonly [string, string, { type: unknown[] }] = ["--plugin <file>", "load emitters from this .ts or .js module (repeatable)", { type: [String] }];
const VAR_OPTION: readonly [string, string, { type: unknown[] }] = ["--var <name=value>", "set a variable of the matrix's [vars] (repeatable); an emitted pipeline passes it on to the caliban-images it runs", { type: [String] }];

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: "plan",
    usage: "plan",
    description: `Show the supported combinations and the build graph, stage by stage; past ${SUMMARY_ABOVE} images, a summary per family`,
    options: [
      MATRIX_OPTION, VAR_OPTION,
      BASE_URL_OPTION,
      ["--json", "print the build graph as JSON (format: README, \"plan --json\"); short for --format json"],
      ["--full", `list every image, however many (short for --format full); without it, past ${SUMMARY_ABOVE} images plan prints one entry per family`],
      ["--format <format>", `text (default: full up to ${SUMMARY_ABOVE} images, else summary), full, summary, json, mermaid (a diagram GitHub renders in Markdown) or dot (Graphviz)`],
      ["--family <names>", "show only these families' images (comma-separated or repeated); the diagrams draw their bases too; not with --json", { type: [String] }],
    ],
    examples: ["caliban-images plan", "caliban-images plan --full --family gpu,gpu-base", "caliban-images plan --matrix images.toml --json", "caliban-images plan --format mermaid --family gpu", "caliban-images plan --format dot | dot -Tsvg > images.svg"],
  },
  {
    name: "affected",
    usage: "affected [...paths]",
    description: "List the images whose inputs changed since a git revision (--since), or that changed files affect (--changed PATH...)",
    options: [MATRIX_OPTION, VAR_OPTION, BASE_URL_OPTION, SINCE_OPTION, CHANGED_OPTION, ["--json", "print the graph's entries of the affected images, each with why"]],
    examples: ["caliban-images affected --since origin/main", "caliban-images affected --since HEAD~1 --json", "caliban-images affected --changed docker/base.Dockerfile docker/app/main.py"],
  },
  {
    name: "emit",
    usage: "emit [emitter] [...paths]",
    description: "Write the build graph for a CI system or build tool (see `caliban-images emitters`)",
    options: [
      MATRIX_OPTION, VAR_OPTION,
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
    options: [MATRIX_OPTION, VAR_OPTION, PLUGIN_OPTION],
    examples: ["caliban-images check", "caliban-images check || caliban-images emit --all"],
  },
  {
    name: "resolve",
    usage: "resolve",
    description: "What a pipeline runs first, in the tree it checked out: every image's inputs digest from that tree, a check that the matrix still gives the graph its file was emitted for (--shape; exit 3 when stale), and with --registry which images the registry has (exit 4 when it cannot say)",
    options: [
      MATRIX_OPTION, VAR_OPTION,
      BASE_URL_OPTION,
      ["--shape <hex>", "the shape the pipeline's file was emitted for (it names it): a matrix that gives another graph is stale, exit 3"],
      ["--for <file>", "the pipeline's file, named in the message when it is stale; without --shape, the shape it names, and the --var values (docker-bake.hcl does)"],
      ["--registry <repository>", "ask this repository for each image's content tag (REPOSITORY:inputs-HEX): present, absent, or exit 4; it takes the top-level repository's place, as --base-url does, for families with their own"],
      ["--event <name>", "the run's event (push, pull_request, schedule, workflow_dispatch, ...): with --ref, say whether it publishes, as [publish] says"],
      ["--ref <ref>", "the git ref the run is on (refs/heads/BRANCH): only a [publish] branch publishes, never a pull request or a tag"],
      ["--retries <n>", "ask a registry that did not answer (5xx, rate limit, network) again this many times, after 1, 2, 4, ... s (default 4)"],
      ["--insecure-registry <host>", "ask this registry over plain http (loopback hosts always are; repeatable)", { type: [String] }],
      ["--cosign <path>", "with [sign] and --registry: the cosign that verifies each image the registry has before it is reused (default: cosign on the PATH)"],
      ["--format <format>", "json (default), make (one line of make assignments: inputs/ID=HEX, present/ID=1) github (inputs=, present= and publish= lines for $GITHUB_OUTPUT) lines (ID HEX per line, for a shell) or bake (JSON, id to hex, for docker-bake.hcl's CALIBAN_INPUTS)"],
    ],
    examples: ["caliban-images resolve", "caliban-images resolve --registry ghcr.io/acme/images --format json"],
  },
  {
    name: "lock",
    usage: "lock",
    description: "Ask the registries for the digest of every external base image the Dockerfiles build FROM, write them to the lock file beside the matrix (matrix.lock), and the files [outputs] lists again",
    options: [
      MATRIX_OPTION, VAR_OPTION,
      ["--check", "write nothing; exit 3 when an upstream image moved (or is not locked yet)"],
      ["--insecure-registry <host>", "ask this registry over plain http (loopback hosts always are; repeatable)", { type: [String] }],
      PLUGIN_OPTION,
    ],
    examples: ["caliban-images lock", "caliban-images lock --check || echo 'an upstream base image moved'"],
  },
  {
    name: "prune",
    usage: "prune",
    description: "List what the matrix's repositories hold that no kept plan needs (a dry run; --delete deletes it): content tags no [publish] branch head, kept lock generation or the working tree reaches, build caches of images none has, cosign signatures of what goes, and the platform and attestation manifests of the indexes that go; never a tag of no scheme of ours, nor anything a kept tag refers to",
    options: [
      MATRIX_OPTION, VAR_OPTION,
      BASE_URL_OPTION,
      ["--keep-locks <n>", "also keep the plans of the last N commits that changed the lock file on each [publish] branch (default 3; 0: only the heads)"],
      ["--delete", "delete what the dry run lists (refused while a kept plan cannot be planned)"],
      ["--json", "print the listing (or what was deleted) as JSON"],
      ["--insecure-registry <host>", "ask this registry over plain http (loopback hosts always are; repeatable)", { type: [String] }],
    ],
    examples: ["caliban-images prune", "caliban-images prune --keep-locks 5 --json", "git fetch origin && caliban-images prune --delete"],
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
    name: "init",
    usage: "init [dir]",
    description: "Write a starting point into DIR (default: here): a commented matrix.toml for python × CUDA, its Dockerfiles and .dockerignore, the schema for editors, and the CI files --ci asks for; never overwrites a file",
    options: [
      ["--ci <names>", "also write these CI files, from the matrix: github, gitlab, buildkite, cloudbuild, make, bake (comma-separated or repeated)", { type: [String] }],
      ["--repository <repository>", `where the images go (default: ${"ghcr.io/your-org/images"})`],
    ],
    examples: ["caliban-images init", "caliban-images init images --ci github", "caliban-images init --ci github,make --repository ghcr.io/acme/ml-images"],
  },
  {
    name: "schema",
    usage: "schema",
    description: "Print the JSON Schema of matrix.toml, for editors: taplo and Even Better TOML read it from a `#:schema FILE` first line",
    options: [["-o, --output <file>", "write the schema to this file instead of stdout"]],
    examples: ["caliban-images schema -o matrix.schema.json"],
  },
  {
    name: "emitters",
    usage: "emitters",
    description: "List the available emitters: built in, and from plugins",
    options: [MATRIX_OPTION, VAR_OPTION, PLUGIN_OPTION],
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
    case "lock":
      return (await import("./lock.ts")).lockCommand(options, io);
    case "resolve":
      return (await import("./resolve.ts")).resolveCommand(options, io);
    case "prune":
      return (await import("./prune.ts")).pruneCommand(options, io);
    case "import":
      return importLegacy(args[0]!, options, io);
    case "init":
      return (await import("./init.ts")).initCommand(args[0], options, io);
    case "schema":
      await writeOutputs([{ path: "matrix.schema.json", contents: `${JSON.stringify(matrixSchema(), null, 2)}\n` }], optionalString(options.output, "-o"), io);
      return 0;
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

const PLAN_FORMATS = ["text", "json", "mermaid", "dot", "full", "summary"];

async function plan(options: Options, io: Io): Promise<number> {
  const given = optionalString(options.format, "--format");
  if (given !== undefined && !PLAN_FORMATS.includes(given)) fail("USAGE", `--format ${given}: plan prints ${PLAN_FORMATS.join(", ")}`, { hint: didYouMean(given, PLAN_FORMATS) });
  if (options.json && options.full) fail("USAGE", "--json is --format json and --full is --format full: give one");
  for (const [flag, short] of [["json", options.json], ["full", options.full]] as const) {
    if (short && given !== undefined && given !== flag) fail("USAGE", `--${flag} is --format ${flag}, not --format ${given}: give one`);
  }
  const format = options.json ? "json" : options.full ? "full" : (given ?? "text");
  const families = familyOption(options.family);
  // The build graph's JSON is whole or it is not the build graph (a base outside it, levels, the shape).
  if (families !== undefined && format === "json") fail("USAGE", "--family filters the text and the diagrams, not --json: the build graph is printed whole", { hint: `select from it instead, e.g. plan --json | jq '.images[] | select(.family == "${families[0]}")'` });
  const { loaded, graph } = await loadGraph(options, io);
  const known = graph.families.map((family) => family.name);
  for (const name of families ?? []) if (!known.includes(name)) fail("USAGE", `--family ${name}: the matrix has no family "${name}"`, { hint: didYouMean(name, known) });
  const pictured = families === undefined ? graph : familiesPicture(graph, families);
  if (format === "json") await writeOutputs([{ path: "plan.json", contents: chunks(() => graphJsonChunks(graph)) }], undefined, io);
  else if (format === "mermaid") {
    const text = renderMermaid(pictured);
    const tooLarge = mermaidTooLarge(text, pictured);
    if (tooLarge) io.stderr(`warning: ${tooLarge}: it will not render on GitHub (plan --format dot has no such limit${families === undefined ? "; --family draws a part" : ""})\n`);
    io.stdout(text);
  } else if (format === "dot") io.stdout(renderDot(pictured));
  else {
    const selection = selectFamilies(graph, families);
    const summary = format === "summary" || (format === "text" && selection.images.length > SUMMARY_ABOVE);
    io.stdout((summary ? renderSummary : renderPlan)(graph, loaded.matrix.file, selection));
  }
  return 0;
}

/** --family a --family b, or --family a,b: the names in order, each once; undefined without the option. */
function familyOption(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const items = (Array.isArray(value) ? value : [value]).map((item) => (typeof item === "string" ? item : ""));
  const names = items.flatMap((item) => item.split(",")).map((name) => name.trim());
  if (names.some((name) => name === "")) fail("USAGE", "--family needs a family's name (or several, comma-separated)");
  return [...new Set(names)];
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
  // A part of the graph is emitted for the whole one's shape: its pipeline checks the matrix against it when it runs.
  const shape = comparison ? graphShape(graph) : undefined;
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
  const commandLine = [...(await pipelineDefaults(registered, planned, given, intoDirectory ? target : undefined)), ...(await ownPathDefault(registered, planned, given, intoDirectory ? undefined : target)), ...given];
  // What made the files, as a message about them names it: a plugin's faults are the plugin's.
  const producer = registered.source ? `plugin ${registered.source}: emitter "${registered.emitter.name}"` : `emit ${registered.emitter.name}`;
  const files = emitLoaded(registered, loaded, graph, commandLine, matrixPathOf(source), shape, (message) => io.stderr(`warning: ${producer}: ${message}\n`));
  if (target !== undefined) {
    const { outputsInContexts } = await affectedModule();
    for (const warning of outputsInContexts(planned, plannedOutputs(files, target, producer).map((file) => file.path))) io.stderr(`warning: ${warning}\n`);
  }
  await writeOutputs(files, target, io, producer);
  return 0;
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
      `  $ caliban-images emit ${emitter.name} [--matrix FILE] [--var NAME=VALUE ...] [--base-url REPOSITORY] [-o PATH] [--option KEY=VALUE ...]`,
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

