// Running an emitter the one way the CLI and the tests both use: options from the
// matrix's [emit.NAME] table and the command line, checked before `emit` runs; the
// output checked after (a plugin's throw or malformed output names its file).

import type { BuildGraph } from "../core/graph.ts";
import { located, type LoadedMatrix } from "../core/load.ts";
import { createEmitContext } from "./context.ts";
import type { EmittedFile, Emitter } from "./contract.ts";
import { resolveOptions } from "./options.ts";
import { callEmit, type RegisteredEmitter } from "./plugins.ts";

export function runEmitter(
  target: Emitter<any> | RegisteredEmitter,
  loaded: LoadedMatrix,
  graph: BuildGraph,
  commandLineOptions: readonly string[] = [],
): readonly EmittedFile[] {
  const registered: RegisteredEmitter = "emitter" in target ? target : { emitter: target, source: undefined };
  const { emitter } = registered;
  const fromMatrix = loaded.matrix.emit[emitter.name];
  const options = located(loaded.document, () =>
    resolveOptions(emitter, {
      ...(fromMatrix ? { fromMatrix: { file: loaded.matrix.file, values: fromMatrix } } : {}),
      fromCommandLine: commandLineOptions,
    }),
  );
  return callEmit(registered, () => emitter.emit(graph, options, createEmitContext(loaded.matrix.file)));
}
