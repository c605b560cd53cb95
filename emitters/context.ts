// The helpers every emitter gets through its context. `yaml` is loaded only when an
// emitter first writes YAML: it costs start-up time that other commands need not pay.

import type { EmitContext, PipelineVariable } from "./contract.ts";

type YamlModule = typeof import("yaml");
let yamlModule: YamlModule | undefined;

export function createEmitContext(matrixFile: string, shape: string, matrixPath?: string, warn: (message: string) => void = () => {}, outputs: readonly string[] = [], variables: readonly PipelineVariable[] = []): EmitContext {
  return {
    matrixFile,
    shape,
    outputs,
    variables,
    warn,
    ...(matrixPath === undefined ? {} : { matrixPath }),
    json: (value) => `${JSON.stringify(value, null, 2)}\n`,
    yaml: (value) => {
      // A synchronous require keeps `emit` synchronous and still defers loading.
      yamlModule ??= require("yaml") as YamlModule;
      return yamlModule.stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });
    },
  };
}

/**
 * The matrix as a generated file's header names it: its path from the repository's root
 * (the same from any working directory, as the file must be), else as the user named it.
 */
export function matrixNamed(context: Pick<EmitContext, "matrixFile" | "matrixPath">): string {
  return context.matrixPath ?? context.matrixFile;
}
