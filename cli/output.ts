// Writing what an emitter returned, as it comes (an emitter may yield chunks, so a
// large output is never one giant string). A file is replaced whole or not at all:
// each is written to a temporary file beside its target and renamed into place, and
// a multi-file output renames nothing until every file has been written and every
// target checked. node:fs is loaded only here, to write files (-o), which needs rename.

import { CalibanError, fail } from "../core/errors.ts";
import type { EmittedFile } from "../emitters/contract.ts";
import { batches, writeIfChanged, writeText } from "./replace-file.ts";
import { writeTo, type Io } from "./terminal.ts";

type NodeFs = typeof import("node:fs");
type NodePath = typeof import("node:path");

/** `producer` names what made the files in a message about them ("emit cloudbuild"). */
export async function writeOutputs(files: readonly EmittedFile[], target: string | undefined, io: Io, producer = "this command"): Promise<void> {
  if (target === undefined) {
    const main = mainFiles(files);
    if (main.length !== 1) fail("USAGE", `this output is ${main.length} files; pass -o DIRECTORY to write them`);
    // Messages already on stderr go out first, so a log reads in order.
    await io.flushed();
    for (const batch of batches(main[0]!.contents)) await writeTo(Bun.stdout, batch);
    return;
  }
  const fs: NodeFs = require("node:fs");
  const path: NodePath = require("node:path");
  const placed = placeFiles(files, target, producer, fs, path);
  const temporaries: string[] = [];
  const onSignal = (signal: keyof typeof SIGNAL_NUMBERS) => {
    // Interrupted (Ctrl-C, a CI job cancelled): no temporary file is left behind, and no target was replaced.
    for (const temporary of temporaries) fs.rmSync(temporary, { force: true });
    process.exit(128 + SIGNAL_NUMBERS[signal]);
  };
  const signals = Object.keys(SIGNAL_NUMBERS) as (keyof typeof SIGNAL_NUMBERS)[];
  try {
    const streamed = placed.length === 1 ? streamTarget(fs, placed[0]!.path) : undefined;
    // Messages already on stderr go out first, so a log reads in order.
    if (streamed !== undefined && !streamed.opened) await io.flushed();
    if (streamed !== undefined) {
      // -o /dev/null, -o /dev/stdout, a FIFO: written into as `>` would, never replaced by a regular file.
      await writeStream(fs, streamed, placed[0]!.contents);
      return;
    }
    const destinations = resolveDestinations(fs, path, placed, target, producer);
    for (const signal of signals) process.on(signal, onSignal);
    const made = new Set<string>();
    const replaced: { destination: string; temporary: string }[] = [];
    for (const { destination, contents } of destinations) {
      const directory = path.dirname(destination);
      // Once per directory: a split Cloud Build config is dozens of files in one.
      if (!made.has(directory)) fs.mkdirSync(directory, { recursive: true });
      made.add(directory);
      const temporary = await writeIfChanged(fs, path, destination, contents, temporaries);
      if (temporary !== undefined) replaced.push({ destination, temporary });
    }
    // Check every target before the first rename, so a failing one cannot leave the others half done.
    for (const { destination } of replaced) {
      const kind = existingKind(fs, destination);
      if (kind !== undefined && kind !== "file") throw Object.assign(new Error(`${destination} is ${kind}, not a regular file`), { code: kind === "a directory" ? "EISDIR" : "EEXIST", path: destination });
    }
    for (const { destination, temporary } of replaced) fs.renameSync(temporary, destination);
  } catch (error) {
    for (const temporary of temporaries) fs.rmSync(temporary, { force: true });
    if (error instanceof CalibanError) throw error;
    const e = error as NodeJS.ErrnoException;
    fail("OUTPUT", `cannot write ${e.path ?? target}: ${e.code ?? ""} ${e.message.replace(/^[A-Z]+: /, "")}`.replace(/\s+/g, " "), {
      hint: "nothing was written; existing files are unchanged",
    });
  } finally {
    for (const signal of signals) process.off(signal, onSignal);
  }
}

/** The signals that stop a run with its files half written, and their numbers (the exit status is 128 + it, as a shell gives). */
const SIGNAL_NUMBERS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;

/**
 * Where `writeOutputs(files, target)` would put each file, with what: for `check`,
 * which compares them with what is there and writes nothing.
 */
export function plannedOutputs(files: readonly EmittedFile[], target: string, producer: string): { path: string; contents: string | Iterable<string> }[] {
  const fs: NodeFs = require("node:fs");
  const path: NodePath = require("node:path");
  return placeFiles(files, target, producer, fs, path).map(({ path, contents }) => ({ path, contents }));
}

/** What is at `path`, following links: "file", "a directory", "a FIFO", ...; undefined when nothing is. */
function existingKind(fs: NodeFs, path: string): string | undefined {
  let stats;
  try {
    stats = fs.statSync(path);
  } catch {
    return undefined;
  }
  if (stats.isFile()) return "file";
  if (stats.isDirectory()) return "a directory";
  if (stats.isFIFO()) return "a FIFO";
  if (stats.isCharacterDevice()) return "a device";
  if (stats.isSocket()) return "a socket";
  return "not a file";
}

/**
 * A single file's target that is a stream, to be written into rather than replaced: a
 * device or a FIFO, or this process's own stdout or stderr (/dev/stdout is a link to it,
 * which may be a socket no path can open). Another socket is refused.
 */
