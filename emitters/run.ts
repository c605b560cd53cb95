// Running an emitter the one way the CLI and the tests both use: its options from the
// matrix's [emit.NAME] table and the command line, checked before `emit` runs; the
// output checked after (a plugin's throw or malformed output names its file).

import { CalibanError } from "../core/errors.ts";
import type { BuildGraph } from "../core/graph.ts";
import { graphShape } from "../core/changes/graph-shape.ts";
import { createEmitContext } from "./context.ts";
import type { EmittedFile, Emitter, PipelineVariable } from "./contract.ts";
import { resolveOptions, type OptionSources } from "./options.ts";
import { callEmit, describeThrown, type RegisteredEmitter } from "./plugins.ts";

export interface EmitRequest extends OptionSources {
  /** The matrix file the graph came from, as the user named it. */
  readonly matrixFile: string;
  /** EmitContext.matrixPath. */
  readonly matrixPath?: string;
  /** EmitContext.shape: the whole graph's, when `graph` is a part of it (default: `graph`'s own). */
  readonly shape?: string;
  /** EmitContext.outputs. */
  readonly outputs?: readonly string[];
  /** EmitContext.variables. */
  readonly variables?: readonly PipelineVariable[];
  /** Where the emitter's warnings go (default: nowhere). */
  readonly warn?: (message: string) => void;
}

export function runEmitter(target: Emitter<any> | RegisteredEmitter, graph: BuildGraph, request: EmitRequest): readonly EmittedFile[] {
  const registered: RegisteredEmitter = "emitter" in target ? target : { emitter: target, source: undefined };
  const { emitter } = registered;
  let options;
  try {
    options = resolveOptions(emitter, request);
  } catch (error) {
    // A plugin's option `check` that throws is the plugin's fault, not ours.
    if (error instanceof CalibanError || !registered.source) throw error;
    throw new CalibanError({ code: "PLUGIN", message: `plugin ${registered.source}: emitter "${emitter.name}": an option's check failed: ${describeThrown(error)}` });
  }
  return callEmit(registered, () => emitter.emit(graph, options, createEmitContext(request.matrixFile, request.shape ?? graphShape(graph), request.matrixPath, request.warn, request.outputs, request.variables)));
}
