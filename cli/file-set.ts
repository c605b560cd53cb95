// Several files written as one decision: all of them or none. Each is first written to
// a temporary file beside its target (cli/replace-file.ts); nothing is put in place
// until every one is written and every target checked. A file about to be replaced is
// kept under a second (hard) link until all are in place, so a rename that fails midway
// puts back what the earlier ones replaced, and the message says exactly what is where.

import { CalibanError } from "../core/errors.ts";
import { displayName } from "../core/printable.ts";
import { unguessable, writeIfChanged } from "./replace-file.ts";

type NodeFs = typeof import("node:fs");
type NodePath = typeof import("node:path");

/** A file to write, at the path it lands on (links followed: cli/output-targets.ts). */
export interface FileToWrite {
  readonly destination: string;
  readonly contents: string | Iterable<string>;
}

/**
 * "replace": a file that is there is replaced, unless it holds exactly the contents.
 * "create": every file is new, and stays so: one that is there, or appears meanwhile,
 * is an error and is left as it is (init never overwrites).
 */
export type WriteMode = "replace" | "create";

/** What a run has made that is not in place yet: removed when it fails or is interrupted. */
export interface Scratch {
  readonly temporaries: string[];
  /** Folders made for the files, in the order they were made. */
  readonly folders: string[];
}

export const NOTHING_WRITTEN = "nothing was written; existing files are unchanged";

export function newScratch(): Scratch {
  return { temporaries: [], folders: [] };
}

/** Removes every temporary file, then each folder made for them that is still empty, deepest first. */
export function discard(fs: NodeFs, scratch: Scratch): void {
  for (const temporary of scratch.temporaries.splice(0)) fs.rmSync(temporary, { force: true });
  for (const folder of scratch.folders.splice(0).reverse()) removeEmptyFolder(fs, folder);
}

interface Staged {
  readonly destination: string;
  readonly temporary: string;
  /** Where the file it replaces is kept until every file is in place; undefined for a new file. */
  previous?: string;
}

/** Writes every file, or none: see the top of this file. Errors are CalibanErrors (OUTPUT) that say what was left. */
/** What writing did to a file: replaced or made it (`wrote`), or left it as it was, holding the contents already (`unchanged`). */
export interface WriteResult {
  readonly destination: string;
  readonly wrote: boolean;
}

export async function writeFileSet(fs: NodeFs, path: NodePath, files: readonly FileToWrite[], mode: WriteMode, scratch: Scratch): Promise<WriteResult[]> {
  const staged: Staged[] = [];
  const results: WriteResult[] = [];
  try {
    const folders = new Set<string>();
    for (const { destination, contents } of files) {
      const folder = path.dirname(destination);
      // Once per folder: a split Cloud Build config is dozens of files in one.
      if (!folders.has(folder)) makeFolders(fs, path, folder, scratch.folders);
      folders.add(folder);
      if (mode === "create" && existingKind(fs, destination) !== undefined) throw errorAt(destination, "EEXIST", "it is there already");
      const temporary = await writeIfChanged(fs, path, destination, contents, scratch.temporaries);
      // Only a file that is there can hold the contents already: for "create", one that appeared since the check above.
      if (temporary === undefined && mode === "create") throw errorAt(destination, "EEXIST", "it is there already");
      if (temporary !== undefined) staged.push({ destination, temporary });
      results.push({ destination, wrote: temporary !== undefined });
    }
    // Every target checked before the first is replaced, so a failing one cannot leave the others half done.
    for (const { destination } of staged) {
      const kind = existingKind(fs, destination);
      if (kind !== undefined && kind !== "file") throw errorAt(destination, kind === "a directory" ? "EISDIR" : "EEXIST", `it is ${kind}, not a regular file`);
    }
    if (mode === "replace") for (const file of staged) file.previous = keepPrevious(fs, path, file.destination);
  } catch (error) {
    dropPrevious(fs, staged);
    discard(fs, scratch);
    throw writeError(error, undefined, NOTHING_WRITTEN);
  }
  putInPlace(fs, staged, mode, scratch);
  return results;
}

/** Renames each file into place; when one fails, takes back those before it and says what it could not. */
function putInPlace(fs: NodeFs, staged: readonly Staged[], mode: WriteMode, scratch: Scratch): void {
  let done = 0;
  try {
    for (; done < staged.length; done++) place(fs, staged[done]!, mode);
  } catch (error) {
    const unrestored = takeBack(fs, staged.slice(0, done));
    dropPrevious(fs, staged.slice(done));
    discard(fs, scratch);
    throw writeError(error, staged[done]!.destination, afterFailure(done, unrestored));
  }
  dropPrevious(fs, staged);
  scratch.temporaries.length = 0;
  scratch.folders.length = 0;
}

/** Link errors of a file system that has no hard links (or will not make one here): another way is taken. */
const NO_LINKS = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EMLINK"]);