function streamTarget(fs: NodeFs, path: string): { fd: number; opened: boolean } | undefined {
  let stats;
  try {
    stats = fs.statSync(path);
  } catch {
    return undefined;
  }
  if (stats.isFile() || stats.isDirectory()) return undefined;
  for (const fd of [1, 2]) {
    const own = fs.fstatSync(fd);
    if (own.dev === stats.dev && own.ino === stats.ino) return { fd, opened: false };
  }
  if (stats.isCharacterDevice() || stats.isFIFO()) return { fd: fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_APPEND), opened: true };
  fail("OUTPUT", `cannot write ${path}: it is ${existingKind(fs, path)}, not a file, a device or a FIFO`, { hint: "nothing was written" });
}

async function writeStream(fs: NodeFs, stream: { fd: number; opened: boolean }, contents: string | Iterable<string>): Promise<void> {
  try {
    for (const batch of batches(contents)) writeText(fs, stream.fd, batch);
  } finally {
    if (stream.opened) fs.closeSync(stream.fd);
  }
}

/**
 * Where each file lands: through links to their targets (the link is kept, the file it
 * names replaced), so that `-o` into a linked file updates that file. Two paths that
 * land on one file are an error, and so is a file that would land outside the `-o`
 * directory through a link inside it.
 */
function resolveDestinations(fs: NodeFs, path: NodePath, placed: readonly PlacedFile[], target: string, producer: string): { destination: string; contents: string | Iterable<string> }[] {
  const root = placed.length === 1 && placed[0]!.path === target ? undefined : realPath(fs, path, target);
  const seen = new Map<string, string>();
  return placed.map((file) => {
    const destination = realPath(fs, path, file.path);
    if (root !== undefined && destination !== root && !destination.startsWith(root + path.sep)) {
      fail("PLUGIN", `${producer}: the output file ${file.name} would be written to ${destination}, outside ${target}, through a link`, { hint: "nothing was written" });
    }
    const other = seen.get(destination);
    if (other !== undefined) fail("PLUGIN", `${producer}: the output files ${other} and ${file.name} are the same file`, { hint: "nothing was written; an emitter must return each path once" });
    seen.set(destination, file.name);
    return { destination, contents: file.contents };
  });
}

/** The absolute path `file` names once every link is followed, whether or not it (or its folders) exist yet. */
function realPath(fs: NodeFs, path: NodePath, file: string): string {
  let existing = path.resolve(file);
  const rest: string[] = [];
  for (let links = 0; ; ) {
    try {
      return path.join(fs.realpathSync(existing), ...rest);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    let link: string | undefined;
    try {
      link = fs.readlinkSync(existing);
    } catch {
      link = undefined;
    }
    if (link !== undefined && links++ < 40) {
      // A link to a file not there yet: the file is made where it points.
      existing = path.resolve(path.dirname(existing), link);
      continue;
    }
    const parent = path.dirname(existing);
    if (parent === existing) return path.join(existing, ...rest);
    rest.unshift(path.basename(existing));
    existing = parent;
  }
}

/** A file and where it goes: `name` is the emitter's path for it (or the -o FILE). */
interface PlacedFile {
  readonly path: string;
  readonly name: string;
  readonly contents: string | Iterable<string>;
}

/**
 * Where each file goes: `-o FILE` for a single file, `-o DIRECTORY` otherwise. A
 * directory is an existing one, a path ending in '/', or, for several files, a new
 * name without an extension (`-o generated`).
 */
function placeFiles(files: readonly EmittedFile[], target: string, producer: string, fs: NodeFs, path: NodePath): PlacedFile[] {
  for (const file of files) {
    const clean = path.normalize(file.path);
    if (path.isAbsolute(file.path) || clean.startsWith("..") || clean === ".") {
      fail("PLUGIN", `${producer} returned the path "${file.path}", which is not inside the output directory`);
    }
  }
  const main = mainFiles(files);
  const intoDirectory = target.endsWith("/") || isDirectory(fs, target);
  if (!intoDirectory && main.length === 1) return [{ path: target, name: target, contents: main[0]!.contents }];
  if (!intoDirectory && (fs.existsSync(target) || path.extname(target) !== "")) refuseFileTarget(target, files, producer);
  return files.map((file) => ({ path: path.join(target, file.path), name: file.path, contents: file.contents }));
}

/**
 * Several files (a split Cloud Build config) for an `-o` that names one file: an error,
 * not a directory of that name. A pipeline that wrote `-o cloudbuild.json` and submits
 * that file must change when its graph outgrows one config, so it is told, not left
 * submitting a stale file or finding a directory where its file was.
 */
function refuseFileTarget(target: string, files: readonly EmittedFile[], producer: string): never {
  const names = files.map((file) => file.path);
  const listed = names.length > 4 ? [...names.slice(0, 2), "...", ...names.slice(-2)] : names;
  // cloudbuild.json → cloudbuild/, as the README writes it.
  const stem = target.replace(/(?<=[^/])\.[^./]*$/, "");
  fail("USAGE", `-o ${target} names a file, but ${producer} writes ${files.length} files for this graph: ${listed.join(", ")}`, {
    hint: `pass a directory, such as -o ${stem === target ? "DIRECTORY" : stem}/; nothing was written`,
  });
}

/** The files written anywhere: all but the companions (emitters/contract.ts), which go only into a directory. */
function mainFiles(files: readonly EmittedFile[]): readonly EmittedFile[] {
  return files.some((file) => file.companion) ? files.filter((file) => !file.companion) : files;
}

function isDirectory(fs: NodeFs, path: string): boolean {
  try {
    return fs.statSync(path).isDirectory();
  } catch {
    return false;
  }
}
