// `emit NAME` (and `emit --since`), `affected`, `emit NAME --help` and `emitters`: what
// renders the graph through one emitter, and what lists them.

import { fail } from "../core/errors.ts";
import { graphShape } from "../core/changes/graph-shape.ts";
import { affectedSubgraph } from "../core/changes/affected.ts";
import { describeOptions } from "../emitters/options.ts";
import { findEmitter } from "../emitters/plugins.ts";
import type { Comparison } from "./affected.ts";
import { emitLoaded, isDirectory, ownPathDefault, pipelineDefaults } from "./emit.ts";
import { emitterRegistry, warnOfUnknownTables } from "./emitter-registry.ts";
import { loadGraph, optionalString, stringList, type Options } from "./load-graph.ts";
import { matrixHere, matrixPathOf, type MatrixSource } from "./matrix-source.ts";
import { plannedOutputs, writeOutputs } from "./output.ts";
import type { Io } from "./terminal.ts";

/** `affected` and `emit --since` read git and node:path: loaded when used, not at every start. */
const affectedModule = () => import("./affected.ts");

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

export async function affectedCommand(paths: string[], options: Options, io: Io): Promise<number> {
  const comparison = comparisonOption(options, paths, true)!;
  const planned = await loadGraph(options, io);
  const { affectedJson, findAffected } = await affectedModule();
  const images = await findAffected(planned, comparison, (line) => io.stderr(`warning: ${line}\n`));
  io.stderr(`${images.length} of ${planned.graph.images.length} images affected${"since" in comparison ? ` since ${comparison.since}` : " by the changed paths"}\n`);
  if (options.json) io.stdout(affectedJson(images, comparison));
  else io.stdout(images.map(({ image }) => `${image.reference}\n`).join(""));
  return 0;
}

export async function emitCommand(name: string, paths: string[], options: Options, io: Io): Promise<number> {
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
  warnOfUnknownTables(registry, loaded.matrix, (line) => io.stderr(`warning: ${line}\n`));
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

export async function emitHelp(name: string, options: Options, io: Io): Promise<number> {
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

export async function listEmitters(options: Options, io: Io): Promise<number> {
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
