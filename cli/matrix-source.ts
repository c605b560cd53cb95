// Which matrix a command reads: --matrix FILE, else ./matrix.toml, else the default
// embedded in the binary. The choice is said on stderr, so a CI log shows it.

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
    const source = readTextFile(flag, "matrix file");
    log(`using matrix ${flag}`);
    return source;
  }
  const here = matrixHere();
  if (here) {
    log("using matrix ./matrix.toml");
    return here;
  }
  log("using the embedded default matrix (no ./matrix.toml here; pass --matrix FILE to choose one)");
  return { text: embeddedMatrix as unknown as string, file: EMBEDDED_MATRIX_NAME, directory: undefined };
}

export function readTextFile(path: string, what: string): MatrixSource {
  let text: string;
  try {
    text = readText(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") fail("FILE_NOT_FOUND", `${what} ${path} does not exist`);
    if (code === "EISDIR") fail("FILE_UNREADABLE", `${what} ${path} is a directory, not a file`);
    fail("FILE_UNREADABLE", `cannot read ${what} ${path}: ${(error as Error).message}`);
  }
  return { text, file: path, directory: path.includes("/") ? path.slice(0, path.lastIndexOf("/")) || "/" : "." };
}

/** ./matrix.toml, read, if it is a file: it is then chosen over the embedded default. */
export function matrixHere(): MatrixSource | undefined {
  let text: string;
  try {
    text = readText("matrix.toml");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EISDIR") return undefined;
    return readTextFile("matrix.toml", "matrix file"); // reports why it cannot be read
  }
  return { text, file: "matrix.toml", directory: "." };
}

// Not stripping a byte order mark, as node:fs does not: the TOML reader reports it.
const UTF8 = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * A file's text, as UTF-8. Mapped and decoded by Bun without node:fs, whose loading
 * costs as much as the rest of a small run; empty files, pipes and any error the
 * mapping cannot tell apart go through node:fs, for its reading and its error codes.
 */
function readText(path: string): string {
  try {
    return UTF8.decode(Bun.mmap(path, { shared: false }));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EISDIR") throw error;
  }
  const fs: typeof import("node:fs") = require("node:fs");
  return fs.readFileSync(path, "utf8");
}
