// The digester a matrix's images are planned with: what caliban-images reads and writes
// describes builds, and is no input of one (inputs.ts): the matrix file, its lock and its
// [outputs] are left out of every build context's digest.

import type { Matrix } from "../matrix/matrix-types.ts";
import { InputsDigester, type SourceTree } from "./inputs.ts";
import { lockFileName } from "./lock.ts";

/** `matrixName`: the matrix file's name as given (PlanOptions.matrixName), else its own. */
export function matrixDigester(matrix: Matrix, sources: SourceTree, matrixName = matrix.file): InputsDigester {
  return new InputsDigester(sources, [matrixName.slice(matrixName.lastIndexOf("/") + 1), lockFileName(matrixName), ...Object.values(matrix.outputs)]);
}