function place(fs: NodeFs, file: Staged, mode: WriteMode): void {
  if (mode === "replace") return fs.renameSync(file.temporary, file.destination);
  try {
    // link(2) never replaces: a file that appeared since the check stays as it is.
    fs.linkSync(file.temporary, file.destination);
  } catch (error) {
    if (!NO_LINKS.has((error as NodeJS.ErrnoException).code ?? "") || existingKind(fs, file.destination) !== undefined) throw error;
    fs.renameSync(file.temporary, file.destination);
    return;
  }
  fs.rmSync(file.temporary, { force: true });
}

/** The file at `destination`, kept under a new name beside it (a hard link, else a copy); undefined when there is none. */
function keepPrevious(fs: NodeFs, path: NodePath, destination: string): string | undefined {
  if (existingKind(fs, destination) === undefined) return undefined;
  for (let attempt = 0; ; attempt++) {
    const kept = path.join(path.dirname(destination), `.${path.basename(destination)}.${unguessable()}.previous`);
    try {
      fs.linkSync(destination, kept);
      return kept;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "";
      if (code === "EEXIST" && attempt < 8) continue;
      if (!NO_LINKS.has(code)) throw error;
    }
    fs.copyFileSync(destination, kept, fs.constants.COPYFILE_EXCL);
    return kept;
  }
}

function dropPrevious(fs: NodeFs, staged: readonly Staged[]): void {
  for (const file of staged) if (file.previous !== undefined) fs.rmSync(file.previous, { force: true });
}

interface Unrestored {
  readonly file: Staged;
  readonly error: NodeJS.ErrnoException;
}

/** Puts back what each placed file replaced (or removes it, when it was new), last first; returns those it could not. */
function takeBack(fs: NodeFs, placed: readonly Staged[]): Unrestored[] {
  const unrestored: Unrestored[] = [];
  for (const file of [...placed].reverse()) {
    try {
      if (file.previous !== undefined) fs.renameSync(file.previous, file.destination);
      else fs.unlinkSync(file.destination);
    } catch (error) {
      unrestored.push({ file, error: error as NodeJS.ErrnoException });
    }
  }
  return unrestored;
}

/** The hint of a failure after `done` files were put in place. */
function afterFailure(done: number, unrestored: readonly Unrestored[]): string {
  if (done === 0) return NOTHING_WRITTEN;
  const putBack = `the ${done === 1 ? "file" : `${done} files`} already written ${done === 1 ? "was" : "were"}`;
  if (unrestored.length === 0) return `nothing was written: ${putBack} put back as ${done === 1 ? "it was" : "they were"}`;
  const left = unrestored.map(({ file, error }) =>
    file.previous === undefined
      ? `${displayName(file.destination)} is new and could not be removed (${error.code})`
      : `${displayName(file.destination)} holds the new contents, and what it held is in ${displayName(file.previous)} (${error.code})`,
  );
  return `${putBack} put back, except: ${left.join("; ")}`;
}

/** An error of writing as a CalibanError (OUTPUT): `cannot write PATH: CODE message`, and what was left. */
export function writeError(error: unknown, where: string | undefined, hint: string, verb = "write"): CalibanError {
  if (error instanceof CalibanError) return error;
  const e = error as NodeJS.ErrnoException;
  const at = e.path ?? where ?? "the output";
  const message = `cannot ${verb} ${displayName(at)}: ${e.code ?? ""} ${String(e.message).replace(/^[A-Z]+: /, "")}`.replace(/\s+/g, " ");
  return new CalibanError({ code: "OUTPUT", message, hint });
}

/** An error like node:fs's, for `path`. */
function errorAt(path: string, code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code, path });
}

/**
 * Makes `folder` and each folder above it that is not there, one at a time, and adds to
 * `made` exactly those this call made: one another process made meanwhile is not ours
 * to remove. A file where a folder goes is an error naming it.
 */
export function makeFolders(fs: NodeFs, path: NodePath, folder: string, made: string[]): void {
  const missing: string[] = [];
  for (let at = folder; ; at = path.dirname(at)) {
    const kind = existingKind(fs, at);
    if (kind === "a directory") break;
    if (kind !== undefined) throw errorAt(at, "ENOTDIR", `it is ${kind === "file" ? "a file" : kind}, where a folder goes`);
    missing.push(at);
    if (path.dirname(at) === at) break;
  }
  for (const at of missing.reverse()) {
    try {
      fs.mkdirSync(at);
      made.push(at);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || existingKind(fs, at) !== "a directory") throw error;
    }
  }
}

function removeEmptyFolder(fs: NodeFs, folder: string): void {
  try {
    fs.rmdirSync(folder);
  } catch {
    // Not empty (something of someone else's is in it), or gone: it stays as it is.
  }
}

/** What is at `path`, following links: "file", "a directory", "a FIFO", ...; undefined when nothing is (or a link leads nowhere). */
export function existingKind(fs: NodeFs, path: string): string | undefined {
  let stats;
  try {
    stats = fs.statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw error;
  }
  if (stats.isFile()) return "file";
  if (stats.isDirectory()) return "a directory";
  if (stats.isFIFO()) return "a FIFO";
  if (stats.isCharacterDevice()) return "a device";
  if (stats.isSocket()) return "a socket";
  return "not a file";
}
