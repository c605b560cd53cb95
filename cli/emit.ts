// An emitter run on a loaded matrix, as `emit` runs it: the matrix's [emit.NAME]
// settings and the command line's options, a mistake in the settings reported at its
// line in the matrix file.

import type { BuildGraph } from "../core/graph.ts";
import { located, type LoadedMatrix } from "../core/load.ts";
import type { EmittedFile, Emitter } from "../emitters/contract.ts";
import type { RegisteredEmitter } from "../emitters/plugins.ts";
import { runEmitter } from "../emitters/run.ts";

export function emitLoaded(
  target: Emitter<any> | RegisteredEmitter,
  loaded: LoadedMatrix,
  graph: BuildGraph,
  commandLine: readonly string[] = [],
): readonly EmittedFile[] {
  const name = "emitter" in target ? target.emitter.name : target.name;
  const file = loaded.matrix.file;
  const settings = Object.hasOwn(loaded.matrix.emit, name) ? loaded.matrix.emit[name] : undefined;
  return located(loaded.document, () =>
    runEmitter(target, graph, { matrixFile: file, fromCommandLine: commandLine, ...(settings ? { fromMatrix: { file, values: settings } } : {}) }),
  );
}
