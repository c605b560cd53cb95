// The one way in: TOML text → checked matrix → build graph, with every diagnostic
// located at its line and column in the file.

import { CalibanError, type Diagnostic } from "./errors.ts";
import type { BuildGraph } from "./graph.ts";
import { readMatrix, type GivenVariables, type Matrix } from "./matrix/matrix.ts";
import { planMatrix, type PlanOptions } from "./plan/plan.ts";
import { keysAsWritten, locateDiagnostics, parseToml, type TomlSource } from "./matrix/toml.ts";

export interface LoadedMatrix {
  /** The text, for locating later diagnostics (the parsed data is not kept: only the matrix read from it). */
  readonly document: TomlSource;
  readonly matrix: Matrix;
}

/** `given`: the values of [vars] given from outside the file (`--var NAME=VALUE`). */
export async function loadMatrix(text: string, file: string, given?: GivenVariables): Promise<LoadedMatrix> {
  const { data, ...document } = await parseToml(text, file);
  return { document, matrix: located(document, () => readMatrix(data, file, keysAsWritten(document), given)) };
}

export function planLoaded(loaded: LoadedMatrix, options: PlanOptions = {}): BuildGraph {
  return located(loaded.document, () => planMatrix(loaded.matrix, options));
}

/** Runs `step`; a CalibanError it throws comes back with line and column filled in. */
export function located<T>(document: TomlSource, step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof CalibanError) throw new CalibanError(byPosition(locateDiagnostics(document, error.diagnostics)));
    throw error;
  }
}

/** Diagnostics in the order a reader meets them in the file; those with no line keep their order, last. */
function byPosition(diagnostics: Diagnostic[]): Diagnostic[] {
  const rank = (d: Diagnostic) => (d.line ?? Infinity) * 1e6 + (d.column ?? 0);
  return diagnostics
    .map((d, index) => ({ d, index }))
    .sort((a, b) => rank(a.d) - rank(b.d) || a.index - b.index)
    .map(({ d }) => d);
}
