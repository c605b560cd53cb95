// Running an emitter the one way the CLI and the tests both use: options from the
// matrix's [emit.NAME] table and the command line, checked before `emit` runs.

import type { BuildGraph } from "../core/graph.ts";
import { located, type LoadedMatrix } from "../core/load.ts";
import { createEmitContext } from "./context.ts";
import type { EmittedFile, Emitter } from "./contract.ts";
import { resolveOptions } from "./options.ts";

export function runEmitter(
  emitter: Emitter<any>,
  loaded: LoadedMatrix,
  graph: BuildGraph,
  commandLineOptions: readonly string[] = [],
): readonly EmittedFile[] {
  const fromMatrix = loaded.matrix.emit[emitter.name];
  const options = located(loaded.document, () =>
    resolveOptions(emitter, {
      ...(fromMatrix ? { fromMatrix: { file: loaded.matrix.file, values: fromMatrix } } : {}),
      fromCommandLine: commandLineOptions,
    }),
  );
  return emitter.emit(graph, options, createEmitContext(loaded.matrix.file));
}
