// Which matrix a command reads: --matrix FILE, else ./matrix.toml, else the default
// embedded in the binary. The choice is said on stderr, so a CI log shows it.

import { readFileSync, statSync } from "node:fs";
import { fail } from "../core/errors.ts";
import embeddedMatrix from "../matrix.toml" with { type: "text" };

export interface MatrixSource {
  readonly text: string;
  /** How errors name the file. */
  readonly file: string;
  /** Where plugin paths in the matrix are resolved from; undefined for the embedded matrix. */
  readonly directory: string | undefined;
}

export const EMBEDDED_MATRIX_NAME = "<embedded matrix.toml>";

export async function readMatrixSource(flag: string | undefined, log: (line: string) => void): Promise<MatrixSource> {
  if (flag !== undefined) {
    const source = await readTextFile(flag, "matrix file");
    log(`using matrix ${flag}`);
    return source;
  }
  if (hasMatrixHere()) {
    log("using matrix ./matrix.toml");
    return readTextFile("matrix.toml", "matrix file");
  }
  log("using the embedded default matrix (no ./matrix.toml here; pass --matrix FILE to choose one)");
  return { text: embeddedMatrix as unknown as string, file: EMBEDDED_MATRIX_NAME, directory: undefined };
}

export async function readTextFile(path: string, what: string): Promise<MatrixSource> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") fail("FILE_NOT_FOUND", `${what} ${path} does not exist`);
    if (code === "EISDIR") fail("FILE_UNREADABLE", `${what} ${path} is a directory, not a file`);
    fail("FILE_UNREADABLE", `cannot read ${what} ${path}: ${(error as Error).message}`);
  }
  return { text, file: path, directory: path.includes("/") ? path.slice(0, path.lastIndexOf("/")) || "/" : "." };
}

/** Whether ./matrix.toml exists, and so would be read rather than the embedded default. */
export function hasMatrixHere(): boolean {
  try {
    return statSync("matrix.toml").isFile();
  } catch {
    return false;
  }
}
