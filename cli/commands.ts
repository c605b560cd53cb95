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
import { COMMANDS } from "./command-specs.ts";

export { COMMANDS };

/** `affected` and `emit --since` read git and node:path: loaded when used, not at every start. */
const affectedModule = () => import("./affected.ts");

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
    case "explain":
      return (await import("./explain.ts")).explainCommand(args[0]!, options, io);
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

