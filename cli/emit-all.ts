// `emit --all` writes every output the matrix's [outputs] lists, where it says; `check`
// writes nothing and says which are not what `emit --all` would write (exit 3).

import { CalibanError, fail } from "../core/errors.ts";
import { located } from "../core/load.ts";
import { normalOutputPath } from "../core/matrix.ts";
import { displayName } from "../core/printable.ts";
import { findEmitter } from "../emitters/plugins.ts";
import { emitLoaded, pipelineDefaults } from "./emit.ts";
import { emitterRegistry, loadGraph, type Options } from "./load-graph.ts";
import { matrixPathOf } from "./matrix-source.ts";
import { plannedOutputs, writeOutputs } from "./output.ts";
import type { Io } from "./terminal.ts";

/** Exit status of `check` when an output is stale or missing (1 is a bug of ours, 2 bad input). */
export const EXIT_STALE = 3;

/**
 * `emit --all` writes each output the matrix's [outputs] lists, relative to the matrix
 * file's directory; `check` writes nothing and says which are not what it would write.
 */
export async function emitAll(args: readonly string[], options: Options, io: Io, mode: "write" | "check"): Promise<number> {
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
    const defaults = await pipelineDefaults(registered, { loaded, graph, source }, ownPath, path.endsWith("/") ? (source.directory === "." ? path : `${source.directory}/${path}`) : undefined);
    // check writes nothing and says only what is stale: the warnings are emit --all's.
    const warn = mode === "write" ? (message: string) => io.stderr(`warning: emit ${name}: ${message}\n`) : undefined;
    const emitted = emitLoaded(registered, loaded, graph, [...defaults, ...ownPath], matrixPathOf(source), undefined, warn);
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

