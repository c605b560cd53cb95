// Which matrix a command reads: --matrix FILE, else ./matrix.toml, else the nearest
// above in the repository, else the default embedded in the binary. The choice is said
// on stderr, so a CI log shows it.

import { CalibanError, fail } from "../core/errors.ts";
import { displayName } from "../core/printable.ts";
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
    log(`using matrix ${displayName(flag)}`);
    return source;
  }
  const here = matrixHere();
  if (here) {
    log(here.directory === "." ? "using matrix ./matrix.toml" : `using matrix ${displayName(here.file)} (the nearest above this folder, in this repository)`);
    return here;
  }
  log("using the embedded default matrix (no matrix.toml here or above in this repository; pass --matrix FILE to choose one)");
  return { text: embeddedMatrix as unknown as string, file: EMBEDDED_MATRIX_NAME, directory: undefined };
}

export function readTextFile(path: string, what: string): MatrixSource {
  let text: string;
  try {
    text = readText(path);
  } catch (error) {
    if (error instanceof CalibanError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") fail("FILE_NOT_FOUND", `${what} ${displayName(path)} does not exist`);
    if (code === "EISDIR") fail("FILE_UNREADABLE", `${what} ${displayName(path)} is a directory, not a file`);
    fail("FILE_UNREADABLE", `cannot read ${what} ${displayName(path)}: ${(error as Error).message}`);
  }
  return { text, file: path, directory: isRegularFile(path) ? directoryOf(path) : "." };
}

function directoryOf(path: string): string {
  return path.includes("/") ? path.slice(0, path.lastIndexOf("/")) || "/" : ".";
}

/** A matrix from a pipe (/dev/stdin, <(...), /proc/self/fd/N) lives in no folder: its paths are relative to the current one. */
function isRegularFile(path: string): boolean {
  if (/^\/(dev|proc)\//.test(path)) return false;
  try {
    return (require("node:fs") as typeof import("node:fs")).statSync(path).isFile();
  } catch {
    return true;
  }
}

/**
 * ./matrix.toml, else the nearest matrix.toml in a folder above, up to the repository's
 * root (the folder holding .git), as git finds its repository: `affected` and `emit`
 * work from any folder of a project. Outside a repository, only this folder's counts.
 */
export function matrixHere(): MatrixSource | undefined {
  const here = matrixIn(".");
  if (here) return here;
  const fs: typeof import("node:fs") = require("node:fs");
  const path: typeof import("node:path") = require("node:path");
  const above: string[] = [];
  for (let directory = "."; !fs.existsSync(path.join(directory, ".git")); ) {
    const parent = directory === "." ? ".." : `${directory}/..`;
    if (path.resolve(parent) === path.resolve(directory)) return undefined; // the file system's root: no repository
    above.push(parent);
    directory = parent;
  }
  for (const directory of above) {
    const found = matrixIn(directory);
    if (found) return found;
  }
  return undefined;
}

/** DIRECTORY/matrix.toml, read, if it is a file. */
function matrixIn(directory: string): MatrixSource | undefined {
  const file = directory === "." ? "matrix.toml" : `${directory}/matrix.toml`;
  let text: string;
  try {
    text = readText(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EISDIR") return undefined;
    return readTextFile(file, "matrix file"); // reports why it cannot be read
  }
  return { text, file, directory };
}

/**
 * A file's text, as UTF-8. Mapped by Bun without node:fs, whose loading costs as much
 * as the rest of a small run; empty files, pipes and any error the mapping cannot tell
 * apart go through node:fs, for its reading and its error codes.
 */
function readText(path: string): string {
  let bytes: Uint8Array | undefined;
  try {
    bytes = Bun.mmap(path, { shared: false });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EISDIR") throw error;
  }
  if (bytes === undefined) {
    const fs: typeof import("node:fs") = require("node:fs");
    bytes = fs.readFileSync(path);
  }
  return decodeUtf8(bytes, path);
}

/**
 * Bytes as UTF-8 text, or an error at the first byte that is not UTF-8: a stray byte
 * would otherwise become U+FFFD, silently, in a value. A byte order mark is kept (the
 * TOML reader reports it).
 */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    // The longest prefix that decodes (a sequence cut at its end is not yet an error) ends at the bad byte.
    let good = 0;
    let bad = bytes.length;
    while (good < bad) {
      const middle = Math.ceil((good + bad) / 2);
      try {
        new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes.subarray(0, middle), { stream: true });
        good = middle;
      } catch {
        bad = middle - 1;
      }
    }
    // A sequence the bad byte cut short starts the mistake.
    const decodes = (end: number) => {
      try {
        new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes.subarray(0, end));
        return true;
      } catch {
        return false;
      }
    };
    while (good > 0 && !decodes(good)) good--;
    const before = new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes.subarray(0, good));
    const lineStart = before.lastIndexOf("\n") + 1;
    const line = before.split("\n").length;
    const column = [...before.slice(lineStart)].length + 1;
    const byte = bytes[good] ?? 0;
    fail("FILE_UNREADABLE", `the file is not UTF-8 text: byte 0x${byte.toString(16).padStart(2, "0").toUpperCase()} here cannot be read as a character`, {
      file,
      line,
      column,
      hint: "save the file as UTF-8",
    });
  }
}

/**
 * The matrix file's path from the root of its repository (the nearest folder above it
 * holding .git, as git finds it), '/'-separated: EmitContext.matrixPath. Outside a
 * repository, its name; undefined for the embedded matrix and a piped one.
 */
export function matrixPathOf(source: MatrixSource): string | undefined {
  if (source.directory === undefined || !isRegularFile(source.file)) return undefined;
  const path: typeof import("node:path") = require("node:path");
  const file = (require("node:fs") as typeof import("node:fs")).realpathSync(source.file);
  const root = repositoryRoot(path.dirname(file));
  return root === undefined ? path.basename(file) : path.relative(root, file).split(path.sep).join("/");
}

/** The folder holding .git at or above `directory` (its real path), as git finds it; undefined outside a repository. */
export function repositoryRoot(directory: string): string | undefined {
  const fs: typeof import("node:fs") = require("node:fs");
  const path: typeof import("node:path") = require("node:path");
  for (let at = fs.realpathSync(directory); ; at = path.dirname(at)) {
    if (fs.existsSync(path.join(at, ".git"))) return at;
    if (path.dirname(at) === at) return undefined;
  }
}
