// Running an emitter the one way the CLI and the tests both use: its options from the
// matrix's [emit.NAME] table and the command line, checked before `emit` runs; the
// output checked after (a plugin's throw or malformed output names its file).

import type { BuildGraph } from "../core/graph.ts";
import { createEmitContext } from "./context.ts";
import type { EmittedFile, Emitter } from "./contract.ts";
import { resolveOptions, type OptionSources } from "./options.ts";
import { callEmit, type RegisteredEmitter } from "./plugins.ts";

export interface EmitRequest extends OptionSources {
  /** The matrix file the graph came from, as the user named it. */
  readonly matrixFile: string;
}

export function runEmitter(target: Emitter<any> | RegisteredEmitter, graph: BuildGraph, request: EmitRequest): readonly EmittedFile[] {
  const registered: RegisteredEmitter = "emitter" in target ? target : { emitter: target, source: undefined };
  const { emitter } = registered;
  const options = resolveOptions(emitter, request);
  return callEmit(registered, () => emitter.emit(graph, options, createEmitContext(request.matrixFile)));
}
